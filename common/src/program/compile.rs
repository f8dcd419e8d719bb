//! The network program compiler: from a [`QNet`] and a [`DeviceConfig`], the SDRAM image
//! (program, descriptors, weights and parameters, the image slot, activation areas, the
//! output) and the program that runs the whole inference from one start.
//!
//! The jobs are the job compiler's (`crate::compile`, pools folded), compiled per layer in one
//! of three [`Variant`]s, chosen per layer:
//! - `Whole`: data buffers at full size, weights and parameters in halves; used when the
//!   layer runs in one band, so its input can stay on chip from the layer before.
//! - `Streamed`: every on-chip memory in halves, alternating per band (input, squeeze, output)
//!   and per weight set, so the next band's input and the next weights load while a job
//!   runs and the last band's output drains.
//! - `Single`: the plain plan (nothing overlaps), when halving costs more than it hides.
//!
//! The emitter overlaps whatever the concurrency rule of `mod.rs` allows: a job's loads are
//! issued while the job before runs unless they touch its memory, and a job's write-back
//! is issued after the next job starts unless that job touches the written-back memory.

use super::exec::{Footprint, clash, job_footprint};
use super::schedule::{Schedule, SdramModel};
use super::{Dir, Entry, Gather, Transfer};
use crate::bus::Region;
use crate::compile::{CompileError, JobPlan, LayerPlan, Plan};
use crate::config::{DeviceConfig, LANES};
use crate::job::{Buf, STEP_WORDS, Step, encode_job};
use crate::qnet::QNet;

/// How a layer's jobs use the on-chip memories (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Whole,
    Streamed,
    Single,
}

/// Where a layer's output can be read after (or during) the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    /// In SDRAM from `word`, as a `Tensor` (pixel-major, `c.div_ceil(8)` words per pixel).
    Sdram { word: usize },
    /// Only on chip: whole in `region` from word 0 right after entry `after`.
    Chip { region: Region, after: usize },
}

/// One layer of the network as the reference names it, its shape and where its output is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerCheck {
    pub name: String,
    pub shape: (usize, usize, usize),
    pub at: Located,
}

/// A compiled network program and its SDRAM image.
#[derive(Clone, Debug)]
pub struct NetProgram {
    pub cfg: DeviceConfig,
    /// The SDRAM contents before the image is written (zero outside the areas).
    pub sdram: Vec<u64>,
    /// The memory map: `(area, first word, words)`, in address order.
    pub map: Vec<(String, usize, usize)>,
    /// First word of the program, of the image slot and of the output.
    pub program: usize,
    pub image: usize,
    pub output: usize,
    pub entries: Vec<Entry>,
    /// The plan layer each entry belongs to.
    pub tags: Vec<usize>,
    /// The plan's layers (pools folded) and the variant each was compiled in.
    pub layers: Vec<(LayerPlan, Variant)>,
    /// Every reference layer's output location (a folded pool's input has none).
    pub checks: Vec<LayerCheck>,
}

/// A job of the flattened program: relocated steps and the transfers around it.
struct Job {
    layer: usize,
    steps: Vec<Step>,
    loads: Vec<Entry>,
    writes: Vec<Entry>,
    desc: usize,
}

fn region(b: Buf) -> Region {
    match b {
        Buf::A => Region::A,
        Buf::B => Region::B,
        Buf::S => Region::S,
    }
}

/// A layer whose input stays on chip in B runs with A and B swapped.
fn swap_ab(resident_in: Option<Buf>, b: Buf) -> Buf {
    match (resident_in, b) {
        (Some(Buf::B), Buf::A) => Buf::B,
        (Some(Buf::B), Buf::B) => Buf::A,
        _ => b,
    }
}

