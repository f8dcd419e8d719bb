//! The int8 golden model: executes a [`QNet`] with exactly the hardware's arithmetic
//! (`common::arith`): wrapping i32 accumulation from the bias, then `requantize` per
//! output channel. Every layer's output bytes are available (CHW) for the RTL comparison.
//! It is the optimised twin of `common::reference`, the direct definition, and is tested
//! against it (`tests/golden_props.rs`, `tests/golden_vs_reference.rs`).
//!
//! Speed: activations are kept HWC; each conv gathers a tile of output pixels as an
//! im2col matrix of i16 (taps ordered ky, kx, ci), and dots it with i16 weights
//! (AVX2 `_mm256_madd_epi16` when the CPU has it, a portable loop otherwise), in
//! parallel over pixel tiles. i16 products of 8-bit values are exact and i32 wrapping
//! addition is associative, so the sum order does not change any result.

use common::arith::{OutMode, activation_value, requantize};
use common::qnet::{QConv, QLayer, QNet, maxpool_out};
use common::reference::LayerOutput;
use common::tensor::Tensor8;
use rayon::prelude::*;

/// Which dot-product kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernel {
    /// The fastest kernel this CPU supports.
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Kernel::Avx2;
        }
        Kernel::Portable
    }

    /// Every kernel this CPU supports (to test them against each other).
    pub fn supported() -> Vec<Kernel> {
        let mut k = vec![Kernel::Portable];
        if Kernel::detect() != Kernel::Portable {
            k.push(Kernel::detect());
        }
        k
    }
}

/// A conv prepared for the fast path: weights widened to i16, taps reordered (ky, kx, ci),
/// rows padded to a multiple of 16 taps and the channel count to a multiple of 16.
#[derive(Clone, Debug)]
struct PConv {
    kp: usize,
    cpad: usize,
    /// `[cpad][kp]`, for the portable kernel.
    w: Vec<i16>,
    /// `[cpad/16][kp/2][16 channels][2 taps]`, for the AVX2 kernel: one 32-byte load per
    /// tap pair and 8 channels, multiplied against a broadcast activation pair.
    wb: Vec<i16>,
}

impl PConv {
    fn new(q: &QConv) -> PConv {
        let k = q.kernel;
        let kk = q.cin * k * k;
        let kp = kk.div_ceil(16) * 16;
        let cpad = q.cout.div_ceil(16) * 16;
        let mut w = vec![0i16; cpad * kp];
        for co in 0..q.cout {
            for ky in 0..k {
                for kx in 0..k {
                    for ci in 0..q.cin {
                        w[co * kp + (ky * k + kx) * q.cin + ci] = q.weight(co, ci, ky, kx) as i16;
                    }
                }
            }
        }
        let mut wb = vec![0i16; cpad * kp];
        for co in 0..cpad {
            for t in 0..kp {
                let (blk, lane, pair) = (co / 16, co % 16, t / 2);
                wb[((blk * (kp / 2) + pair) * 16 + lane) * 2 + t % 2] = w[co * kp + t];
            }
        }
        PConv { kp, cpad, w, wb }
    }
}

/// Activations between layers: HWC bytes.
struct Act {
    c: usize,
    h: usize,
    w: usize,
    signed: bool,
    hwc: Vec<u8>,
}

impl Act {
    fn to_chw(&self) -> Tensor8 {
        let (c, n) = (self.c, self.h * self.w);
        let mut data = vec![0u8; c * n];
        for (p, px) in self.hwc.chunks_exact(c).enumerate() {
            for (ch, &v) in px.iter().enumerate() {
                data[ch * n + p] = v;
            }
        }
        Tensor8 {
            c,
            h: self.h,
            w: self.w,
            signed: self.signed,
            data,
        }
    }
}

