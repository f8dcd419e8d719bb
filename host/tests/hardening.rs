//! Malformed and extreme inputs end with an error naming the limit they break (see
//! `docs/limits.md`), never a panic, an abort or a spin; a legal extreme image gives a
//! result.

use std::time::{Duration, Instant};

use host::fuzz::{Kind, regressions};
use host::preprocess::{Preprocess, decode_bytes};

#[test]
fn malformed_inputs_are_refused_quickly() {
    for (name, kind, bytes, want) in regressions() {
        let t = Instant::now();
        let err = match kind {
            Kind::Onnx => host::onnx::ModelProto::decode_bytes(&bytes)
                .and_then(|m| host::net::Net::from_model(&m, name))
                .map(|_| ()),
            Kind::Q8 => host::q8::from_bytes(&bytes).map(|_| ()),
            Kind::Image => decode_bytes(&bytes)
                .and_then(|img| Preprocess::torchvision(224).apply(&img))
                .map(|_| ()),
        }
        .expect_err(name);
        let msg = format!("{err:#}");
        assert!(
            msg.contains(want),
            "{name}: '{msg}' should mention '{want}'"
        );
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{name}: {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn extreme_but_legal_aspect_ratio_is_preprocessed() {
    // 1:100 resizes to 256 x 25600 under torchvision: within the resize limit.
    let img = decode_bytes(&host::fuzz::png(4, 400)).unwrap();
    let x = Preprocess::torchvision(224).apply(&img).unwrap();
    assert_eq!(x.dim(), (3, 224, 224));
    // Uniform gray 128: every value is (128/255 - mean) / std.
    let want = (128.0 / 255.0 - 0.485) / 0.229;
    assert!(
        (x[[0, 100, 100]] - want).abs() < 1e-5,
        "{}",
        x[[0, 100, 100]]
    );
}

#[test]
fn seeds_are_accepted() {
    // The fuzz seeds must be valid, or the fuzzers start outside the parsers.
    let m = host::onnx::ModelProto::decode_bytes(&host::fuzz::seed_onnx()).unwrap();
    let net = host::net::Net::from_model(&m, "tiny").unwrap();
    assert_eq!((net.classes(), net.layers.len()), (10, 5));
    let q = host::q8::from_bytes(&host::fuzz::seed_q8()).unwrap();
    assert_eq!(q.layers.len(), 5);
    for img in host::fuzz::seed_images() {
        let rgb = decode_bytes(&img).unwrap();
        assert_eq!(rgb.width() * rgb.height(), 35);
    }
}

#[test]
fn very_wide_image_is_refused_by_the_square_resize_too() {
    // Caffe's square resize scales the height first: a 4M x 256 intermediate (12.9 GB).
    let img = decode_bytes(&host::fuzz::png(1 << 22, 1)).unwrap();
    let err = Preprocess::caffe(227).apply(&img).unwrap_err();
    assert!(format!("{err:#}").contains("too wide"), "{err:#}");
}
