//! Verilator simulation of the accelerator.
