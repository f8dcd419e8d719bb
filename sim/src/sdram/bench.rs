//! The Verilated SDRAM controller (`hdl::sdram`, built by `build/sdram.rs`) with the chip
//! model on its pins, and a client that drives request and data streams against a plain
//! Rust memory.

use super::chip::{Chip, Pins, Violation};
use common::sdram::SdramTiming;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use thiserror::Error;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct SdrIn {
    reset: u32,
    req_valid: u32,
    req_write: u32,
    req_addr: u32,
    req_bursts: u32,
    wr_valid: u32,
    wr_data: u32,
    rd_ready: u32,
    dq_in: u32,
}

/// The controller's outputs in one cycle (client side and pins).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SdrOut {
    pub req_ready: u32,
    pub wr_ready: u32,
    pub rd_valid: u32,
    pub rd_data: u32,
    pub cke: u32,
    pub cs_n: u32,
    pub ras_n: u32,
    pub cas_n: u32,
    pub we_n: u32,
    pub ba: u32,
    pub a: u32,
    pub dqm: u32,
    pub dq_out: u32,
    pub dq_oe: u32,
}

impl SdrOut {
    fn pins(&self) -> Pins {
        Pins {
            cke: self.cke != 0,
            cs_n: self.cs_n != 0,
            ras_n: self.ras_n != 0,
            cas_n: self.cas_n != 0,
            we_n: self.we_n != 0,
            ba: self.ba as u8,
            a: self.a as u16,
            dqm: self.dqm as u8,
            dq_oe: self.dq_oe != 0,
            dq: self.dq_out as u16,
        }
    }
}

type CycleFn = unsafe extern "C" fn(*mut c_void, *const SdrIn, *mut SdrOut);

unsafe extern "C" {
    fn sdr_cl2_new() -> *mut c_void;
    fn sdr_cl2_free(p: *mut c_void);
    fn sdr_cl2_cycle(p: *mut c_void, i: *const SdrIn, o: *mut SdrOut);
    fn sdr_cl3_new() -> *mut c_void;
    fn sdr_cl3_free(p: *mut c_void);
    fn sdr_cl3_cycle(p: *mut c_void, i: *const SdrIn, o: *mut SdrOut);
}

/// What stops a bench run.
#[derive(Debug, Error)]
pub enum BenchError {
    #[error("{0}")]
    Chip(#[from] Violation),
    #[error("cycle {0}: rd_valid with a word captured from an undriven DQ")]
    Undriven(u64),
    #[error(
        "cycle {cycle}: read of word address {addr:#x} returned {got:#06x}, expected {want:#06x}"
    )]
    Mismatch {
        cycle: u64,
        addr: u32,
        got: u16,
        want: u16,
    },
    #[error("cycle {0}: {1}")]
    Protocol(u64, String),
    #[error("no progress for {0} cycles")]
    Stuck(u64),
}

/// A Verilated controller (CAS latency 2 or 3, ULX3S timings) wired to a chip model.
pub struct Bench {
    ptr: *mut c_void,
    cycle_fn: CycleFn,
    free_fn: unsafe extern "C" fn(*mut c_void),
    pub chip: Chip,
    /// The chip's DQ in the current cycle.
    drive: Option<u16>,
    /// Whether the word the controller captured at the last edge was driven.
    captured_driven: bool,
    pub cycles: u64,
}

/// The client's inputs in one cycle.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientIn {
    pub req: Option<(bool, u32, u16)>,
    pub wr_valid: bool,
    pub wr_data: u16,
    pub rd_ready: bool,
}

/// Word driven by the bench's bus when nobody drives DQ (what a capture of it returns).
const FLOATING: u16 = 0xdead;

impl Bench {
    /// The controller with CAS latency `cl` on a chip of timing `chip` (a part's own, at the
    /// controller's clock), after reset.
    pub fn new(cl: u32, chip: SdramTiming) -> Self {
        // SAFETY: the constructors return a new model that `Drop` frees.
        let (ptr, cycle_fn, free_fn): (_, CycleFn, unsafe extern "C" fn(*mut c_void)) = match cl {
            2 => (unsafe { sdr_cl2_new() }, sdr_cl2_cycle, sdr_cl2_free),
            3 => (unsafe { sdr_cl3_new() }, sdr_cl3_cycle, sdr_cl3_free),
            _ => panic!("the bench has CAS latency 2 and 3 models, not {cl}"),
        };
        assert!(!ptr.is_null());
        let b = Bench {
            ptr,
            cycle_fn,
            free_fn,
            chip: Chip::new(chip),
            drive: None,
            captured_driven: false,
            cycles: 0,
        };
        let reset = SdrIn {
            reset: 1,
            ..Default::default()
        };
        let mut out = SdrOut::default();
        for _ in 0..4 {
            // SAFETY: ptr is live; the structs match the C side.
            unsafe { (b.cycle_fn)(b.ptr, &reset, &mut out) };
        }
        b
    }

    /// The timing the controller is built for.
    pub fn ctrl_timing(cl: u32) -> SdramTiming {
        SdramTiming::ulx3s(100_000_000, cl)
    }

