//! The job compiler: turns a [`QNet`] into device jobs for one [`DeviceConfig`], and runs
//! them on any [`Backend`] (the functional model, the Verilated RTL, a board).
//!
//! Tiling (see docs/architecture.md):
//! - Tiles are bands of output rows; a band's input is the rows it needs (3x3 halo, pool
//!   windows), sent contiguously to buffer A at word 0. Bands are as tall as the buffers allow.
//! - Output channels are split into chunks whose weights and parameters fit the device.
//!   Plain convolutions loop chunk-outer, band-inner, so a chunk's weights stay resident
//!   across all bands. A Fire module loops band-outer: its squeeze result lives in S, which
//!   the expand steps of every job of that band read; when the module's weights do not fit
//!   at once, the band runs several jobs with weights reloaded between them.
//! - Convolutions other than 1x1/3x3 stride 1 (the first layer) are lowered by host im2col
//!   to a 1x1 convolution over `cin * k * k` channels.
//! - Pools are jobs of their own; the global average pool runs on channel-word slices.
//!   With [`Plan::compile_folded`] a max pool after a convolution or Fire module is folded
//!   into that layer's jobs instead: its bands are cut at pooled rows, and a `MaxPool` step
//!   from the output buffer into S follows the band's last step, so only the pooled band
//!   leaves the device. The conv row two neighbouring bands' windows share is computed once:
//!   the band after copies it to the front of B (`JobPlan::carry`) and writes its own rows
//!   after it.

use std::fmt;

use crate::backend::{Backend, BackendError};
use crate::bus::{Param, Region};
use crate::config::{DeviceConfig, LANES};
use crate::job::{Buf, JobError, Op, Step, encode_job};
use crate::qnet::{QConv, QLayer, QNet, maxpool_out};
use crate::tensor::{Tensor, Tensor8};

/// Words moved between host tensor and a device buffer: rows `r0..r1` and channel words
/// `c0..c1` of the host tensor, packed pixel-major at word `base` of `buf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub buf: Buf,
    pub base: usize,
    pub r0: usize,
    pub r1: usize,
    pub c0: usize,
    pub c1: usize,
}

/// Weights (bus order: index `word * rows + row` from 0) and parameter words of one job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeightSet {
    pub weights: Vec<u64>,
    pub params: Vec<u64>,
}

/// An on-chip copy before a job: `words` words of `buf` from word `from` to word `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carry {
    pub buf: Buf,
    pub from: usize,
    pub to: usize,
    pub words: usize,
}

/// One device job: load what it needs, run its steps, read its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPlan {
    /// Band index within the layer (for reports and mismatch messages).
    pub tile: usize,
    /// Output rows of the band.
    pub rows: (usize, usize),
    /// Index into the layer's weight sets.
    pub weight_set: usize,
    pub input: Option<Transfer>,
    /// The conv row the band before left for this band's pool (folded pools only).
    pub carry: Option<Carry>,
    pub steps: Vec<Step>,
    pub output: Option<Transfer>,
}

/// How one layer runs on the device.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerPlan {
    pub name: String,
    /// Input and output shapes `(c, h, w)` of the layer.
    pub in_shape: (usize, usize, usize),
    pub out_shape: (usize, usize, usize),
    /// Useful multiply-accumulates (as the network counts them).
    pub macs: u64,
    /// Host-side im2col `(k, stride, pad)` applied to the input before the jobs.
    pub im2col: Option<(usize, usize, usize)>,
    /// The max pool folded into this layer (`out_shape` is then the pooled shape).
    pub pooled: Option<String>,
    pub weight_sets: Vec<WeightSet>,
    pub jobs: Vec<JobPlan>,
}

/// A compiled network.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub cfg: DeviceConfig,
    pub layers: Vec<LayerPlan>,
}

/// Why a network cannot be compiled for a configuration.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("layer {layer}: {why}")]
    DoesNotFit { layer: String, why: String },
    #[error("layer {layer}: {source}")]
    Job { layer: String, source: JobError },
}

/// A failure while running a plan, located to a layer, tile and job.
#[derive(Debug)]
pub struct ExecError {
    pub layer: String,
    pub tile: usize,
    pub job: usize,
    pub source: BackendError,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "layer {} tile {} job {}: {}",
            self.layer, self.tile, self.job, self.source
        )
    }
}

impl std::error::Error for ExecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// One convolution part of a job: output channels `co0..co1` of `conv`, as one step.
struct Part<'a> {
    conv: &'a QConv,
    co0: usize,
    co1: usize,
    src: Buf,
    dst: Buf,
    dst_wpp: usize,
    /// Output word offset of channel `co0` within a pixel.
    dst_off: usize,
}

fn lcm(a: usize, b: usize) -> usize {
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    a / gcd(a, b) * b
}

