//! Bounds on what a model file, an image or a device may ask of the host, in one place
//! (documented in `docs/limits.md`). Every input is checked against them before anything
//! is allocated or computed from its declared sizes, so a malformed or hostile file ends
//! with an error within seconds and well under 1 GB, never an abort, a panic or a spin.
//!
//! They are about 10x what the SqueezeNets need (v1.0 at 227x227: 26 layers, 1.25 M
//! weights, 0.86 G multiply-accumulates, 3 M activation values in all).

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use common::DeviceConfig;

/// Largest model file (ONNX or `.q8`) read.
pub const MAX_MODEL_BYTES: u64 = 64 << 20;
/// Largest image file read.
pub const MAX_IMAGE_BYTES: u64 = 64 << 20;
/// Most layers (Conv, Fire, pools) in a network.
pub const MAX_LAYERS: usize = 256;
/// Largest input height or width.
pub const MAX_SIDE: usize = 1024;
/// Most channels of any tensor.
pub const MAX_CHANNELS: usize = 8192;
/// Largest convolution kernel side.
pub const MAX_KERNEL: usize = 15;
/// Largest convolution stride.
pub const MAX_STRIDE: usize = 15;
/// Largest convolution padding (SqueezeNet v1.0's 1x1 classifier has padding 1).
pub const MAX_PAD: usize = 7;
/// Most values in any one tensor: an activation, a weight tensor, a conv's im2col matrix.
pub const MAX_TENSOR: u64 = 1 << 24;
/// Most activation values over the whole network (the float model keeps them all).
pub const MAX_ACTIVATIONS: u64 = 1 << 25;
/// Most weights over the whole network.
pub const MAX_WEIGHTS: u64 = 1 << 24;
/// Most multiply-accumulates of one inference.
pub const MAX_MACS: u64 = 1 << 32;
/// Most pixels of a decoded image.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 25;
/// Most pixels of an image after the resize (before the center crop).
pub const MAX_RESIZED_PIXELS: u64 = 1 << 23;

/// Read a whole file of at most `max` bytes.
pub fn read_file(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    let mut b = Vec::new();
    // One byte more than allowed tells a too-large file from one exactly at the limit.
    f.take(max + 1)
        .read_to_end(&mut b)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if b.len() as u64 > max {
        bail!(
            "{what} {} is larger than the limit of {} MiB",
            path.display(),
            max >> 20
        );
    }
    Ok(b)
}

/// `a * b`, or an error naming `what` when it overflows or exceeds `max`.
fn product(dims: &[u64], max: u64, what: &dyn Fn() -> String) -> Result<u64> {
    let p = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&p| p <= max);
    match p {
        Some(p) => Ok(p),
        None => bail!("{} {dims:?} exceeds the limit of {max} values", what()),
    }
}

/// The element count of a tensor with these (ONNX, signed) dims, within [`MAX_TENSOR`].
pub fn tensor_len(dims: &[i64], name: &str) -> Result<usize> {
    if dims.iter().any(|&d| d < 0) {
        bail!("tensor '{name}' has a negative dimension in {dims:?}");
    }
    let d: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
    Ok(product(&d, MAX_TENSOR, &|| format!("tensor '{name}' of dims"))? as usize)
}

/// Running totals of a network's cost, checked against the limits layer by layer.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    layers: usize,
    activations: u64,
    weights: u64,
    macs: u64,
}

impl Budget {
    /// Start from the network input `c x h x w`.
    pub fn new(c: usize, h: usize, w: usize) -> Result<Budget> {
        if c == 0 || h == 0 || w == 0 || c > MAX_CHANNELS || h > MAX_SIDE || w > MAX_SIDE {
            bail!(
                "input {c}x{h}x{w} is outside the limits (1..={MAX_CHANNELS} channels, sides 1..={MAX_SIDE})"
            );
        }
        let mut b = Budget::default();
        b.activation("input", c, h, w)?;
        Ok(b)
    }

