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

/// What a bounded run of `host` did: its exit code, stderr, wall and CPU time and peak
/// resident memory (from `wait4`).
struct Measured {
    code: Option<i32>,
    stderr: String,
    wall: f64,
    cpu: f64,
    max_rss_mib: f64,
}

/// Run `host` with a CPU-time limit (a spin is killed, not waited for) and a 4 GB address
/// space (a runaway allocation aborts instead of swapping the machine).
fn host_measured(args: &[&str]) -> Measured {
    use std::io::Read;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host"));
    cmd.args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    // SAFETY: only async-signal-safe setrlimit calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            for (res, v) in [(libc::RLIMIT_CPU, 60), (libc::RLIMIT_AS, 4 << 30)] {
                let lim = libc::rlimit {
                    rlim_cur: v,
                    rlim_max: v,
                };
                if libc::setrlimit(res, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let t = std::time::Instant::now();
    // Reaped by `wait4` below, which also reports its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("run host");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 reaps our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Measured {
        code: std::process::ExitStatus::from_raw(status).code(),
        stderr,
        wall: t.elapsed().as_secs_f64(),
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
        max_rss_mib: ru.ru_maxrss as f64 / 1024.0,
    }
}

/// Every malformed model and image of `host::fuzz::regressions` (they once aborted,
/// panicked or spun) ends with one error line and exit 1, and the largest legal images
/// classify, each within 10 s of CPU time and 1 GB. CPU time rather than wall time: the
/// machine may be shared; the wall-time bound is loose for the same reason.
#[test]
fn malformed_and_extreme_inputs_are_bounded() {
    use host::fuzz::{Kind, png, regressions, seed_onnx};
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("tiny.onnx"), seed_onnx()).unwrap();
    std::fs::write(p("small.png"), png(20, 20)).unwrap();
    let bounded = |m: &Measured, what: &str| {
        eprintln!(
            "{what}: {:.2} s cpu, {:.2} s wall, {:.0} MiB peak",
            m.cpu, m.wall, m.max_rss_mib
        );
        assert!(m.cpu < 10.0, "{what}: {} s cpu", m.cpu);
        assert!(m.wall < 120.0, "{what}: {} s wall", m.wall);
        assert!(m.max_rss_mib < 1024.0, "{what}: {} MiB", m.max_rss_mib);
    };
    for (name, kind, bytes, want) in regressions() {
        let ext = match kind {
            Kind::Onnx => "onnx",
            Kind::Q8 => "q8",
            Kind::Image => "png",
        };
        let file = p(&format!("{name}.{ext}"));
        std::fs::write(&file, bytes).unwrap();
        let tiny = p("tiny.onnx");
        let small = p("small.png");
        let args: Vec<&str> = match kind {
            Kind::Image => vec![
                "classify",
                &file,
                "--model",
                &tiny,
                "--preprocess",
                "torchvision",
            ],
            _ => vec!["classify", &small, "--model", &file],
        };
        let m = host_measured(&args);
        bounded(&m, name);
        assert_eq!(m.code, Some(1), "{name}: {}", m.stderr);
        assert_eq!(
            m.stderr.trim_end().lines().count(),
            1,
            "{name}: {}",
            m.stderr
        );
        assert!(m.stderr.starts_with("error: "), "{name}: {}", m.stderr);
        assert!(m.stderr.contains(want), "{name}: {}", m.stderr);
    }
    // The largest legal input side, as a float and as an int8 model.
    let big = host::limits::MAX_SIDE;
    std::fs::write(
        p("big.onnx"),
        prost::Message::encode_to_vec(&host::fuzz::seed_onnx_model(big as i64)),
    )
    .unwrap();
    host::q8::save(&host::fuzz::seed_qnet_model(big), Path::new(&p("big.q8"))).unwrap();
    for model in ["big.onnx", "big.q8"] {
        let m = host_measured(&["classify", &p("small.png"), "--model", &p(model)]);
        bounded(&m, model);
        assert_eq!(m.code, Some(0), "{model}: {}", m.stderr);
    }
    // The most extreme legal images: an aspect ratio of 1:128 (resized to 2^23 pixels under
    // torchvision) and 2^25 pixels decoded.
    for (name, w, h) in [("tall", 64, 8_192), ("large", 8_192, 4_096)] {
        let file = p(&format!("{name}.png"));
        std::fs::write(&file, png(w, h)).unwrap();
        let m = host_measured(&[
            "classify",
            &file,
            "--model",
            &p("tiny.onnx"),
            "--preprocess",
            "torchvision",
        ]);
        bounded(&m, name);
        assert_eq!(m.code, Some(0), "{name}: {}", m.stderr);
    }
}
