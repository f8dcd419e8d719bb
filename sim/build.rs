//! Verilates the accelerator core for each configuration to simulate and compiles it,
//! with the Verilator runtime and the C++ harness (`csrc/`), into static libraries.
//!
//! - `SQZ_SIM_CONFIGS`: comma-separated configuration names (default `ulx3s,small,icebreaker`).
//! - `SQZ_SIM_BOARDS`: configurations to build as whole boards, `sqz_top` = UART/stream link
//!   + engine, for `sim serve` (default `ulx3s`; empty for none).
//! - `VERILATOR`: the verilator binary (default `verilator` on PATH); `VERILATOR_ROOT`: its
//!   runtime (default: what `verilator --getenv VERILATOR_ROOT` reports).
//!
//! Every core is simulated as its bitstream is built. The ECP5 ones (ulx3s, small) with
//! instantiated MULT18X18D multipliers and DP16KD buffer RAMs (`SQZ_ECP5_DSP`,
//! `SQZ_ECP5_BRAM`) on the models of `hdl/src/ecp5.rs`. The iCE40 one
//! (`DeviceConfig::lean`) with its multipliers as instantiated SB_MAC16 and its
//! A/B/S memory as SB_SPRAM256KA, on Yosys' own models of those cells (`ice40/cells_sim.v`,
//! found next to `yosys`); without Yosys it falls back to the behavioural Verilog and says so.
//! The ECP5 board models (link + core, for `sim serve`) keep the behavioural multipliers and
//! RAMs, which simulate faster (docs/results.md; the cells are checked on the cores).
//!
//! Each model is rebuilt only when its Verilog (or the flags or harness) changed: the
//! inputs of the last build are kept next to its library in `<target>/sqz-verilated`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[path = "build/sdram.rs"]
mod sdram;

/// Verilator flags for every model (the top module and prefix are added per model).
const VERILATOR_FLAGS: &[&str] = &[
    "--cc",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "-Wno-fatal",
    "-Wno-lint",
    "-Wno-style",
    "--trace",
    // Split big designs into many files so `cc` compiles them in parallel.
    "--output-split",
    "20000",
    "--output-split-cfuncs",
    "5000",
];

/// The harness fixture (tests only): a tiny module with the `sqz_core` ports.
const FIXTURE: &str = "tests/rtl/harness_fixture.v";

/// UART bit period of the simulated boards, in clock cycles: the device is built for
/// `clock_hz / BOARD_BIT_CYCLES` baud so that every byte still crosses the RTL UART bit by
/// bit, but 8 times faster than at 3 Mbaud and 100 MHz (33.3 cycles per bit).
const BOARD_BIT_CYCLES: u32 = 4;

#[derive(PartialEq)]
enum Kind {
    /// `sqz_core` behind `csrc/harness_model.h`.
    Core,
    /// `sqz_top` behind `csrc/board_model.h`, with its link's inactivity timeout for a
    /// partly received frame, in cycles.
    Board { frame_timeout: u64 },
}

struct Model {
    /// Name used by `Core::new` (a configuration name, or `harness_fixture`) or
    /// `Board::new` (`board_<configuration>`).
    name: String,
    top: String,
    verilog: String,
    kind: Kind,
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let cache = cache_dir(&out);
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    for p in ["build.rs", "csrc", FIXTURE, "../hdl/src", "../common/src"] {
        println!("cargo:rerun-if-changed={p}");
    }
    for v in [
        "SQZ_SIM_CONFIGS",
        "SQZ_SIM_BOARDS",
        "VERILATOR",
        "VERILATOR_ROOT",
    ] {
        println!("cargo:rerun-if-env-changed={v}");
    }

    let verilator = env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    let root = verilator_root(&verilator);
    let include = root.join("include");

