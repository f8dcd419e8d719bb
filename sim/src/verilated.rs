//! Safe Rust API over a Verilated `sqz_core` (the C++ harness in `csrc/`, built by `build.rs`).
//!
//! [`Core`] clocks the model, pokes and peeks its ports, traces to VCD and implements
//! [`Backend`], so the job executor that drives the functional model drives the RTL alike.

use std::ffi::CString;
use std::path::Path;
use std::time::{Duration, Instant};

use common::DeviceConfig;
use common::backend::{Backend, BackendError};
use common::bus::Region;
use thiserror::Error;

/// Opaque C++ `SqzSim`.
#[repr(C)]
struct SqzSim {
    _private: [u8; 0],
}

/// Opaque C++ `SqzBoard` (csrc/board.h), used by [`crate::board`].
#[repr(C)]
pub(crate) struct SqzBoard {
    _private: [u8; 0],
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));

unsafe extern "C" {
    fn sqz_free(s: *mut SqzSim);
    fn sqz_thread_cpu_ns() -> u64;
    fn sqz_poke(s: *mut SqzSim, port: i32, v: u64) -> i32;
    fn sqz_peek(s: *mut SqzSim, port: i32, v: *mut u64) -> i32;
    fn sqz_ticks(s: *mut SqzSim, n: u64);
    fn sqz_cycles(s: *mut SqzSim) -> u64;
    fn sqz_trace_open(s: *mut SqzSim, path: *const std::ffi::c_char, from: u64, to: u64) -> i32;
    fn sqz_trace_close(s: *mut SqzSim);
    fn sqz_bus_write(s: *mut SqzSim, addr: u32, words: *const u64, n: u64) -> i32;
    fn sqz_bus_read(
        s: *mut SqzSim,
        addr: u32,
        out: *mut u64,
        n: u64,
        max_wait: u64,
        pipelined: i32,
    ) -> i32;
    fn sqz_run(s: *mut SqzSim, max_cycles: u64, job: *mut u64, harness: *mut u64) -> i32;
}

// Status codes of csrc/harness.h.
const SQZ_OK: i32 = 0;
const SQZ_TIMEOUT: i32 = 1;
const SQZ_BUSY_ON_BUS: i32 = 4;
const SQZ_SPURIOUS_RVALID: i32 = 5;
const SQZ_NOT_BUSY: i32 = 6;

/// Ports of the core contract (docs/architecture.md, "Core ports"); numbers as in `harness.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Reset = 0,
    BusAddr = 1,
    BusWdata = 2,
    BusWrite = 3,
    BusRead = 4,
    Start = 5,
    BusRdata = 6,
    BusRvalid = 7,
    Busy = 8,
    Done = 9,
    JobCycles = 10,
}

impl Port {
    /// Inputs can be poked; every port can be peeked.
    pub fn is_input(self) -> bool {
        (self as i32) <= Port::Start as i32
    }
}

/// Errors of the simulated core.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SimError {
    #[error("no Verilated model {0:?} in this build (built: {1}); set SQZ_SIM_CONFIGS and rebuild")]
    UnknownModel(String, String),
    #[error("{0:?} is an output port and cannot be poked")]
    NotAnInput(Port),
    #[error("job did not finish within {0} cycles (broken design or cycle limit too low)")]
    JobTimeout(u64),
    #[error("bus read of address {0:#08x} got no bus_rvalid within {1} cycles")]
    ReadTimeout(u32, u64),
    #[error("job_cycles port says {port} cycles, the harness clocked {clocked} from start to idle")]
    JobCyclesMismatch { port: u64, clocked: u64 },
    #[error("busy fell {0} cycles after start without done: the job stopped or never ran")]
    NotBusy(u64),
    #[error("bus_rvalid pulsed with no read outstanding (reading {0:#08x})")]
    SpuriousRvalid(u32),
    #[error("bus access while the core is busy")]
    BusyOnBus,
    #[error("bus access to {region:?}[{index}..+{n}] is outside the region's address space")]
    AddressRange {
        region: Region,
        index: usize,
        n: usize,
    },
    #[error("cannot open trace file {0}")]
    Trace(String),
}

/// Cycles a bus read may wait for `bus_rvalid` before it is an error.
pub const READ_WAIT: u64 = 64;

