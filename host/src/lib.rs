//! Host side of the SqueezeNet accelerator.

pub mod link;
