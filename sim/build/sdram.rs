//! The SDRAM benches: `hdl::sdram`'s controller at the ULX3S timings (CAS latency 2 and 3),
//! Verilated behind `csrc/sdram_bench.cpp` (`src/sdram/bench.rs`), and the system of bus
//! mux, DMA and controller (CAS 3) behind `csrc/sdram_sys_bench.cpp`
//! (`src/sdram/sys_bench.rs`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// CAS latencies built (each its own model: the latency is a constant of the Verilog).
pub const CAS: &[u32] = &[2, 3];

/// Verilate and compile the controllers into one library `sqz_sdram`, unless unchanged.
/// Returns the library name and folder, for the caller's link lines.
pub fn build(verilator: &str, include: &Path, manifest: &Path, cache: &Path) -> (String, PathBuf) {
    println!("cargo:rerun-if-changed=build/sdram.rs");
    let dir = cache.join("sdram");
    let wrapper = fs::read_to_string(manifest.join("csrc/sdram_bench.cpp")).unwrap();
    let sys_wrapper = fs::read_to_string(manifest.join("csrc/sdram_sys_bench.cpp")).unwrap();
    let flags: Vec<&str> = super::VERILATOR_FLAGS
        .iter()
        .copied()
        .filter(|f| *f != "--trace")
        .collect();
    let mut stamp = format!(
        "{}\n{flags:?}\n{wrapper}\n{sys_wrapper}",
        super::verilator_version(verilator)
    );
    // (model name, top module, Verilog, wrapper file).
    let mut verilog: Vec<(String, &str, String, &str)> = CAS
        .iter()
        .map(|&cl| {
            let t = common::sdram::SdramTiming::ulx3s(100_000_000, cl);
            (
                format!("cl{cl}"),
                hdl::sdram::TOP,
                hdl::sdram::emit(&t, 0),
                "sdram_bench.cpp",
            )
        })
        .collect();
    // The board's CAS latency; the read delay of the chip model (0).
    let cl = hdl::board::Board::ulx3s()
        .sdram
        .expect("the ULX3S has SDRAM")
        .cl;
    println!("cargo:rustc-env=SQZ_SDRAM_SYS_CL={cl}");
    let t = common::sdram::SdramTiming::ulx3s(100_000_000, cl);
    verilog.push((
        "sys".into(),
        hdl::sdram::SYS_TOP,
        hdl::sdram::emit_sys(&t, 0),
        "sdram_sys_bench.cpp",
    ));
    for (_, _, v, _) in &verilog {
        stamp.push_str(v);
    }
    let stamp_file = dir.join("inputs.stamp");
    if fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && dir.join("libsqz_sdram.a").exists()
    {
        return ("sqz_sdram".into(), dir);
    }
    let _ = fs::remove_dir_all(&dir);
    let mut b = super::cxx(include, manifest);
    b.out_dir(&dir);
    for (name, top, v, wrapper) in &verilog {
        let prefix = format!("Vsdram_{name}");
        let obj = dir.join(name);
        fs::create_dir_all(&obj).unwrap();
        let src = obj.join(format!("{top}.v"));
        fs::write(&src, v).unwrap();
        let status = Command::new(verilator)
            .args(&flags)
            .args(["--prefix", &prefix, "--top-module", top, "--Mdir"])
            .arg(&obj)
            .arg(&src)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {verilator:?}: {e}"));
        assert!(status.success(), "verilator failed on {}", src.display());
        // The wrapper, instantiated for this model's class and function prefix.
        let factory = obj.join(format!("factory_{name}.cpp"));
        fs::write(
            &factory,
            format!(
                "#include \"{prefix}.h\"\n#define SDR_MODEL {prefix}\n#define SDR_FN(n) sdr_{name}_##n\n\
                 #include \"{wrapper}\"\n"
            ),
        )
        .unwrap();
        b.file(&factory).include(&obj);
        b.files(super::verilated_sources(&obj, &factory));
    }
    b.compile("sqz_sdram");
    fs::write(&stamp_file, stamp).unwrap();
    ("sqz_sdram".into(), dir)
}
