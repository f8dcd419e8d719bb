//! The emitted Verilog of every configuration passes `verilator --lint-only -Wall` (with
//! only the waivers rust-hdl needs, see the rust-hdl notes) and Yosys synthesis.
//! A missing tool skips loudly, or fails the test under `SQZ_REQUIRE_DATA=1` (CI).

use common::DeviceConfig;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::tool_or_skip;

/// Emit `cfg` into a fresh temporary folder; returns the Verilog file.
fn emit(cfg: &DeviceConfig, test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sqz-hdl-{test}-{}-{}",
        cfg.name,
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sqz_core.v");
    std::fs::write(&path, hdl::emit_core(cfg)).unwrap();
    path
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cleanup(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn verilator_lint_all_configs() {
    if !tool_or_skip("verilator", "verilator_lint_all_configs") {
        return;
    }
    for cfg in DeviceConfig::all() {
        let v = emit(&cfg, "lint");
        run(
            Command::new("verilator")
                .args([
                    "--lint-only",
                    "-Wall",
                    "-Wno-WIDTH",
                    "-Wno-UNUSEDSIGNAL",
                    "-Wno-UNUSEDPARAM",
                    "-Wno-DECLFILENAME",
                    "--top-module",
                    "sqz_core",
                ])
                .arg(&v),
            &format!("verilator lint of {}", cfg.name),
        );
        cleanup(&v);
    }
}

/// Generic Yosys synthesis up to technology mapping (coarse-grain: elaboration, FSM and
/// memory inference, arithmetic), then `check -assert` (no latches, drivers, loops).
/// The fine-grain part of generic `synth` would expand the buffers into flip-flops.
#[test]
fn yosys_synth_all_configs() {
    if !tool_or_skip("yosys", "yosys_synth_all_configs") {
        return;
    }
    for cfg in DeviceConfig::all() {
        let v = emit(&cfg, "synth");
        let script = format!(
            "read_verilog {}; synth -top sqz_core -run begin:fine; check -assert",
            v.display()
        );
        run(
            Command::new("yosys").args(["-q", "-p", &script]),
            &format!("yosys synth of {}", cfg.name),
        );
        cleanup(&v);
    }
}
