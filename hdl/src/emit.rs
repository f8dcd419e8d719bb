//! Verilog emission of `sqz_core` for a `DeviceConfig`.

use crate::core::SqzCore;
use common::DeviceConfig;
use rust_hdl::prelude::*;

/// `verilator` arguments of the lint every emitted module must pass: `-Wall` with only the
/// waivers rust-hdl's output needs (see the rust-hdl notes); the top module comes after.
pub const VERILATOR_LINT: &[&str] = &[
    "--lint-only",
    "-Wall",
    "-Wno-WIDTH",
    "-Wno-UNUSEDSIGNAL",
    "-Wno-UNUSEDPARAM",
    "-Wno-DECLFILENAME",
];

fn emit<const R: usize, const U: usize, const D: usize>(cfg: &DeviceConfig) -> String {
    let mut core = SqzCore::<R, U, D>::new(cfg);
    core.connect_all();
    let mut defs = ModuleDefines::default();
    core.accept("sqz_core", &mut defs);
    defs.defines()
}

/// The array shapes this crate is compiled for (const generics: rows, units, drain cycles).
pub const SHAPES: &[(usize, usize)] = &[(16, 4), (4, 2), (1, 1), (8, 2), (8, 4), (16, 8), (16, 2)];

/// Verilog of `sqz_core` for `cfg`, or why the shape is not supported.
pub fn try_emit_core(cfg: &DeviceConfig) -> Result<String, String> {
    Ok(match (cfg.rows, cfg.requant_units) {
        (16, 4) => emit::<16, 4, 4>(cfg),
        (4, 2) => emit::<4, 2, 2>(cfg),
        (1, 1) => emit::<1, 1, 1>(cfg),
        (8, 2) => emit::<8, 2, 4>(cfg),
        (8, 4) => emit::<8, 4, 2>(cfg),
        (16, 8) => emit::<16, 8, 2>(cfg),
        (16, 2) => emit::<16, 2, 8>(cfg),
        (r, u) => {
            return Err(format!(
                "configuration {}: rows {r} x requant units {u} is not a supported array shape {SHAPES:?}",
                cfg.name
            ));
        }
    })
}

/// Verilog text with top module `sqz_core` for `cfg`. Panics for an unsupported shape
/// (every configuration in `common::config::all()` is supported).
pub fn emit_core(cfg: &DeviceConfig) -> String {
    try_emit_core(cfg).unwrap_or_else(|e| panic!("{e}"))
}
