//! The float golden model reproduces Caffe's own per-layer outputs for SqueezeNet v1.0.

use std::fs::File;

use common::data::shared_or_skip;
use host::float::{Role, forward};
use host::net::Net;
use ndarray::{ArrayD, Ix3};
use ndarray_npy::NpzReader;

#[test]
fn float_model_matches_every_caffe_blob() {
    let Some(dir) = shared_or_skip("float_model_matches_every_caffe_blob") else {
        return;
    };
    let net = Net::load(&dir.join("models/squeezenet_v1.0.onnx")).unwrap();
    let mut npz =
        NpzReader::new(File::open(dir.join("reference/caffe_v1.0_sample_blobs.npz")).unwrap())
            .unwrap();
    let names = npz.names().unwrap();
    assert_eq!(names.len(), 40, "{names:?}");
    let read = |npz: &mut NpzReader<File>, n: &str| -> ArrayD<f32> { npz.by_name(n).unwrap() };
    let data = read(&mut npz, "data");
    let shape = data.shape().to_vec();
    let input = data
        .into_shape_with_order((shape[1], shape[2], shape[3]))
        .unwrap()
        .into_dimensionality::<Ix3>()
        .unwrap();
    let blobs = forward(&net, &input);
    let mut checked = 0;
    for name in &names {
        let key = name.trim_end_matches(".npy");
        let want = read(&mut npz, name);
        // The model's blob with the Caffe layer's name (`prob` is the final softmax).
        let got = blobs
            .iter()
            .find(|b| b.name == key || (key == "prob" && b.role == Role::Prob))
            .unwrap_or_else(|| panic!("no blob named {key}"));
        assert_eq!(got.data.len(), want.len(), "{key} size");
        let max = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = got
            .data
            .iter()
            .zip(want.iter())
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{key:24} max|v| {max:10.4} max err {:.2e}", err / max);
        assert!(
            err <= 1e-4 * max,
            "{key}: max error {err} vs max |value| {max}"
        );
        checked += 1;
    }
    assert_eq!(checked, 40);
}
