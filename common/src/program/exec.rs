//! The executable form of the network program: the controller's entries one by one on an
//! SDRAM word array and the device model, with the concurrency rule of `mod.rs` checked.
//! Because the rule makes the result independent of timing, a transfer takes effect when it
//! is issued and a job runs to completion at `Start`; `schedule.rs` adds the timing.

use std::ops::Range;

use thiserror::Error;

use super::{Copy, Dir, ENTRY_WORDS, Entry, FormatError, Gather, Transfer};
use crate::bus::Region;
use crate::config::LANES;
use crate::device::Device;
use crate::job::{JobError, Op, STEP_WORDS, Step};

/// A failure of the program, located at an entry.
#[derive(Debug, Error)]
pub enum ExecError {
    #[error("entry {0}: {1}")]
    Format(usize, FormatError),
    #[error("entry {0}: job: {1}")]
    Job(usize, JobError),
    #[error("entry {0}: {1}")]
    Invalid(usize, String),
    #[error("entry {entry}: {what} touches {region:?} words {overlap:?} of {other}")]
    Hazard {
        entry: usize,
        what: String,
        other: String,
        region: Region,
        overlap: Range<usize>,
    },
    #[error("the program runs past SDRAM word {0} without an End")]
    NoEnd(usize),
}

/// What the executor saw: every entry in execution order, with a started job's steps.
pub type Trace = Vec<(Entry, Option<Vec<Step>>)>;

/// On-chip words touched: `(region, index range)` pairs.
pub(crate) type Footprint = Vec<(Region, Range<usize>)>;

/// SDRAM and the device, as the network controller and its DMA see them.
#[derive(Clone, Debug)]
pub struct Machine {
    /// SDRAM in 64-bit words.
    pub sdram: Vec<u64>,
    /// Words holding data (loaded before the start or written by the program): reading any
    /// other word is an error, which catches a read issued before the write it depends on.
    pub defined: Vec<bool>,
    pub dev: Device,
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> Option<Range<usize>> {
    let r = a.start.max(b.start)..a.end.min(b.end);
    (r.start < r.end).then_some(r)
}

/// The first common word of two footprints.
pub(crate) fn clash(a: &Footprint, b: &Footprint) -> Option<(Region, Range<usize>)> {
    a.iter().find_map(|(ra, xa)| {
        b.iter()
            .filter(|(rb, _)| rb == ra)
            .find_map(|(_, xb)| overlap(xa, xb).map(|o| (*ra, o)))
    })
}

/// Every on-chip word a job reads or writes (ranges may be conservative, never short).
pub(crate) fn job_footprint(steps: &[Step], rows: usize) -> Footprint {
    let region = |b: crate::job::Buf| match b {
        crate::job::Buf::A => Region::A,
        crate::job::Buf::B => Region::B,
        crate::job::Buf::S => Region::S,
    };
    let mut f = vec![(Region::Desc, 0..steps.len() * STEP_WORDS)];
    for s in steps {
        let src = s.src_base as usize;
        f.push((
            region(s.src),
            src..src + s.in_h as usize * s.in_w as usize * s.cin_words as usize,
        ));
        let pixels = match s.op {
            Op::AvgPool => 1,
            _ => s.out_h as usize * s.out_w as usize,
        };
        let dst = s.dst_base as usize;
        f.push((region(s.dst), dst..dst + pixels * s.dst_wpp as usize));
        let params = s.param_base as usize..s.param_base as usize + s.cout as usize;
        match s.op {
            Op::Conv => {
                let k2 = s.kernel as usize * s.kernel as usize;
                let w0 = s.weight_base as usize;
                let w1 = w0 + s.groups(rows) * k2 * s.cin_words as usize;
                f.push((Region::Weights, w0 * rows..w1 * rows));
                f.push((Region::Params, params));
            }
            Op::AvgPool => f.push((Region::Params, params)),
            Op::MaxPool => {}
        }
    }
    f
}

impl Machine {
    /// A machine with `sdram_words` zero words of SDRAM, all defined, and a zeroed device.
    pub fn new(dev: Device, sdram_words: usize) -> Self {
        Machine {
            sdram: vec![0; sdram_words],
            defined: vec![true; sdram_words],
            dev,
        }
    }

    /// Words in an on-chip region.
    fn region_words(&self, r: Region) -> usize {
        let c = &self.dev.cfg;
        match r {
            Region::Desc => c.max_steps * STEP_WORDS,
            Region::A | Region::B => c.act_words,
            Region::S => c.sq_words,
            Region::Weights => c.weight_words * c.rows,
            Region::Params => c.param_words,
        }
    }