/// The logits from the network's output bytes (one per class): each byte's value times the
/// last layer's output scale. Shared by the golden model and device runs, so a device that
/// returns the golden bytes gives the golden probabilities exactly.
pub fn output_logits(net: &QNet, bytes: &[u8]) -> Vec<f32> {
    let (signed, scale) = match net.layers.last() {
        Some(QLayer::AvgPool {
            relu, out_scale, ..
        }) => (!relu, *out_scale),
        Some(QLayer::Conv(c)) => (!c.relu, c.out_scale),
        Some(QLayer::Fire(f)) => (!f.expand1x1.relu, f.expand1x1.out_scale),
        _ => (false, 1.0),
    };
    bytes
        .iter()
        .map(|&b| activation_value(b, signed) as f32 * scale)
        .collect()
}

/// Class probabilities from the network's output bytes (softmax in float on the host).
pub fn output_probabilities(net: &QNet, bytes: &[u8]) -> Vec<f32> {
    crate::float::softmax(&output_logits(net, bytes))
}

/// A QNet ready to run fast (weights prepared once).
pub struct Golden {
    pub net: QNet,
    kernel: Kernel,
    /// Per layer: its convs in order (conv: 1; fire: squeeze, expand1x1, expand3x3).
    prepared: Vec<Vec<PConv>>,
}

impl Golden {
    pub fn new(net: &QNet) -> Golden {
        Golden::with_kernel(net, Kernel::detect())
    }