impl Part<'_> {
    fn cin_words(&self) -> usize {
        self.conv.cin.div_ceil(LANES)
    }
    fn weight_words(&self, rows: usize) -> usize {
        (self.co1 - self.co0).div_ceil(rows) * self.conv.kernel.pow(2) * self.cin_words()
    }
}

/// Split `conv`'s output channels into chunks whose weights fit `budget` words per row and
/// whose parameters fit the parameter buffer.
fn chunks(conv: &QConv, cfg: &DeviceConfig, budget: usize) -> Result<Vec<(usize, usize)>, String> {
    let unit = lcm(cfg.rows, LANES);
    let per_group = conv.kernel.pow(2) * conv.cin.div_ceil(LANES);
    let groups = budget / per_group;
    let mut size = (groups * cfg.rows).min(cfg.param_words) / unit * unit;
    if size == 0 {
        return Err(format!(
            "one output-channel group needs {} weight words per row and {unit} parameters; \
             the device has {} and {}",
            per_group * unit / cfg.rows,
            cfg.weight_words,
            cfg.param_words
        ));
    }
    size = size.min(conv.cout.div_ceil(unit) * unit);
    Ok((0..conv.cout)
        .step_by(size)
        .map(|c| (c, (c + size).min(conv.cout)))
        .collect())
}

/// The weight set of a job made of `parts` (weight bases and parameter bases consecutive).
fn weight_set(parts: &[Part], cfg: &DeviceConfig) -> (WeightSet, Vec<(usize, usize)>) {
    let rows = cfg.rows;
    let total: usize = parts.iter().map(|p| p.weight_words(rows)).sum();
    let mut ws = WeightSet {
        weights: vec![0; total * rows],
        params: Vec::new(),
    };
    let mut bases = Vec::new();
    let mut wbase = 0;
    for p in parts {
        bases.push((wbase, ws.params.len()));
        let q = p.conv;
        let (k, cw_n) = (q.kernel, p.cin_words());
        for co in p.co0..p.co1 {
            let (g, r) = ((co - p.co0) / rows, (co - p.co0) % rows);
            for ky in 0..k {
                for kx in 0..k {
                    for cw in 0..cw_n {
                        let mut word = 0u64;
                        for l in 0..LANES {
                            let ci = cw * LANES + l;
                            if ci < q.cin {
                                word |= (q.weight(co, ci, ky, kx) as u8 as u64) << (8 * l);
                            }
                        }
                        let w = wbase + (g * k * k + ky * k + kx) * cw_n + cw;
                        ws.weights[w * rows + r] = word;
                    }
                }
            }
            ws.params.push(
                Param {
                    bias: q.bias[co],
                    m: q.m[co],
                    shift: q.shift[co],
                }
                .to_word(),
            );
        }
        wbase += p.weight_words(rows);
    }
    (ws, bases)
}

/// Balanced bands of `n` rows, each at most `max` tall.
fn bands(n: usize, max: usize) -> Vec<(usize, usize)> {
    let count = n.div_ceil(max);
    let h = n.div_ceil(count);
    (0..n).step_by(h).map(|r| (r, (r + h).min(n))).collect()
}

/// The tallest band (in output rows, up to `out_h`) for which `fits(rows)` holds.
fn max_band(out_h: usize, fits: impl Fn(usize) -> bool) -> Option<usize> {
    (1..=out_h).rev().find(|&b| fits(b))
}

fn u16f(v: usize) -> u16 {
    v as u16
}

/// A band of a layer: its output rows (pooled rows when a pool is folded in), the rows of the
/// convolution's output it computes, and the first conv row it holds in the output buffer
/// (one before `conv.0` when it carries the band before's last row).
#[derive(Clone, Copy)]
struct Tile {
    out: (usize, usize),
    conv: (usize, usize),
    held: usize,
}

impl Tile {
    /// The copy that brings the last conv row of band `prev` to the front of this band's
    /// rows (`row_words` words per conv row), if this band carries one.
    fn carry(&self, prev: Option<&Tile>, buf: Buf, row_words: usize) -> Option<Carry> {
        let prev = prev.filter(|_| self.held < self.conv.0)?;
        Some(Carry {
            buf,
            from: (prev.conv.1 - prev.held - 1) * row_words,
            to: 0,
            words: row_words,
        })
    }
}

/// Bands over `conv_h` rows, as tall as `fits(conv rows held, output rows)` allows. With a
/// folded pool the bands are cut at pooled rows; conv rows `2*p0 ..= 2*p1` feed pooled rows
/// `p0..p1`, and row `2*p0` of every band but the first is the band before's last.
fn tiles(conv_h: usize, pool: bool, fits: impl Fn(usize, usize) -> bool) -> Option<Vec<Tile>> {
    if !pool {
        let bh = max_band(conv_h, |b| fits(b, b))?;
        return Some(
            bands(conv_h, bh)
                .into_iter()
                .map(|r| Tile {
                    out: r,
                    conv: r,
                    held: r.0,
                })
                .collect(),
        );
    }
    let ph = maxpool_out(conv_h);
    let bh = max_band(ph, |b| fits((2 * b + 1).min(conv_h), b))?;
    Some(
        bands(ph, bh)
            .into_iter()
            .map(|(p0, p1)| Tile {
                out: (p0, p1),
                conv: (2 * p0 + (p0 > 0) as usize, (2 * p1 + 1).min(conv_h)),
                held: 2 * p0,
            })
            .collect(),
    )
}

