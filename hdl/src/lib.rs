//! rust-hdl description of the SqueezeNet accelerator.
