//! The layer-level int8 reference: a direct, unoptimised execution of a [`QNet`] with the
//! arithmetic of [`crate::arith`]. It defines what every layer's bytes must be; the host's
//! fast golden model, the device model running compiled jobs, and the RTL are compared to it.
//! Tensors are channel-major bytes `[c][h][w]` (signed input bytes stored as `i8 as u8`).

use crate::arith::{OutMode, activation_value, mac, requantize};
use crate::qnet::{QConv, QLayer, QNet, maxpool_out};
use crate::tensor::Tensor8;

/// One layer's result: its output (for a Fire: the concatenation of the expands) and, for
/// a Fire, the squeeze output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerOutput {
    pub name: String,
    pub out: Tensor8,
    pub squeeze: Option<Tensor8>,
}

/// Direct convolution.
pub fn conv(q: &QConv, input: &[u8], h: usize, w: usize) -> (Vec<u8>, usize, usize) {
    let (oh, ow) = q.out_size(h, w);
    let k = q.kernel;
    let act: Vec<i32> = input
        .iter()
        .map(|&b| activation_value(b, q.in_signed))
        .collect();
    let mut out = vec![0u8; q.cout * oh * ow];
    for co in 0..q.cout {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = q.bias[co];
                for ci in 0..q.cin {
                    for ky in 0..k {
                        let iy = (oy * q.stride + ky) as isize - q.pad as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for kx in 0..k {
                            let ix = (ox * q.stride + kx) as isize - q.pad as isize;
                            if ix < 0 || ix >= w as isize {
                                continue;
                            }
                            let a = act[(ci * h + iy as usize) * w + ix as usize];
                            acc = mac(acc, a, q.weight(co, ci, ky, kx));
                        }
                    }
                }
                out[(co * oh + oy) * ow + ox] = requantize(acc, q.m[co], q.shift[co], q.out_mode());
            }
        }
    }
    (out, oh, ow)
}

/// 3x3 stride 2 ceil-mode max pool (windows clipped at the edge).
pub fn max_pool(
    input: &[u8],
    signed: bool,
    c: usize,
    h: usize,
    w: usize,
) -> (Vec<u8>, usize, usize) {
    let (oh, ow) = (maxpool_out(h), maxpool_out(w));
    let mut out = vec![0u8; c * oh * ow];
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = i32::MIN;
                for iy in 2 * oy..(2 * oy + 3).min(h) {
                    for ix in 2 * ox..(2 * ox + 3).min(w) {
                        m = m.max(activation_value(input[(ch * h + iy) * w + ix], signed));
                    }
                }
                out[(ch * oh + oy) * ow + ox] = m as u8;
            }
        }
    }
    (out, oh, ow)
}

/// [`conv`] on a tensor, whose signedness must be the layer's.
pub fn conv_tensor(q: &QConv, x: &Tensor8) -> Tensor8 {
    assert_eq!(x.signed, q.in_signed, "conv '{}': input signedness", q.name);
    assert_eq!(x.c, q.cin, "conv '{}': input channels", q.name);
    let (data, h, w) = conv(q, &x.data, x.h, x.w);
    Tensor8 {
        c: q.cout,
        h,
        w,
        signed: !q.relu,
        data,
    }
}

/// Global average pool: per channel `requantize(bias + sum of the channel's bytes)`.
pub fn avg_pool(x: &Tensor8, bias: &[i32], m: &[u16], shift: &[u8], relu: bool) -> Tensor8 {
    let n = x.h * x.w;
    let data = (0..x.c)
        .map(|ch| {
            let acc = x.data[ch * n..(ch + 1) * n].iter().fold(bias[ch], |a, &b| {
                a.wrapping_add(activation_value(b, x.signed))
            });
            requantize(acc, m[ch], shift[ch], OutMode::of(relu))
        })
        .collect();
    Tensor8 {
        c: x.c,
        h: 1,
        w: 1,
        signed: !relu,
        data,
    }
}

/// Run the whole network on signed input bytes `[c][h][w]`; returns every layer's output
/// (for a Fire module: its concatenated output, and its squeeze output).
pub fn run(net: &QNet, input: &[i8]) -> Vec<LayerOutput> {
    let mut x = Tensor8::input(net, input);
    let mut outs = Vec::with_capacity(net.layers.len());
    for layer in &net.layers {
        let mut squeeze = None;
        x = match layer {
            QLayer::Conv(q) => conv_tensor(q, &x),
            QLayer::Fire(f) => {
                let s = conv_tensor(&f.squeeze, &x);
                let mut e = conv_tensor(&f.expand1x1, &s);
                e.data.extend(conv_tensor(&f.expand3x3, &s).data);
                e.c += f.expand3x3.cout;
                squeeze = Some(s);
                e
            }
            QLayer::MaxPool { .. } => {
                let (data, h, w) = max_pool(&x.data, x.signed, x.c, x.h, x.w);
                Tensor8 { h, w, data, ..x }
            }
            QLayer::AvgPool {
                bias,
                m,
                shift,
                relu,
                ..
            } => avg_pool(&x, bias, m, shift, *relu),
        };
        outs.push(LayerOutput {
            name: layer.name().to_string(),
            out: x.clone(),
            squeeze,
        });
    }
    outs
}