/// A 3x3 stride 2 max pool step over `cw` channel words of an `in_h x in_w` tile.
#[allow(clippy::too_many_arguments)]
fn pool_step(
    src: Buf,
    dst: Buf,
    cw: usize,
    (in_h, in_w): (usize, usize),
    (out_h, out_w): (usize, usize),
    signed: bool,
) -> Step {
    Step {
        op: Op::MaxPool,
        kernel: 3,
        in_signed: signed,
        relu: false,
        src,
        dst,
        cin_words: u16f(cw),
        cout: u16f(cw * LANES),
        in_h: u16f(in_h),
        in_w: u16f(in_w),
        out_h: u16f(out_h),
        out_w: u16f(out_w),
        y0: 0,
        x0: 0,
        src_base: 0,
        dst_base: 0,
        dst_wpp: u16f(cw),
        dst_off: 0,
        weight_base: 0,
        param_base: 0,
    }
}

impl Plan {
    /// Compile `net` for `cfg`, every layer a pass of its own (the host-driven mode).
    pub fn compile(net: &QNet, cfg: &DeviceConfig) -> Result<Plan, CompileError> {
        Self::compile_with(net, cfg, false)
    }

    /// Compile `net` for `cfg` with every max pool that follows a convolution or Fire module
    /// folded into that layer's jobs (see the module documentation).
    pub fn compile_folded(net: &QNet, cfg: &DeviceConfig) -> Result<Plan, CompileError> {
        Self::compile_with(net, cfg, true)
    }

    fn compile_with(net: &QNet, cfg: &DeviceConfig, fold: bool) -> Result<Plan, CompileError> {
        let shapes = net.shapes();
        let mut layers = Vec::new();
        let mut signed = true;
        let mut i = 0;
        while i < net.layers.len() {
            let layer = &net.layers[i];
            let (in_shape, conv_shape) = (shapes[i], shapes[i + 1]);
            let pooled = match (layer, net.layers.get(i + 1)) {
                (QLayer::Conv(_) | QLayer::Fire(_), Some(p @ QLayer::MaxPool { .. })) if fold => {
                    Some(p.name().to_string())
                }
                _ => None,
            };
            let out_shape = shapes[i + 1 + pooled.is_some() as usize];
            let err = |why: String| CompileError::DoesNotFit {
                layer: layer.name().to_string(),
                why,
            };
            let mut lp = LayerPlan {
                name: layer.name().to_string(),
                in_shape,
                out_shape,
                macs: layer.macs(in_shape),
                im2col: None,
                pooled,
                weight_sets: Vec::new(),
                jobs: Vec::new(),
            };
            let pool = lp.pooled.is_some();
            match layer {
                QLayer::Conv(q) => conv_layer(&mut lp, q, conv_shape, pool, cfg).map_err(err)?,
                QLayer::Fire(f) => fire_layer(&mut lp, f, pool, cfg).map_err(err)?,
                QLayer::MaxPool { .. } => max_pool_layer(&mut lp, signed, cfg).map_err(err)?,
                QLayer::AvgPool {
                    bias,
                    m,
                    shift,
                    relu,
                    ..
                } => avg_pool_layer(&mut lp, signed, *relu, bias, m, shift, cfg).map_err(err)?,
            }
            signed = layer.out_signed(signed);
            i += 1 + pool as usize;
            for j in &lp.jobs {
                encode_job(&j.steps, cfg).map_err(|source| CompileError::Job {
                    layer: lp.name.clone(),
                    source,
                })?;
            }
            layers.push(lp);
        }
        Ok(Plan {
            cfg: cfg.clone(),
            layers,
        })
    }
}

fn conv_step(p: &Part, base: (usize, usize), signed: bool) -> Step {
    Step {
        op: Op::Conv,
        kernel: p.conv.kernel as u8,
        in_signed: signed,
        relu: p.conv.relu,
        src: p.src,
        dst: p.dst,
        cin_words: u16f(p.cin_words()),
        cout: u16f(p.co1 - p.co0),
        in_h: 0,
        in_w: 0,
        out_h: 0,
        out_w: 0,
        y0: 0,
        x0: 0,
        src_base: 0,
        dst_base: 0,
        dst_wpp: u16f(p.dst_wpp),
        dst_off: u16f(p.dst_off),
        weight_base: u16f(base.0),
        param_base: u16f(base.1),
    }
}