    /// One clock cycle: the client's inputs and the chip's DQ in, the outputs of the cycle
    /// out; then the rising edge, which the chip sees too.
    pub fn cycle(&mut self, c: &ClientIn) -> Result<SdrOut, BenchError> {
        let (req_valid, req_write, req_addr, req_bursts) = match c.req {
            Some((w, a, n)) => (1, w as u32, a, n as u32),
            None => (0, 0, 0, 0),
        };
        let i = SdrIn {
            reset: 0,
            req_valid,
            req_write,
            req_addr,
            req_bursts,
            wr_valid: c.wr_valid as u32,
            wr_data: c.wr_data as u32,
            rd_ready: c.rd_ready as u32,
            dq_in: self.drive.unwrap_or(FLOATING) as u32,
        };
        let mut o = SdrOut::default();
        // SAFETY: as in `new`.
        unsafe { (self.cycle_fn)(self.ptr, &i, &mut o) };
        if o.rd_valid != 0 && !self.captured_driven {
            return Err(BenchError::Undriven(self.cycles));
        }
        self.captured_driven = self.drive.is_some();
        self.drive = self.chip.step(&o.pins())?;
        self.cycles += 1;
        Ok(o)
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        // SAFETY: made by the matching constructor, freed once.
        unsafe { (self.free_fn)(self.ptr) };
    }
}

/// One request: write or read `bursts` 8-word bursts from word address `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub write: bool,
    pub addr: u32,
    pub bursts: u16,
}

/// Counts of a client run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Run {
    /// From the first request accepted to the last word moved.
    pub cycles: u64,
    pub words_written: u64,
    pub words_read: u64,
}

impl Run {
    pub fn words_per_cycle(&self) -> f64 {
        (self.words_written + self.words_read) as f64 / self.cycles as f64
    }
}

/// A client that issues requests in order, gives write data from a counter-based pattern,
/// checks every read word against a plain memory, and stalls its streams when told.
pub struct Client {
    pub mem: HashMap<u32, u16>,
    seed: u64,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            mem: HashMap::new(),
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl Client {
    fn next_word(&mut self) -> u16 {
        // splitmix64: write data that differs per word and per run.
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u16
    }

    /// Run `reqs` to completion. `stall(cycle)` says whether the client holds back its
    /// write data (`wr_valid`) and read space (`rd_ready`) in that cycle.
    pub fn run(
        &mut self,
        b: &mut Bench,
        reqs: &[Request],
        mut stall: impl FnMut(u64) -> (bool, bool),
    ) -> Result<Run, BenchError> {
        let mut next = 0;
        let mut wq: VecDeque<u16> = VecDeque::new();
        let mut rq: VecDeque<(u32, u16)> = VecDeque::new();
        let mut run = Run::default();
        let mut start = None;
        let mut idle = 0u64;
        while next < reqs.len() || !wq.is_empty() || !rq.is_empty() {
            let (ws, rs) = stall(b.cycles);
            let c = ClientIn {
                req: reqs.get(next).map(|r| (r.write, r.addr, r.bursts)),
                wr_valid: wq.len() >= 8 && !ws,
                wr_data: wq.front().copied().unwrap_or(0),
                rd_ready: !rs,
            };
            let o = b.cycle(&c)?;
            let cycle = b.cycles - 1;
            let mut progress = false;
            if c.req.is_some() && o.req_ready != 0 {
                let r = reqs[next];
                next += 1;
                start.get_or_insert(cycle);
                for i in 0..r.bursts as u32 * 8 {
                    let a = (r.addr & !7) + i;
                    if r.write {
                        let w = self.next_word();
                        self.mem.insert(a, w);
                        wq.push_back(w);
                    } else {
                        let w = *self.mem.get(&a).ok_or_else(|| {
                            BenchError::Protocol(cycle, format!("test reads unwritten {a:#x}"))
                        })?;
                        rq.push_back((a, w));
                    }
                }
                progress = true;
            }
            if o.wr_ready != 0 {
                if wq.pop_front().is_none() {
                    return Err(BenchError::Protocol(
                        cycle,
                        "wr_ready with no write data left".into(),
                    ));
                }
                // A burst's first word is taken only when the client offered a whole burst.
                if run.words_written % 8 == 0 && !c.wr_valid {
                    return Err(BenchError::Protocol(
                        cycle,
                        "a write burst started without wr_valid".into(),
                    ));
                }
                run.words_written += 1;
                progress = true;
            }
            if o.rd_valid != 0 {
                let Some((addr, want)) = rq.pop_front() else {
                    return Err(BenchError::Protocol(cycle, "rd_valid with no read".into()));
                };
                let got = o.rd_data as u16;
                if got != want {
                    return Err(BenchError::Mismatch {
                        cycle,
                        addr,
                        got,
                        want,
                    });
                }
                run.words_read += 1;
                progress = true;
            }
            if progress {
                idle = 0;
                run.cycles = start.map_or(0, |s| cycle + 1 - s);
            } else {
                idle += 1;
                // Power-up is 20,000 cycles; nothing else waits half as long.
                if idle > 30_000 {
                    return Err(BenchError::Stuck(idle));
                }
            }
        }
        Ok(run)
    }
}