    let mut models = vec![Model {
        name: "harness_fixture".into(),
        top: "harness_fixture".into(),
        verilog: fs::read_to_string(manifest.join(FIXTURE)).unwrap(),
        kind: Kind::Core,
    }];
    let mut ice40_cells: Vec<String> = Vec::new();
    let configs = env::var("SQZ_SIM_CONFIGS").unwrap_or_else(|_| "ulx3s,small,icebreaker".into());
    for name in configs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let cfg = common::DeviceConfig::by_name(name).unwrap_or_else(|| {
            panic!("SQZ_SIM_CONFIGS names unknown configuration {name:?}");
        });
        let t = Instant::now();
        let (verilog, cells) = with_cells(&cfg, hdl::emit_core(&cfg), true);
        if cells {
            ice40_cells.push(name.to_string());
        }
        eprintln!(
            "model {name}: emit {:.1} s, {} lines of Verilog",
            t.elapsed().as_secs_f64(),
            verilog.lines().count()
        );
        models.push(Model {
            name: name.into(),
            top: "sqz_core".into(),
            verilog,
            kind: Kind::Core,
        });
    }
    let boards = env::var("SQZ_SIM_BOARDS").unwrap_or_else(|_| "ulx3s".into());
    for name in boards.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let cfg = common::DeviceConfig::by_name(name).unwrap_or_else(|| {
            panic!("SQZ_SIM_BOARDS names unknown configuration {name:?}");
        });
        // The link is built for the fast simulated baud rate (and reports it in Info).
        let mut link_cfg = cfg.clone();
        link_cfg.baud = cfg.clock_hz / BOARD_BIT_CYCLES;
        let (verilog, _) = with_cells(
            &cfg,
            format!(
                "{}\n{}",
                hdl::link::top_verilog(&link_cfg, "sqz_core"),
                hdl::emit_core(&cfg)
            ),
            false,
        );
        models.push(Model {
            name: format!("board_{name}"),
            top: "sqz_top".into(),
            verilog,
            kind: Kind::Board {
                frame_timeout: hdl::link::frame_timeout_cycles(&link_cfg),
            },
        });
    }

    // Everything a build depends on besides the Verilog: the tool's version, the harness headers.
    let harness_h = verilator_version(&verilator)
        + &fs::read_to_string(manifest.join("csrc/harness.h")).unwrap()
        + &fs::read_to_string(manifest.join("csrc/harness_model.h")).unwrap()
        + &fs::read_to_string(manifest.join("csrc/board.h")).unwrap()
        + &fs::read_to_string(manifest.join("csrc/board_model.h")).unwrap();
    let mut libs = Vec::new();
    for m in &models {
        libs.push(build_model(
            m, &verilator, &include, &manifest, &cache, &harness_h,
        ));
    }

    libs.push(sdram::build(&verilator, &include, &manifest, &cache));

    // The Verilator runtime and the model-independent harness, after the models that use them.
    let rt_stamp = format!(
        "{}\n{harness_h}{}",
        include.display(),
        fs::read_to_string(manifest.join("csrc/harness.cpp")).unwrap()
    );
    let rt_dir = cache.join("runtime");
    let rt_stamp_file = rt_dir.join("inputs.stamp");
    if !(fs::read_to_string(&rt_stamp_file).is_ok_and(|s| s == rt_stamp)
        && rt_dir.join("libsqz_vlrt.a").exists())
    {
        let t = Instant::now();
        let _ = fs::remove_dir_all(&rt_dir);
        fs::create_dir_all(&rt_dir).unwrap();
        let mut rt = cxx(&include, &manifest);
        rt.out_dir(&rt_dir);
        for f in [
            "verilated.cpp",
            "verilated_threads.cpp",
            "verilated_vcd_c.cpp",
        ] {
            rt.file(include.join(f));
        }
        rt.file(manifest.join("csrc/harness.cpp"));
        rt.compile("sqz_vlrt");
        fs::write(&rt_stamp_file, rt_stamp).unwrap();
        eprintln!("verilator runtime: {:.1} s", t.elapsed().as_secs_f64());
    }
    libs.push(("sqz_vlrt".to_string(), rt_dir));

    for (l, dir) in &libs {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static={l}");
    }
    for l in ["stdc++", "pthread", "atomic"] {
        println!("cargo:rustc-link-lib=dylib={l}");
    }

    let mut rs = String::from(
        "// Generated by sim/build.rs: the Verilated models compiled into this crate.\n\
         unsafe extern \"C\" {\n",
    );
    for m in &models {
        let class = if m.kind == Kind::Core {
            "SqzSim"
        } else {
            "SqzBoard"
        };
        writeln!(rs, "    fn sqz_new_{}() -> *mut {class};", m.name).unwrap();
    }
    rs.push_str("}\n/// `(name, constructor)` of every compiled core model.\n");
    rs.push_str("static MODELS: &[(&str, unsafe extern \"C\" fn() -> *mut SqzSim)] = &[\n");
    for m in models.iter().filter(|m| m.kind == Kind::Core) {
        writeln!(rs, "    ({:?}, sqz_new_{}),", m.name, m.name).unwrap();
    }
    rs.push_str("];\n");
    writeln!(
        rs,
        "/// Core models built with the iCE40 cells (SB_MAC16, SB_SPRAM256KA models).\n\
         static ICE40_CELLS: &[&str] = &{ice40_cells:?};"
    )
    .unwrap();
    rs.push_str(
        "/// `(name, constructor, frame timeout in cycles)` of every compiled board model.\n",
    );
    rs.push_str(
        "pub(crate) static BOARDS: &[(&str, unsafe extern \"C\" fn() -> *mut SqzBoard, u64)] = &[\n",
    );
    for m in &models {
        if let Kind::Board { frame_timeout } = m.kind {
            writeln!(
                rs,
                "    ({:?}, sqz_new_{}, {frame_timeout}),",
                m.name, m.name
            )
            .unwrap();
        }
    }
    rs.push_str("];\n");
    writeln!(
        rs,
        "/// UART bit period of the board models, in clock cycles.\n\
         pub(crate) const BOARD_BIT_CYCLES: u32 = {BOARD_BIT_CYCLES};"
    )
    .unwrap();
    fs::write(out.join("models.rs"), rs).unwrap();
}