/// Input rows `i0..i1` a stride-1 conv needs for output rows `o0..o1`, and the step's `y0`.
fn conv_rows(o0: usize, o1: usize, k: usize, pad: usize, in_h: usize) -> (usize, usize, i8) {
    let first = o0 as isize - pad as isize;
    let i0 = first.max(0) as usize;
    let i1 = ((o1 + k - 1) as isize - pad as isize).min(in_h as isize) as usize;
    (i0, i1, (first - i0 as isize) as i8)
}

fn conv_layer(
    lp: &mut LayerPlan,
    q: &QConv,
    conv_shape: (usize, usize, usize),
    pool: bool,
    cfg: &DeviceConfig,
) -> Result<(), String> {
    let native = q.stride == 1 && (q.kernel == 1 || q.kernel == 3) && q.pad <= 7;
    let lowered;
    let (q, (in_c, in_h, in_w)) = if native {
        (q, lp.in_shape)
    } else {
        lp.im2col = Some((q.kernel, q.stride, q.pad));
        let k = q.kernel;
        let mut w = vec![0i8; q.cout * q.cin * k * k];
        for co in 0..q.cout {
            for ci in 0..q.cin {
                for ky in 0..k {
                    for kx in 0..k {
                        w[co * q.cin * k * k + (ky * k + kx) * q.cin + ci] =
                            q.weight(co, ci, ky, kx);
                    }
                }
            }
        }
        lowered = QConv {
            cin: q.cin * k * k,
            kernel: 1,
            stride: 1,
            pad: 0,
            weights: w,
            ..q.clone()
        };
        let (_, oh, ow) = conv_shape;
        (&lowered, (lowered.cin, oh, ow))
    };
    let (_, out_h, out_w) = conv_shape;
    let pw = if pool { maxpool_out(out_w) } else { 0 };
    let cin_words = in_c.div_ceil(LANES);
    let k = q.kernel;
    for (ci, &(co0, co1)) in chunks(q, cfg, cfg.weight_words)?.iter().enumerate() {
        let part = Part {
            conv: q,
            co0,
            co1,
            src: Buf::A,
            dst: Buf::B,
            dst_wpp: (co1 - co0).div_ceil(LANES),
            dst_off: 0,
        };
        let (ws, bases) = weight_set(std::slice::from_ref(&part), cfg);
        lp.weight_sets.push(ws);
        let fits = |b: usize, pb: usize| {
            let in_rows = (b + k - 1).min(in_h);
            in_rows * in_w * cin_words <= cfg.act_words
                && b * out_w * part.dst_wpp <= cfg.act_words
                && (!pool || pb * pw * part.dst_wpp <= cfg.sq_words)
        };
        let tiles = tiles(out_h, pool, fits).ok_or_else(|| {
            format!(
                "one output row does not fit the {}-word buffers",
                cfg.act_words
            )
        })?;
        let row_words = out_w * part.dst_wpp;
        for (t, tile) in tiles.iter().enumerate() {
            let (o0, o1) = tile.conv;
            let (i0, i1, y0) = conv_rows(o0, o1, k, q.pad, in_h);
            let mut s = conv_step(&part, bases[0], q.in_signed);
            (s.in_h, s.in_w, s.out_h, s.out_w) =
                (u16f(i1 - i0), u16f(in_w), u16f(o1 - o0), u16f(out_w));
            (s.y0, s.x0) = (y0, -(q.pad as i8));
            s.dst_base = u16f((o0 - tile.held) * row_words);
            let mut steps = vec![s];
            let mut out_buf = Buf::B;
            if pool {
                let (p0, p1) = tile.out;
                steps.push(pool_step(
                    Buf::B,
                    Buf::S,
                    part.dst_wpp,
                    (o1 - tile.held, out_w),
                    (p1 - p0, pw),
                    !q.relu,
                ));
                out_buf = Buf::S;
            }
            let (r0, r1) = tile.out;
            lp.jobs.push(JobPlan {
                tile: t,
                rows: (r0, r1),
                weight_set: ci,
                input: Some(Transfer {
                    buf: Buf::A,
                    base: 0,
                    r0: i0,
                    r1: i1,
                    c0: 0,
                    c1: cin_words,
                }),
                carry: tile.carry(t.checked_sub(1).map(|p| &tiles[p]), Buf::B, row_words),
                steps,
                output: Some(Transfer {
                    buf: out_buf,
                    base: 0,
                    r0,
                    r1,
                    c0: co0 / LANES,
                    c1: co0 / LANES + part.dst_wpp,
                }),
            });
        }
    }
    Ok(())
}

