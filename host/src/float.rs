//! Float golden model: CHW f32, convolutions as im2col + sgemm (ndarray / matrixmultiply),
//! parallel over output-channel blocks with rayon.

use ndarray::{Array2, Array3, ArrayView2, Axis, linalg::general_mat_mul, s};
use rayon::prelude::*;

use crate::net::{Conv, Layer, Net};

/// What a blob is, so calibration can find the tensors it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Input,
    /// A plain conv's (ReLU'd) output.
    Conv,
    Squeeze,
    Expand1x1,
    Expand3x3,
    /// A Fire module's concatenated output.
    FireOut,
    MaxPool,
    AvgPool,
    /// Softmax of the average pool (always computed by the host).
    Prob,
}

/// One intermediate tensor of a forward pass.
#[derive(Clone, Debug)]
pub struct Blob {
    pub name: String,
    /// Index of the layer in `Net::layers` (0 for the input).
    pub layer: usize,
    pub role: Role,
    pub data: Array3<f32>,
}

/// Run the network on a CHW input; returns every blob, in order, ending with `Prob`.
pub fn forward(net: &Net, input: &Array3<f32>) -> Vec<Blob> {
    assert_eq!(input.dim(), (net.in_c, net.in_h, net.in_w), "input shape");
    let mut blobs = vec![Blob {
        name: "data".into(),
        layer: 0,
        role: Role::Input,
        data: input.clone(),
    }];
    let mut x = input.clone();
    for (i, l) in net.layers.iter().enumerate() {
        let mut push = |name: &str, role, d: &Array3<f32>| {
            blobs.push(Blob {
                name: name.to_string(),
                layer: i,
                role,
                data: d.clone(),
            })
        };
        x = match l {
            Layer::Conv(c) => {
                let y = conv(&x, c);
                push(&c.name, Role::Conv, &y);
                y
            }
            Layer::Fire(f) => {
                let sq = conv(&x, &f.squeeze);
                let e1 = conv(&sq, &f.expand1x1);
                let e3 = conv(&sq, &f.expand3x3);
                let cat = ndarray::concatenate(Axis(0), &[e1.view(), e3.view()])
                    .expect("expand shapes agree");
                push(&f.squeeze.name, Role::Squeeze, &sq);
                push(&f.expand1x1.name, Role::Expand1x1, &e1);
                push(&f.expand3x3.name, Role::Expand3x3, &e3);
                push(&f.name, Role::FireOut, &cat);
                cat
            }
            Layer::MaxPool { name } => {
                let y = maxpool(&x);
                push(name, Role::MaxPool, &y);
                y
            }
            Layer::GlobalAvgPool { name } => {
                let y = avgpool(&x);
                push(name, Role::AvgPool, &y);
                y
            }
        };
    }
    let p = softmax(x.as_slice().expect("contiguous"));
    let n = p.len();
    let name = net.softmax.clone().unwrap_or_else(|| "prob".into());
    blobs.push(Blob {
        name,
        layer: net.layers.len(),
        role: Role::Prob,
        data: Array3::from_shape_vec((n, 1, 1), p).expect("shape"),
    });
    blobs
}

/// Class probabilities for one input.
pub fn classify(net: &Net, input: &Array3<f32>) -> Vec<f32> {
    let blobs = forward(net, input);
    blobs.last().expect("prob").data.iter().copied().collect()
}

/// Numerically stable softmax.
pub fn softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f64> = x.iter().map(|&v| ((v - m) as f64).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|&v| (v / s) as f32).collect()
}

/// Convolution (+ fused ReLU) of a CHW tensor.
pub fn conv(x: &Array3<f32>, c: &Conv) -> Array3<f32> {
    let (cin, h, w) = x.dim();
    assert_eq!(cin, c.cin, "conv '{}' input channels", c.name);
    let (oh, ow) = c.out_size(h, w);
    let kk = cin * c.k * c.k;
    let col: Array2<f32> = if c.k == 1 && c.stride == 1 && c.pad == 0 {
        x.view()
            .into_shape_with_order((cin, h * w))
            .expect("contiguous")
            .to_owned()
    } else {
        im2col(x, c.k, c.stride, c.pad, oh, ow)
    };
    let wm = ArrayView2::from_shape((c.cout, kk), &c.weights).expect("weight shape");
    let mut out = Array2::<f32>::zeros((c.cout, oh * ow));
    // Blocks of output channels: enough for both cores, big enough for sgemm to pay.
    let block = c.cout.div_ceil(8).max(8);
    let mut chunks: Vec<_> = out
        .axis_chunks_iter_mut(Axis(0), block)
        .zip(wm.axis_chunks_iter(Axis(0), block))
        .zip(c.bias.chunks(block))
        .collect();
    chunks.par_iter_mut().for_each(|((o, wb), b)| {
        general_mat_mul(1.0, wb, &col, 0.0, o);
        for (mut row, &bv) in o.outer_iter_mut().zip(b.iter()) {
            row.mapv_inplace(|v| {
                let y = v + bv;
                if c.relu { y.max(0.0) } else { y }
            });
        }
    });
    out.into_shape_with_order((c.cout, oh, ow)).expect("shape")
}

/// `[cin*k*k, oh*ow]` patch matrix, rows ordered (ci, ky, kx) like the weights.
fn im2col(
    x: &Array3<f32>,
    k: usize,
    stride: usize,
    pad: usize,
    oh: usize,
    ow: usize,
) -> Array2<f32> {
    let (cin, h, w) = x.dim();
    let mut col = Array2::<f32>::zeros((cin * k * k, oh * ow));
    let rows = col.as_slice_mut().expect("contiguous");
    rows.par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(r, row)| {
            let (ci, ky, kx) = (r / (k * k), (r / k) % k, r % k);
            let plane = x.slice(s![ci, .., ..]);
            for oy in 0..oh {
                let iy = (oy * stride + ky) as isize - pad as isize;
                if iy < 0 || iy >= h as isize {
                    continue;
                }
                for ox in 0..ow {
                    let ix = (ox * stride + kx) as isize - pad as isize;
                    if ix >= 0 && ix < w as isize {
                        row[oy * ow + ox] = plane[[iy as usize, ix as usize]];
                    }
                }
            }
        });
    col
}

/// 3x3 stride 2 max pool, ceil mode (windows clipped at the border).
pub fn maxpool(x: &Array3<f32>) -> Array3<f32> {
    let (c, h, w) = x.dim();
    let (oh, ow) = (common::qnet::maxpool_out(h), common::qnet::maxpool_out(w));
    let mut y = Array3::<f32>::zeros((c, oh, ow));
    let planes = y.as_slice_mut().expect("contiguous");
    planes
        .par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(ci, plane)| {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut m = f32::NEG_INFINITY;
                    for iy in 2 * oy..(2 * oy + 3).min(h) {
                        for ix in 2 * ox..(2 * ox + 3).min(w) {
                            m = m.max(x[[ci, iy, ix]]);
                        }
                    }
                    plane[oy * ow + ox] = m;
                }
            }
        });
    y
}

/// Global average pool to `[c, 1, 1]`.
pub fn avgpool(x: &Array3<f32>) -> Array3<f32> {
    let (c, h, w) = x.dim();
    let n = (h * w) as f64;
    Array3::from_shape_fn((c, 1, 1), |(ci, _, _)| {
        (x.slice(s![ci, .., ..])
            .iter()
            .map(|&v| v as f64)
            .sum::<f64>()
            / n) as f32
    })
}