/// `verilog` with the cells the bitstream instantiates (see the module comment; the ECP5 ones
/// only with `ecp5`). Also whether the iCE40 cells went in.
fn with_cells(cfg: &common::DeviceConfig, verilog: String, ecp5: bool) -> (String, bool) {
    if !cfg.lean() {
        if !ecp5 {
            return (verilog, false);
        }
        eprintln!(
            "model {}: MULT18X18D and DP16KD from hdl/src/ecp5.rs",
            cfg.name
        );
        let v = format!(
            "`define SQZ_ECP5_DSP\n`define SQZ_ECP5_BRAM\n{verilog}\n{}\n{}\n",
            hdl::ecp5::mult18x18d_model(),
            hdl::ecp5::dp16kd_model()
        );
        return (v, false);
    }
    let lib = hdl::cells::ice40_cells_sim().and_then(|p| fs::read_to_string(p).ok());
    let Some(lib) = lib else {
        println!(
            "cargo:warning=model {}: Yosys' ice40/cells_sim.v not found, simulating the behavioural multipliers and memory instead of the iCE40 cells",
            cfg.name
        );
        return (verilog, false);
    };
    let cell = |name: &str| hdl::cells::cell_model(&lib, name);
    eprintln!(
        "model {}: SB_MAC16 and SB_SPRAM256KA from Yosys' cells_sim.v",
        cfg.name
    );
    let v = format!(
        "`define SQZ_ICE40_DSP\n`define SQZ_ICE40_SPRAM\n{verilog}\n{}\n{}\n",
        cell("SB_MAC16"),
        cell("SB_SPRAM256KA")
    );
    (v, true)
}

/// The C++ files Verilator wrote into `obj`, in a fixed order, without the wrapper `factory`
/// (compiled on its own).
fn verilated_sources(obj: &Path, factory: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(obj)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cpp") && p != factory)
        .collect();
    files.sort();
    files
}

fn verilator_root(verilator: &str) -> PathBuf {
    if let Ok(r) = env::var("VERILATOR_ROOT") {
        return PathBuf::from(r);
    }
    let o = Command::new(verilator)
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {verilator:?} ({e}); install Verilator (apt-get install -y verilator) or set VERILATOR")
        });
    assert!(
        o.status.success(),
        "{verilator} --getenv VERILATOR_ROOT failed"
    );
    PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
}