    /// Count one layer.
    pub fn layer(&mut self) -> Result<()> {
        self.layers += 1;
        if self.layers > MAX_LAYERS {
            bail!("the network has more than {MAX_LAYERS} layers");
        }
        Ok(())
    }

    /// Count an activation tensor `c x h x w`.
    pub fn activation(&mut self, name: &str, c: usize, h: usize, w: usize) -> Result<()> {
        if c > MAX_CHANNELS {
            bail!("'{name}' has {c} channels, over the limit of {MAX_CHANNELS}");
        }
        let n = product(&[c as u64, h as u64, w as u64], MAX_TENSOR, &|| {
            format!("'{name}' output")
        })?;
        self.activations += n;
        if self.activations > MAX_ACTIVATIONS {
            bail!("the network's activations exceed the limit of {MAX_ACTIVATIONS} values");
        }
        Ok(())
    }

    /// Check a convolution of a `cin x h x w` input and count its weights, work and output;
    /// returns the output size. Kernel, stride and padding are checked before any product
    /// is formed, so nothing overflows.
    #[allow(clippy::too_many_arguments)]
    pub fn conv(
        &mut self,
        name: &str,
        (cin, cout): (usize, usize),
        (k, stride, pad): (usize, usize, usize),
        h: usize,
        w: usize,
    ) -> Result<(usize, usize)> {
        if cin == 0 || cout == 0 || cin > MAX_CHANNELS || cout > MAX_CHANNELS {
            bail!(
                "conv '{name}': {cin} -> {cout} channels is outside the limit 1..={MAX_CHANNELS}"
            );
        }
        if !(1..=MAX_KERNEL).contains(&k) || !(1..=MAX_STRIDE).contains(&stride) || pad > MAX_PAD {
            bail!(
                "conv '{name}': kernel {k} stride {stride} pad {pad} is outside the limits \
                 (kernel 1..={MAX_KERNEL}, stride 1..={MAX_STRIDE}, pad 0..={MAX_PAD})"
            );
        }
        // h and w are bounded by earlier checks (at most MAX_SIDE + 2 * MAX_PAD).
        if h + 2 * pad < k || w + 2 * pad < k {
            bail!("conv '{name}': kernel {k} pad {pad} on a {h}x{w} input");
        }
        let (oh, ow) = (
            (h + 2 * pad - k) / stride + 1,
            (w + 2 * pad - k) / stride + 1,
        );
        let taps = (cin * k * k) as u64;
        let what = || format!("conv '{name}'");
        self.weights += product(&[cout as u64, taps], MAX_TENSOR, &what)?;
        product(&[taps, oh as u64, ow as u64], MAX_TENSOR, &|| {
            format!("conv '{name}' im2col")
        })?;
        self.macs += product(&[cout as u64, taps, oh as u64, ow as u64], MAX_MACS, &what)?;
        if self.weights > MAX_WEIGHTS {
            bail!("the network has more than {MAX_WEIGHTS} weights");
        }
        if self.macs > MAX_MACS {
            bail!("the network needs more than {MAX_MACS} multiply-accumulates");
        }
        self.activation(name, cout, oh, ow)?;
        Ok((oh, ow))
    }
}

/// A device configuration the host can compile for: a device may report nonsense in its
/// `Info` answer, which must give an error rather than a division by zero or a huge plan.
pub fn check_device(c: &DeviceConfig) -> Result<()> {
    let ok = (1..=4096).contains(&c.rows)
        && (1..=4096).contains(&c.requant_units)
        && c.max_steps >= 1
        && [c.act_words, c.sq_words, c.weight_words, c.param_words]
            .iter()
            .all(|w| (1..=1 << common::bus::REGION_SHIFT).contains(w))
        && c.clock_hz > 0;
    if !ok {
        bail!(
            "the device reports an implausible configuration `{}` ({} rows, {} requantizers, {} steps, \
             buffers {}/{}/{}/{} words, {} Hz)",
            c.name,
            c.rows,
            c.requant_units,
            c.max_steps,
            c.act_words,
            c.sq_words,
            c.weight_words,
            c.param_words,
            c.clock_hz
        );
    }
    Ok(())
}