    /// The on-chip words `n` words from bus address `bus` cover, checked against the region.
    fn chip_range(&self, bus: u32, n: u64) -> Result<(Region, Range<usize>), String> {
        let (r, i) = Region::decode(bus).ok_or(format!("bus address {bus:#x}"))?;
        let end = i + n as usize;
        if end > self.region_words(r) {
            return Err(format!(
                "{r:?} words {i}..{end} exceed the region ({} words)",
                self.region_words(r)
            ));
        }
        Ok((r, i..end))
    }

    fn sdram_check(&self, first: u64, last_end: u64) -> Result<(), String> {
        if last_end > self.sdram.len() as u64 || last_end > self.defined.len() as u64 {
            return Err(format!(
                "SDRAM words {first}..{last_end} exceed the {} words of SDRAM",
                self.sdram.len()
            ));
        }
        Ok(())
    }

    fn sdram_read(&self, i: usize) -> Result<u64, String> {
        if !self.defined[i] {
            return Err(format!("reads SDRAM word {i}, which holds no data yet"));
        }
        Ok(self.sdram[i])
    }

    fn transfer(&mut self, t: &Transfer) -> Result<Footprint, String> {
        let (region, chip) = self.chip_range(t.bus, t.words())?;
        if t.runs > 0 && t.len > 0 {
            let end = t.sdram as u64 + (t.runs as u64 - 1) * t.stride as u64 + t.len as u64;
            self.sdram_check(t.sdram as u64, end)?;
        }
        for r in 0..t.runs as usize {
            for i in 0..t.len as usize {
                let s = t.sdram as usize + r * t.stride as usize + i;
                let c = chip.start + r * t.len as usize + i;
                match t.dir {
                    Dir::ToChip => self.dev.write(region, c, self.sdram_read(s)?),
                    Dir::ToSdram => {
                        self.sdram[s] = self.dev.read(region, c);
                        self.defined[s] = true;
                    }
                }
            }
        }
        Ok(vec![(region, chip)])
    }

    fn copy(&mut self, c: &Copy) -> Result<Footprint, String> {
        let (rf, from) = self.chip_range(c.from, c.words as u64)?;
        let (rt, to) = self.chip_range(c.to, c.words as u64)?;
        for i in 0..c.words as usize {
            let w = self.dev.read(rf, from.start + i);
            self.dev.write(rt, to.start + i, w);
        }
        Ok(vec![(rf, from), (rt, to)])
    }

    fn gather(&mut self, g: &Gather) -> Result<Footprint, String> {
        let (region, chip) = self.chip_range(g.bus, g.words())?;
        let (c, k, wpp) = (g.img_c as usize, g.k as usize, g.wpp as usize);
        if k * k * c > wpp * LANES {
            return Err(format!("{k}x{k}x{c} patch bytes exceed {wpp} words"));
        }
        let bytes = g.img_h as u64 * g.img_w as u64 * c as u64;
        self.sdram_check(g.sdram as u64, g.sdram as u64 + bytes.div_ceil(8))?;
        let byte = |m: &Machine, i: usize| {
            m.sdram_read(g.sdram as usize + i / 8)
                .map(|w| (w >> (8 * (i % 8))) as u8)
        };
        for oy in g.oy0 as usize..(g.oy0 + g.rows) as usize {
            for ox in 0..g.ow as usize {
                let mut words = vec![0u64; wpp];
                for j in 0..k * k * c {
                    let (ky, kx, ci) = (j / (k * c), j / c % k, j % c);
                    let iy = (oy * g.stride as usize + ky) as isize - g.pad as isize;
                    let ix = (ox * g.stride as usize + kx) as isize - g.pad as isize;
                    if iy < 0 || ix < 0 || iy >= g.img_h as isize || ix >= g.img_w as isize {
                        continue;
                    }
                    let b = byte(
                        self,
                        (iy as usize * g.img_w as usize + ix as usize) * c + ci,
                    )?;
                    words[j / LANES] |= (b as u64) << (8 * (j % LANES));
                }
                let px = (oy - g.oy0 as usize) * g.ow as usize + ox;
                for (w, &v) in words.iter().enumerate() {
                    self.dev.write(region, chip.start + px * wpp + w, v);
                }
            }
        }
        Ok(vec![(region, chip)])
    }

