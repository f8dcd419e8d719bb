//! The one way this crate's tests run Verilator: which binary (`VERILATOR`, else `verilator`
//! on the PATH), a loud skip without it, the lint every emitted module must pass
//! ([`crate::emit::VERILATOR_LINT`]), and a C++ bench built around a Verilog top.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A `verilator` command: the binary `VERILATOR` names, else `verilator` on the PATH.
pub fn command() -> Command {
    Command::new(std::env::var_os("VERILATOR").unwrap_or_else(|| "verilator".into()))
}

/// Whether Verilator runs.
pub fn available() -> bool {
    command()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// [`available`], else a loud skip of `test` (a failure under `SQZ_REQUIRE_DATA=1`).
pub fn available_or_skip(test: &str) -> bool {
    let ok = available();
    if !ok {
        common::data::skip(
            test,
            "Verilator not found (apt-get install -y verilator, or set VERILATOR)",
        );
    }
    ok
}

/// Run `cmd`; its output as the error when it cannot start or fails.
fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// [`crate::emit::VERILATOR_LINT`] on `files` with top module `top`; `extra` arguments
/// (defines, cell models) follow the files.
pub fn lint(
    top: &str,
    files: &[impl AsRef<OsStr>],
    extra: &[impl AsRef<OsStr>],
) -> Result<(), String> {
    run(command()
        .args(crate::emit::VERILATOR_LINT)
        .args(["--top-module", top])
        .args(files)
        .args(extra))
}

/// Build the C++ bench `main_cpp` (source text, written to `dir/bench.cpp`) around module
/// `top` of the Verilog `sources` (paths relative to `dir`), with `extra` Verilator arguments
/// (defines, `-G` parameters). Lint warnings are not fatal here: [`lint`] is the lint.
/// Returns the bench executable.
pub fn build_bench(
    dir: &Path,
    top: &str,
    sources: &[&str],
    extra: &[&str],
    main_cpp: &str,
) -> Result<PathBuf, String> {
    std::fs::write(dir.join("bench.cpp"), main_cpp)
        .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    run(command()
        .current_dir(dir)
        .args(["--cc", "--exe", "--build", "-j", "1"])
        .args(["-Wno-fatal", "-Wno-lint", "-Wno-style"])
        .args(["--top-module", top, "-Mdir", "obj", "-o", "bench"])
        .args(extra)
        .args(sources)
        .arg("bench.cpp"))
    .map_err(|e| format!("verilator build of {top} failed:\n{e}"))?;
    Ok(dir.join("obj").join("bench"))
}
