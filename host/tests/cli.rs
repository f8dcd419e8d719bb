//! The `host` binary: bad inputs give one clear error line and a non-zero exit (never a
//! panic); the sample image classifies as espresso (967) with float and int8 models.

use std::path::Path;
use std::process::{Command, Output};

use common::data::shared_or_skip;

fn host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host"))
        .args(args)
        .output()
        .expect("run host")
}

/// Exit non-zero with exactly one stderr line that mentions `want`, and no panic.
fn assert_clean_error(out: &Output, want: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert_eq!(out.status.code(), Some(1), "exit code: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "panic: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(want), "'{err}' should mention '{want}'");
}

fn first_class(out: &Output) -> usize {
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn bad_inputs_give_one_error_line() {
    let Some(dir) = shared_or_skip("bad_inputs_give_one_error_line") else {
        return;
    };
    let model = dir.join("models/squeezenet_v1.1.onnx");
    let model = model.to_str().unwrap();
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n).to_str().unwrap().to_string();

    assert_clean_error(
        &host(&["classify", &p("missing.jpg"), "--model", model]),
        "missing.jpg",
    );
    assert_clean_error(
        &host(&["classify", "x.jpg", "--model", &p("missing.onnx")]),
        "missing.onnx",
    );

    std::fs::write(p("text.jpg"), "this is not an image").unwrap();
    assert_clean_error(
        &host(&["classify", &p("text.jpg"), "--model", model]),
        "not a JPEG or PNG",
    );

    let jpg = std::fs::read(dir.join("reference/sample_input.jpg")).unwrap();
    std::fs::write(p("cut.jpg"), &jpg[..jpg.len() / 2]).unwrap();
    assert_clean_error(
        &host(&["classify", &p("cut.jpg"), "--model", model]),
        "truncated",
    );

    // An ONNX file that is not a SqueezeNet: the v1.1 graph with its first Relu replaced.
    let mut m = host::onnx::ModelProto::decode_bytes(&std::fs::read(model).unwrap()).unwrap();
    let g = m.graph.as_mut().unwrap();
    let relu = g.node.iter_mut().find(|n| n.op_type == "Relu").unwrap();
    relu.op_type = "Tanh".into();
    std::fs::write(p("other.onnx"), prost::Message::encode_to_vec(&m)).unwrap();
    let sample = dir.join("reference/sample_input.jpg");
    let sample = sample.to_str().unwrap();
    assert_clean_error(
        &host(&["classify", sample, "--model", &p("other.onnx")]),
        "Tanh",
    );
    std::fs::write(p("junk.onnx"), [0xffu8; 64]).unwrap();
    assert_clean_error(
        &host(&["classify", sample, "--model", &p("junk.onnx")]),
        "not a valid ONNX",
    );

    // A .q8 with a bad header, and --golden with an .onnx but no calibration.
    std::fs::write(p("bad.q8"), b"NOTAQ8MODEL!!!!!").unwrap();
    assert_clean_error(
        &host(&["classify", sample, "--model", &p("bad.q8")]),
        "bad magic",
    );
    assert_clean_error(
        &host(&["classify", sample, "--model", model, "--golden"]),
        "--calib",
    );

    // labels.csv with a bad row.
    std::fs::copy(
        dir.join("reference/sample_input.jpg"),
        t.path().join("a.jpg"),
    )
    .unwrap();
    std::fs::write(
        p("labels.csv"),
        "file,class_index\na.jpg,967\na.jpg,espresso\n",
    )
    .unwrap();
    assert_clean_error(
        &host(&["eval", t.path().to_str().unwrap(), "--model", model]),
        "line 3",
    );
    std::fs::write(p("labels.csv"), "a.jpg,967\nb.jpg,1\n").unwrap();
    assert_clean_error(
        &host(&["eval", t.path().to_str().unwrap(), "--model", model]),
        "b.jpg",
    );
}

#[test]
fn sample_is_espresso_float_and_golden() {
    let Some(dir) = shared_or_skip("sample_is_espresso_float_and_golden") else {
        return;
    };
    let sample = dir.join("reference/sample_input.jpg");
    let sample = sample.to_str().unwrap();
    let calib = dir.join("images/dev");
    let t = tempfile::tempdir().unwrap();
    for v in ["v1.0", "v1.1"] {
        let model = dir.join(format!("models/squeezenet_{v}.onnx"));
        let model = model.to_str().unwrap();
        assert_eq!(
            first_class(&host(&["classify", sample, "--model", model, "--top", "3"])),
            967,
            "{v} float"
        );
        let q8 = t.path().join(format!("{v}.q8"));
        let q8 = q8.to_str().unwrap();
        let out = host(&[
            "quantize",
            "--model",
            model,
            "--calib",
            calib.to_str().unwrap(),
            "--calib-limit",
            "8",
            "--out",
            q8,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            first_class(&host(&["classify", sample, "--model", q8])),
            967,
            "{v} golden"
        );
        let json = host(&["classify", sample, "--model", q8, "--json", "--top", "2"]);
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(v["top5"][0]["index"], 967);
        assert_eq!(v["top5"][0]["label"], "espresso");
        assert_eq!(v["mode"], "golden");
        // eval's JSON (last stdout line): n and fractions.
        let dev = dir.join("images/dev");
        let out = host(&[
            "eval",
            dev.to_str().unwrap(),
            "--model",
            q8,
            "--limit",
            "4",
            "--json",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(v["n"], 4);
        for k in ["top1", "top5"] {
            let f = v[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&f), "{k} = {f} is not a fraction");
        }
    }
    assert!(Path::new(sample).exists());
}