/// Largest accepted difference between the cycles the harness clocks for a job and the
/// core's `job_cycles` (done pulse and busy falling a few cycles apart).
pub const JOB_CYCLES_SLACK: u64 = 8;

/// Default limit for one job: far above any SqueezeNet layer tile on any configuration.
pub const DEFAULT_MAX_JOB_CYCLES: u64 = 200_000_000;

/// One Verilated core. Not `Send`: a model stays on the thread that made it.
pub struct Core {
    sim: *mut SqzSim,
    name: String,
    /// Cycle limit for [`Core::run_job`] and [`Backend::run`] (the latter lowers it to a
    /// bound derived from the job in the descriptor memory).
    pub max_job_cycles: u64,
    /// The configuration the model was built for (`None` for test models).
    cfg: Option<DeviceConfig>,
    /// What was written to the descriptor memory (to bound a job's cycles).
    desc: Vec<u64>,
    /// Issue a bus read every cycle and collect the `bus_rvalid` pulses in order (the
    /// contract's fixed read latency allows it); `false`: one read at a time.
    pub pipelined_reads: bool,
    /// Wall time spent clocking the model (for the simulation speed).
    sim_time: Duration,
    /// CPU time (of the calling thread) spent clocking the model.
    cpu_time: Duration,
}

/// Times a call into the model: wall clock and thread CPU time.
struct Timer(Instant, u64);

impl Timer {
    fn start() -> Self {
        // SAFETY: reads a clock, no state.
        Timer(Instant::now(), unsafe { sqz_thread_cpu_ns() })
    }
    fn stop(self, core: &mut Core) {
        core.sim_time += self.0.elapsed();
        // SAFETY: as above.
        let cpu = unsafe { sqz_thread_cpu_ns() };
        core.cpu_time += Duration::from_nanos(cpu.saturating_sub(self.1));
    }
}