fn footprint(entries: &[Entry]) -> Footprint {
    let range = |bus: u32, n: u64| {
        let (r, i) = Region::decode(bus).expect("the compiler emits known regions");
        (r, i..i + n as usize)
    };
    entries
        .iter()
        .flat_map(|e| match e {
            Entry::Transfer(t) => vec![range(t.bus, t.words())],
            Entry::Gather(g) => vec![range(g.bus, g.words())],
            Entry::Copy(c) => vec![range(c.from, c.words as u64), range(c.to, c.words as u64)],
            _ => vec![],
        })
        .collect()
}

/// The SDRAM words a list of transfers touches (bounding range of each).
fn sdram_span(entries: &[Entry]) -> Vec<std::ops::Range<u64>> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Transfer(t) if t.runs > 0 => {
                let s = t.sdram as u64;
                Some(s..s + (t.runs as u64 - 1) * t.stride as u64 + t.len as u64)
            }
            Entry::Gather(g) => {
                let s = g.sdram as u64;
                let bytes = g.img_h as u64 * g.img_w as u64 * g.img_c as u64;
                Some(s..s + bytes.div_ceil(8))
            }
            _ => None,
        })
        .collect()
}

/// Whether `reads` reads SDRAM words `writes` writes (a dependency the DMA order must keep).
fn sdram_dep(writes: &[Entry], reads: &[Entry]) -> bool {
    let w = sdram_span(writes);
    sdram_span(reads)
        .iter()
        .any(|r| w.iter().any(|x| r.start < x.end && x.start < r.end))
}

/// Bump allocator of SDRAM areas, 16-byte (one burst) aligned.
struct Alloc {
    next: usize,
    map: Vec<(String, usize, usize)>,
}

impl Alloc {
    fn take(&mut self, name: String, words: usize) -> usize {
        let at = self.next;
        self.map.push((name, at, words));
        self.next = (at + words).next_multiple_of(2);
        at
    }
}

fn halves(cfg: &DeviceConfig, data: bool) -> DeviceConfig {
    let mut c = cfg.clone();
    if data {
        c.act_words /= 2;
        c.sq_words /= 2;
    }
    c.weight_words /= 2;
    c.param_words /= 2;
    c
}

/// Every job with an input loads the layer's whole input in one piece at word 0 of A.
fn single_band(lp: &LayerPlan) -> bool {
    let cw = lp.in_shape.0.div_ceil(LANES);
    lp.im2col.is_none()
        && lp.jobs.iter().all(|j| {
            j.input.as_ref().is_none_or(|t| {
                (t.buf, t.base, t.r0, t.r1, t.c0, t.c1) == (Buf::A, 0, 0, lp.in_shape.1, 0, cw)
            })
        })
}

/// The one job writing the layer's whole output at word 0 of a buffer, if there is one.
fn whole_output(lp: &LayerPlan) -> Option<Buf> {
    let cw = lp.out_shape.0.div_ceil(LANES);
    let outs: Vec<_> = lp.jobs.iter().filter_map(|j| j.output.as_ref()).collect();
    match outs[..] {
        [t] if (t.base, t.r0, t.r1, t.c0, t.c1) == (0, 0, lp.out_shape.1, 0, cw) => Some(t.buf),
        _ => None,
    }
}

