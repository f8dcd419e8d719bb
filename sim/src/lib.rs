//! Verilator simulation of the accelerator: the Verilated `sqz_core` driven from Rust.
//!
//! `build.rs` verilates the core of each configuration in `SQZ_SIM_CONFIGS`;
//! [`verilated::Core`] runs it and implements `common::backend::Backend`.
//! [`network`] runs whole networks over any backend with a per-layer bit-exact check.

pub mod board;
pub mod network;
pub mod program_report;
pub mod sdram;
pub mod serve;
pub mod verilated;

pub use verilated::{Core, Port, SimError};