fn fire_layer(
    lp: &mut LayerPlan,
    f: &crate::qnet::QFire,
    pool: bool,
    cfg: &DeviceConfig,
) -> Result<(), String> {
    let (in_c, h, w) = lp.in_shape;
    let (s, e1, e3) = (&f.squeeze, &f.expand1x1, &f.expand3x3);
    if e1.kernel != 1 || e3.kernel != 3 || e3.pad != 1 || s.kernel != 1 || e1.pad != 0 || s.pad != 0
    {
        return Err("Fire module must be squeeze 1x1, expand 1x1 and expand 3x3 pad 1".into());
    }
    let (cin_w, sq_w, out_w) = (
        in_c.div_ceil(LANES),
        s.cout.div_ceil(LANES),
        (e1.cout + e3.cout) / LANES,
    );
    if e1.cout % LANES != 0 {
        return Err(format!(
            "expand1x1 has {} channels, not a multiple of {LANES}",
            e1.cout
        ));
    }
    // Pack the module's parts into jobs in dependency order (squeeze before the expands),
    // splitting a conv's output channels where the job's weight or parameter room ends.
    let unit = lcm(cfg.rows, LANES);
    let mut jobs: Vec<Vec<Part>> = vec![Vec::new()];
    let (mut used_w, mut used_p) = (0, 0);
    for (conv, src, dst, wpp, off) in [
        (s, Buf::A, Buf::S, sq_w, 0),
        (e1, Buf::S, Buf::B, out_w, 0),
        (e3, Buf::S, Buf::B, out_w, e1.cout),
    ] {
        let per_unit = unit / cfg.rows * conv.kernel.pow(2) * conv.cin.div_ceil(LANES);
        let mut co = 0;
        while co < conv.cout {
            let units =
                ((cfg.weight_words - used_w) / per_unit).min((cfg.param_words - used_p) / unit);
            let n = (units * unit).min(conv.cout - co);
            let steps = jobs.last().unwrap().len();
            if n == 0 || steps == cfg.max_steps {
                if steps == 0 {
                    return Err(format!(
                        "{}: one group of {unit} output channels needs {per_unit} weight words per row, \
                         the device has {}",
                        conv.name, cfg.weight_words
                    ));
                }
                jobs.push(Vec::new());
                (used_w, used_p) = (0, 0);
                continue;
            }
            let p = Part {
                conv,
                co0: co,
                co1: co + n,
                src,
                dst,
                dst_wpp: wpp,
                dst_off: (off + co) / LANES,
            };
            used_w += p.weight_words(cfg.rows);
            used_p += n;
            jobs.last_mut().unwrap().push(p);
            co += n;
        }
    }
    let mut bases = Vec::new();
    for parts in &jobs {
        let (ws, b) = weight_set(parts, cfg);
        lp.weight_sets.push(ws);
        bases.push(b);
    }
    let pw = if pool { maxpool_out(w) } else { 0 };
    let fits = |b: usize, pb: usize| {
        let sq_rows = (b + 2).min(h);
        sq_rows * w * cin_w <= cfg.act_words
            && sq_rows * w * sq_w <= cfg.sq_words
            && b * w * out_w <= cfg.act_words
            && (!pool || pb * pw * out_w <= cfg.sq_words)
    };
    let tiles = tiles(h, pool, fits)
        .ok_or_else(|| "one output row does not fit the buffers".to_string())?;
    let row_words = w * out_w;
    for (t, tile) in tiles.iter().enumerate() {
        let (o0, o1) = tile.conv;
        let (s0, s1) = (o0.saturating_sub(1), (o1 + 1).min(h));
        for (j, parts) in jobs.iter().enumerate() {
            let steps = parts
                .iter()
                .zip(&bases[j])
                .map(|(p, &base)| {
                    let mut st = conv_step(p, base, p.conv.in_signed);
                    (st.in_h, st.in_w, st.out_w) = (u16f(s1 - s0), u16f(w), u16f(w));
                    if p.dst == Buf::S {
                        st.out_h = u16f(s1 - s0);
                    } else {
                        st.out_h = u16f(o1 - o0);
                        let pad = p.conv.pad as isize;
                        st.y0 = (o0 as isize - pad - s0 as isize) as i8;
                        st.x0 = -(pad as i8);
                        st.dst_base = u16f((o0 - tile.held) * row_words);
                    }
                    st
                })
                .collect();
            lp.jobs.push(JobPlan {
                tile: t,
                rows: (o0, o1),
                weight_set: j,
                input: (j == 0).then_some(Transfer {
                    buf: Buf::A,
                    base: 0,
                    r0: s0,
                    r1: s1,
                    c0: 0,
                    c1: cin_w,
                }),
                carry: if j == 0 {
                    tile.carry(t.checked_sub(1).map(|p| &tiles[p]), Buf::B, row_words)
                } else {
                    None
                },
                steps,
                output: (j + 1 == jobs.len() && !pool).then_some(Transfer {
                    buf: Buf::B,
                    base: 0,
                    r0: o0,
                    r1: o1,
                    c0: 0,
                    c1: out_w,
                }),
            });
        }
        if pool {
            // The pool follows the band's last expand step, in that job when it has room.
            let (p0, p1) = tile.out;
            let step = pool_step(
                Buf::B,
                Buf::S,
                out_w,
                (o1 - tile.held, w),
                (p1 - p0, pw),
                !f.expand1x1.relu,
            );
            let last = lp.jobs.last_mut().unwrap();
            if last.steps.len() < cfg.max_steps {
                last.steps.push(step);
            } else {
                let (tile, weight_set) = (last.tile, last.weight_set);
                lp.jobs.push(JobPlan {
                    tile,
                    rows: (o0, o1),
                    weight_set,
                    input: None,
                    carry: None,
                    steps: vec![step],
                    output: None,
                });
            }
            let last = lp.jobs.last_mut().unwrap();
            last.rows = (p0, p1);
            last.output = Some(Transfer {
                buf: Buf::S,
                base: 0,
                r0: p0,
                r1: p1,
                c0: 0,
                c1: out_w,
            });
        }
    }
    Ok(())
}

