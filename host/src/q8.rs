//! The `.q8` quantized model file: an 8-byte magic, a little-endian u32 format version,
//! then the [`QNet`] in postcard encoding. Loading validates every shape and parameter
//! so a damaged file gives an error, never a panic later.

use std::path::Path;

use anyhow::{Context, Result, bail};
use common::arith::{M_LIMIT, MAX_SHIFT};
use common::qnet::{QConv, QLayer, QNet};

use crate::limits::{self, Budget};

pub const MAGIC: &[u8; 8] = b"SQZNETQ8";
pub const VERSION: u32 = 1;

pub fn to_bytes(net: &QNet) -> Result<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    out.extend(VERSION.to_le_bytes());
    out.extend(postcard::to_allocvec(net).context("cannot encode the quantized network")?);
    Ok(out)
}

pub fn from_bytes(b: &[u8]) -> Result<QNet> {
    if b.len() < 12 || &b[..8] != MAGIC {
        bail!("not a .q8 quantized model (bad magic)");
    }
    let v = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    if v != VERSION {
        bail!(".q8 format version {v} is not supported (this build reads version {VERSION})");
    }
    let net: QNet = postcard::from_bytes(&b[12..]).context("corrupt .q8 file")?;
    validate(&net).context("invalid .q8 contents")?;
    Ok(net)
}

pub fn save(net: &QNet, path: &Path) -> Result<()> {
    std::fs::write(path, to_bytes(net)?).with_context(|| format!("cannot write {}", path.display()))
}

pub fn load(path: &Path) -> Result<QNet> {
    let b = limits::read_file(path, limits::MAX_MODEL_BYTES, "model")?;
    from_bytes(&b).with_context(|| format!("cannot load {}", path.display()))
}

/// Check that the network is executable: shapes chain, parameter counts and ranges, and
/// everything within [`limits`].
pub fn validate(net: &QNet) -> Result<()> {
    if net.in_scale.is_nan() || net.in_scale <= 0.0 {
        bail!("bad input scale");
    }
    if net.layers.is_empty() {
        bail!("the network has no layers");
    }
    let mut bud = Budget::new(net.in_c, net.in_h, net.in_w)?;
    let (mut shape, mut signed) = ((net.in_c, net.in_h, net.in_w), true);
    for l in &net.layers {
        bud.layer()?;
        let (c, h, w) = shape;
        match l {
            QLayer::Conv(q) => {
                conv_ok(&mut bud, q, c, h, w, signed)?;
            }
            QLayer::Fire(f) => {
                // The shape the golden model and the compiler assume (`QLayer::out_shape`).
                let is =
                    |q: &QConv, k: usize, pad: usize| (q.kernel, q.stride, q.pad) == (k, 1, pad);
                if !(is(&f.squeeze, 1, 0) && is(&f.expand1x1, 1, 0) && is(&f.expand3x3, 3, 1)) {
                    bail!(
                        "Fire '{}': squeeze and expand1x1 must be 1x1, expand3x3 3x3 pad 1, all stride 1",
                        f.name
                    );
                }
                let (sh, sw) = conv_ok(&mut bud, &f.squeeze, c, h, w, signed)?;
                let sq = (f.squeeze.cout, sh, sw, !f.squeeze.relu);
                let a = conv_ok(&mut bud, &f.expand1x1, sq.0, sq.1, sq.2, sq.3)?;
                let b = conv_ok(&mut bud, &f.expand3x3, sq.0, sq.1, sq.2, sq.3)?;
                if a != (h, w) || b != (h, w) || f.expand1x1.relu != f.expand3x3.relu {
                    bail!("Fire '{}': expand outputs differ in size or kind", f.name);
                }
            }
            QLayer::MaxPool { name } => {
                if h < 3 || w < 3 {
                    bail!("max pool '{name}' on a {h}x{w} input");
                }
            }
            QLayer::AvgPool {
                name,
                bias,
                m,
                shift,
                ..
            } => {
                if bias.len() != c || m.len() != c || shift.len() != c {
                    bail!("average pool '{name}' has parameters for the wrong channel count");
                }
                params_ok(name, m, shift)?;
            }
        }
        (shape, signed) = (l.out_shape(shape), l.out_signed(signed));
        // A conv's output is counted by `conv_ok`; a Fire's concat and a pool's output here.
        if matches!(l, QLayer::Fire(_) | QLayer::MaxPool { .. }) {
            bud.activation(l.name(), shape.0, shape.1, shape.2)?;
        }
    }
    Ok(())
}

