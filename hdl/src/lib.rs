//! rust-hdl description of the SqueezeNet accelerator.

pub mod link;