fn max_pool_layer(lp: &mut LayerPlan, signed: bool, cfg: &DeviceConfig) -> Result<(), String> {
    let (c, h, w) = lp.in_shape;
    let (_, oh, ow) = lp.out_shape;
    let cw = c.div_ceil(LANES);
    lp.weight_sets.push(WeightSet::default());
    // Channel-word slices narrow enough that one output row (3 input rows) fits.
    let slice = (cfg.act_words / (3.min(h) * w)).min(cw);
    if slice == 0 {
        return Err("three input rows of one channel word do not fit the buffers".into());
    }
    for c0 in (0..cw).step_by(slice) {
        let c1 = (c0 + slice).min(cw);
        let n = c1 - c0;
        let fits =
            |b: usize| (2 * b + 1).min(h) * w * n <= cfg.act_words && b * ow * n <= cfg.act_words;
        let bh = max_band(oh, fits)
            .ok_or_else(|| "one pool row does not fit the buffers".to_string())?;
        for (t, (o0, o1)) in bands(oh, bh).into_iter().enumerate() {
            let (i0, i1) = (2 * o0, (2 * o1 + 1).min(h));
            let s = pool_step(Buf::A, Buf::B, n, (i1 - i0, w), (o1 - o0, ow), signed);
            lp.jobs.push(JobPlan {
                tile: t,
                rows: (o0, o1),
                weight_set: 0,
                carry: None,
                input: Some(Transfer {
                    buf: Buf::A,
                    base: 0,
                    r0: i0,
                    r1: i1,
                    c0,
                    c1,
                }),
                steps: vec![s],
                output: Some(Transfer {
                    buf: Buf::B,
                    base: 0,
                    r0: o0,
                    r1: o1,
                    c0,
                    c1,
                }),
            });
        }
    }
    Ok(())
}

fn avg_pool_layer(
    lp: &mut LayerPlan,
    signed: bool,
    relu: bool,
    bias: &[i32],
    m: &[u16],
    shift: &[u8],
    cfg: &DeviceConfig,
) -> Result<(), String> {
    let (c, h, w) = lp.in_shape;
    let cw = c.div_ceil(LANES);
    let slice = (cfg.act_words / (h * w))
        .min(cfg.param_words / LANES)
        .min(cw);
    if slice == 0 {
        return Err(format!(
            "{h}x{w} pixels of one channel word do not fit the buffers"
        ));
    }
    for (t, c0) in (0..cw).step_by(slice).enumerate() {
        let c1 = (c0 + slice).min(cw);
        let (ch0, ch1) = (c0 * LANES, (c1 * LANES).min(c));
        let params = (ch0..ch1)
            .map(|ch| {
                Param {
                    bias: bias[ch],
                    m: m[ch],
                    shift: shift[ch],
                }
                .to_word()
            })
            .collect();
        lp.weight_sets.push(WeightSet {
            weights: Vec::new(),
            params,
        });
        let s = Step {
            op: Op::AvgPool,
            kernel: 1,
            in_signed: signed,
            relu,
            src: Buf::A,
            dst: Buf::B,
            cin_words: u16f(c1 - c0),
            cout: u16f(ch1 - ch0),
            in_h: u16f(h),
            in_w: u16f(w),
            out_h: 1,
            out_w: 1,
            y0: 0,
            x0: 0,
            src_base: 0,
            dst_base: 0,
            dst_wpp: u16f(c1 - c0),
            dst_off: 0,
            weight_base: 0,
            param_base: 0,
        };
        lp.jobs.push(JobPlan {
            tile: t,
            rows: (0, 1),
            weight_set: t,
            carry: None,
            input: Some(Transfer {
                buf: Buf::A,
                base: 0,
                r0: 0,
                r1: h,
                c0,
                c1,
            }),
            steps: vec![s],
            output: Some(Transfer {
                buf: Buf::B,
                base: 0,
                r0: 0,
                r1: 1,
                c0,
                c1,
            }),
        });
    }
    Ok(())
}

