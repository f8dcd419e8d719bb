//! Fuzz targets for everything the host parses from outside: ONNX models, `.q8` files,
//! images, and the device's frames and answers (including its `Info`). Each target must
//! return (an error is fine) for any bytes: no panic, no abort, bounded time and memory.
//!
//! The same functions run twice: a few thousand mutated seeds as ordinary tests
//! (`host/tests/fuzz_short.rs`, seconds, in CI) and under libFuzzer for the long runs
//! (`host/fuzz`, see `docs/limits.md`). The seeds are small valid inputs built here, so
//! mutations start deep inside each parser.

use common::compile::Plan;
use common::protocol::{self, Command, Decoder, Frame, Info, Response};
use common::qnet::{QConv, QFire, QLayer, QNet};
use ndarray::Array3;

use crate::golden::Golden;
use crate::link::Rng;
use crate::net::Net;
use crate::onnx::{
    AttributeProto, DT_FLOAT, Dimension, GraphProto, ModelProto, NodeProto, TensorProto,
    TensorShapeProto, TypeProto, TypeTensor, ValueInfoProto,
};
use crate::preprocess::{Preprocess, Resize, decode_bytes_max};

/// Networks of at most this many multiply-accumulates and input values are also run, so
/// the fuzzers cover inference on whatever the parser accepts without slowing down on
/// large ones (a network of pools alone has no multiply-accumulates).
const RUN_MACS: u64 = 1 << 20;
const RUN_INPUT: usize = 1 << 14;

/// ONNX bytes: decode, import, and run the float model when small.
pub fn onnx(data: &[u8]) {
    let Ok(m) = ModelProto::decode_bytes(data) else {
        return;
    };
    let Ok(net) = Net::from_model(&m, "fuzz") else {
        return;
    };
    if float_macs(&net) <= RUN_MACS && net.in_c * net.in_h * net.in_w <= RUN_INPUT {
        let x = Array3::<f32>::zeros((net.in_c, net.in_h, net.in_w));
        std::hint::black_box(crate::float::classify(&net, &x));
    }
}

/// `.q8` bytes: load, validate, and run the int8 golden model when small.
pub fn q8(data: &[u8]) {
    let Ok(net) = crate::q8::from_bytes(data) else {
        return;
    };
    if net.macs() <= RUN_MACS && net.in_c * net.in_h * net.in_w <= RUN_INPUT {
        let input = vec![1i8; net.in_c * net.in_h * net.in_w];
        std::hint::black_box(Golden::new(&net).classify(&input));
    }
}

/// Image bytes: decode, and preprocess with both presets' resize rules. For throughput it
/// resizes to 24 pixels rather than 256 and decodes at most 2^16 pixels (a 1 kB JPEG may
/// declare 16 M, a second to decode); the largest legal images are the CLI test's.
pub fn image(data: &[u8]) {
    let Ok(img) = decode_bytes_max(data, 1 << 16) else {
        return;
    };
    for resize in [Resize::Square(24), Resize::ShortSide(24)] {
        let p = Preprocess {
            resize,
            ..Preprocess::torchvision(16)
        };
        let _ = std::hint::black_box(p.apply(&img));
    }
}

/// Device bytes, twice: as a byte stream through the frame decoder, and as one frame (type
/// byte, then payload) that passed its CRC, so the answer parsers see arbitrary payloads
/// without the fuzzer having to forge CRCs. Every frame is parsed as the answer to every
/// command; an `Info` the host accepts is compiled for.
pub fn frames(data: &[u8]) {
    let mut d = Decoder::new();
    for &b in data {
        if let Some(Ok(f)) = d.push(b) {
            answers(&f);
        }
    }
    if let Some((&kind, payload)) = data.split_first() {
        answers(&Frame {
            kind,
            seq: 0,
            payload: payload.to_vec(),
        });
    }
}

