//! Post-training quantization of a float [`Net`] to the hardware's [`QNet`].
//!
//! Scheme (docs/quantization.md): int8 weights with one symmetric scale per output
//! channel; the network input is int8 with one scale; every post-ReLU tensor is u8 with
//! one scale (a Fire's two expands share their output scale, so the concatenation needs
//! no rescale); `bias = round(b / (s_in * s_w))`; `(m, shift) = quantize_multiplier(s_in *
//! s_w / s_out)`. Activation ranges come from calibration images: the maximum, or a
//! percentile of a log-spaced histogram of the values.

use std::collections::HashMap;

use anyhow::{Result, bail};
use common::arith::quantize_multiplier;
use common::qnet::{QConv, QFire, QLayer, QNet};
use ndarray::Array3;

use crate::float::{Blob, Role, forward};
use crate::net::{Conv, Layer, Net};

/// How a tensor's range is chosen from its calibration values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RangeRule {
    Max,
    /// This percentile (e.g. 99.99) of the absolute values, zeros included.
    Percentile(f64),
}

/// Log-spaced histogram of absolute values (64 bins per octave, 2^-24 .. 2^24).
#[derive(Clone, Debug)]
pub struct Hist {
    bins: Vec<u64>,
    zeros: u64,
    max: f32,
}

const PER_OCTAVE: f64 = 64.0;
const LO_EXP: f64 = -24.0;
const NBINS: usize = 48 * 64;

impl Default for Hist {
    fn default() -> Self {
        Hist {
            bins: vec![0; NBINS],
            zeros: 0,
            max: 0.0,
        }
    }
}

impl Hist {
    pub fn add(&mut self, values: impl Iterator<Item = f32>) {
        for v in values {
            let a = v.abs();
            if a == 0.0 || !a.is_finite() {
                self.zeros += 1;
                continue;
            }
            self.max = self.max.max(a);
            let b = ((a as f64).log2() - LO_EXP) * PER_OCTAVE;
            self.bins[(b.max(0.0) as usize).min(NBINS - 1)] += 1;
        }
    }

    pub fn max(&self) -> f32 {
        self.max
    }

    /// The range under `rule`: the upper edge of the bin holding the percentile
    /// (never above the maximum).
    pub fn range(&self, rule: RangeRule) -> f32 {
        let RangeRule::Percentile(p) = rule else {
            return self.max;
        };
        let total = self.zeros + self.bins.iter().sum::<u64>();
        let want = (p / 100.0 * total as f64).ceil() as u64;
        let mut cum = self.zeros;
        if cum >= want {
            return self.max;
        }
        for (i, &n) in self.bins.iter().enumerate() {
            cum += n;
            if cum >= want {
                let edge = 2f64.powf((i + 1) as f64 / PER_OCTAVE + LO_EXP) as f32;
                return edge.min(self.max);
            }
        }
        self.max
    }
}

/// Activation statistics of a network over calibration inputs, per (layer, role).
#[derive(Clone, Debug, Default)]
pub struct Calibration {
    pub images: usize,
    hists: HashMap<(usize, RoleKey), Hist>,
}

/// The tensors whose scale the quantizer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum RoleKey {
    Input,
    Out,
    Squeeze,
}

fn key(b: &Blob) -> Option<(usize, RoleKey)> {
    match b.role {
        Role::Input => Some((0, RoleKey::Input)),
        Role::Conv | Role::FireOut | Role::AvgPool => Some((b.layer, RoleKey::Out)),
        Role::Squeeze => Some((b.layer, RoleKey::Squeeze)),
        _ => None,
    }
}

impl Calibration {
    /// Add one preprocessed input.
    pub fn observe(&mut self, net: &Net, input: &Array3<f32>) {
        for b in forward(net, input) {
            if let Some(k) = key(&b) {
                self.hists.entry(k).or_default().add(b.data.iter().copied());
            }
        }
        self.images += 1;
    }

    fn range(&self, k: (usize, RoleKey), rule: RangeRule) -> Result<f32> {
        let h = self
            .hists
            .get(&k)
            .ok_or_else(|| anyhow::anyhow!("no calibration data"))?;
        let r = h.range(rule);
        // A tensor that was all zero still needs a usable scale.
        Ok(if r > 0.0 { r } else { 1.0 })
    }
}