fn verilator_version(verilator: &str) -> String {
    let o = Command::new(verilator)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {verilator:?}: {e}"));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A C++17 -O3 build with the Verilator include paths and defines.
fn cxx(include: &Path, manifest: &Path) -> cc::Build {
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("c++17")
        .opt_level(3)
        .debug(false)
        .warnings(false)
        .flag("-w")
        .flag("-pthread")
        .include(include)
        .include(include.join("vltstd"))
        .include(manifest.join("csrc"))
        .define("VM_COVERAGE", "0")
        .define("VM_SC", "0")
        .define("VM_TRACE", "1")
        .define("VM_TRACE_VCD", "1")
        .define("VM_TRACE_FST", "0")
        .cargo_metadata(false);
    b
}

/// Where the Verilated libraries live: `<target>/sqz-verilated`, beside the profile folders,
/// so `cargo build`, `test`, `clippy` and release builds (each with its own OUT_DIR) share
/// them instead of re-verilating. Falls back to OUT_DIR in an unusual layout.
fn cache_dir(out: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/sim-<hash>/out.
    match out.ancestors().nth(2) {
        Some(b) if b.file_name().is_some_and(|n| n == "build") => {
            out.ancestors().nth(4).unwrap().join("sqz-verilated")
        }
        _ => out.to_path_buf(),
    }
}

/// Verilate and compile one model into `lib sqz_<name>`, unless its inputs are unchanged.
/// Returns the library name and its folder.
fn build_model(
    m: &Model,
    verilator: &str,
    include: &Path,
    manifest: &Path,
    cache: &Path,
    harness_h: &str,
) -> (String, PathBuf) {
    let dir = cache.join(&m.name);
    let lib = format!("sqz_{}", m.name);
    let prefix = format!("Vsqz_{}", m.name);
    // Only the core models write waveforms (`SQZ_TRACE`); a board model without trace
    // support clocks faster.
    let flags: Vec<&str> = VERILATOR_FLAGS
        .iter()
        .copied()
        .filter(|f| m.kind == Kind::Core || *f != "--trace")
        .collect();
    let stamp = format!("{flags:?}\n{}\n{harness_h}", m.top);
    let src = dir.join(format!("{}.v", m.name));
    let stamp_file = dir.join("inputs.stamp");
    let fresh = fs::read_to_string(&src).is_ok_and(|v| v == m.verilog)
        && fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && dir.join(format!("lib{lib}.a")).exists();
    if fresh {
        return (lib, dir);
    }
    let _ = fs::remove_dir_all(&dir);
    let obj = dir.join("obj");
    fs::create_dir_all(&obj).unwrap();
    fs::write(&src, &m.verilog).unwrap();

    let t = Instant::now();
    let status = Command::new(verilator)
        .args(&flags)
        .args(["--prefix", &prefix, "--top-module", &m.top, "--Mdir"])
        .arg(&obj)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {verilator:?}: {e}"));
    assert!(status.success(), "verilator failed on {}", src.display());
    let t_verilate = t.elapsed().as_secs_f64();

    // The factory the Rust side calls: one per model, so several models link together.
    let factory = obj.join(format!("{prefix}__factory.cpp"));
    let (header, class, imp) = match m.kind {
        Kind::Core => ("harness_model.h", "SqzSim", "SqzSimImpl"),
        Kind::Board { .. } => ("board_model.h", "SqzBoard", "SqzBoardImpl"),
    };
    fs::write(
        &factory,
        format!(
            "#include \"{prefix}.h\"\n#include \"{header}\"\n\
             extern \"C\" {class}* sqz_new_{}() {{ return new {imp}<{prefix}>(); }}\n",
            m.name
        ),
    )
    .unwrap();

    let t = Instant::now();
    let mut b = cxx(include, manifest);
    b.include(&obj).file(&factory).out_dir(&dir);
    b.files(verilated_sources(&obj, &factory));
    b.compile(&lib);
    eprintln!(
        "model {}: verilate {:.1} s, compile {:.1} s",
        m.name,
        t_verilate,
        t.elapsed().as_secs_f64()
    );
    // Written last: an interrupted build is redone.
    fs::write(&stamp_file, stamp).unwrap();
    (lib, dir)
}