fn answers(f: &Frame) {
    let cmds = [
        Command::Info,
        Command::Reset,
        Command::Status,
        Command::Run,
        Command::Read { addr: 0, n: 4 },
        Command::Write {
            addr: 0,
            words: vec![0; 4],
        },
    ];
    for c in &cmds {
        if let Ok(Response::Info(info)) = Response::parse(f, c) {
            device_info(&info);
        }
    }
}

fn device_info(info: &Info) {
    if crate::limits::check_device(&info.config).is_ok() {
        let _ = std::hint::black_box(Plan::compile(&seed_qnet(), &info.config));
    }
}

fn float_macs(net: &Net) -> u64 {
    let mut s = (net.in_c, net.in_h, net.in_w);
    let mut total = 0u64;
    let conv = |c: &crate::net::Conv, (h, w): (usize, usize)| {
        let (oh, ow) = c.out_size(h, w);
        (c.cout * c.cin * c.k * c.k * oh * ow) as u64
    };
    for (l, next) in net.layers.iter().zip(net.shapes()) {
        total += match l {
            crate::net::Layer::Conv(c) => conv(c, (s.1, s.2)),
            crate::net::Layer::Fire(f) => {
                let sq = f.squeeze.out_size(s.1, s.2);
                conv(&f.squeeze, (s.1, s.2)) + conv(&f.expand1x1, sq) + conv(&f.expand3x3, sq)
            }
            _ => 0,
        };
        s = next;
    }
    total
}

// ---- seeds ----

