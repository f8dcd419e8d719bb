//! One definition shared by the hardware (`hdl`), the host and the simulator (`sim`):
//! the arithmetic contract, device configurations, the engine memory map, job
//! descriptors and an executable functional model of the device.

pub mod arith;
pub mod backend;
pub mod bus;
pub mod compile;
pub mod config;
pub mod data;
pub mod device;
pub mod dma;
pub mod job;
pub mod mismatch;
pub mod program;
pub mod protocol;
pub mod qnet;
pub mod reference;
pub mod sdram;
pub mod synthetic;
pub mod tensor;
pub mod timing;

pub use config::{DeviceConfig, LANES, Pipeline};
pub use job::{Buf, Op, Step};
pub use timing::Schedule;