    pub fn with_kernel(net: &QNet, kernel: Kernel) -> Golden {
        let prepared = net
            .layers
            .iter()
            .map(|l| match l {
                QLayer::Conv(c) => vec![PConv::new(c)],
                QLayer::Fire(f) => vec![
                    PConv::new(&f.squeeze),
                    PConv::new(&f.expand1x1),
                    PConv::new(&f.expand3x3),
                ],
                _ => vec![],
            })
            .collect();
        Golden {
            net: net.clone(),
            kernel,
            prepared,
        }
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Every layer's output (CHW bytes).
    pub fn run_layers(&self, input: &[i8]) -> Vec<LayerOutput> {
        let mut outs = Vec::with_capacity(self.net.layers.len());
        self.run(input, |name, a, sq| {
            outs.push(LayerOutput {
                name: name.to_string(),
                out: a.to_chw(),
                squeeze: sq.map(Act::to_chw),
            })
        });
        outs
    }

    /// The dequantized outputs of the last layer (logits).
    pub fn logits(&self, input: &[i8]) -> Vec<f32> {
        let mut last = None;
        self.run(input, |_, a, _| last = Some(a.hwc.clone()));
        output_logits(&self.net, &last.expect("network has layers"))
    }

    /// Class probabilities (softmax of the dequantized logits, in float on the host).
    pub fn classify(&self, input: &[i8]) -> Vec<f32> {
        crate::float::softmax(&self.logits(input))
    }

    fn run(&self, input: &[i8], mut sink: impl FnMut(&str, &Act, Option<&Act>)) {
        let mut x = from_chw(&Tensor8::input(&self.net, input));
        for (l, prep) in self.net.layers.iter().zip(&self.prepared) {
            match l {
                QLayer::Conv(q) => {
                    x = self.conv(q, &prep[0], &x);
                    sink(&q.name, &x, None);
                }
                QLayer::Fire(f) => {
                    let sq = self.conv(&f.squeeze, &prep[0], &x);
                    let c = f.expand1x1.cout + f.expand3x3.cout;
                    let (h, w) = f.expand1x1.out_size(sq.h, sq.w);
                    let mut out = Act {
                        c,
                        h,
                        w,
                        signed: !f.expand1x1.relu,
                        hwc: vec![0; c * h * w],
                    };
                    self.conv_into(&f.expand1x1, &prep[1], &sq, &mut out, 0);
                    self.conv_into(&f.expand3x3, &prep[2], &sq, &mut out, f.expand1x1.cout);
                    sink(&f.name, &out, Some(&sq));
                    x = out;
                }
                QLayer::MaxPool { name } => {
                    x = maxpool(&x);
                    sink(name, &x, None);
                }
                QLayer::AvgPool {
                    name,
                    bias,
                    m,
                    shift,
                    relu,
                    ..
                } => {
                    x = avgpool(&x, bias, m, shift, *relu);
                    sink(name, &x, None);
                }
            }
        }
    }

    fn conv(&self, q: &QConv, p: &PConv, x: &Act) -> Act {
        let (h, w) = q.out_size(x.h, x.w);
        let mut out = Act {
            c: q.cout,
            h,
            w,
            signed: !q.relu,
            hwc: vec![0; q.cout * h * w],
        };
        self.conv_into(q, p, x, &mut out, 0);
        out
    }

    /// Convolve `x` into channels `off..off+cout` of `out`.
    fn conv_into(&self, q: &QConv, p: &PConv, x: &Act, out: &mut Act, off: usize) {
        assert_eq!(x.c, q.cin, "conv '{}' input channels", q.name);
        assert_eq!(x.signed, q.in_signed, "conv '{}' input signedness", q.name);
        let (k, s, pad, cin) = (q.kernel, q.stride, q.pad, q.cin);
        let (oh, ow) = (out.h, out.w);
        let npix = oh * ow;
        // Zero-padded HWC input widened to i16 (0 is the zero point of both byte kinds).
        let (hp, wp) = (x.h + 2 * pad, x.w + 2 * pad);
        let mut xp = vec![0i16; hp * wp * cin];
        for y in 0..x.h {
            let src = &x.hwc[y * x.w * cin..(y + 1) * x.w * cin];
            let dst = &mut xp[((y + pad) * wp + pad) * cin..][..x.w * cin];
            for (d, &b) in dst.iter_mut().zip(src) {
                *d = activation_value(b, x.signed) as i16;
            }
        }
        // Tiles of output pixels: ~32 KB of im2col each, at least 8 tiles for the cores.
        let tile = (16384 / p.kp)
            .clamp(8, 256)
            .min(npix.div_ceil(8))
            .next_multiple_of(4);
        let oc = out.c;
        let mode = q.out_mode();
        let kernel = self.kernel;
        out.hwc
            .par_chunks_mut(tile * oc)
            .enumerate()
            .for_each(|(t, o)| {
                let p0 = t * tile;
                let np = o.len() / oc;
                let np4 = np.next_multiple_of(4);
                // A pointwise conv over whole 16-channel words reads its input rows in place.
                let direct = k == 1 && s == 1 && pad == 0 && cin == p.kp && np == np4;
                let mut own = Vec::new();
                let col: &[i16] = if direct {
                    &xp[p0 * cin..(p0 + np) * cin]
                } else {
                    own.resize(np4 * p.kp, 0i16);
                    for i in 0..np {
                        let (oy, ox) = ((p0 + i) / ow, (p0 + i) % ow);
                        let row = &mut own[i * p.kp..];
                        for ky in 0..k {
                            let base = ((oy * s + ky) * wp + ox * s) * cin;
                            let seg = &xp[base..base + k * cin];
                            row[ky * k * cin..(ky + 1) * k * cin].copy_from_slice(seg);
                        }
                    }
                    &own
                };
                let mut acc = vec![0i32; np.next_multiple_of(4) * p.cpad];
                gemm(kernel, p, col, &mut acc);
                // Zipped iterators: no bounds checks in the per-output requantization.
                for (orow, arow) in o.chunks_exact_mut(oc).zip(acc.chunks_exact(p.cpad)) {
                    let dst = orow[off..off + q.cout].iter_mut();
                    let params = q.bias.iter().zip(&q.m).zip(&q.shift);
                    for ((d, &a), ((&b, &m), &sh)) in dst.zip(arow).zip(params) {
                        *d = requantize(b.wrapping_add(a), m, sh, mode);
                    }
                }
            });
    }
}

/// `acc[p][c] = sum_k w[c][k] * col[p][k]` (wrapping), for a multiple of 4 pixels.
fn gemm(kernel: Kernel, p: &PConv, col: &[i16], acc: &mut [i32]) {
    match kernel {
        Kernel::Portable => gemm_portable(&p.w, col, p.kp, p.cpad, acc),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => {
            assert!(
                std::arch::is_x86_feature_detected!("avx2"),
                "AVX2 kernel on a CPU without AVX2"
            );
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { gemm_avx2(&p.wb, col, p.kp, p.cpad, acc) }
        }
    }
}

fn gemm_portable(w: &[i16], col: &[i16], kp: usize, cpad: usize, acc: &mut [i32]) {
    for (a, out) in col.chunks_exact(kp).zip(acc.chunks_exact_mut(cpad)) {
        for (wr, o) in w.chunks_exact(kp).zip(out.iter_mut()) {
            *o = wr
                .iter()
                .zip(a)
                .fold(0i32, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gemm_avx2(wb: &[i16], col: &[i16], kp: usize, cpad: usize, acc: &mut [i32]) {
    use std::arch::x86_64::*;
    let np = col.len() / kp;
    let pairs = kp / 2;
    assert!(np.is_multiple_of(4) && kp.is_multiple_of(16) && cpad.is_multiple_of(16));
    assert!(wb.len() >= cpad * kp && acc.len() >= np * cpad);
    // SAFETY: the asserts above bound every pointer offset below; AVX2 is enabled.
    unsafe {
        // Block: 16 output channels (2 vectors) x 4 pixels = 8 accumulators. Per tap pair:
        // 2 weight loads, 4 broadcast activation pairs, 8 madds; no horizontal sums.
        for blk in 0..cpad / 16 {
            let wbase = wb.as_ptr().add(blk * pairs * 32);
            for p in (0..np).step_by(4) {
                let a = col.as_ptr().add(p * kp) as *const i32;
                let (a0, a1, a2, a3) = (a, a.add(pairs), a.add(2 * pairs), a.add(3 * pairs));
                let z = _mm256_setzero_si256();
                let (mut s00, mut s01, mut s10, mut s11) = (z, z, z, z);
                let (mut s20, mut s21, mut s30, mut s31) = (z, z, z, z);
                for j in 0..pairs {
                    let w0 = _mm256_loadu_si256(wbase.add(j * 32) as *const __m256i);
                    let w1 = _mm256_loadu_si256(wbase.add(j * 32 + 16) as *const __m256i);
                    let x0 = _mm256_set1_epi32(a0.add(j).read_unaligned());
                    let x1 = _mm256_set1_epi32(a1.add(j).read_unaligned());
                    let x2 = _mm256_set1_epi32(a2.add(j).read_unaligned());
                    let x3 = _mm256_set1_epi32(a3.add(j).read_unaligned());
                    s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(w0, x0));
                    s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(w1, x0));
                    s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(w0, x1));
                    s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(w1, x1));
                    s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(w0, x2));
                    s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(w1, x2));
                    s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(w0, x3));
                    s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(w1, x3));
                }
                let dst = acc.as_mut_ptr().add(p * cpad + blk * 16);
                for (i, (lo, hi)) in [(s00, s01), (s10, s11), (s20, s21), (s30, s31)]
                    .into_iter()
                    .enumerate()
                {
                    _mm256_storeu_si256(dst.add(i * cpad) as *mut __m256i, lo);
                    _mm256_storeu_si256(dst.add(i * cpad + 8) as *mut __m256i, hi);
                }
            }
        }
    }
}