fn tensor(name: &str, dims: &[i64], seed: usize) -> TensorProto {
    let n: i64 = dims.iter().product();
    let v: Vec<f32> = (0..n as usize)
        .map(|i| ((i * 7 + seed) % 13) as f32 / 13.0 - 0.4)
        .collect();
    TensorProto {
        dims: dims.to_vec(),
        data_type: DT_FLOAT,
        raw_data: v.iter().flat_map(|f| f.to_le_bytes()).collect(),
        name: name.into(),
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: 7,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn node(op: &str, name: &str, input: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: input.iter().map(|s| s.to_string()).collect(),
        output: vec![name.to_string()],
        name: name.into(),
        op_type: op.into(),
        attribute: attrs,
        ..Default::default()
    }
}

/// A conv `cin -> cout` (kernel `k`, stride `s`, pad `p`) and its ReLU, reading `input`;
/// its output is `{name}_relu`.
fn conv_relu(
    g: &mut GraphProto,
    name: &str,
    input: &str,
    (cin, cout): (i64, i64),
    (k, s, p): (i64, i64, i64),
) {
    let (w, b) = (format!("{name}_w"), format!("{name}_b"));
    g.initializer
        .push(tensor(&w, &[cout, cin, k, k], g.initializer.len()));
    g.initializer.push(tensor(&b, &[cout], g.initializer.len()));
    let attrs = vec![
        ints("kernel_shape", &[k, k]),
        ints("strides", &[s, s]),
        ints("pads", &[p, p, p, p]),
    ];
    g.node.push(node("Conv", name, &[input, &w, &b], attrs));
    g.node
        .push(node("Relu", &format!("{name}_relu"), &[name], vec![]));
}

fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeTensor {
                elem_type: DT_FLOAT,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            dim_value: Some(d),
                            dim_param: None,
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

/// A tiny SqueezeNet as an ONNX model: input 3x`side`x`side`, conv 3x3 stride 2, max pool,
/// one Fire module, classifier conv to 10 classes, global average pool.
pub fn seed_onnx_model(side: i64) -> ModelProto {
    let mut g = GraphProto {
        name: "tiny".into(),
        input: vec![value_info("data", &[1, 3, side, side])],
        output: vec![value_info("pool10", &[1, 10, 1, 1])],
        ..Default::default()
    };
    conv_relu(&mut g, "conv1", "data", (3, 4), (3, 2, 0));
    g.node.push(node(
        "MaxPool",
        "pool1",
        &["conv1_relu"],
        vec![
            ints("kernel_shape", &[3, 3]),
            ints("strides", &[2, 2]),
            AttributeProto {
                name: "ceil_mode".into(),
                r#type: 2,
                i: 1,
                ..Default::default()
            },
        ],
    ));
    conv_relu(&mut g, "sq", "pool1", (4, 2), (1, 1, 0));
    conv_relu(&mut g, "e1", "sq_relu", (2, 4), (1, 1, 0));
    conv_relu(&mut g, "e3", "sq_relu", (2, 4), (3, 1, 1));
    let mut cat = node("Concat", "fire", &["e1_relu", "e3_relu"], vec![]);
    cat.attribute.push(AttributeProto {
        name: "axis".into(),
        r#type: 2,
        i: 1,
        ..Default::default()
    });
    g.node.push(cat);
    conv_relu(&mut g, "conv10", "fire", (8, 10), (1, 1, 0));
    g.node.push(node(
        "GlobalAveragePool",
        "pool10",
        &["conv10_relu"],
        vec![],
    ));
    ModelProto {
        ir_version: 7,
        producer_name: "host::fuzz".into(),
        graph: Some(g),
        ..Default::default()
    }
}

/// The tiny SqueezeNet's ONNX bytes (input 15x15).
pub fn seed_onnx() -> Vec<u8> {
    prost::Message::encode_to_vec(&seed_onnx_model(15))
}

fn qconv(name: &str, (cin, cout): (usize, usize), (k, s, p): (usize, usize, usize)) -> QConv {
    QConv {
        name: name.into(),
        cin,
        cout,
        kernel: k,
        stride: s,
        pad: p,
        weights: (0..cout * cin * k * k).map(|i| (i % 7) as i8 - 3).collect(),
        bias: (0..cout as i32).collect(),
        m: vec![16384; cout],
        shift: vec![20; cout],
        in_signed: false,
        relu: true,
        out_scale: 0.1,
    }
}

/// The tiny quantized SqueezeNet at input 3x15x15.
pub fn seed_qnet() -> QNet {
    seed_qnet_model(15)
}

/// A tiny quantized SqueezeNet (input 3x`side`x`side`, the layers of [`seed_onnx_model`]).
pub fn seed_qnet_model(side: usize) -> QNet {
    let mut conv1 = qconv("conv1", (3, 4), (3, 2, 0));
    conv1.in_signed = true;
    QNet {
        name: "tiny".into(),
        in_c: 3,
        in_h: side,
        in_w: side,
        in_scale: 0.02,
        layers: vec![
            QLayer::Conv(conv1),
            QLayer::MaxPool {
                name: "pool1".into(),
            },
            QLayer::Fire(QFire {
                name: "fire".into(),
                squeeze: qconv("sq", (4, 2), (1, 1, 0)),
                expand1x1: qconv("e1", (2, 4), (1, 1, 0)),
                expand3x3: qconv("e3", (2, 4), (3, 1, 1)),
            }),
            QLayer::Conv(qconv("conv10", (8, 10), (1, 1, 0))),
            QLayer::AvgPool {
                name: "pool10".into(),
                bias: vec![0; 10],
                m: vec![16384; 10],
                shift: vec![14; 10],
                relu: false,
                out_scale: 0.1,
            },
        ],
    }
}

/// The tiny quantized SqueezeNet's `.q8` bytes.
pub fn seed_q8() -> Vec<u8> {
    crate::q8::to_bytes(&seed_qnet()).expect("the seed network encodes")
}

/// A 7x5 RGB PNG and a 5x7 JPEG.
pub fn seed_images() -> Vec<Vec<u8>> {
    let img = image::RgbImage::from_fn(7, 5, |x, y| image::Rgb([x as u8 * 30, y as u8 * 50, 99]));
    let mut out = Vec::new();
    for (fmt, im) in [
        (image::ImageFormat::Png, img.clone()),
        (image::ImageFormat::Jpeg, image::imageops::rotate90(&img)),
    ] {
        let mut b = std::io::Cursor::new(Vec::new());
        im.write_to(&mut b, fmt).expect("encode a seed image");
        out.push(b.into_inner());
    }
    out
}

/// A device's answers as a stream: `Info` (for each configuration), `Status`, `Run`, a
/// `Read` of four words and a NAK, with garbage in between; then each configuration's
/// `Info` as a lone frame (type byte and payload).
pub fn seed_frames() -> Vec<Vec<u8>> {
    let mut seeds = vec![answer_stream()];
    for cfg in common::DeviceConfig::all() {
        let mut lone = vec![Command::Info.kind() | protocol::ANSWER];
        lone.extend(Info::new(cfg).encode());
        seeds.push(lone);
    }
    seeds
}

fn answer_stream() -> Vec<u8> {
    let mut out = vec![0x55, 0x00];
    for cfg in common::DeviceConfig::all() {
        let info = Info::new(cfg).encode();
        out.extend(Frame::new(Command::Info.kind() | protocol::ANSWER, 1, info).encode());
    }
    let status = protocol::Status::default().encode();
    out.extend(Frame::new(Command::Status.kind() | protocol::ANSWER, 2, status).encode());
    out.extend(Frame::new(Command::Run.kind() | protocol::ANSWER, 3, vec![1, 2, 3, 4]).encode());
    let read = Command::Read { addr: 0, n: 4 };
    out.extend(Frame::new(read.kind() | protocol::ANSWER, 4, vec![7; 32]).encode());
    out.extend(Frame::new(protocol::NAK, 5, vec![1]).encode());
    out.extend([0xAA, 0x13]);
    out
}

/// Every target with its seeds, by name.
#[allow(clippy::type_complexity)]
pub fn targets() -> Vec<(&'static str, fn(&[u8]), Vec<Vec<u8>>)> {
    vec![
        ("onnx", onnx as fn(&[u8]), vec![seed_onnx()]),
        ("q8", q8, vec![seed_q8()]),
        ("image", image, seed_images()),
        ("frames", frames, seed_frames()),
    ]
}

/// A random mutation of `seed`: byte flips, overwrites with boundary values, insertions,
/// deletions, duplicated runs and truncation (what libFuzzer does, without coverage).
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    let n = 1 + rng.next_u64() % 8;
    for _ in 0..n {
        let len = v.len().max(1) as u64;
        let at = (rng.next_u64() % len) as usize;
        match rng.next_u64() % 7 {
            0 if !v.is_empty() => v[at] ^= 1 << (rng.next_u64() % 8),
            1 if !v.is_empty() => {
                let vals = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x40];
                v[at] = vals[(rng.next_u64() % vals.len() as u64) as usize];
            }
            2 => v.insert(at.min(v.len()), rng.next_u64() as u8),
            3 if !v.is_empty() => {
                v.remove(at);
            }
            4 if !v.is_empty() => {
                let end = (at + 1 + (rng.next_u64() % 16) as usize).min(v.len());
                let run = v[at..end].to_vec();
                v.splice(at..at, run);
            }
            5 => v.truncate(at),
            _ if !v.is_empty() => v[at] = rng.next_u64() as u8,
            _ => v.push(rng.next_u64() as u8),
        }
    }
    v
}

