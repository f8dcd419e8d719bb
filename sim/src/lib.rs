//! Verilator simulation of the accelerator.
pub mod network;