impl Core {
    /// Names of the models compiled into this build (`SQZ_SIM_CONFIGS` at build time).
    pub fn models() -> Vec<&'static str> {
        MODELS.iter().map(|m| m.0).collect()
    }

    /// The named model simulates the iCE40 cells its bitstream instantiates (SB_MAC16,
    /// SB_SPRAM256KA, with Yosys' models), not the behavioural Verilog.
    pub fn has_ice40_cells(name: &str) -> bool {
        ICE40_CELLS.contains(&name)
    }

    /// A fresh core of the named configuration (or test model), held in reset for a few
    /// cycles. If `SQZ_TRACE` names a file, the run is traced to it (VCD): every cycle, or
    /// cycles `SQZ_TRACE_FROM..SQZ_TRACE_TO` when those are set (the whole engine takes several
    /// KB of VCD per cycle).
    pub fn new(name: &str) -> Result<Self, SimError> {
        let (_, ctor) = MODELS
            .iter()
            .find(|m| m.0 == name)
            .ok_or_else(|| SimError::UnknownModel(name.to_string(), Self::models().join(", ")))?;
        // SAFETY: the constructor returns a new, owned model that `Drop` frees.
        let sim = unsafe { ctor() };
        assert!(!sim.is_null(), "model constructor returned null");
        let mut core = Core {
            sim,
            name: name.to_string(),
            max_job_cycles: DEFAULT_MAX_JOB_CYCLES,
            pipelined_reads: true,
            cfg: DeviceConfig::by_name(name),
            desc: Vec::new(),
            sim_time: Duration::ZERO,
            cpu_time: Duration::ZERO,
        };
        if let Some(path) = std::env::var_os("SQZ_TRACE") {
            let cycle = |v: &str| std::env::var(v).ok().and_then(|c| c.parse().ok());
            let from = cycle("SQZ_TRACE_FROM").unwrap_or(0);
            core.set_trace_window(
                Path::new(&path),
                from..cycle("SQZ_TRACE_TO").unwrap_or(u64::MAX),
            )?;
        }
        core.reset();
        Ok(core)
    }

    /// The core for a device configuration.
    pub fn for_config(cfg: &DeviceConfig) -> Result<Self, SimError> {
        Self::new(&cfg.name)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Synchronous reset: `reset` high for 4 cycles with every other input low.
    pub fn reset(&mut self) {
        for p in [Port::BusWrite, Port::BusRead, Port::Start] {
            self.poke(p, 0).unwrap();
        }
        self.poke(Port::Reset, 1).unwrap();
        self.ticks(4);
        self.poke(Port::Reset, 0).unwrap();
        self.tick();
    }

    /// One clock cycle (inputs are sampled at its rising edge).
    pub fn tick(&mut self) {
        self.ticks(1);
    }

    /// `n` clock cycles.
    pub fn ticks(&mut self, n: u64) {
        let t = Timer::start();
        // SAFETY: `self.sim` is valid for the life of `self`.
        unsafe { sqz_ticks(self.sim, n) }
        t.stop(self);
    }

    /// Wall time spent inside the model's clock loops so far.
    pub fn sim_time(&self) -> Duration {
        self.sim_time
    }

    /// CPU time spent inside the model's clock loops so far (independent of machine load).
    pub fn cpu_time(&self) -> Duration {
        self.cpu_time
    }

    /// Cycles clocked since the model was made.
    pub fn cycles(&self) -> u64 {
        // SAFETY: as above.
        unsafe { sqz_cycles(self.sim) }
    }

    /// Drive an input port (the value is truncated to the port's width).
    pub fn poke(&mut self, port: Port, value: u64) -> Result<(), SimError> {
        if !port.is_input() {
            return Err(SimError::NotAnInput(port));
        }
        // SAFETY: as above; the port number is one the harness knows.
        let rc = unsafe { sqz_poke(self.sim, port as i32, value) };
        assert_eq!(rc, SQZ_OK, "harness rejected port {port:?}");
        Ok(())
    }

    /// The current value of a port.
    pub fn peek(&self, port: Port) -> u64 {
        let mut v = 0;
        // SAFETY: as above.
        let rc = unsafe { sqz_peek(self.sim, port as i32, &mut v) };
        assert_eq!(rc, SQZ_OK, "harness rejected port {port:?}");
        v
    }

    /// Trace every following cycle into a VCD file (replacing any open trace).
    pub fn set_trace(&mut self, path: &Path) -> Result<(), SimError> {
        self.set_trace_window(path, 0..u64::MAX)
    }

    /// Trace only the cycles in `window` (numbered as [`Core::cycles`] counts them) into a VCD
    /// file: a long run can be traced around the job that goes wrong.
    pub fn set_trace_window(
        &mut self,
        path: &Path,
        window: std::ops::Range<u64>,
    ) -> Result<(), SimError> {
        let err = || SimError::Trace(path.display().to_string());
        let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| err())?;
        // SAFETY: as above; `c` outlives the call (the harness copies the name).
        match unsafe { sqz_trace_open(self.sim, c.as_ptr(), window.start, window.end) } {
            SQZ_OK => Ok(()),
            _ => Err(err()),
        }
    }

    /// Flush and close the trace, if one is open.
    pub fn stop_trace(&mut self) {
        // SAFETY: as above.
        unsafe { sqz_trace_close(self.sim) }
    }

    fn addr(region: Region, index: usize, n: usize) -> Result<u32, SimError> {
        if index + n > 1 << common::bus::REGION_SHIFT {
            return Err(SimError::AddressRange { region, index, n });
        }
        Ok(region.addr(index))
    }

    /// Bus write of consecutive words, one per cycle.
    pub fn bus_write(
        &mut self,
        region: Region,
        index: usize,
        words: &[u64],
    ) -> Result<(), SimError> {
        let addr = Self::addr(region, index, words.len())?;
        if region == Region::Desc {
            if self.desc.len() < index + words.len() {
                self.desc.resize(index + words.len(), 0);
            }
            self.desc[index..index + words.len()].copy_from_slice(words);
        }
        let t = Timer::start();
        // SAFETY: as above; `words` is valid for `len` reads.
        let rc = unsafe { sqz_bus_write(self.sim, addr, words.as_ptr(), words.len() as u64) };
        t.stop(self);
        match rc {
            SQZ_OK => Ok(()),
            SQZ_BUSY_ON_BUS => Err(SimError::BusyOnBus),
            rc => panic!("harness bus write status {rc}"),
        }
    }

    /// Bus read of `n` consecutive words (each waits for `bus_rvalid`).
    pub fn bus_read(
        &mut self,
        region: Region,
        index: usize,
        n: usize,
    ) -> Result<Vec<u64>, SimError> {
        let addr = Self::addr(region, index, n)?;
        let mut out = vec![0u64; n];
        let t = Timer::start();
        // SAFETY: as above; `out` has room for `n` words.
        let rc = unsafe {
            sqz_bus_read(
                self.sim,
                addr,
                out.as_mut_ptr(),
                n as u64,
                READ_WAIT,
                self.pipelined_reads as i32,
            )
        };
        t.stop(self);
        match rc {
            SQZ_OK => Ok(out),
            SQZ_BUSY_ON_BUS => Err(SimError::BusyOnBus),
            SQZ_TIMEOUT => Err(SimError::ReadTimeout(addr, READ_WAIT)),
            SQZ_SPURIOUS_RVALID => Err(SimError::SpuriousRvalid(addr)),
            rc => panic!("harness bus read status {rc}"),
        }
    }

    /// Pulse `start` and clock until `done`. Returns `(job_cycles port, cycles clocked)`.
    /// A job still running after `max_job_cycles` is an error; the core is then reset.
    pub fn run_job(&mut self) -> Result<(u64, u64), SimError> {
        self.run_limited(self.max_job_cycles)
    }

    fn run_limited(&mut self, limit: u64) -> Result<(u64, u64), SimError> {
        let (mut job, mut clocked) = (0, 0);
        let t = Timer::start();
        // SAFETY: as above.
        let rc = unsafe { sqz_run(self.sim, limit, &mut job, &mut clocked) };
        t.stop(self);
        match rc {
            // job_cycles counts start to done; the harness also clocks the cycles until busy
            // falls. A port that disagrees would make every reported cycle count wrong.
            SQZ_OK if job <= clocked && clocked - job <= JOB_CYCLES_SLACK => Ok((job, clocked)),
            SQZ_OK => Err(SimError::JobCyclesMismatch { port: job, clocked }),
            SQZ_TIMEOUT => {
                self.reset();
                Err(SimError::JobTimeout(clocked))
            }
            SQZ_NOT_BUSY => {
                self.reset();
                Err(SimError::NotBusy(clocked))
            }
            rc => panic!("harness run status {rc}"),
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // SAFETY: `self.sim` came from a model constructor and is freed exactly once.
        unsafe { sqz_free(self.sim) }
    }
}

