//! What the `sim serve` tests share: the `host` binary, a quantized v1.1 model, a running
//! `sim serve`, and `host classify` against it or against the golden model.

#![allow(dead_code)] // Each test file uses its own part.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use sim::board::Board;

/// The shared data folder, if it and the `board_ulx3s` model are there (else a loud skip).
pub fn data_and_board_or_skip(test: &str) -> Option<PathBuf> {
    let data = common::data::shared_or_skip(test)?;
    if !Board::models().contains(&"ulx3s") {
        common::data::skip(test, "no board_ulx3s model (SQZ_SIM_BOARDS)");
        return None;
    }
    Some(data)
}

/// A fresh scratch folder for this test process.
pub fn scratch(name: &str) -> PathBuf {
    let tmp = std::env::temp_dir().join(format!("sqz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    tmp
}

/// The `host` binary of this build: beside the `sim` binary (`cargo test --workspace` builds
/// it), else built now.
pub fn host_binary() -> PathBuf {
    let sim = Path::new(env!("CARGO_BIN_EXE_sim"));
    let host = sim.with_file_name("host");
    if !host.exists() {
        let mut c = Command::new(env!("CARGO"));
        c.args(["build", "-p", "host", "--bin", "host"]);
        if sim.parent().is_some_and(|d| d.ends_with("release")) {
            c.arg("--release");
        }
        run_ok(&mut c);
    }
    assert!(host.exists(), "no host binary at {}", host.display());
    host
}

pub fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `host quantize` of the v1.1 ONNX model on the dev images, into `out`.
pub fn quantize_v11(host: &Path, data: &Path, out: &Path) {
    run_ok(Command::new(host).args(["quantize", "--model"]).args([
        data.join("models/squeezenet_v1.1.onnx"),
        "--calib".into(),
        data.join("images/dev"),
        "--out".into(),
        out.to_path_buf(),
    ]));
}

/// A running `sim serve`; killed when dropped.
pub struct Served {
    pub child: Child,
    /// The pty path, or the XDMA folder.
    pub device: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        !line.trim().is_empty(),
        "sim serve {args:?} printed no path"
    );
    Served {
        child,
        device: line.trim().to_string(),
    }
}

/// What one `host classify` did.
pub struct Classified {
    pub ok: bool,
    pub code: Option<i32>,
    /// The JSON line it printed, if any.
    pub json: Option<Value>,
    pub stderr: String,
}

impl Classified {
    /// The lines of stderr that start with `error`.
    pub fn errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect()
    }
}

pub fn classify_cmd(host: &Path, model: &Path, image: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(host);
    c.arg("classify")
        .arg(image)
        .arg("--model")
        .arg(model)
        .arg("--json")
        .args(args);
    c
}

pub fn classified(out: Output) -> Classified {
    let stdout = String::from_utf8_lossy(&out.stdout);
    Classified {
        ok: out.status.success(),
        code: out.status.code(),
        json: stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok()),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `host classify IMAGE --model MODEL --json ARGS`.
pub fn classify(host: &Path, model: &Path, image: &Path, args: &[&str]) -> Classified {
    classified(classify_cmd(host, model, image, args).output().unwrap())
}

/// The int8 golden model's top-5 JSON.
pub fn golden(host: &Path, model: &Path, image: &Path) -> Value {
    let c = classify(host, model, image, &["--golden"]);
    assert!(
        c.ok,
        "golden classify of {} failed: {}",
        image.display(),
        c.stderr
    );
    c.json.unwrap()["top5"].clone()
}