fn params_ok(name: &str, m: &[u16], shift: &[u8]) -> Result<()> {
    if m.iter().any(|&v| v as u32 >= M_LIMIT) || shift.iter().any(|&s| s > MAX_SHIFT) {
        bail!("layer '{name}': requantization multiplier or shift out of range");
    }
    Ok(())
}

fn conv_ok(
    bud: &mut Budget,
    q: &QConv,
    c: usize,
    h: usize,
    w: usize,
    signed: bool,
) -> Result<(usize, usize)> {
    let n = &q.name;
    if q.cin != c {
        bail!("conv '{n}' expects {} input channels, gets {c}", q.cin);
    }
    if q.in_signed != signed {
        bail!("conv '{n}': input signedness does not match the previous layer");
    }
    // Bounds kernel, stride, pad and every product below before they are formed.
    let out = bud.conv(n, (q.cin, q.cout), (q.kernel, q.stride, q.pad), h, w)?;
    if q.weights.len() != q.cout * q.cin * q.kernel * q.kernel
        || q.bias.len() != q.cout
        || q.m.len() != q.cout
        || q.shift.len() != q.cout
    {
        bail!("conv '{n}': parameter counts do not match its shape");
    }
    params_ok(n, &q.m, &q.shift)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> QNet {
        QNet {
            name: "t".into(),
            in_c: 3,
            in_h: 5,
            in_w: 5,
            in_scale: 0.5,
            layers: vec![
                QLayer::Conv(QConv {
                    name: "c".into(),
                    cin: 3,
                    cout: 2,
                    kernel: 3,
                    stride: 1,
                    pad: 1,
                    weights: (0..54).map(|i| i as i8 - 27).collect(),
                    bias: vec![5, -5],
                    m: vec![16384, 20000],
                    shift: vec![20, 21],
                    in_signed: true,
                    relu: true,
                    out_scale: 0.1,
                }),
                QLayer::MaxPool { name: "p".into() },
            ],
        }
    }

    #[test]
    fn round_trip_and_header_checks() {
        let n = tiny();
        let b = to_bytes(&n).unwrap();
        assert_eq!(&b[..8], MAGIC);
        assert_eq!(from_bytes(&b).unwrap(), n);

        let mut bad = b.clone();
        bad[0] = b'X';
        assert!(format!("{:#}", from_bytes(&bad).unwrap_err()).contains("bad magic"));
        let mut bad = b.clone();
        bad[8] = 9;
        assert!(format!("{:#}", from_bytes(&bad).unwrap_err()).contains("version 9"));
        assert!(from_bytes(&b[..b.len() - 3]).is_err());
        assert!(from_bytes(&b[..5]).is_err());
    }

    #[test]
    fn validation_refuses_inconsistent_networks() {
        let mut n = tiny();
        if let QLayer::Conv(c) = &mut n.layers[0] {
            c.m[0] = 40000;
        }
        assert!(validate(&n).is_err());
        let mut n = tiny();
        if let QLayer::Conv(c) = &mut n.layers[0] {
            c.cin = 4;
        }
        assert!(validate(&n).is_err());
        let mut n = tiny();
        n.in_h = 1;
        assert!(validate(&n).is_err());
        assert!(validate(&tiny()).is_ok());
    }
}