/// What a regression input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Onnx,
    Q8,
    /// An image, under the torchvision preset.
    Image,
}

/// Small malformed inputs that once took the host down (abort, panic or a spin), each
/// with the limit that now refuses it: regression tests and fuzz corpus entries.
pub fn regressions() -> Vec<(&'static str, Kind, Vec<u8>, &'static str)> {
    let onnx = |f: &dyn Fn(&mut GraphProto)| {
        let mut m = seed_onnx_model(15);
        f(m.graph.as_mut().expect("the seed has a graph"));
        prost::Message::encode_to_vec(&m)
    };
    let node = |g: &mut GraphProto, name: &str| -> usize {
        g.node
            .iter()
            .position(|n| n.name == name)
            .expect("seed node")
    };
    let q8 = |f: &dyn Fn(&mut QNet)| {
        let mut n = seed_qnet();
        f(&mut n);
        // `to_bytes` does not validate, so it writes whatever the test makes.
        crate::q8::to_bytes(&n).expect("encodes")
    };
    vec![
        (
            // Float inference would allocate 3 x 10^10 floats.
            "onnx_huge_input",
            Kind::Onnx,
            onnx(&|g| g.input[0] = value_info("data", &[1, 3, 100_000, 100_000])),
            "outside the limits",
        ),
        (
            // The weight's element count overflows i64.
            "onnx_dims_overflow",
            Kind::Onnx,
            onnx(&|g| {
                g.initializer[0].dims = vec![1 << 40, 3, 1 << 20, 1 << 20];
                let i = node(g, "conv1");
                g.node[i].attribute[0] = ints("kernel_shape", &[1 << 20; 2]);
            }),
            "outside the limit",
        ),
        (
            "onnx_huge_pad",
            Kind::Onnx,
            onnx(&|g| {
                let i = node(g, "conv1");
                g.node[i].attribute[2] = ints("pads", &[1 << 20; 4]);
            }),
            "outside the limits",
        ),
        (
            // A Dropout whose output is its own input: the chain never ends.
            "onnx_cycle",
            Kind::Onnx,
            onnx(&|g| {
                let i = node(g, "pool1");
                g.node[i].op_type = "Dropout".into();
                g.node[i].attribute.clear();
                g.node[i].output = vec!["conv1_relu".into()];
            }),
            "loops back",
        ),
        (
            "q8_no_layers",
            Kind::Q8,
            q8(&|n| n.layers.clear()),
            "no layers",
        ),
        (
            // cout * cin * k * k overflows usize.
            "q8_dims_overflow",
            Kind::Q8,
            q8(&|n| conv1(n).cout = 1 << 62),
            "outside the limit",
        ),
        (
            "q8_huge_pad",
            Kind::Q8,
            q8(&|n| {
                conv1(n).pad = 1 << 16;
                conv1(n).stride = 1 << 16;
            }),
            "outside the limits",
        ),
        (
            // The golden model and the preprocessing would need tens of GB.
            "q8_huge_input",
            Kind::Q8,
            q8(&|n| (n.in_h, n.in_w) = (100_000, 100_000)),
            "outside the limits",
        ),
        (
            // A Fire whose squeeze pads (accepted once) grows the map; `QNet::shapes` assumes
            // it does not and underflowed in the second max pool's size (found by fuzzing).
            "q8_fire_shape",
            Kind::Q8,
            q8(&|n| {
                if let QLayer::Fire(f) = &mut n.layers[2] {
                    f.squeeze.pad = 2;
                }
                for _ in 0..2 {
                    n.layers.insert(
                        3,
                        QLayer::MaxPool {
                            name: "extra".into(),
                        },
                    );
                }
            }),
            "must be 1x1",
        ),
        (
            // The resize's intermediate (width x 256 f32 pixels) would be 12.9 GB.
            "image_wide",
            Kind::Image,
            png(1 << 22, 1),
            "too wide",
        ),
        (
            // Short side 256 makes it 256 x 16.7 M pixels (12.9 GB).
            "image_extreme_aspect",
            Kind::Image,
            png(1, 65_535),
            "aspect ratio",
        ),
        (
            "image_huge_header",
            Kind::Image,
            png_claiming(60_000, 60_000),
            "over the limit",
        ),
    ]
}

fn conv1(n: &mut QNet) -> &mut QConv {
    match &mut n.layers[0] {
        QLayer::Conv(c) => c,
        _ => unreachable!("the seed starts with a conv"),
    }
}

/// A gray `w x h` PNG.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_pixel(w, h, image::Luma([128]));
    let mut b = std::io::Cursor::new(Vec::new());
    img.write_to(&mut b, image::ImageFormat::Png)
        .expect("encode a PNG");
    b.into_inner()
}

/// A 1x1 PNG whose header claims `w x h` (a decompression bomb's header).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = png(1, 1);
    // Signature (8), IHDR length (4) and type (4), then width and height; CRC after 13 bytes.
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}