/// Compile `net` for `cfg` into a network program. Without `overlap` every layer uses the
/// plain plan and every transfer waits for the job before it (the comparison point). With
/// it, each layer's variant is chosen greedily (two passes over the layers, starting from
/// `Single`) by the program's timing on the ULX3S SDRAM model.
pub fn compile(net: &QNet, cfg: &DeviceConfig, overlap: bool) -> Result<NetProgram, CompileError> {
    let single = Plan::compile_folded(net, cfg)?;
    let mut options: Vec<Vec<(LayerPlan, Variant)>> = single
        .layers
        .iter()
        .map(|l| vec![(l.clone(), Variant::Single)])
        .collect();
    if !overlap {
        return build(
            net,
            cfg,
            options.into_iter().map(|mut o| o.remove(0)).collect(),
            false,
        );
    }
    for (variant, data) in [(Variant::Whole, false), (Variant::Streamed, true)] {
        if let Ok(p) = Plan::compile_folded(net, &halves(cfg, data)) {
            for (o, l) in options.iter_mut().zip(p.layers) {
                if variant == Variant::Streamed || single_band(&l) {
                    o.push((l, variant));
                }
            }
        }
    }
    let pick = |choice: &[usize]| -> Vec<(LayerPlan, Variant)> {
        choice
            .iter()
            .zip(&options)
            .map(|(&c, o)| o[c].clone())
            .collect()
    };
    let m = SdramModel::ulx3s();
    let mut choice = vec![0; options.len()];
    let mut best = build(net, cfg, pick(&choice), true)?;
    let mut best_t = best.schedule(&m).total;
    for _pass in 0..2 {
        for li in 0..options.len() {
            for o in 0..options[li].len() {
                let mut c = choice.clone();
                c[li] = o;
                if c == choice {
                    continue;
                }
                let p = build(net, cfg, pick(&c), true)?;
                let t = p.schedule(&m).total;
                if t < best_t {
                    (best, best_t, choice) = (p, t, c);
                }
            }
        }
    }
    Ok(best)
}

