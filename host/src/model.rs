//! Loading a model for inference: float (ONNX) or int8 golden (`.q8`, or ONNX quantized
//! on the fly from calibration images).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use common::qnet::QNet;
use ndarray::Array3;
use rayon::prelude::*;

use crate::golden::{Golden, quantize_input};
use crate::net::Net;
use crate::preprocess::Preprocess;
use crate::quant::{self, Calibration, Options};

/// An inference engine.
pub enum Engine {
    Float(Net),
    Golden(Box<Golden>),
}

impl Engine {
    pub fn classify(&self, x: &Array3<f32>) -> Vec<f32> {
        match self {
            Engine::Float(n) => crate::float::classify(n, x),
            Engine::Golden(g) => {
                let q = quantize_input(x.as_slice().expect("contiguous"), g.net.in_scale);
                g.classify(&q)
            }
        }
    }

    pub fn mode(&self) -> &'static str {
        match self {
            Engine::Float(_) => "float",
            Engine::Golden(_) => "golden",
        }
    }

    /// Input size (square models only).
    pub fn input_size(&self) -> (usize, usize, usize) {
        match self {
            Engine::Float(n) => (n.in_c, n.in_h, n.in_w),
            Engine::Golden(g) => (g.net.in_c, g.net.in_h, g.net.in_w),
        }
    }
}

/// Whether a path names a `.q8` file.
pub fn is_q8(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("q8"))
}

/// Image files (jpg/jpeg/png) of a folder, sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd =
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    let mut v = Vec::new();
    for e in rd {
        let p = e
            .with_context(|| format!("cannot read folder {}", dir.display()))?
            .path();
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png")) {
            v.push(p);
        }
    }
    v.sort();
    if v.is_empty() {
        bail!("no .jpg/.jpeg/.png images in {}", dir.display());
    }
    Ok(v)
}

/// Up to `limit` images spread evenly over the sorted list.
pub fn spread(files: Vec<PathBuf>, limit: Option<usize>) -> Vec<PathBuf> {
    match limit {
        Some(n) if n > 0 && n < files.len() => {
            (0..n).map(|i| files[i * files.len() / n].clone()).collect()
        }
        _ => files,
    }
}

/// The int8 network of a model file, and the preprocessing `pre` makes for its input shape
/// `(c, h, w)`: a `.q8` file as stored, or an ONNX model quantized on the calibration images
/// in `calib` (at most `limit` of them) with `opts`.
pub fn load_quantized(
    model: &Path,
    calib: Option<&Path>,
    limit: Option<usize>,
    opts: Options,
    pre: impl Fn((usize, usize, usize)) -> Result<Preprocess>,
) -> Result<(QNet, Preprocess)> {
    if is_q8(model) {
        let q = crate::q8::load(model)?;
        let p = pre((q.in_c, q.in_h, q.in_w))?;
        return Ok((q, p));
    }
    let net = Net::load(model)?;
    let p = pre((net.in_c, net.in_h, net.in_w))?;
    let Some(dir) = calib else {
        bail!(
            "the int8 network of the ONNX model {} needs --calib DIR (calibration images), or give a .q8 model",
            model.display()
        );
    };
    let q = quantize_from_dir(&net, dir, limit, &p, opts)?;
    Ok((q, p))
}

/// Calibrate `net` on the images of `dir` and quantize it.
pub fn quantize_from_dir(
    net: &Net,
    dir: &Path,
    limit: Option<usize>,
    pre: &Preprocess,
    opts: Options,
) -> Result<QNet> {
    let files = spread(image_files(dir)?, limit);
    let inputs: Vec<Array3<f32>> = files
        .par_iter()
        .map(|f| pre.load(f))
        .collect::<Result<_>>()?;
    let mut cal = Calibration::default();
    for x in &inputs {
        cal.observe(net, x);
    }
    quant::quantize(net, &cal, opts)
}