/// What running one layer took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Device cycles, summed over the layer's jobs.
    pub cycles: u64,
    /// Bytes sent to the device: weights, parameters, descriptors, input tiles.
    pub bytes_in: u64,
    /// Bytes read back from the device.
    pub bytes_out: u64,
    pub jobs: usize,
}

fn region(b: Buf) -> Region {
    match b {
        Buf::A => Region::A,
        Buf::B => Region::B,
        Buf::S => Region::S,
    }
}

/// Runs a plan's layers on a backend, keeping track of the weights resident on the device.
pub struct Executor<'a, B: Backend> {
    pub plan: &'a Plan,
    pub dev: &'a mut B,
    /// `(layer, weight set)` currently loaded.
    loaded: Option<(usize, usize)>,
}

impl<'a, B: Backend> Executor<'a, B> {
    pub fn new(plan: &'a Plan, dev: &'a mut B) -> Self {
        Executor {
            plan,
            dev,
            loaded: None,
        }
    }

    /// The input tensor the layer's jobs read (im2col applied when the plan says so).
    pub fn layer_input(&self, layer: usize, input: &Tensor) -> Tensor {
        match self.plan.layers[layer].im2col {
            Some((k, s, p)) => input.im2col(k, s, p),
            None => input.clone(),
        }
    }

    /// Run layer `li` on `input` (its un-lowered input tensor); calls `on_job` after each job.
    pub fn run_layer(
        &mut self,
        li: usize,
        input: &Tensor,
        mut on_job: impl FnMut(usize),
    ) -> Result<(Tensor, LayerStats), ExecError> {
        let lp = &self.plan.layers[li];
        let x = self.layer_input(li, input);
        let (c, h, w) = lp.out_shape;
        let mut out = Tensor::zeros(c, h, w);
        let mut st = LayerStats::default();
        let rows = self.plan.cfg.rows;
        for (ji, job) in lp.jobs.iter().enumerate() {
            let fail = |source: BackendError| ExecError {
                layer: lp.name.clone(),
                tile: job.tile,
                job: ji,
                source,
            };
            if self.loaded != Some((li, job.weight_set)) {
                let ws = &lp.weight_sets[job.weight_set];
                if !ws.weights.is_empty() {
                    self.dev
                        .write(Region::Weights, 0, &ws.weights)
                        .map_err(fail)?;
                }
                if !ws.params.is_empty() {
                    self.dev
                        .write(Region::Params, 0, &ws.params)
                        .map_err(fail)?;
                }
                st.bytes_in += 8 * (ws.weights.len() + ws.params.len()) as u64;
                // Parts of a weight set cover whole groups; unused rows stay zero.
                debug_assert_eq!(ws.weights.len() % rows, 0);
                self.loaded = Some((li, job.weight_set));
            }
            if let Some(c) = &job.carry {
                let words = self
                    .dev
                    .read(region(c.buf), c.from, c.words)
                    .map_err(fail)?;
                self.dev.write(region(c.buf), c.to, &words).map_err(fail)?;
                st.bytes_in += 8 * words.len() as u64;
                st.bytes_out += 8 * words.len() as u64;
            }
            if let Some(t) = &job.input {
                let words = x.gather(t.r0, t.r1, t.c0, t.c1);
                self.dev
                    .write(region(t.buf), t.base, &words)
                    .map_err(fail)?;
                st.bytes_in += 8 * words.len() as u64;
            }
            let desc = encode_job(&job.steps, &self.plan.cfg).map_err(|e| fail(e.into()))?;
            self.dev.write(Region::Desc, 0, &desc).map_err(fail)?;
            st.bytes_in += 8 * desc.len() as u64;
            st.cycles += self.dev.run().map_err(fail)?;
            if let Some(t) = &job.output {
                let n = (t.r1 - t.r0) * out.w * (t.c1 - t.c0);
                let words = self.dev.read(region(t.buf), t.base, n).map_err(fail)?;
                out.scatter(t.r0, t.c0, t.c1, &words);
                st.bytes_out += 8 * n as u64;
            }
            st.jobs += 1;
            on_job(ji);
        }
        Ok((out, st))
    }

    /// Run the whole network on signed input bytes `[c][h][w]`; every layer's output and stats.
    /// `on_job` is called after every job with the index of its layer.
    pub fn run(
        &mut self,
        net: &QNet,
        input: &[i8],
        on_job: impl FnMut(usize),
    ) -> Result<Vec<(Tensor, LayerStats)>, ExecError> {
        self.run_checked(net, input, on_job, |_, _| Ok(()))
    }

