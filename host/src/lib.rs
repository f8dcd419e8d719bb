//! Host side of the SqueezeNet accelerator: ONNX import, float and int8 golden models,
//! quantizer, preprocessing and the `host` CLI.

pub mod classes;
pub mod device;
pub mod float;
pub mod fuzz;
pub mod golden;
pub mod limits;
pub mod link;
pub mod model;
pub mod net;
pub mod onnx;
pub mod preprocess;
pub mod q8;
pub mod quant;
