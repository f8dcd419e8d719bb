//! The SDRAM controller bench of `src/sdram/bench.rs`: `hdl::sdram`'s controller at the
//! ULX3S timings (CAS latency 2 and 3), Verilated behind `csrc/sdram_bench.cpp`.

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
    let flags: Vec<&str> = super::VERILATOR_FLAGS
        .iter()
        .copied()
        .filter(|f| *f != "--trace")
        .collect();
    let mut stamp = format!(
        "{}\n{flags:?}\n{wrapper}",
        super::verilator_version(verilator)
    );
    let verilog: Vec<(u32, String)> = CAS
        .iter()
        .map(|&cl| {
            let t = common::sdram::SdramTiming::ulx3s(100_000_000, cl);
            (cl, hdl::sdram::emit(&t, 0))
        })
        .collect();
    for (_, v) in &verilog {
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
    for (cl, v) in &verilog {
        let prefix = format!("Vsdram_cl{cl}");
        let obj = dir.join(format!("cl{cl}"));
        fs::create_dir_all(&obj).unwrap();
        let src = obj.join("sdram_ctrl.v");
        fs::write(&src, v).unwrap();
        let status = Command::new(verilator)
            .args(&flags)
            .args([
                "--prefix",
                &prefix,
                "--top-module",
                hdl::sdram::TOP,
                "--Mdir",
            ])
            .arg(&obj)
            .arg(&src)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {verilator:?}: {e}"));
        assert!(status.success(), "verilator failed on {}", src.display());
        // The wrapper, instantiated for this model's class and function prefix.
        let factory = obj.join(format!("factory_cl{cl}.cpp"));
        fs::write(
            &factory,
            format!(
                "#include \"{prefix}.h\"\n#define SDR_MODEL {prefix}\n#define SDR_FN(n) sdr_cl{cl}_##n\n\
                 #include \"sdram_bench.cpp\"\n"
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
