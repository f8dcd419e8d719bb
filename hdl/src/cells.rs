//! Yosys' simulation models of the iCE40 cells the iCE40 build instantiates (SB_MAC16,
//! SB_SPRAM256KA), for Verilator runs of that build: the hdl tests and the `sim` models.

use std::path::PathBuf;
use std::process::Command;

/// Yosys' iCE40 simulation library, next to the `yosys` binary (`<prefix>/share/yosys`).
pub fn ice40_cells_sim() -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", "command -v yosys"])
        .output()
        .ok()?;
    let bin = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let p = bin
        .canonicalize()
        .ok()?
        .parent()?
        .parent()?
        .join("share/yosys/ice40/cells_sim.v");
    p.exists().then_some(p)
}

/// The module `name` cut out of the text of `cells_sim.v` (the rest of the library is not
/// Verilator-clean).
pub fn cell_model(lib: &str, name: &str) -> String {
    let start = lib
        .find(&format!("module {name}"))
        .unwrap_or_else(|| panic!("{name} in cells_sim.v"));
    let end = start + lib[start..].find("endmodule").unwrap() + "endmodule".len();
    lib[start..end].to_string()
}
