//! rust-hdl description of the SqueezeNet accelerator.

pub mod board;
pub mod link;