    /// [`Executor::run`], with `check(layer, output)` called as each layer is done: its error
    /// stops the run there (as the layer's last job's).
    pub fn run_checked(
        &mut self,
        net: &QNet,
        input: &[i8],
        mut on_job: impl FnMut(usize),
        mut check: impl FnMut(usize, &Tensor) -> Result<(), BackendError>,
    ) -> Result<Vec<(Tensor, LayerStats)>, ExecError> {
        let x = Tensor8::input(net, input);
        let mut x = Tensor::from_chw(&x.data, x.c, x.h, x.w);
        let mut outs = Vec::new();
        for li in 0..self.plan.layers.len() {
            let (y, st) = self.run_layer(li, &x, |_| on_job(li))?;
            check(li, &y).map_err(|source| {
                let lp = &self.plan.layers[li];
                ExecError {
                    layer: lp.name.clone(),
                    tile: lp.jobs.last().map_or(0, |j| j.tile),
                    job: lp.jobs.len().saturating_sub(1),
                    source,
                }
            })?;
            x = y.clone();
            outs.push((y, st));
        }
        Ok(outs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;
    use crate::reference;
    use crate::synthetic::{Version, input, squeezenet};

    /// Compiled jobs on the device model equal the layer-level reference, byte for byte,
    /// for both versions and for configurations that force multi-band and multi-job tiling.
    fn check(version: Version, size: usize, cfg: DeviceConfig) -> Plan {
        check_with(version, size, cfg, false)
    }

    fn check_with(version: Version, size: usize, cfg: DeviceConfig, fold: bool) -> Plan {
        let net = squeezenet(version, size, 7);
        let x = input(size, 3);
        let want = reference::run(&net, &x);
        let plan = Plan::compile_with(&net, &cfg, fold).unwrap();
        let mut dev = Device::new(cfg.clone());
        let got = Executor::new(&plan, &mut dev)
            .run(&net, &x, |_| {})
            .unwrap();
        assert_eq!(got.len(), plan.layers.len());
        for ((t, _), lp) in got.iter().zip(&plan.layers) {
            // A layer with a folded pool yields the pool's output.
            let name = lp.pooled.as_ref().unwrap_or(&lp.name);
            let r = want.iter().find(|r| &r.name == name).unwrap();
            let r_bytes = &r.out.data;
            assert_eq!(
                (t.c, t.h, t.w),
                (r.out.c, r.out.h, r.out.w),
                "{} shape",
                r.name
            );
            let bytes = t.to_chw();
            if let Some(i) = (0..bytes.len()).find(|&i| bytes[i] != r_bytes[i]) {
                panic!("{} on {}: first mismatch at byte {i}", r.name, cfg.name);
            }
            // The synthetic weights must exercise the range, or equality proves little.
            let zeros = r_bytes.iter().filter(|&&b| b == 0).count() as f64 / r_bytes.len() as f64;
            assert!(zeros < 0.9, "{}: {:.0} % zeros", r.name, zeros * 100.0);
        }
        plan
    }

    #[test]
    fn v11_small_config_matches_reference() {
        check(Version::V1_1, 67, DeviceConfig::small());
    }

    #[test]
    fn v10_tiny_buffers_match_reference() {
        let mut cfg = DeviceConfig::small();
        cfg.act_words = 1024;
        cfg.sq_words = 256;
        cfg.weight_words = 200;
        cfg.param_words = 64;
        let plan = check(Version::V1_0, 51, cfg);
        // The paths under test: Fire bands with several jobs (S kept across them), chunked
        // convolutions, sliced pools.
        let multi = |name: &str| plan.layers.iter().find(|l| l.name == name).unwrap();
        let fire = multi("fire4");
        assert!(
            fire.weight_sets.len() > 1 && fire.jobs.iter().any(|j| j.tile > 0),
            "{fire:?}"
        );
        assert!(multi("conv10").weight_sets.len() > 1);
        assert!(multi("pool10").jobs.len() > 1);
    }

    /// Max pools folded into the layer before them, with bands small enough that the
    /// pooled bands and the shared conv rows between them are exercised.
    #[test]
    fn folded_pools_match_reference() {
        let mut cfg = DeviceConfig::small();
        cfg.sq_words = 512;
        for v in [Version::V1_0, Version::V1_1] {
            let plan = check_with(v, 51, cfg.clone(), true);
            let pooled = plan.layers.iter().filter(|l| l.pooled.is_some()).count();
            assert_eq!(pooled, 3, "{v:?}");
            assert!(
                plan.layers
                    .iter()
                    .all(|l| !l.name.starts_with("pool") || l.name == "pool10")
            );
            let multi = plan.layers.iter().find(|l| l.pooled.is_some()).unwrap();
            assert!(multi.jobs.iter().any(|j| j.tile > 1), "{multi:?}");
        }
    }

    #[test]
    fn ulx3s_full_size_plan_fits() {
        for v in [Version::V1_0, Version::V1_1] {
            let net = squeezenet(v, 227, 1);
            let plan = Plan::compile(&net, &DeviceConfig::ulx3s()).unwrap();
            let jobs: usize = plan.layers.iter().map(|l| l.jobs.len()).sum();
            assert!(jobs > 20);
        }
    }
}
