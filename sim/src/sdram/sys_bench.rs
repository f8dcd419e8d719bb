//! The Verilated SDRAM system of the ULX3S (`hdl::sdram::SdramSys`: bus mux, DMA,
//! controller; built by `build/sdram.rs`) with the chip model on its pins, a model of the
//! engine's bus behind it (a plain memory answering reads a fixed latency later, the
//! contract of docs/architecture.md "Core ports"), and a host that starts transfers
//! through the DMA registers as the link does. Every transfer is checked against plain
//! Rust memories: the bus words after a transfer to the chip, the chip's cells after a
//! transfer to the SDRAM (including the neighbours a half burst covers).

use super::bench::BenchError;
use super::chip::{Chip, Pins};
use common::bus::REGION_SHIFT;
use common::dma::{DMA_REGION, Dir, Transfer};
use common::sdram::SdramTiming;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct SysIn {
    reset: u64,
    l_addr: u64,
    l_wdata: u64,
    l_write: u64,
    l_read: u64,
    l_start: u64,
    c_rdata: u64,
    c_rvalid: u64,
    c_busy: u64,
    dq_in: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct SysOut {
    l_rdata: u64,
    l_rvalid: u64,
    c_addr: u64,
    c_wdata: u64,
    c_write: u64,
    c_read: u64,
    c_start: u64,
    dma_busy: u64,
    cke: u64,
    cs_n: u64,
    ras_n: u64,
    cas_n: u64,
    we_n: u64,
    ba: u64,
    a: u64,
    dqm: u64,
    dq_out: u64,
    dq_oe: u64,
}

impl SysOut {
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

unsafe extern "C" {
    fn sdr_sys_new() -> *mut c_void;
    fn sdr_sys_free(p: *mut c_void);
    fn sdr_sys_cycle(p: *mut c_void, i: *const SysIn, o: *mut SysOut);
}

/// Cycles from a bus read to its answer in the engine model (the engine's, `Core ports`).
pub const BUS_LATENCY: usize = 7;

/// Word driven by the bench's bus when nobody drives DQ.
const FLOATING: u16 = 0xdead;

/// The engine's memory as the bus sees it: words never written read as a hash of their
/// address (any value does; the check knows it).
fn bus_init(addr: u32) -> u64 {
    let mut z = addr as u64 ^ 0x5851_f42d_4c95_7f2d;
    z = (z ^ (z >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^ (z >> 32)
}

/// One bus access of the host, the DMA's own register writes and status reads included.
#[derive(Clone, Copy, Debug)]
enum HostOp {
    Write(u32, u64),
    Read(u32),
}

/// The system, the chip, the engine's bus memory and the host's queue of accesses.
pub struct SysBench {
    ptr: *mut c_void,
    pub chip: Chip,
    drive: Option<u16>,
    pub cycles: u64,
    /// The engine's memory behind the bus.
    pub bus: HashMap<u32, u64>,
    answers: VecDeque<Option<u64>>,
    host: VecDeque<HostOp>,
    /// Answers the host still waits for: (address, expected word if known).
    host_reads: VecDeque<(u32, Option<u64>)>,
    /// Status words the host read, in order.
    pub status: Vec<u64>,
    /// Bus words the DMA read and wrote (counts of accesses the mux granted it).
    pub dma_bus_ops: u64,
}

impl SysBench {
    pub fn new() -> Self {
        // SAFETY: the constructor returns a new model that `Drop` frees.
        let ptr = unsafe { sdr_sys_new() };
        assert!(!ptr.is_null());
        let mut b = SysBench {
            ptr,
            chip: Chip::new(SdramTiming::ulx3s(100_000_000, CL)),
            drive: None,
            cycles: 0,
            bus: HashMap::new(),
            answers: VecDeque::from(vec![None; BUS_LATENCY]),
            host: VecDeque::new(),
            host_reads: VecDeque::new(),
            status: Vec::new(),
            dma_bus_ops: 0,
        };
        let reset = SysIn {
            reset: 1,
            ..Default::default()
        };
        let mut out = SysOut::default();
        for _ in 0..4 {
            // SAFETY: ptr is live; the structs match the C side.
            unsafe { sdr_sys_cycle(b.ptr, &reset, &mut out) };
        }
        // The controller's power-up wait and init sequence.
        let init = b.chip.timing().power_up + 200;
        while b.cycles < init {
            b.cycle().expect("the controller's init sequence");
        }
        b
    }

    fn bus_word(&self, a: u32) -> u64 {
        self.bus.get(&a).copied().unwrap_or_else(|| bus_init(a))
    }

    /// One cycle: the host's next access (if any), the engine's answer, the chip's DQ.
    fn cycle(&mut self) -> Result<SysOut, BenchError> {
        let answer = self.answers.pop_front().unwrap();
        let op = self.host.pop_front();
        let mut i = SysIn {
            c_rdata: answer.unwrap_or(0),
            c_rvalid: answer.is_some() as u64,
            dq_in: self.drive.unwrap_or(FLOATING) as u64,
            ..Default::default()
        };
        match op {
            Some(HostOp::Write(a, d)) => {
                i.l_addr = a as u64;
                i.l_wdata = d;
                i.l_write = 1;
            }
            Some(HostOp::Read(a)) => {
                i.l_addr = a as u64;
                i.l_read = 1;
            }
            None => {}
        }
        let mut o = SysOut::default();
        // SAFETY: as in `new`.
        unsafe { sdr_sys_cycle(self.ptr, &i, &mut o) };
        let cycle = self.cycles;
        // The engine: writes land, reads answer BUS_LATENCY cycles later.
        let a = o.c_addr as u32;
        let host_access = op.is_some();
        if o.c_write != 0 {
            self.bus.insert(a, o.c_wdata);
        }
        self.answers
            .push_back((o.c_read != 0).then(|| self.bus_word(a)));
        if !host_access && (o.c_write != 0 || o.c_read != 0) {
            self.dma_bus_ops += 1;
        }
        if let Some(HostOp::Write(ha, _)) = op {
            let region = ha >> REGION_SHIFT;
            if o.c_write != (region != DMA_REGION) as u64 || (region != DMA_REGION && a != ha) {
                return Err(BenchError::Protocol(
                    cycle,
                    format!(
                        "host write to {ha:#x} reached the engine as {a:#x}/{}",
                        o.c_write
                    ),
                ));
            }
        }
        if let Some(HostOp::Read(ha)) = op {
            if o.c_read == 0 || a != ha {
                return Err(BenchError::Protocol(
                    cycle,
                    format!("host read of {ha:#x} did not reach the engine"),
                ));
            }
            let want = (ha >> REGION_SHIFT != DMA_REGION).then(|| self.bus_word(ha));
            self.host_reads.push_back((ha, want));
        }
        if o.l_rvalid != 0 {
            let Some((ha, want)) = self.host_reads.pop_front() else {
                return Err(BenchError::Protocol(
                    cycle,
                    "host answer with no read".into(),
                ));
            };
            match want {
                Some(w) if w != o.l_rdata => {
                    return Err(BenchError::Protocol(
                        cycle,
                        format!("host read of {ha:#x}: {:#x}, expected {w:#x}", o.l_rdata),
                    ));
                }
                Some(_) => {}
                None => self.status.push(o.l_rdata),
            }
        }
        self.drive = self.chip.step(&o.pins())?;
        self.cycles += 1;
        Ok(o)
    }

    /// Runs `t` through the DMA registers, the host polling the status every `poll` cycles
    /// (0: never) and reading engine memory at `other` (if given) in between. Returns the
    /// cycles from the start register's write to the status read that saw it finished
    /// (or, without polls, to `dma_busy` low).
    pub fn transfer(
        &mut self,
        t: &Transfer,
        poll: u64,
        other: Option<u32>,
    ) -> Result<u64, BenchError> {
        t.check()
            .map_err(|e| BenchError::Protocol(self.cycles, e))?;
        let dma = DMA_REGION << REGION_SHIFT;
        let r = t.to_regs();
        self.host.push_back(HostOp::Write(dma, r[0]));
        self.host.push_back(HostOp::Write(dma | 1, r[1]));
        let start = self.cycles + 1;
        let mut seen_busy = false;
        loop {
            let o = self.cycle()?;
            if o.dma_busy != 0 {
                seen_busy = true;
            }
            let since = self.cycles - start;
            if since > 100 + 40 * t.words as u64 {
                return Err(BenchError::Stuck(since));
            }
            if self.cycles > start && o.dma_busy == 0 && (seen_busy || t.words == 0) {
                if poll == 0 {
                    return Ok(self.cycles - start);
                }
                // The host's status read says finished.
                self.host.push_back(HostOp::Read(dma));
                while !self.host_reads.is_empty() || !self.host.is_empty() {
                    self.cycle()?;
                }
                let s = *self.status.last().unwrap();
                if s & 1 != 0 {
                    return Err(BenchError::Protocol(
                        self.cycles,
                        "status busy after the end".into(),
                    ));
                }
                return Ok(self.cycles - start);
            }
            if poll != 0 && self.host.is_empty() && since.is_multiple_of(poll) {
                self.host.push_back(HostOp::Read(dma));
                if let Some(a) = other {
                    self.host.push_back(HostOp::Read(a));
                }
            }
        }
    }

    /// The chip's 64-bit word `w` (None if any of its columns was never written).
    pub fn sdram_word(&self, w: u32) -> Option<u64> {
        let mut v = 0u64;
        for k in 0..4 {
            let a = 4 * w + k;
            let col = a & 511;
            let bank = (a >> 9) & 3;
            let row = a >> 11;
            v |= (self.chip.peek(bank as usize, row, col)? as u64) << (16 * k);
        }
        Some(v)
    }
}

impl Default for SysBench {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SysBench {
    fn drop(&mut self) {
        // SAFETY: made by the constructor, freed once.
        unsafe { sdr_sys_free(self.ptr) };
    }
}

/// The CAS latency the system is built with (the ULX3S board's, from `build/sdram.rs`).
pub const CL: u32 = const_u32(env!("SQZ_SDRAM_SYS_CL"));

const fn const_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

/// Transfers checked against plain memories: the SDRAM's words as the transfers left them
/// (the engine's are the bench's `bus`).
pub struct Soak {
    pub sdram: HashMap<u32, u64>,
    seed: u64,
}

impl Soak {
    pub fn new(seed: u64) -> Self {
        Soak {
            sdram: HashMap::new(),
            seed,
        }
    }

    pub fn rand(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Runs `t` on `b` and checks it against the plain memories.
    pub fn run(&mut self, b: &mut SysBench, t: &Transfer, poll: u64) -> Result<u64, BenchError> {
        // Engine memory the host may read while the DMA runs: outside this transfer.
        let other = (t.bus_addr & !((1 << REGION_SHIFT) - 1)) ^ (1 << REGION_SHIFT);
        if t.dir == Dir::ToSdram {
            // The engine's words to send: give them values first (the host would have).
            for k in 0..t.words {
                let v = self.rand();
                b.bus.insert(t.bus_addr + k, v);
            }
        }
        let cycles = b.transfer(t, poll, Some(other))?;
        let err = |msg: String| Err(BenchError::Protocol(b.cycles, msg));
        match t.dir {
            Dir::ToSdram => {
                for k in 0..t.words {
                    self.sdram
                        .insert(t.sdram_word + k, b.bus[&(t.bus_addr + k)]);
                }
                // The transfer's words and the half-burst neighbours it must not touch.
                let lo = t.sdram_word.saturating_sub(1);
                for w in lo..t.sdram_word + t.words + 1 {
                    let got = b.sdram_word(w);
                    if got != self.sdram.get(&w).copied() {
                        return err(format!(
                            "{t:?}: SDRAM word {w:#x} is {got:x?}, expected {:x?}",
                            self.sdram.get(&w)
                        ));
                    }
                }
            }
            Dir::ToChip => {
                for k in 0..t.words {
                    let want = self.sdram[&(t.sdram_word + k)];
                    let got = b.bus.get(&(t.bus_addr + k)).copied();
                    if got != Some(want) {
                        return err(format!(
                            "{t:?}: bus word {:#x} is {got:x?}, expected {want:#x}",
                            t.bus_addr + k
                        ));
                    }
                }
            }
        }
        Ok(cycles)
    }
}