fn from_chw(t: &Tensor8) -> Act {
    let n = t.h * t.w;
    let mut hwc = vec![0u8; t.data.len()];
    for ch in 0..t.c {
        for p in 0..n {
            hwc[p * t.c + ch] = t.data[ch * n + p];
        }
    }
    Act {
        c: t.c,
        h: t.h,
        w: t.w,
        signed: t.signed,
        hwc,
    }
}

fn maxpool(x: &Act) -> Act {
    let (oh, ow, c) = (maxpool_out(x.h), maxpool_out(x.w), x.c);
    let mut hwc = vec![0u8; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            let o = &mut hwc[(oy * ow + ox) * c..][..c];
            for (ch, out) in o.iter_mut().enumerate() {
                let mut best = i32::MIN;
                let mut byte = 0;
                for iy in 2 * oy..(2 * oy + 3).min(x.h) {
                    for ix in 2 * ox..(2 * ox + 3).min(x.w) {
                        let b = x.hwc[(iy * x.w + ix) * c + ch];
                        let v = activation_value(b, x.signed);
                        if v > best {
                            best = v;
                            byte = b;
                        }
                    }
                }
                *out = byte;
            }
        }
    }
    Act {
        c,
        h: oh,
        w: ow,
        signed: x.signed,
        hwc,
    }
}