/// The program of `layers` (each a plan layer and the variant it was compiled in).
fn build(
    net: &QNet,
    cfg: &DeviceConfig,
    layers: Vec<(LayerPlan, Variant)>,
    overlap: bool,
) -> Result<NetProgram, CompileError> {
    let n = layers.len();

    // Which layers read their input from the buffer the layer before left it in.
    let mut resident_in: Vec<Option<Buf>> = vec![None; n];
    for li in 1..n {
        let (prev, pv) = &layers[li - 1];
        // Where the layer before left its output (after its own A/B swap).
        let swap = |b| swap_ab(resident_in[li - 1], b);
        if layers[li].1 == Variant::Whole
            && *pv != Variant::Streamed
            && prev.out_shape == layers[li].0.in_shape
            && let Some(b @ (Buf::A | Buf::B)) = whole_output(prev).map(swap)
        {
            resident_in[li] = Some(b);
        }
    }

    // SDRAM areas: descriptors and weights first, then the image, activations and output.
    let mut alloc = Alloc {
        next: 0,
        map: Vec::new(),
    };
    let mut init: Vec<(usize, Vec<u64>)> = Vec::new();
    let (c0, h0, w0) = (net.in_c, net.in_h, net.in_w);
    let mut jobs: Vec<Job> = Vec::new();
    let mut checks = Vec::new();
    let mut area_of_input = 0usize;
    let mut image = 0usize;
    let mut output = 0usize;
    // Alternating halves: data parity per band, weight parity per weight set.
    let (mut dp, mut wp) = (0usize, 0usize);
    let rows = cfg.rows;
    for li in 0..n {
        let (lp, variant) = &layers[li];
        let lcfg = match variant {
            Variant::Whole => halves(cfg, false),
            Variant::Streamed => halves(cfg, true),
            Variant::Single => cfg.clone(),
        };
        // The buffer mapping: a resident input in B swaps A and B.
        let map = |b| swap_ab(resident_in[li], b);
        let out_on_chip = li + 1 < n && resident_in[li + 1].is_some();
        let (oc, oh, ow) = lp.out_shape;
        let out_cw = oc.div_ceil(LANES);
        let out_area = if out_on_chip {
            0
        } else {
            let name = if li + 1 == n {
                "output".to_string()
            } else {
                format!("act {}", lp.pooled.as_ref().unwrap_or(&lp.name))
            };
            alloc.take(name, oh * ow * out_cw)
        };
        if li + 1 == n {
            output = out_area;
        }
        if li == 0 {
            image = alloc.take("image".into(), (c0 * h0 * w0).div_ceil(8));
            area_of_input = image;
        }
        // Weight sets in SDRAM.
        let mut ws_at = Vec::new();
        for (si, ws) in lp.weight_sets.iter().enumerate() {
            let a = alloc.take(format!("weights {} set {si}", lp.name), ws.weights.len());
            let p = alloc.take(format!("params {} set {si}", lp.name), ws.params.len());
            init.push((a, ws.weights.clone()));
            init.push((p, ws.params.clone()));
            ws_at.push((a, p));
        }
        let (ic, _, iw) = lp.in_shape;
        let in_cw = ic.div_ceil(LANES);
        let (half_a, half_s) = (cfg.act_words / 2, cfg.sq_words / 2);
        let mut loaded_set = None;
        let first_job = jobs.len();
        for job in &lp.jobs {
            let JobPlan {
                input,
                output: out,
                steps,
                weight_set,
                ..
            } = job;
            let mut loads = Vec::new();
            let carry = job.carry;
            if loaded_set != Some(*weight_set) {
                loaded_set = Some(*weight_set);
                if *variant != Variant::Single {
                    wp ^= 1;
                }
                let ws = &lp.weight_sets[*weight_set];
                let (a, p) = ws_at[*weight_set];
                let woff = if *variant == Variant::Single {
                    0
                } else {
                    wp * lcfg.weight_words
                };
                let poff = if *variant == Variant::Single {
                    0
                } else {
                    wp * lcfg.param_words
                };
                for (sd, r, idx, len) in [
                    (a, Region::Weights, woff * rows, ws.weights.len()),
                    (p, Region::Params, poff, ws.params.len()),
                ] {
                    if len > 0 {
                        loads.push(Entry::Transfer(Transfer {
                            dir: Dir::ToChip,
                            sdram: sd as u32,
                            bus: r.addr(idx),
                            len: len as u32,
                            runs: 1,
                            stride: 0,
                        }));
                    }
                }
            }
            if input.is_some() && *variant == Variant::Streamed {
                dp ^= 1;
            }
            let off = |b: Buf| match (*variant, b) {
                (Variant::Streamed, Buf::S) => dp * half_s,
                (Variant::Streamed, _) => dp * half_a,
                _ => 0,
            };
            let (woff, poff) = match variant {
                Variant::Single => (0, 0),
                _ => (wp * lcfg.weight_words, wp * lcfg.param_words),
            };
            let steps: Vec<Step> = steps
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    (s.src, s.dst) = (map(s.src), map(s.dst));
                    s.src_base += off(s.src) as u16;
                    s.dst_base += off(s.dst) as u16;
                    s.weight_base += woff as u16;
                    s.param_base += poff as u16;
                    s
                })
                .collect();
            if let Some(c) = carry {
                // From the band before (the other half when streamed) to this band's rows.
                let b = map(c.buf);
                let prev = match *variant {
                    Variant::Streamed => (dp ^ 1) * half_a,
                    _ => 0,
                };
                loads.push(Entry::Copy(super::Copy {
                    from: region(b).addr(prev + c.from),
                    to: region(b).addr(off(b) + c.to),
                    words: c.words as u32,
                }));
            }
            if let Some(t) = input
                && resident_in[li].is_none()
            {
                let bus = region(map(t.buf)).addr(t.base + off(map(t.buf)));
                if li == 0 {
                    // The first layer gathers its (im2col) input from the raw image.
                    let (k, s, p) = lp.im2col.unwrap_or((1, 1, 0));
                    if t.c0 != 0 || t.c1 * LANES < k * k * c0 {
                        return Err(CompileError::DoesNotFit {
                            layer: lp.name.clone(),
                            why: "the first layer's input must be loaded whole pixels".into(),
                        });
                    }
                    loads.push(Entry::Gather(Gather {
                        sdram: image as u32,
                        bus,
                        img_h: h0 as u16,
                        img_w: w0 as u16,
                        img_c: c0 as u8,
                        k: k as u8,
                        stride: s as u8,
                        pad: p as u8,
                        oy0: t.r0 as u16,
                        rows: (t.r1 - t.r0) as u16,
                        ow: job.steps[0].in_w,
                        wpp: t.c1 as u8,
                    }));
                } else {
                    loads.push(tensor_transfer(
                        Dir::ToChip,
                        area_of_input,
                        (iw, in_cw),
                        t,
                        bus,
                    ));
                }
            }
            let mut writes = Vec::new();
            if let Some(t) = out
                && !out_on_chip
            {
                let bus = region(map(t.buf)).addr(t.base + off(map(t.buf)));
                writes.push(tensor_transfer(
                    Dir::ToSdram,
                    out_area,
                    (ow, out_cw),
                    t,
                    bus,
                ));
            }
            let desc = encode_job(&steps, cfg).map_err(|source| CompileError::Job {
                layer: lp.name.clone(),
                source,
            })?;
            let d = alloc.take(
                format!("desc {} job {}", lp.name, jobs.len() - first_job),
                desc.len(),
            );
            init.push((d, desc));
            jobs.push(Job {
                layer: li,
                steps,
                loads,
                writes,
                desc: d,
            });
        }
        let name = lp.pooled.clone().unwrap_or(lp.name.clone());
        checks.push(LayerCheck {
            name,
            shape: lp.out_shape,
            at: if out_on_chip {
                // Filled in by the emitter (the entry after the layer's last job).
                Located::Chip {
                    region: region(map(whole_output(lp).unwrap())),
                    after: jobs.len() - 1,
                }
            } else {
                Located::Sdram { word: out_area }
            },
        });
        area_of_input = out_area;
    }

    // Emit.
    let mut entries: Vec<(Entry, usize)> = Vec::new();
    let mut after_job = vec![0usize; jobs.len()];
    let emit = |entries: &mut Vec<(Entry, usize)>, es: &[Entry], layer: usize| {
        entries.extend(es.iter().map(|&e| (e, layer)));
    };
    let mut deferred: Vec<(Entry, usize)> = Vec::new();
    emit(&mut entries, &jobs[0].loads, jobs[0].layer);
    for j in 0..jobs.len() {
        let job = &jobs[j];
        let fp = job_footprint(&job.steps, rows);
        let desc = Entry::Transfer(Transfer {
            dir: Dir::ToChip,
            sdram: job.desc as u32,
            bus: Region::Desc.addr(0),
            len: (job.steps.len() * STEP_WORDS) as u32,
            runs: 1,
            stride: 0,
        });
        emit(
            &mut entries,
            &[desc, Entry::WaitDma, Entry::Start],
            job.layer,
        );
        entries.append(&mut deferred);
        let next = jobs.get(j + 1);
        // Each of the next job's loads goes while this one runs unless it touches its
        // memory or reads what it is about to write back.
        let (pre, post): (Vec<Entry>, Vec<Entry>) = next.map_or((vec![], vec![]), |nx| {
            nx.loads.iter().partition(|e| {
                let e = std::slice::from_ref(*e);
                overlap && clash(&footprint(e), &fp).is_none() && !sdram_dep(&job.writes, e)
            })
        });
        let nl = next.map_or(0, |nx| nx.layer);
        emit(&mut entries, &pre, nl);
        emit(&mut entries, &[Entry::WaitJob], job.layer);
        after_job[j] = entries.len() - 1;
        let wfp = footprint(&job.writes);
        let write_now = !overlap
            || next.is_none_or(|nx| {
                clash(&wfp, &job_footprint(&nx.steps, rows)).is_some()
                    || clash(&wfp, &footprint(&post)).is_some()
                    || sdram_dep(&job.writes, &post)
            });
        if write_now {
            emit(&mut entries, &job.writes, job.layer);
        } else {
            deferred = job.writes.iter().map(|&e| (e, job.layer)).collect();
        }
        emit(&mut entries, &post, nl);
    }
    emit(
        &mut entries,
        &[Entry::WaitDma, Entry::End],
        jobs.last().unwrap().layer,
    );
    for c in &mut checks {
        if let Located::Chip { after, .. } = &mut c.at {
            *after = after_job[*after];
        }
    }

    let program = alloc.take("program".into(), 2 * entries.len());
    let mut sdram = vec![0u64; alloc.next];
    for (at, words) in init {
        sdram[at..at + words.len()].copy_from_slice(&words);
    }
    for (i, (e, _)) in entries.iter().enumerate() {
        let w = e.encode().map_err(|e| CompileError::DoesNotFit {
            layer: "program".into(),
            why: e.to_string(),
        })?;
        sdram[program + 2 * i..program + 2 * i + 2].copy_from_slice(&w);
    }
    Ok(NetProgram {
        cfg: cfg.clone(),
        sdram,
        map: alloc.map,
        program,
        image,
        output,
        tags: entries.iter().map(|e| e.1).collect(),
        entries: entries.into_iter().map(|e| e.0).collect(),
        layers,
        checks,
    })
}

