//! rust-hdl description of the SqueezeNet accelerator: the engine `sqz_core`, the link
//! (UART, frame decoder, command dispatcher) and the board tops, emitted as Verilog.
//! See docs/architecture.md ("Engine blocks") for the block diagram and per-file roles.

pub mod act_path;
pub mod board;
pub mod bram;
pub mod bus_answer;
pub mod bus_port;
pub mod cells;
pub mod core;
pub mod delay;
pub mod ecp5;
pub mod emit;
pub mod feeder;
pub mod floorplan;
pub mod link;
pub mod link_fuzz;
pub mod mac_row;
pub mod mul8;
pub mod out_stage;
pub mod pool;
pub mod req_leaves;
pub mod requant;
pub mod sdram;
pub mod sequencer;
pub mod spram;
pub mod tree;
pub mod variant;
pub mod verilator;

pub use emit::{emit_core, try_emit_core};