fn avgpool(x: &Act, bias: &[i32], m: &[u16], shift: &[u8], relu: bool) -> Act {
    let mode = OutMode::of(relu);
    let hwc = (0..x.c)
        .map(|ch| {
            let acc = x.hwc.chunks_exact(x.c).fold(bias[ch], |a, px| {
                a.wrapping_add(activation_value(px[ch], x.signed))
            });
            requantize(acc, m[ch], shift[ch], mode)
        })
        .collect();
    Act {
        c: x.c,
        h: 1,
        w: 1,
        signed: !relu,
        hwc,
    }
}

/// Quantize a float input to signed int8: `clamp(round(x / scale), -128, 127)`, ties away
/// from zero.
pub fn quantize_input(x: &[f32], scale: f32) -> Vec<i8> {
    x.iter()
        .map(|&v| (v / scale).round().clamp(-128.0, 127.0) as i8)
        .collect()
}

/// Smallest and largest accumulator (bias + products, exact in i64) of every conv and
/// average pool on one input, in execution order: how many accumulator bits the network
/// really needs. Runs the naive path (slow; for reports and tests).
pub fn accumulator_extremes(net: &QNet, input: &[i8]) -> Vec<(String, i64, i64)> {
    fn conv_ext(q: &QConv, x: &Tensor8, out: &mut Vec<(String, i64, i64)>) {
        let (oh, ow) = q.out_size(x.h, x.w);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for co in 0..q.cout {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = q.bias[co] as i64;
                    for ci in 0..q.cin {
                        for ky in 0..q.kernel {
                            for kx in 0..q.kernel {
                                let iy = (oy * q.stride + ky) as isize - q.pad as isize;
                                let ix = (ox * q.stride + kx) as isize - q.pad as isize;
                                if iy >= 0 && ix >= 0 && iy < x.h as isize && ix < x.w as isize {
                                    let b = x.data[(ci * x.h + iy as usize) * x.w + ix as usize];
                                    acc += (activation_value(b, x.signed)
                                        * q.weight(co, ci, ky, kx) as i32)
                                        as i64;
                                }
                            }
                        }
                    }
                    lo = lo.min(acc);
                    hi = hi.max(acc);
                }
            }
        }
        out.push((q.name.clone(), lo, hi));
    }
    let outs = common::reference::run(net, input);
    let mut x = Tensor8::input(net, input);
    let mut ext = Vec::new();
    for (l, o) in net.layers.iter().zip(&outs) {
        match l {
            QLayer::Conv(q) => conv_ext(q, &x, &mut ext),
            QLayer::Fire(f) => {
                conv_ext(&f.squeeze, &x, &mut ext);
                let sq = o.squeeze.as_ref().expect("fire output has its squeeze");
                conv_ext(&f.expand1x1, sq, &mut ext);
                conv_ext(&f.expand3x3, sq, &mut ext);
            }
            QLayer::AvgPool { name, bias, .. } => {
                let n = x.h * x.w;
                let sums = (0..x.c).map(|c| {
                    bias[c] as i64
                        + x.data[c * n..(c + 1) * n]
                            .iter()
                            .map(|&b| activation_value(b, x.signed) as i64)
                            .sum::<i64>()
                });
                let (lo, hi) = sums.fold((i64::MAX, i64::MIN), |(l, h), v| (l.min(v), h.max(v)));
                ext.push((name.clone(), lo, hi));
            }
            QLayer::MaxPool { .. } => {}
        }
        x = o.out.clone();
    }
    ext
}