impl Backend for Core {
    fn write(&mut self, region: Region, index: usize, words: &[u64]) -> Result<(), BackendError> {
        Ok(self.bus_write(region, index, words)?)
    }
    fn read(&mut self, region: Region, index: usize, n: usize) -> Result<Vec<u64>, BackendError> {
        Ok(self.bus_read(region, index, n)?)
    }
    /// Runs the job and returns the core's `job_cycles`. The cycle limit is a generous bound
    /// for the job in the descriptor memory, so a hung design fails in seconds, not minutes.
    fn run(&mut self) -> Result<u64, BackendError> {
        let bound = self
            .cfg
            .as_ref()
            .and_then(|cfg| job_cycle_bound(&self.desc, cfg))
            .unwrap_or(u64::MAX);
        Ok(self.run_limited(self.max_job_cycles.min(bound))?.0)
    }
}

/// Four times the cycles a job needs with no stall at all, plus slack for pipeline fill and
/// step changes; `None` when the descriptor words do not decode to a job.
pub fn job_cycle_bound(desc: &[u64], cfg: &DeviceConfig) -> Option<u64> {
    use common::job::{Op, STEP_WORDS, Step};
    let mut total = 0u64;
    for i in 0..cfg.max_steps {
        let w: [u64; STEP_WORDS] = desc
            .get(i * STEP_WORDS..(i + 1) * STEP_WORDS)?
            .try_into()
            .ok()?;
        let (s, last) = Step::decode(&w).ok()?;
        let px = s.out_h as u64 * s.out_w as u64;
        let cw = s.cin_words as u64;
        total += match s.op {
            Op::Conv => {
                let k2 = (s.kernel as u64).pow(2);
                s.groups(cfg.rows) as u64 * px * k2 * cw
                    + px * s.cout as u64 / cfg.requant_units as u64
            }
            Op::MaxPool => px * cw * 9,
            Op::AvgPool => s.in_h as u64 * s.in_w as u64 * cw + s.cout as u64,
        } + 1000;
        if last {
            return Some(4 * total + 100_000);
        }
    }
    None
}