    /// Run the program at SDRAM word `program` to its `End`. `on_entry(i, entry, machine)` is
    /// called after entry `i` took effect.
    pub fn run(
        &mut self,
        program: usize,
        mut on_entry: impl FnMut(usize, &Entry, &Machine),
    ) -> Result<Trace, ExecError> {
        let mut trace = Trace::new();
        // Transfers issued since the last WaitDma, and the running job.
        let mut pending: Vec<(usize, Footprint)> = Vec::new();
        let mut running: Option<(usize, Footprint)> = None;
        for i in 0.. {
            let at = program + i * ENTRY_WORDS;
            let Some(w) = self.sdram.get(at..at + ENTRY_WORDS) else {
                return Err(ExecError::NoEnd(at));
            };
            let e = Entry::decode(&w.try_into().unwrap()).map_err(|x| ExecError::Format(i, x))?;
            let invalid = |m: String| ExecError::Invalid(i, m);
            let mut steps = None;
            match &e {
                Entry::Transfer(_) | Entry::Gather(_) | Entry::Copy(_) => {
                    let f = match &e {
                        Entry::Transfer(t) => self.transfer(t),
                        Entry::Gather(g) => self.gather(g),
                        Entry::Copy(c) => self.copy(c),
                        _ => unreachable!(),
                    }
                    .map_err(invalid)?;
                    if let Some((j, job)) = &running
                        && let Some((region, overlap)) = clash(&f, job)
                    {
                        return Err(ExecError::Hazard {
                            entry: i,
                            what: format!("{e:?}"),
                            other: format!("the job started at entry {j}"),
                            region,
                            overlap,
                        });
                    }
                    pending.push((i, f));
                }
                Entry::Start => {
                    if running.is_some() {
                        return Err(invalid("Start while a job runs".into()));
                    }
                    let s = self.dev.decode_job().map_err(|x| ExecError::Job(i, x))?;
                    let f = job_footprint(&s, self.dev.cfg.rows);
                    for (j, t) in &pending {
                        if let Some((region, overlap)) = clash(&f, t) {
                            return Err(ExecError::Hazard {
                                entry: i,
                                what: "Start".into(),
                                other: format!("the transfer at entry {j}, not waited for"),
                                region,
                                overlap,
                            });
                        }
                    }
                    self.dev.run().map_err(|x| ExecError::Job(i, x))?;
                    running = Some((i, f));
                    steps = Some(s);
                }
                Entry::WaitJob => {
                    if running.take().is_none() {
                        return Err(invalid("WaitJob with no job running".into()));
                    }
                }
                Entry::WaitDma => pending.clear(),
                Entry::End => {
                    if running.is_some() || !pending.is_empty() {
                        return Err(invalid(
                            "End with a job or a transfer not waited for".into(),
                        ));
                    }
                }
            }
            on_entry(i, &e, self);
            trace.push((e, steps));
            if e == Entry::End {
                break;
            }
        }
        Ok(trace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceConfig;
    use crate::bus::Region;
    use crate::job::encode_job;
    use crate::synthetic::tiny_step;

    /// A machine holding `entries` at word 0 and the tiny job's descriptor at word 100.
    fn machine(entries: &[Entry]) -> Machine {
        let cfg = DeviceConfig::small();
        let mut m = Machine::new(Device::new(cfg.clone()), 4096);
        for (i, e) in entries.iter().enumerate() {
            m.sdram[2 * i..2 * i + 2].copy_from_slice(&e.encode().unwrap());
        }
        let desc = encode_job(&[tiny_step()], &cfg).unwrap();
        m.sdram[100..100 + desc.len()].copy_from_slice(&desc);
        m
    }

    fn to_chip(sdram: u32, region: Region, index: usize, len: u32) -> Entry {
        Entry::Transfer(Transfer {
            dir: Dir::ToChip,
            sdram,
            bus: region.addr(index),
            len,
            runs: 1,
            stride: 0,
        })
    }

    const DESC: u32 = 100;

    #[test]
    fn transfer_while_job_runs_into_its_input_is_an_error() {
        let prog = [
            to_chip(DESC, Region::Desc, 0, 4),
            Entry::WaitDma,
            Entry::Start,
            // The tiny job reads A words 0..4: word 8 is free, word 3 is not.
            to_chip(200, Region::A, 8, 4),
            to_chip(200, Region::A, 3, 1),
            Entry::WaitJob,
            Entry::WaitDma,
            Entry::End,
        ];
        let err = machine(&prog).run(0, |_, _, _| {}).unwrap_err();
        assert!(
            matches!(&err, ExecError::Hazard { entry: 4, region: Region::A, overlap, .. } if *overlap == (3..4)),
            "{err}"
        );
        // Without the offending transfer the program runs.
        let mut ok = prog.to_vec();
        ok.remove(4);
        machine(&ok).run(0, |_, _, _| {}).unwrap();
    }

    #[test]
    fn start_before_its_input_arrived_is_an_error() {
        let prog = [
            to_chip(DESC, Region::Desc, 0, 4),
            Entry::WaitDma,
            to_chip(200, Region::Weights, 0, 4),
            Entry::Start,
            Entry::WaitJob,
            Entry::End,
        ];
        let err = machine(&prog).run(0, |_, _, _| {}).unwrap_err();
        assert!(
            matches!(
                &err,
                ExecError::Hazard {
                    entry: 3,
                    region: Region::Weights,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn strided_transfers_and_protocol_errors() {
        // Two runs of 2 words, stride 5: SDRAM 300, 301, 305, 306 -> B 0..4 -> SDRAM 400..
        let mut m = machine(&[
            Entry::Transfer(Transfer {
                dir: Dir::ToChip,
                sdram: 300,
                bus: Region::B.addr(0),
                len: 2,
                runs: 2,
                stride: 5,
            }),
            Entry::Transfer(Transfer {
                dir: Dir::ToSdram,
                sdram: 400,
                bus: Region::B.addr(0),
                len: 4,
                runs: 1,
                stride: 0,
            }),
            Entry::WaitDma,
            Entry::End,
        ]);
        for i in 0..8 {
            m.sdram[300 + i] = 1000 + i as u64;
        }
        m.run(0, |_, _, _| {}).unwrap();
        assert_eq!(m.sdram[400..404], [1000, 1001, 1005, 1006]);
        let mut m = machine(&[
            to_chip(300, Region::B, 5, 2),
            Entry::Copy(Copy {
                from: Region::B.addr(5),
                to: Region::S.addr(1),
                words: 2,
            }),
            Entry::WaitDma,
            Entry::End,
        ]);
        m.sdram[300..302].copy_from_slice(&[7, 8]);
        m.run(0, |_, _, _| {}).unwrap();
        assert_eq!(m.dev.s[..4], [0, 7, 8, 0]);
        for bad in [
            vec![Entry::WaitJob, Entry::End],
            vec![to_chip(0, Region::A, 0, 1), Entry::End],
            vec![to_chip(0, Region::S, 1020, 8), Entry::WaitDma, Entry::End],
        ] {
            assert!(
                matches!(
                    machine(&bad).run(0, |_, _, _| {}),
                    Err(ExecError::Invalid(..))
                ),
                "{bad:?}"
            );
        }
        // Zeroed memory is not a program; running off SDRAM is an error of its own.
        assert!(matches!(
            machine(&[Entry::WaitDma]).run(0, |_, _, _| {}),
            Err(ExecError::Format(1, FormatError::Op(0)))
        ));
        let mut m = machine(&[to_chip(300, Region::A, 0, 2), Entry::WaitDma, Entry::End]);
        m.defined[301] = false;
        assert!(
            matches!(m.run(0, |_, _, _| {}), Err(ExecError::Invalid(0, ref x)) if x.contains("301")),
            "a read of a word never written"
        );
        let mut m = machine(&[Entry::WaitDma]);
        m.sdram.truncate(3);
        assert!(matches!(m.run(0, |_, _, _| {}), Err(ExecError::NoEnd(2))));
    }

    #[test]
    fn gather_builds_im2col_patches() {
        use crate::tensor::Tensor;
        // A 5x6 image of 3 channels, 3x3 stride 2 pad 1: the gather equals the host's im2col.
        let (h, w, c) = (5usize, 6usize, 3usize);
        let bytes: Vec<u8> = (0..h * w * c).map(|i| (i * 37 + 11) as u8).collect();
        let mut m = machine(&[]);
        for (i, &b) in bytes.iter().enumerate() {
            m.sdram[1000 + i / 8] |= (b as u64) << (8 * (i % 8));
        }
        // Tensor::from_chw wants [c][h][w]; the image is [h][w][c].
        let chw: Vec<u8> = (0..c * h * w)
            .map(|i| bytes[(i % (h * w)) * c + i / (h * w)])
            .collect();
        let want = Tensor::from_chw(&chw, c, h, w).im2col(3, 2, 1);
        let g = Gather {
            sdram: 1000,
            bus: Region::A.addr(0),
            img_h: h as u16,
            img_w: w as u16,
            img_c: c as u8,
            k: 3,
            stride: 2,
            pad: 1,
            oy0: 1,
            rows: 2,
            ow: want.w as u16,
            wpp: want.cw as u8,
        };
        m.gather(&g).unwrap();
        let n = 2 * want.w * want.cw;
        assert_eq!(m.dev.a[..n], want.words[want.w * want.cw..][..n]);
        assert_eq!(g.image_rows(), (1, 5));
    }
}
