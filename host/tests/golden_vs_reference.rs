//! The fast int8 golden model equals `common::reference` (an independent, direct
//! implementation of the arithmetic contract) layer by layer on whole SqueezeNets:
//! synthetic-weight v1.0 and v1.1, and the real v1.1 quantized from calibration images.

use common::data::shared_or_skip;
use common::qnet::QNet;
use common::synthetic::{Version, input, squeezenet};
use host::golden::{Golden, Kernel};

fn assert_same(net: &QNet, x: &[i8]) {
    let want = common::reference::run(net, x);
    for k in Kernel::supported() {
        let got = Golden::with_kernel(net, k).run_layers(x);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g == w,
                "{}: layer {} differs from the reference",
                net.name,
                g.name
            );
        }
    }
}

#[test]
fn synthetic_squeezenets_match_reference() {
    for v in [Version::V1_0, Version::V1_1] {
        // A reduced input keeps the direct reference quick; the layer shapes are the real ones.
        let net = squeezenet(v, 67, 7);
        assert_same(&net, &input(67, 3));
    }
}

#[test]
fn quantized_v11_matches_reference() {
    let Some(dir) = shared_or_skip("quantized_v11_matches_reference") else {
        return;
    };
    let (q, pre) = host::model::load_quantized(
        &dir.join("models/squeezenet_v1.1.onnx"),
        Some(&dir.join("images/dev")),
        Some(2),
        Default::default(),
        |(_, h, _)| Ok(host::preprocess::Preprocess::caffe(h as u32)),
    )
    .unwrap();
    let qi = pre
        .load_int8(&dir.join("reference/sample_input.jpg"), q.in_scale)
        .unwrap();
    assert_same(&q, &qi);
    // The calibrated network keeps its accumulators far from 32-bit wrap-around.
    let ext = host::golden::accumulator_extremes(&q, &qi);
    let worst = ext
        .iter()
        .map(|(_, lo, hi)| lo.abs().max(hi.abs()))
        .max()
        .unwrap();
    eprintln!(
        "v1.1 largest |accumulator| on the sample: {worst} (2^{:.1})",
        (worst as f64).log2()
    );
    assert!(worst < 1 << 24, "{ext:?}");
}
