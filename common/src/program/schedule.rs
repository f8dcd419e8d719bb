//! Timing of a network program: engine cycles per job (the formulas of
//! docs/architecture.md, "Cycles and MAC utilization") and an SDRAM bandwidth model, walked
//! entry by entry as the network controller would: one DMA transfer at a time, in program
//! order, beside one running job. A lower bound of the cycles a program takes.

use super::{Dir, Entry, Gather, Trace, Transfer};
use crate::config::{DeviceConfig, LANES};
use crate::job::{Op, Step};
use crate::timing;

/// Engine cycles of one job, start to done.
pub fn job_cycles(steps: &[Step], cfg: &DeviceConfig) -> u64 {
    let (r, d) = (cfg.rows as u64, (cfg.rows / cfg.requant_units) as u64);
    let issue = timing::Schedule::of(cfg).issue_every as u64;
    steps
        .iter()
        .map(|s| {
            let setup = 4
                + s.cin_words as u64
                + s.y0.unsigned_abs() as u64
                + s.x0.unsigned_abs() as u64
                + 2;
            let pixels = s.out_h as u64 * s.out_w as u64;
            let k2 = s.kernel as u64 * s.kernel as u64;
            setup
                + match s.op {
                    Op::Conv => {
                        s.groups(cfg.rows) as u64
                            * (r + 2 + d + 29 + pixels * (k2 * s.cin_words as u64).max(d) * issue)
                    }
                    Op::MaxPool => pixels * s.cin_words as u64 * 9 * issue,
                    Op::AvgPool => {
                        (s.cout as u64).div_ceil(LANES as u64)
                            * (r + 32 + d + (s.in_h as u64 * s.in_w as u64).max(d) * issue)
                    }
                }
        })
        .sum()
}

/// Sustained SDRAM throughput and the cost of starting a transfer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SdramModel {
    /// Bytes per engine cycle on a sequential stream (refresh included).
    pub bytes_per_cycle: f64,
    /// Cycles from a transfer's request to its first word (ACTIVE, tRCD, CAS latency and
    /// the DMA's registers), paid once per transfer.
    pub latency: u64,
    /// The controller moves whole bursts: every run is rounded up to this many bytes.
    pub burst_bytes: u64,
}

impl SdramModel {
    /// The ULX3S controller at the design clock (docs/sdram.md: 0.981 16-bit words per cycle
    /// sequential, bursts of 8 words).
    pub fn ulx3s() -> Self {
        SdramModel {
            bytes_per_cycle: 2.0 * 0.981,
            latency: 12,
            burst_bytes: 16,
        }
    }

    /// Cycles to stream `bytes`.
    pub fn cycles(&self, bytes: u64) -> u64 {
        (bytes as f64 / self.bytes_per_cycle).ceil() as u64
    }

    fn bursts(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.burst_bytes) * self.burst_bytes
    }

    /// SDRAM bytes a transfer moves (whole bursts) and its cycles.
    pub fn transfer(&self, t: &Transfer) -> (u64, u64) {
        let bytes = t.runs as u64 * self.bursts(8 * t.len as u64);
        (bytes, self.latency + self.cycles(bytes))
    }

    /// SDRAM bytes a gather reads (each image row it needs, once) and its cycles.
    pub fn gather(&self, g: &Gather) -> (u64, u64) {
        let (r0, r1) = g.image_rows();
        let bytes = self.bursts(((r1 - r0) * g.img_w as usize * g.img_c as usize) as u64);
        (bytes, self.latency + self.cycles(bytes))
    }
}

/// One plan layer's share of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerTime {
    /// Engine cycles of the layer's jobs.
    pub compute: u64,
    /// Cycles from the end of the layer before to the end of this one's last job (the last
    /// layer: to the end of the program).
    pub elapsed: u64,
    pub sdram_read: u64,
    pub sdram_written: u64,
    pub jobs: usize,
}

impl LayerTime {
    /// Cycles the engine waited for memory.
    pub fn stall(&self) -> u64 {
        self.elapsed.saturating_sub(self.compute)
    }
}

/// The timing of a whole program run.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub layers: Vec<LayerTime>,
    pub total: u64,
}

impl Schedule {
    /// Walk an executed program's trace; `tags[i]` is entry `i`'s layer.
    pub fn of(trace: &Trace, tags: &[usize], cfg: &DeviceConfig, m: &SdramModel) -> Self {
        let n = tags.iter().max().map_or(0, |&l| l + 1);
        let mut layers = vec![LayerTime::default(); n];
        let (mut t, mut dma_free, mut job_end) = (0u64, 0u64, 0u64);
        let mut layer_end = vec![0u64; n];
        for ((e, steps), &l) in trace.iter().zip(tags) {
            let lt = &mut layers[l];
            let mut dma = |bytes: u64, cycles: u64, dir: Dir, t: &mut u64| {
                let start = (*t).max(dma_free);
                dma_free = start + cycles;
                *t = start;
                match dir {
                    Dir::ToChip => lt.sdram_read += bytes,
                    Dir::ToSdram => lt.sdram_written += bytes,
                }
            };
            match e {
                Entry::Transfer(x) => {
                    let (b, c) = m.transfer(x);
                    dma(b, c, x.dir, &mut t);
                }
                Entry::Gather(g) => {
                    let (b, c) = m.gather(g);
                    dma(b, c, Dir::ToChip, &mut t);
                }
                Entry::Copy(c) => {
                    // On-chip: a word per cycle through the engine's bus, no SDRAM.
                    dma(0, 8 + c.words as u64, Dir::ToChip, &mut t);
                }
                Entry::Start => {
                    let c = job_cycles(steps.as_deref().unwrap_or(&[]), cfg);
                    lt.compute += c;
                    lt.jobs += 1;
                    job_end = t + c;
                }
                Entry::WaitJob => {
                    t = t.max(job_end);
                    layer_end[l] = t;
                }
                Entry::WaitDma => t = t.max(dma_free),
                Entry::End => {
                    t = t.max(dma_free);
                    layer_end[l] = t;
                }
            }
        }
        let mut prev = 0;
        for (lt, &end) in layers.iter_mut().zip(&layer_end) {
            lt.elapsed = end.saturating_sub(prev);
            prev = prev.max(end);
        }
        Schedule { layers, total: t }
    }

    pub fn compute(&self) -> u64 {
        self.layers.iter().map(|l| l.compute).sum()
    }
}