/// Quantization options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Rule for hidden activations.
    pub rule: RangeRule,
    /// Rule for the network input.
    pub input_rule: RangeRule,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rule: RangeRule::Percentile(99.999),
            input_rule: RangeRule::Max,
        }
    }
}

/// Quantize `net` with the scales from `cal`. The logits (average pool output) always use
/// their maximum: clipping them would tie the top classes.
pub fn quantize(net: &Net, cal: &Calibration, opts: Options) -> Result<QNet> {
    if cal.images == 0 {
        bail!("calibration needs at least one image");
    }
    let in_scale = cal.range((0, RoleKey::Input), opts.input_rule)? / 127.0;
    let mut s_in = in_scale as f64;
    let mut signed = true;
    let shapes = net.shapes();
    let mut layers = Vec::new();
    for (i, l) in net.layers.iter().enumerate() {
        let s_out = |k: RoleKey, rule| cal.range((i, k), rule).map(|r| r as f64 / 255.0);
        match l {
            Layer::Conv(c) => {
                let so = s_out(RoleKey::Out, opts.rule)?;
                layers.push(QLayer::Conv(qconv(c, s_in, signed, so)));
                s_in = so;
                signed = false;
            }
            Layer::Fire(f) => {
                let ss = s_out(RoleKey::Squeeze, opts.rule)?;
                let so = s_out(RoleKey::Out, opts.rule)?;
                let squeeze = qconv(&f.squeeze, s_in, signed, ss);
                let expand1x1 = qconv(&f.expand1x1, ss, false, so);
                let expand3x3 = qconv(&f.expand3x3, ss, false, so);
                layers.push(QLayer::Fire(QFire {
                    name: f.name.clone(),
                    squeeze,
                    expand1x1,
                    expand3x3,
                }));
                s_in = so;
                signed = false;
            }
            Layer::MaxPool { name } => layers.push(QLayer::MaxPool { name: name.clone() }),
            Layer::GlobalAvgPool { name } => {
                if signed {
                    bail!("global average pool '{name}' over a signed tensor is not supported");
                }
                let so = s_out(RoleKey::Out, RangeRule::Max)?;
                let (c, h, w) = if i == 0 {
                    (net.in_c, net.in_h, net.in_w)
                } else {
                    shapes[i - 1]
                };
                let (m, shift) = quantize_multiplier(s_in / ((h * w) as f64 * so));
                layers.push(QLayer::AvgPool {
                    name: name.clone(),
                    bias: vec![0; c],
                    m: vec![m; c],
                    shift: vec![shift; c],
                    relu: true,
                    out_scale: so as f32,
                });
                s_in = so;
            }
        }
    }
    Ok(QNet {
        name: net.name.clone(),
        in_c: net.in_c,
        in_h: net.in_h,
        in_w: net.in_w,
        in_scale,
        layers,
    })
}

/// One conv: per-output-channel symmetric int8 weights, i32 bias, fixed-point multiplier.
fn qconv(c: &Conv, s_in: f64, in_signed: bool, s_out: f64) -> QConv {
    let per = c.cin * c.k * c.k;
    let mut weights = Vec::with_capacity(c.weights.len());
    let (mut bias, mut m, mut shift) = (vec![], vec![], vec![]);
    for co in 0..c.cout {
        let w = &c.weights[co * per..(co + 1) * per];
        let wmax = w.iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
        let s_w = if wmax > 0.0 { wmax / 127.0 } else { 1.0 };
        weights.extend(
            w.iter()
                .map(|&v| (v as f64 / s_w).round().clamp(-127.0, 127.0) as i8),
        );
        bias.push(
            (c.bias[co] as f64 / (s_in * s_w))
                .round()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32,
        );
        let (mm, ss) = quantize_multiplier(s_in * s_w / s_out);
        m.push(mm);
        shift.push(ss);
    }
    QConv {
        name: c.name.clone(),
        cin: c.cin,
        cout: c.cout,
        kernel: c.k,
        stride: c.stride,
        pad: c.pad,
        weights,
        bias,
        m,
        shift,
        in_signed,
        relu: c.relu,
        out_scale: s_out as f32,
    }
}