/// The copy of a host-style tile transfer (`compile::Transfer`) between a tensor in SDRAM at
/// `area` (`w` pixels per row, `cw` words per pixel) and bus address `bus`.
fn tensor_transfer(
    dir: Dir,
    area: usize,
    (w, cw): (usize, usize),
    t: &crate::compile::Transfer,
    bus: u32,
) -> Entry {
    let first = area + t.r0 * w * cw;
    let pixels = (t.r1 - t.r0) * w;
    Entry::Transfer(if (t.c0, t.c1) == (0, cw) {
        Transfer {
            dir,
            sdram: first as u32,
            bus,
            len: (pixels * cw) as u32,
            runs: 1,
            stride: 0,
        }
    } else {
        Transfer {
            dir,
            sdram: (first + t.c0) as u32,
            bus,
            len: (t.c1 - t.c0) as u32,
            runs: pixels as u32,
            stride: cw as u32,
        }
    })
}

impl NetProgram {
    /// Write the network's signed input bytes `[c][h][w]` into the image slot (pixel-major
    /// packed bytes, as `Gather` reads them): what the host sends before the start.
    pub fn load_image(&self, sdram: &mut [u64], net: &QNet, input: &[i8]) {
        let (c, h, w) = (net.in_c, net.in_h, net.in_w);
        assert_eq!(input.len(), c * h * w, "input must be {c}x{h}x{w} bytes");
        let words = &mut sdram[self.image..self.image + (c * h * w).div_ceil(8)];
        words.fill(0);
        for ch in 0..c {
            for p in 0..h * w {
                let i = p * c + ch;
                words[i / 8] |= (input[ch * h * w + p] as u8 as u64) << (8 * (i % 8));
            }
        }
    }
}

