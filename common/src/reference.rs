//! The layer-level int8 reference: a direct, unoptimised execution of a [`QNet`] with the
//! arithmetic of [`crate::arith`]. It defines what every layer's bytes must be; the host's
//! fast golden model, the device model running compiled jobs, and the RTL are compared to it.
//! Tensors are channel-major bytes `[c][h][w]` (signed input bytes stored as `i8 as u8`).

use crate::arith::{activation_value, mac, requantize};
use crate::qnet::{QConv, QLayer, QNet, maxpool_out};

/// One layer's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerOutput {
    pub name: String,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub bytes: Vec<u8>,
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

/// Run the whole network on signed input bytes `[c][h][w]`; returns every layer's output
/// (for a Fire module: its concatenated output).
pub fn run(net: &QNet, input: &[i8]) -> Vec<LayerOutput> {
    let (mut c, mut h, mut w) = (net.in_c, net.in_h, net.in_w);
    let mut x: Vec<u8> = input.iter().map(|&v| v as u8).collect();
    let mut signed = true;
    let mut outs = Vec::new();
    for layer in &net.layers {
        let name = match layer {
            QLayer::Conv(q) => {
                let (y, oh, ow) = conv(q, &x, h, w);
                (x, c, h, w) = (y, q.cout, oh, ow);
                signed = !q.relu;
                q.name.clone()
            }
            QLayer::Fire(f) => {
                let (s, sh, sw) = conv(&f.squeeze, &x, h, w);
                let (mut e1, oh, ow) = conv(&f.expand1x1, &s, sh, sw);
                let (e3, _, _) = conv(&f.expand3x3, &s, sh, sw);
                e1.extend_from_slice(&e3);
                (x, c, h, w) = (e1, f.expand1x1.cout + f.expand3x3.cout, oh, ow);
                signed = !f.expand1x1.relu;
                f.name.clone()
            }
            QLayer::MaxPool { name } => {
                let (y, oh, ow) = max_pool(&x, signed, c, h, w);
                (x, h, w) = (y, oh, ow);
                name.clone()
            }
            QLayer::AvgPool {
                name,
                bias,
                m,
                shift,
                relu,
                ..
            } => {
                let mode = if *relu {
                    crate::arith::OutMode::Relu
                } else {
                    crate::arith::OutMode::Linear
                };
                let y: Vec<u8> = (0..c)
                    .map(|ch| {
                        let acc = x[ch * h * w..(ch + 1) * h * w]
                            .iter()
                            .fold(bias[ch], |a, &b| {
                                a.wrapping_add(activation_value(b, signed))
                            });
                        requantize(acc, m[ch], shift[ch], mode)
                    })
                    .collect();
                (x, h, w) = (y, 1, 1);
                signed = !*relu;
                name.clone()
            }
        };
        outs.push(LayerOutput {
            name,
            c,
            h,
            w,
            bytes: x.clone(),
        });
    }
    outs
}
