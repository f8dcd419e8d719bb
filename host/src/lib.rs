//! Host side of the SqueezeNet accelerator.
