//! Image preprocessing: decode, resize, center crop, channel order, mean/std.

use std::path::Path;

use anyhow::{Context, Result, bail};
use image::{RgbImage, imageops::FilterType};
use ndarray::Array3;

use crate::limits::{self, MAX_IMAGE_PIXELS, MAX_RESIZED_PIXELS};

/// How the decoded image is resized before the center crop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resize {
    /// Both sides to this size (aspect not kept): Caffe's evaluation.
    Square(u32),
    /// The shorter side to this size, aspect kept: torchvision's evaluation.
    ShortSide(u32),
}

/// A preprocessing recipe. `mean` and `std` are in the output tensor's channel order.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    pub resize: Resize,
    pub crop: u32,
    /// Output channels are B, G, R (Caffe) instead of R, G, B.
    pub bgr: bool,
    /// Pixel values are multiplied by this first (1 for 0..255, 1/255 for 0..1).
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Preprocess {
    /// Caffe SqueezeNet: resize 256x256 bilinear, center crop, BGR, minus (104, 117, 123).
    pub fn caffe(crop: u32) -> Self {
        Preprocess {
            resize: Resize::Square(256.max(crop)),
            crop,
            bgr: true,
            scale: 1.0,
            mean: [104.0, 117.0, 123.0],
            std: [1.0; 3],
        }
    }

    /// torchvision: short side 256, center crop, RGB in 0..1, ImageNet mean/std.
    pub fn torchvision(crop: u32) -> Self {
        Preprocess {
            resize: Resize::ShortSide(256.max(crop)),
            crop,
            bgr: false,
            scale: 1.0 / 255.0,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }

    /// A preset by name.
    pub fn preset(name: &str, crop: u32) -> Result<Self> {
        match name {
            "caffe" => Ok(Self::caffe(crop)),
            "torchvision" => Ok(Self::torchvision(crop)),
            _ => bail!("unknown preprocessing preset '{name}' (expected caffe or torchvision)"),
        }
    }

    /// Decode and preprocess an image file to a CHW tensor.
    pub fn load(&self, path: &Path) -> Result<Array3<f32>> {
        let img = decode(path)?;
        self.apply(&img)
            .with_context(|| format!("cannot preprocess {}", path.display()))
    }

    /// [`Preprocess::load`], then quantized to the signed int8 input of a network whose
    /// input unit is `in_scale`.
    pub fn load_int8(&self, path: &Path, in_scale: f32) -> Result<Vec<i8>> {
        let x = self.load(path)?;
        Ok(crate::golden::quantize_input(
            x.as_slice().expect("contiguous"),
            in_scale,
        ))
    }

    /// Preprocess a decoded RGB image.
    pub fn apply(&self, img: &RgbImage) -> Result<Array3<f32>> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            bail!("empty image");
        }
        let (rw, rh) = match self.resize {
            Resize::Square(s) => (s as u64, s as u64),
            Resize::ShortSide(s) => {
                let (w, h, s) = (w as u64, h as u64, s as u64);
                if w <= h {
                    (s, (h * s + w / 2) / w)
                } else {
                    ((w * s + h / 2) / h, s)
                }
            }
        };
        // The resize scales the height first, into a `w x rh` image of f32 pixels, then the
        // width. A very wide image or an extreme aspect ratio would ask for gigabytes.
        if (w as u64).max(rw).saturating_mul(rh) > MAX_RESIZED_PIXELS {
            bail!(
                "a {w}x{h} image resizes to {rw}x{rh} (via {w}x{rh}), over the limit of \
                 {MAX_RESIZED_PIXELS} pixels (too wide, or an aspect ratio too extreme)"
            );
        }
        let (rw, rh) = (rw as u32, rh as u32);
        if rw < self.crop || rh < self.crop {
            bail!(
                "resized image {rw}x{rh} is smaller than the crop {}",
                self.crop
            );
        }
        let r = if (rw, rh) == (w, h) {
            img.clone()
        } else {
            image::imageops::resize(img, rw, rh, FilterType::Triangle)
        };
        let (x0, y0) = ((rw - self.crop) / 2, (rh - self.crop) / 2);
        let c = self.crop as usize;
        let mut out = Array3::<f32>::zeros((3, c, c));
        for y in 0..c {
            for x in 0..c {
                let p = r.get_pixel(x0 + x as u32, y0 + y as u32).0;
                for ch in 0..3 {
                    let src = if self.bgr { 2 - ch } else { ch };
                    out[[ch, y, x]] = (p[src] as f32 * self.scale - self.mean[ch]) / self.std[ch];
                }
            }
        }
        Ok(out)
    }
}

/// Decode a JPEG or PNG file to RGB. Truncated JPEGs (no end-of-image marker) are refused
/// rather than decoded with gray filler.
pub fn decode(path: &Path) -> Result<RgbImage> {
    let bytes = limits::read_file(path, limits::MAX_IMAGE_BYTES, "image")?;
    decode_bytes(&bytes).with_context(|| format!("image {}", path.display()))
}

/// Decode JPEG or PNG bytes to RGB, refusing images of more than [`MAX_IMAGE_PIXELS`]
/// from their header, before the pixels are decoded.
pub fn decode_bytes(bytes: &[u8]) -> Result<RgbImage> {
    decode_bytes_max(bytes, MAX_IMAGE_PIXELS)
}

/// [`decode_bytes`] with a lower pixel limit (the fuzzer's, for throughput).
pub fn decode_bytes_max(bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    let fmt = image::guess_format(bytes).context("not a JPEG or PNG image")?;
    if !matches!(fmt, image::ImageFormat::Jpeg | image::ImageFormat::Png) {
        bail!("not a JPEG or PNG image ({fmt:?})");
    }
    if fmt == image::ImageFormat::Jpeg && !has_jpeg_eoi(bytes) {
        bail!("truncated JPEG (no end-of-image marker)");
    }
    let reader = || image::ImageReader::with_format(std::io::Cursor::new(bytes), fmt);
    let (w, h) = reader().into_dimensions().context("cannot decode")?;
    if w as u64 * h as u64 > max_pixels {
        bail!("a {w}x{h} image is over the limit of {max_pixels} pixels");
    }
    let img = reader().decode().context("cannot decode")?;
    Ok(img.to_rgb8())
}

/// A complete JPEG ends with FFD9, possibly followed by a little padding.
fn has_jpeg_eoi(b: &[u8]) -> bool {
    let tail = &b[b.len().saturating_sub(64)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Parse `a,b,c` as three floats.
pub fn parse_triple(s: &str) -> Result<[f32; 3]> {
    let v: Vec<f32> = s
        .split(',')
        .map(|t| t.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("'{s}' is not three comma-separated numbers"))?;
    match v[..] {
        [a, b, c] => Ok([a, b, c]),
        _ => bail!("'{s}' must have exactly three comma-separated numbers"),
    }
}
