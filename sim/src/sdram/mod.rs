//! The ULX3S SDRAM in simulation: a chip model with the datasheet's rules ([`chip`]) and
//! the Verilated controller of `hdl::sdram` on it ([`bench`]). See docs/sdram.md.

pub mod bench;
pub mod chip;
pub mod sys_bench;

#[cfg(test)]
mod bench_tests;
#[cfg(test)]
mod chip_tests;
#[cfg(test)]
mod sys_bench_tests;

pub use bench::{Bench, BenchError, Client, Request, Run};
pub use chip::{Chip, Cmd, Pins, Rule, Violation};
