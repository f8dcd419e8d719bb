//! The quantized network: what the int8 golden model executes, what the job compiler
//! tiles into device jobs, and what a quantized model file (`.q8`) stores.
//!
//! Arithmetic is [`crate::arith`]'s: int8 weights (one scale per output channel), 8-bit
//! activations (signed for the network input, unsigned after a ReLU), wrapping i32
//! accumulation starting from the bias, then `requantize(acc, m, shift, mode)` per output
//! channel. Float scales are kept only to quantize the input and dequantize the output.

use serde::{Deserialize, Serialize};

use crate::arith::OutMode;

/// A quantized convolution (square kernel, equal stride and padding in both axes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QConv {
    /// The layer's name in the source model (for reports and mismatch messages).
    pub name: String,
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
    /// `[cout][cin][kernel][kernel]`, row-major.
    pub weights: Vec<i8>,
    /// Accumulator initial value per output channel.
    pub bias: Vec<i32>,
    /// Requantization multiplier per output channel (`< 2^15`).
    pub m: Vec<u16>,
    /// Requantization shift per output channel (`<= 47`).
    pub shift: Vec<u8>,
    /// Input bytes are signed (the network input) rather than unsigned (after a ReLU).
    pub in_signed: bool,
    /// ReLU output (u8) or linear (i8).
    pub relu: bool,
    /// Real value of one output unit (dequantization scale of the output tensor).
    pub out_scale: f32,
}

impl QConv {
    pub fn out_mode(&self) -> OutMode {
        OutMode::of(self.relu)
    }
    /// Output size for an input of `h x w`.
    pub fn out_size(&self, h: usize, w: usize) -> (usize, usize) {
        let f = |n: usize| (n + 2 * self.pad - self.kernel) / self.stride + 1;
        (f(h), f(w))
    }
    /// Weight `[co][ci][ky][kx]`.
    pub fn weight(&self, co: usize, ci: usize, ky: usize, kx: usize) -> i8 {
        let k = self.kernel;
        self.weights[((co * self.cin + ci) * k + ky) * k + kx]
    }
}

/// A Fire module: squeeze 1x1, then expand 1x1 and expand 3x3 (pad 1) over the squeeze
/// output, concatenated along channels (expand1x1's channels first). Both expands share
/// one output scale so the concatenation needs no rescale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QFire {
    pub name: String,
    pub squeeze: QConv,
    pub expand1x1: QConv,
    pub expand3x3: QConv,
}

/// One layer of the quantized network, in execution order.
// A network has a few dozen layers: boxing the Fire variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QLayer {
    Conv(QConv),
    Fire(QFire),
    /// 3x3 stride 2 max pool, ceil mode (Caffe rounding), no padding.
    MaxPool {
        name: String,
    },
    /// Global average pool: per channel `requantize(bias + sum over HxW, m, shift, mode)`.
    AvgPool {
        name: String,
        bias: Vec<i32>,
        m: Vec<u16>,
        shift: Vec<u8>,
        relu: bool,
        out_scale: f32,
    },
}

/// A whole quantized network. The output of the last layer is `[classes]` bytes; the host
/// dequantizes it with that layer's `out_scale` and applies the softmax in float.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QNet {
    /// Human-readable name (e.g. `squeezenet_v1.1`).
    pub name: String,
    /// Input tensor: channels, height, width.
    pub in_c: usize,
    pub in_h: usize,
    pub in_w: usize,
    /// Real value of one unit of the signed int8 input.
    pub in_scale: f32,
    pub layers: Vec<QLayer>,
}

/// 3x3 stride 2 ceil-mode max pool output size.
pub fn maxpool_out(n: usize) -> usize {
    (n - 3).div_ceil(2) + 1
}

impl QLayer {
    pub fn name(&self) -> &str {
        match self {
            QLayer::Conv(q) => &q.name,
            QLayer::Fire(f) => &f.name,
            QLayer::MaxPool { name } | QLayer::AvgPool { name, .. } => name,
        }
    }

    /// Output shape `(c, h, w)` for an input of `(c, h, w)`.
    pub fn out_shape(&self, (c, h, w): (usize, usize, usize)) -> (usize, usize, usize) {
        match self {
            QLayer::Conv(q) => {
                let (oh, ow) = q.out_size(h, w);
                (q.cout, oh, ow)
            }
            QLayer::Fire(f) => (f.expand1x1.cout + f.expand3x3.cout, h, w),
            QLayer::MaxPool { .. } => (c, maxpool_out(h), maxpool_out(w)),
            QLayer::AvgPool { .. } => (c, 1, 1),
        }
    }

    /// Whether the layer's output bytes are signed, given whether its input's are (a layer
    /// without a ReLU writes signed bytes; a max pool keeps its input's kind).
    pub fn out_signed(&self, in_signed: bool) -> bool {
        match self {
            QLayer::Conv(q) => !q.relu,
            QLayer::Fire(f) => !f.expand1x1.relu,
            QLayer::MaxPool { .. } => in_signed,
            QLayer::AvgPool { relu, .. } => !relu,
        }
    }

    /// Multiply-accumulates of the layer for an input of `(c, h, w)` (padding taps included).
    pub fn macs(&self, (_, h, w): (usize, usize, usize)) -> u64 {
        let conv = |q: &QConv, h: usize, w: usize| {
            let (oh, ow) = q.out_size(h, w);
            (oh * ow * q.cout * q.cin * q.kernel * q.kernel) as u64
        };
        match self {
            QLayer::Conv(q) => conv(q, h, w),
            QLayer::Fire(f) => {
                conv(&f.squeeze, h, w) + conv(&f.expand1x1, h, w) + conv(&f.expand3x3, h, w)
            }
            _ => 0,
        }
    }
}

impl QNet {
    /// Input shape of every layer, then the network's output shape (`layers.len() + 1` entries).
    pub fn shapes(&self) -> Vec<(usize, usize, usize)> {
        let mut s = vec![(self.in_c, self.in_h, self.in_w)];
        for l in &self.layers {
            s.push(l.out_shape(*s.last().unwrap()));
        }
        s
    }

    /// Total multiply-accumulates of one inference.
    pub fn macs(&self) -> u64 {
        let s = self.shapes();
        self.layers.iter().zip(&s).map(|(l, &sh)| l.macs(sh)).sum()
    }
}
