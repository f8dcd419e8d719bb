//! SqueezeNet v1.0 / v1.1 with deterministic synthetic int8 weights: the network
//! `cargo run -p sim` simulates when no model file is given, and the compiler's tests use;
//! and the smallest job step, for tests of the link and the engine.
//! Multipliers and biases are chosen from each layer's fan-in so that activations spread
//! over the byte range (neither all zero nor all saturated) and every path is exercised.

use serde::{Deserialize, Serialize};

use crate::job::{Buf, Op, Step};
use crate::qnet::{QConv, QFire, QLayer, QNet};

/// The two SqueezeNet releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Version {
    V1_0,
    V1_1,
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "v1.0" | "1.0" | "v1_0" => Ok(Version::V1_0),
            "v1.1" | "1.1" | "v1_1" => Ok(Version::V1_1),
            _ => Err(format!("unknown SqueezeNet version `{s}` (v1.0 or v1.1)")),
        }
    }
}

/// SplitMix64: a tiny deterministic generator (no platform or crate-version dependence).
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
}

/// A conv with random weights in [-128, 127] and a requantization that maps the typical
/// accumulator spread (`~ sqrt(fan_in) * 74 * mean activation`) onto about +-64 output units.
/// `shape` is `(cin, cout, kernel, stride, pad)`.
fn conv(rng: &mut SplitMix, name: &str, shape: [usize; 5], in_signed: bool) -> QConv {
    let [cin, cout, kernel, stride, pad] = shape;
    let fan_in = (cin * kernel * kernel) as f64;
    let weights = (0..cout * cin * kernel * kernel)
        .map(|_| rng.range(-128, 127) as i8)
        .collect();
    let mean_act = if in_signed { 60.0 } else { 50.0 };
    let spread = fan_in.sqrt() * 74.0 * mean_act;
    let ratio = 64.0 / spread;
    let (mut m, mut shift) = (Vec::new(), Vec::new());
    let mut bias = Vec::new();
    for _ in 0..cout {
        let r = ratio * (0.75 + 0.5 * (rng.next_u64() % 1000) as f64 / 1000.0);
        let (mm, ss) = crate::arith::quantize_multiplier(r);
        m.push(mm);
        shift.push(ss);
        bias.push(rng.range(-(spread as i64) / 2, spread as i64 / 2) as i32);
    }
    QConv {
        name: name.into(),
        cin,
        cout,
        kernel,
        stride,
        pad,
        weights,
        bias,
        m,
        shift,
        in_signed,
        relu: true,
        out_scale: 1.0,
    }
}

fn fire(rng: &mut SplitMix, name: &str, cin: usize, s: usize, e: usize) -> QLayer {
    QLayer::Fire(QFire {
        name: name.into(),
        squeeze: conv(rng, &format!("{name}/squeeze1x1"), [cin, s, 1, 1, 0], false),
        expand1x1: conv(rng, &format!("{name}/expand1x1"), [s, e, 1, 1, 0], false),
        expand3x3: conv(rng, &format!("{name}/expand3x3"), [s, e, 3, 1, 1], false),
    })
}

fn pool(name: &str) -> QLayer {
    QLayer::MaxPool { name: name.into() }
}

/// SqueezeNet `version` on a `size x size` input with synthetic weights from `seed`.
pub fn squeezenet(version: Version, size: usize, seed: u64) -> QNet {
    build(version, size, seed, 8, 1000)
}

/// A short SqueezeNet v1.1 (conv1, pool1, fire2, fire3, then conv10 to 100 classes and
/// pool10): every layer kind in about 40 kB of weights, for tests of the link and the host
/// whose property does not depend on the model's size.
pub fn short_squeezenet(size: usize, seed: u64) -> QNet {
    let mut net = build(Version::V1_1, size, seed, 2, 100);
    net.name = "synthetic short squeezenet_v1.1".into();
    net
}

/// SqueezeNet `version` with its first `n_fires` fire modules and `classes` outputs.
fn build(version: Version, size: usize, seed: u64, n_fires: usize, classes: usize) -> QNet {
    let rng = &mut SplitMix(seed);
    let mut layers = Vec::new();
    let fires = [
        (16, 64),
        (16, 64),
        (32, 128),
        (32, 128),
        (48, 192),
        (48, 192),
        (64, 256),
        (64, 256),
    ];
    // Pools before fire modules (index into `fires`), as in the Caffe releases.
    let (pools_before, conv1): (&[usize], QConv) = match version {
        Version::V1_0 => (&[0, 3, 7], conv(rng, "conv1", [3, 96, 7, 2, 0], true)),
        Version::V1_1 => (&[0, 2, 4], conv(rng, "conv1", [3, 64, 3, 2, 0], true)),
    };
    let mut cin = conv1.cout;
    layers.push(QLayer::Conv(conv1));
    for (i, &(s, e)) in fires[..n_fires].iter().enumerate() {
        if pools_before.contains(&i) {
            layers.push(pool(&format!("pool{}", i + 1)));
        }
        layers.push(fire(rng, &format!("fire{}", i + 2), cin, s, e));
        cin = 2 * e;
    }
    let pad10 = if version == Version::V1_0 { 1 } else { 0 };
    layers.push(QLayer::Conv(conv(
        rng,
        "conv10",
        [cin, classes, 1, 1, pad10],
        false,
    )));
    let mut net = QNet {
        name: format!(
            "synthetic squeezenet_{}",
            match version {
                Version::V1_0 => "v1.0",
                Version::V1_1 => "v1.1",
            }
        ),
        in_c: 3,
        in_h: size,
        in_w: size,
        in_scale: 1.0,
        layers,
    };
    let (_, h, w) = *net.shapes().last().unwrap();
    // The average: sum / pixels.
    let (m, shift) = crate::arith::quantize_multiplier(1.0 / (h * w) as f64);
    net.layers.push(QLayer::AvgPool {
        name: "pool10".into(),
        bias: vec![0; classes],
        m: vec![m; classes],
        shift: vec![shift; classes],
        relu: true,
        out_scale: 1.0,
    });
    net
}

/// A deterministic synthetic input image (signed bytes, `[3][size][size]`): smooth
/// gradients plus noise, covering the whole int8 range.
pub fn input(size: usize, seed: u64) -> Vec<i8> {
    let rng = &mut SplitMix(seed ^ 0x5eed);
    (0..3 * size * size)
        .map(|i| {
            let (c, p) = (i / (size * size), i % (size * size));
            let (y, x) = (p / size, p % size);
            let v = ((x * 255 / size) as i64 + (y * 97 / size) as i64 * (c as i64 + 1)) % 256 - 128
                + rng.range(-20, 20);
            v.clamp(-128, 127) as i8
        })
        .collect()
}

/// The smallest job step, for tests of the link and the engine: a 1x1 ReLU conv of a 2x2
/// tile, one channel word in, 4 channels out, from buffer A to B, weights and parameters at 0.
pub fn tiny_step() -> Step {
    Step {
        op: Op::Conv,
        kernel: 1,
        in_signed: false,
        relu: true,
        src: Buf::A,
        dst: Buf::B,
        cin_words: 1,
        cout: 4,
        in_h: 2,
        in_w: 2,
        out_h: 2,
        out_w: 2,
        y0: 0,
        x0: 0,
        src_base: 0,
        dst_base: 0,
        dst_wpp: 1,
        dst_off: 0,
        weight_base: 0,
        param_base: 0,
    }
}