impl NetProgram {
    /// The trace the program gives (every entry, each `Start` with the steps its descriptor
    /// transfer loaded), read from the program without executing it.
    pub fn trace(&self) -> super::Trace {
        let mut desc = None;
        self.entries
            .iter()
            .map(|e| {
                if let Entry::Transfer(t) = e
                    && t.bus >> crate::bus::REGION_SHIFT == Region::Desc as u32
                {
                    desc = Some(t.sdram as usize..(t.sdram + t.len) as usize);
                }
                let steps = (*e == Entry::Start).then(|| {
                    let words = &self.sdram[desc.clone().expect("a Start after its descriptor")];
                    words
                        .chunks_exact(STEP_WORDS)
                        .map(|w| Step::decode(w.try_into().unwrap()).unwrap().0)
                        .collect()
                });
                (*e, steps)
            })
            .collect()
    }

    /// The program's timing on SDRAM model `m`.
    pub fn schedule(&self, m: &SdramModel) -> Schedule {
        Schedule::of(&self.trace(), &self.tags, &self.cfg, m)
    }

    /// Run the program on the device model from a fresh SDRAM holding this image and
    /// `input`; every checked layer's output, read back from SDRAM or caught on chip.
    pub fn run(
        &self,
        net: &QNet,
        input: &[i8],
    ) -> Result<(super::Trace, Vec<(String, crate::tensor::Tensor)>), super::ExecError> {
        use crate::tensor::Tensor;
        let mut m = super::Machine::new(crate::device::Device::new(self.cfg.clone()), 0);
        m.sdram = self.sdram.clone();
        self.load_image(&mut m.sdram, net, input);
        // Activation areas and the output hold nothing until the program writes them.
        m.defined = vec![true; m.sdram.len()];
        for (name, at, words) in &self.map {
            if name.starts_with("act ") || name == "output" {
                m.defined[*at..at + words].fill(false);
            }
        }
        let read = |c: &LayerCheck, words: &[u64]| {
            let (ch, h, w) = c.shape;
            let mut t = Tensor::zeros(ch, h, w);
            let n = t.words.len();
            t.words.copy_from_slice(&words[..n]);
            (c.name.clone(), t)
        };
        let mut outs = Vec::new();
        let trace = m.run(self.program, |i, _, m| {
            for c in &self.checks {
                if let Located::Chip { region, after } = c.at
                    && after == i
                {
                    let words: Vec<u64> = (0..c.shape.1 * c.shape.2 * c.shape.0.div_ceil(LANES))
                        .map(|x| m.dev.read(region, x))
                        .collect();
                    outs.push(read(c, &words));
                }
            }
        })?;
        for c in &self.checks {
            if let Located::Sdram { word } = c.at {
                outs.push(read(c, &m.sdram[word..]));
            }
        }
        Ok((trace, outs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{Schedule, SdramModel};
    use crate::reference;
    use crate::synthetic::{Version, input, squeezenet};

    /// The program on the device model gives every layer's bytes of the int8 reference.
    fn check(
        version: Version,
        size: usize,
        cfg: DeviceConfig,
        overlap: bool,
    ) -> (NetProgram, Schedule) {
        let net = squeezenet(version, size, 7);
        let x = input(size, 3);
        let want = reference::run(&net, &x);
        let p = compile(&net, &cfg, overlap).unwrap();
        let (trace, outs) = p.run(&net, &x).unwrap();
        for r in &want {
            let folded = p
                .layers
                .iter()
                .any(|(l, _)| l.pooled.is_some() && l.name == r.name);
            let Some((_, t)) = outs.iter().find(|(n, _)| *n == r.name) else {
                assert!(folded, "{}: output not checked", r.name);
                continue;
            };
            assert_eq!((t.c, t.h, t.w), (r.out.c, r.out.h, r.out.w), "{}", r.name);
            let got = t.to_chw();
            if let Some(i) = (0..got.len()).find(|&i| got[i] != r.out.data[i]) {
                panic!(
                    "{} on {} {version:?}: first mismatch at byte {i}",
                    r.name, cfg.name
                );
            }
        }
        assert!(
            trace == p.trace(),
            "the executor ran the program as written"
        );
        let s = Schedule::of(&trace, &p.tags, &cfg, &SdramModel::ulx3s());
        (p, s)
    }

    #[test]
    fn v11_and_v10_match_reference_on_ulx3s() {
        for v in [Version::V1_1, Version::V1_0] {
            let (p, s) = check(v, 99, DeviceConfig::ulx3s(), true);
            let variants: Vec<_> = p.layers.iter().map(|l| l.1).collect();
            assert!(variants.contains(&Variant::Streamed), "{variants:?}");
            assert!(variants.contains(&Variant::Whole), "{variants:?}");
            assert!(s.total >= s.compute());
            let (_, serial) = check(v, 99, DeviceConfig::ulx3s(), false);
            assert!(serial.total > s.total, "{} {}", serial.total, s.total);
        }
    }

    #[test]
    fn small_buffers_match_reference() {
        // Small buffers: many bands, chunked weights, sliced pools, every variant.
        let mut cfg = DeviceConfig::small();
        cfg.act_words = 2048;
        cfg.sq_words = 1024;
        cfg.weight_words = 400;
        cfg.param_words = 128;
        for v in [Version::V1_0, Version::V1_1] {
            check(v, 51, cfg.clone(), true);
        }
    }
}
