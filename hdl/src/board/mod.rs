//! Board tops: the accelerator between a board's pins, its oscillator PLL, a reset synchronizer
//! and status LEDs. Emitted as plain Verilog text around an inner design's module.

pub mod pll;
