//! The float golden model agrees with tract (an independent ONNX runtime) on v1.0 and v1.1.

use common::data::shared_or_skip;
use host::net::Net;
use host::preprocess::Preprocess;
use tract_onnx::prelude::*;

#[test]
fn float_golden_matches_tract() {
    let Some(dir) = shared_or_skip("float_golden_matches_tract") else {
        return;
    };
    let x = Preprocess::caffe(227)
        .load(&dir.join("reference/sample_input.jpg"))
        .unwrap();
    for v in ["v1.0", "v1.1"] {
        let path = dir.join(format!("models/squeezenet_{v}.onnx"));
        let net = Net::load(&path).unwrap();
        let ours = host::float::classify(&net, &x);
        let model = tract_onnx::onnx()
            .model_for_path(&path)
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let t: Tensor =
            tract_ndarray::Array4::from_shape_vec((1, 3, 227, 227), x.iter().copied().collect())
                .unwrap()
                .into();
        let out = model.run(tvec!(t.into())).unwrap();
        let theirs: Vec<f32> = out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect();
        assert_eq!(theirs.len(), 1000);
        let err = ours
            .iter()
            .zip(&theirs)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{v}: max |prob difference| vs tract {err:.2e}");
        assert!(err <= 1e-4, "{v}: max difference {err}");
        assert_eq!(
            host::classes::top_n(&ours, 1),
            host::classes::top_n(&theirs, 1)
        );
    }
}
