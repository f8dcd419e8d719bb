//! The typed float SqueezeNet and its import from ONNX.
//!
//! Import recognises the structure, not names: a linear chain of Conv(+ReLU), MaxPool
//! (3x3 stride 2, ceil mode) and Fire modules (conv→relu feeding two convs whose relu
//! outputs are concatenated), then a classifier conv, a global average pool and an
//! optional Flatten/Softmax. Anything else is refused with the node and the reason.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::limits::{self, Budget};
use crate::onnx::{self, ModelProto, NodeProto, TensorProto};

/// A convolution with a square kernel, equal stride and padding in both axes, group 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    pub name: String,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    /// `[cout][cin][k][k]` row-major.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// ReLU fused after the convolution.
    pub relu: bool,
}

impl Conv {
    pub fn out_size(&self, h: usize, w: usize) -> (usize, usize) {
        let f = |n: usize| (n + 2 * self.pad - self.k) / self.stride + 1;
        (f(h), f(w))
    }
}

/// A Fire module: squeeze, then expand1x1 and expand3x3 concatenated (expand1x1 first).
#[derive(Clone, Debug, PartialEq)]
pub struct Fire {
    /// Name of the concatenation (the module's output).
    pub name: String,
    pub squeeze: Conv,
    pub expand1x1: Conv,
    pub expand3x3: Conv,
}

#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // a handful of layers per network
pub enum Layer {
    Conv(Conv),
    Fire(Fire),
    /// 3x3 stride 2 max pool, ceil mode, no padding.
    MaxPool {
        name: String,
    },
    GlobalAvgPool {
        name: String,
    },
}

/// A float SqueezeNet: input `[in_c, in_h, in_w]`, layers in order, optional softmax.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    pub name: String,
    pub in_c: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub layers: Vec<Layer>,
    /// Name of the final Softmax node if the model has one (the host applies it anyway).
    pub softmax: Option<String>,
}

impl Net {
    /// Load and recognise an ONNX SqueezeNet file.
    pub fn load(path: &Path) -> Result<Net> {
        let bytes = limits::read_file(path, limits::MAX_MODEL_BYTES, "model")?;
        let model = ModelProto::decode_bytes(&bytes)
            .with_context(|| format!("cannot load {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        Net::from_model(&model, &name)
            .with_context(|| format!("{} is not a supported SqueezeNet", path.display()))
    }

    /// Recognise a decoded ONNX model.
    pub fn from_model(model: &ModelProto, name: &str) -> Result<Net> {
        let graph = model.graph.as_ref().ok_or_else(|| anyhow!("no graph"))?;
        Importer::new(graph)?.run(name)
    }

    /// Number of output classes (the classifier's output channels).
    pub fn classes(&self) -> usize {
        self.layers
            .iter()
            .rev()
            .find_map(|l| match l {
                Layer::Conv(c) => Some(c.cout),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// Shape `(c, h, w)` after each layer, starting from the input.
    pub fn shapes(&self) -> Vec<(usize, usize, usize)> {
        let mut s = (self.in_c, self.in_h, self.in_w);
        let mut out = Vec::new();
        for l in &self.layers {
            s = match l {
                Layer::Conv(c) => {
                    let (h, w) = c.out_size(s.1, s.2);
                    (c.cout, h, w)
                }
                Layer::Fire(f) => {
                    let (h, w) = f.squeeze.out_size(s.1, s.2);
                    (f.expand1x1.cout + f.expand3x3.cout, h, w)
                }
                Layer::MaxPool { .. } => (
                    s.0,
                    common::qnet::maxpool_out(s.1),
                    common::qnet::maxpool_out(s.2),
                ),
                Layer::GlobalAvgPool { .. } => (s.0, 1, 1),
            };
            out.push(s);
        }
        out
    }
}

/// Display name of a node: its name, or its first output when unnamed.
fn node_name(n: &NodeProto) -> String {
    if !n.name.is_empty() {
        n.name.clone()
    } else {
        n.output
            .first()
            .cloned()
            .unwrap_or_else(|| format!("<{}>", n.op_type))
    }
}

struct Importer<'a> {
    nodes: &'a [NodeProto],
    consts: HashMap<&'a str, &'a TensorProto>,
    /// tensor name -> indices of the nodes that read it
    consumers: HashMap<&'a str, Vec<usize>>,
    outputs: Vec<&'a str>,
    input: &'a str,
    shape: (usize, usize, usize),
}

impl<'a> Importer<'a> {
    fn new(g: &'a onnx::GraphProto) -> Result<Self> {
        let mut consts: HashMap<&str, &TensorProto> =
            g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        for n in &g.node {
            if n.op_type == "Constant"
                && let (Some(out), Some(t)) = (
                    n.output.first(),
                    n.attribute
                        .iter()
                        .find(|a| a.name == "value")
                        .and_then(|a| a.t.as_ref()),
                )
            {
                consts.insert(out.as_str(), t);
            }
        }
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            for inp in &n.input {
                consumers.entry(inp.as_str()).or_default().push(i);
            }
        }
        let inputs: Vec<_> = g
            .input
            .iter()
            .filter(|v| !consts.contains_key(v.name.as_str()))
            .collect();
        let [input] = inputs.as_slice() else {
            bail!("expected exactly one graph input, found {}", inputs.len());
        };
        let dims: Vec<Option<i64>> = input
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .and_then(|t| t.shape.as_ref())
            .map(|s| s.dim.iter().map(|d| d.dim_value).collect())
            .unwrap_or_default();
        let shape = match dims.as_slice() {
            [n, Some(c), Some(h), Some(w)]
                if matches!(n, None | Some(1)) && *c > 0 && *h > 0 && *w > 0 =>
            {
                let s = (*c as usize, *h as usize, *w as usize);
                Budget::new(s.0, s.1, s.2)
                    .with_context(|| format!("graph input '{}'", input.name))?;
                s
            }
            _ => bail!(
                "graph input '{}' must be [1, C, H, W] with known C, H, W (found {:?})",
                input.name,
                dims
            ),
        };
        Ok(Importer {
            nodes: &g.node,
            consts,
            consumers,
            outputs: g.output.iter().map(|o| o.name.as_str()).collect(),
            input: &input.name,
            shape,
        })
    }

    /// The nodes reading `tensor` (Constant nodes never do).
    fn readers(&self, tensor: &str) -> Vec<&'a NodeProto> {
        self.consumers
            .get(tensor)
            .map(|v| v.iter().map(|&i| &self.nodes[i]).collect())
            .unwrap_or_default()
    }

    fn sole_reader(&self, tensor: &str) -> Result<Option<&'a NodeProto>> {
        let r = self.readers(tensor);
        match r.len() {
            0 => Ok(None),
            1 => Ok(Some(r[0])),
            _ => bail!(
                "tensor '{tensor}' feeds {} nodes ({}) but is not the squeeze output of a Fire module",
                r.len(),
                r.iter()
                    .map(|n| node_name(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn run(mut self, name: &str) -> Result<Net> {
        let (in_c, in_h, in_w) = self.shape;
        let mut layers = Vec::new();
        let mut softmax = None;
        let mut cur: String = self.input.to_string();
        // The chain visits each node once; more steps mean it runs in a cycle.
        let mut steps = 0;
        while let Some(node) = self.next_node(&cur)? {
            steps += 1;
            if steps > self.nodes.len() || layers.len() > limits::MAX_LAYERS {
                bail!(
                    "the graph loops back on itself or has more than {} layers",
                    limits::MAX_LAYERS
                );
            }
            let nn = node_name(node);
            let out = single_output(node)?;
            match node.op_type.as_str() {
                "Conv" => {
                    let (conv, after) = self.conv_relu(node, self.shape.0)?;
                    // A Fire module if the (relu'd) output feeds exactly two convs.
                    let readers = self.readers(&after);
                    if readers.len() == 2 && readers.iter().all(|n| n.op_type == "Conv") {
                        let (fire, cat) = self.fire(conv, readers[0], readers[1])?;
                        let (h, w) = fire.squeeze.out_size(self.shape.1, self.shape.2);
                        self.shape = (fire.expand1x1.cout + fire.expand3x3.cout, h, w);
                        layers.push(Layer::Fire(fire));
                        cur = cat;
                    } else {
                        let (h, w) = conv.out_size(self.shape.1, self.shape.2);
                        self.shape = (conv.cout, h, w);
                        layers.push(Layer::Conv(conv));
                        cur = after;
                    }
                    continue;
                }
                "MaxPool" => {
                    self.check_maxpool(node)?;
                    let (c, h, w) = self.shape;
                    self.shape = (
                        c,
                        common::qnet::maxpool_out(h),
                        common::qnet::maxpool_out(w),
                    );
                    layers.push(Layer::MaxPool { name: nn });
                }
                "GlobalAveragePool" => {
                    self.shape = (self.shape.0, 1, 1);
                    layers.push(Layer::GlobalAvgPool { name: nn });
                }
                // Shape-only or identity at inference.
                "Flatten" | "Dropout" | "Identity" => {
                    if node.op_type == "Flatten"
                        && !matches!(layers.last(), Some(Layer::GlobalAvgPool { .. }))
                    {
                        bail!(
                            "node '{nn}' (Flatten) is only supported after the global average pool"
                        );
                    }
                }
                "Softmax" => {
                    if !matches!(layers.last(), Some(Layer::GlobalAvgPool { .. })) {
                        bail!("node '{nn}' (Softmax) is only supported at the end of the network");
                    }
                    softmax = Some(nn);
                }
                "Relu" => bail!("node '{nn}' (Relu) does not follow a convolution"),
                op => bail!("node '{nn}' has operator {op}, which a SqueezeNet does not use"),
            }
            cur = out.to_string();
        }
        if !self.outputs.contains(&cur.as_str()) {
            bail!("the chain from the input ends at tensor '{cur}', which is not a graph output");
        }
        check_sequence(&layers)?;
        let net = Net {
            name: name.to_string(),
            in_c,
            in_h,
            in_w,
            layers,
            softmax,
        };
        check_limits(&net)?;
        Ok(net)
    }

    fn next_node(&self, cur: &str) -> Result<Option<&'a NodeProto>> {
        self.sole_reader(cur)
    }

    /// Parse a Conv node and the Relu that must follow it; returns the conv and the
    /// ReLU's output tensor.
    fn conv_relu(&self, node: &NodeProto, cin: usize) -> Result<(Conv, String)> {
        let nn = node_name(node);
        let wname = node
            .input
            .get(1)
            .ok_or_else(|| anyhow!("node '{nn}' (Conv) has no weight input"))?;
        let wt = self
            .consts
            .get(wname.as_str())
            .ok_or_else(|| anyhow!("node '{nn}' (Conv): weight '{wname}' is not a constant"))?;
        let [cout, wcin, kh, kw] = wt.dims[..] else {
            bail!(
                "node '{nn}' (Conv): weight must be 4-D, found dims {:?}",
                wt.dims
            );
        };
        if [cout, wcin, kh, kw].iter().any(|&d| d <= 0) {
            bail!(
                "node '{nn}' (Conv): weight dims {:?} must be positive",
                wt.dims
            );
        }
        if kh != kw {
            bail!("node '{nn}' (Conv): kernel {kh}x{kw} is not square");
        }
        if wcin as usize != cin {
            bail!("node '{nn}' (Conv): weight has {wcin} input channels but its input has {cin}");
        }
        let k = kh as usize;
        let mut stride = 1;
        let mut pad = 0;
        for a in &node.attribute {
            let v = a.as_ints();
            match a.name.as_str() {
                "strides" => {
                    if v.len() != 2 || v[0] != v[1] || v[0] < 1 {
                        bail!(
                            "node '{nn}' (Conv): strides {v:?} must be two equal positive values"
                        );
                    }
                    stride = v[0] as usize;
                }
                "pads" => {
                    if v.len() != 4 || v.iter().any(|&p| p != v[0]) || v[0] < 0 {
                        bail!("node '{nn}' (Conv): pads {v:?} must be four equal values");
                    }
                    pad = v[0] as usize;
                }
                "group" if a.i != 1 => bail!("node '{nn}' (Conv): group {} is not supported", a.i),
                "dilations" if v.iter().any(|&d| d != 1) => {
                    bail!("node '{nn}' (Conv): dilations {v:?} are not supported")
                }
                "auto_pad" if !(a.s.is_empty() || a.s == b"NOTSET") => {
                    bail!("node '{nn}' (Conv): auto_pad is not supported")
                }
                "kernel_shape" if v != [kh, kw] => {
                    bail!("node '{nn}' (Conv): kernel_shape {v:?} disagrees with the weight")
                }
                _ => {}
            }
        }
        let cout = cout as usize;
        // Kernel, stride, pad and sizes within the limits before the weights are read.
        Budget::default().conv(
            &nn,
            (cin, cout),
            (k, stride, pad),
            self.shape.1,
            self.shape.2,
        )?;
        let w = wt
            .floats()
            .with_context(|| format!("node '{nn}' (Conv) weights"))?;
        let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
            Some(b) => {
                let bt = self
                    .consts
                    .get(b.as_str())
                    .ok_or_else(|| anyhow!("node '{nn}' (Conv): bias '{b}' is not a constant"))?;
                let v = bt
                    .floats()
                    .with_context(|| format!("node '{nn}' (Conv) bias"))?;
                if v.len() != cout {
                    bail!(
                        "node '{nn}' (Conv): bias has {} values for {cout} channels",
                        v.len()
                    );
                }
                v
            }
            None => vec![0.0; cout],
        };
        let out = single_output(node)?;
        let relu = match self.sole_reader(out)? {
            Some(r) if r.op_type == "Relu" => r,
            Some(r) => bail!(
                "node '{nn}' (Conv) is followed by node '{}' ({}), not a Relu (8-bit unsigned activations need one)",
                node_name(r),
                r.op_type
            ),
            None => bail!("node '{nn}' (Conv) is not followed by a Relu"),
        };
        let conv = Conv {
            name: nn,
            cin,
            cout,
            k,
            stride,
            pad,
            weights: w,
            bias,
            relu: true,
        };
        Ok((conv, single_output(relu)?.to_string()))
    }

    /// Recognise a Fire module given its squeeze and the two convs reading it.
    fn fire(&self, squeeze: Conv, a: &NodeProto, b: &NodeProto) -> Result<(Fire, String)> {
        let (sh, sw) = squeeze.out_size(self.shape.1, self.shape.2);
        let inner = Importer {
            shape: (squeeze.cout, sh, sw),
            ..self.clone_ref()
        };
        let (ea, oa) = inner.conv_relu(a, squeeze.cout)?;
        let (eb, ob) = inner.conv_relu(b, squeeze.cout)?;
        let cat = match (inner.sole_reader(&oa)?, inner.sole_reader(&ob)?) {
            (Some(x), Some(y)) if std::ptr::eq(x, y) && x.op_type == "Concat" => x,
            _ => bail!(
                "the convs '{}' and '{}' after '{}' are not joined by one Concat (not a Fire module)",
                ea.name,
                eb.name,
                squeeze.name
            ),
        };
        let cn = node_name(cat);
        let axis = cat
            .attribute
            .iter()
            .find(|a| a.name == "axis")
            .map(|a| a.i)
            .unwrap_or(0);
        if axis != 1 && axis != -3 {
            bail!("node '{cn}' (Concat): axis {axis} is not the channel axis");
        }
        let (e1, e3) = if cat.input.len() == 2 && cat.input[0] == oa && cat.input[1] == ob {
            (ea, eb)
        } else if cat.input.len() == 2 && cat.input[0] == ob && cat.input[1] == oa {
            (eb, ea)
        } else {
            bail!("node '{cn}' (Concat) must join exactly the two expand outputs");
        };
        if e1.k != 1 || e1.stride != 1 || e1.pad != 0 {
            bail!(
                "node '{cn}': the first concatenated conv '{}' must be 1x1 stride 1 pad 0",
                e1.name
            );
        }
        if e3.k != 3 || e3.stride != 1 || e3.pad != 1 {
            bail!(
                "node '{cn}': the second concatenated conv '{}' must be 3x3 stride 1 pad 1",
                e3.name
            );
        }
        if squeeze.k != 1 || squeeze.stride != 1 || squeeze.pad != 0 {
            bail!("Fire squeeze '{}' must be 1x1 stride 1 pad 0", squeeze.name);
        }
        let out = single_output(cat)?.to_string();
        Ok((
            Fire {
                name: cn,
                squeeze,
                expand1x1: e1,
                expand3x3: e3,
            },
            out,
        ))
    }

    fn clone_ref(&self) -> Importer<'a> {
        Importer {
            nodes: self.nodes,
            consts: self.consts.clone(),
            consumers: self.consumers.clone(),
            outputs: self.outputs.clone(),
            input: self.input,
            shape: self.shape,
        }
    }

    fn check_maxpool(&self, node: &NodeProto) -> Result<()> {
        let nn = node_name(node);
        let mut ceil = false;
        let mut ks = vec![];
        let mut st = vec![1, 1];
        for a in &node.attribute {
            let v = a.as_ints();
            match a.name.as_str() {
                "kernel_shape" => ks = v,
                "strides" => st = v,
                "ceil_mode" => ceil = a.i == 1,
                "pads" if v.iter().any(|&p| p != 0) => {
                    bail!("node '{nn}' (MaxPool): padding {v:?} is not supported")
                }
                "dilations" if v.iter().any(|&d| d != 1) => {
                    bail!("node '{nn}' (MaxPool): dilations are not supported")
                }
                "storage_order" if a.i != 0 => {
                    bail!("node '{nn}' (MaxPool): storage_order is not supported")
                }
                "auto_pad" if !(a.s.is_empty() || a.s == b"NOTSET" || a.s == b"VALID") => {
                    bail!("node '{nn}' (MaxPool): auto_pad is not supported")
                }
                _ => {}
            }
        }
        if ks != [3, 3] || st != [2, 2] {
            bail!(
                "node '{nn}' (MaxPool): only 3x3 stride 2 is supported (found kernel {ks:?} strides {st:?})"
            );
        }
        let (_, h, w) = self.shape;
        if h < 3 || w < 3 {
            bail!("node '{nn}' (MaxPool): input {h}x{w} smaller than the window");
        }
        // Floor mode is equivalent when the window fits exactly.
        if !ceil && ((h - 3) % 2 != 0 || (w - 3) % 2 != 0) {
            bail!(
                "node '{nn}' (MaxPool): floor mode on a {h}x{w} input differs from the supported ceil mode"
            );
        }
        Ok(())
    }
}

/// The whole network within [`limits`]: layers, weights, work and activations.
fn check_limits(net: &Net) -> Result<()> {
    let mut b = Budget::new(net.in_c, net.in_h, net.in_w)?;
    let (mut c, mut h, mut w) = (net.in_c, net.in_h, net.in_w);
    let conv = |b: &mut Budget, cv: &Conv, h: usize, w: usize| {
        b.conv(&cv.name, (cv.cin, cv.cout), (cv.k, cv.stride, cv.pad), h, w)
    };
    for l in &net.layers {
        b.layer()?;
        match l {
            Layer::Conv(cv) => {
                (h, w) = conv(&mut b, cv, h, w)?;
                c = cv.cout;
            }
            Layer::Fire(f) => {
                let (sh, sw) = conv(&mut b, &f.squeeze, h, w)?;
                (h, w) = conv(&mut b, &f.expand1x1, sh, sw)?;
                conv(&mut b, &f.expand3x3, sh, sw)?;
                c = f.expand1x1.cout + f.expand3x3.cout;
                b.activation(&f.name, c, h, w)?;
            }
            Layer::MaxPool { name } => {
                if h < 3 || w < 3 {
                    bail!("max pool '{name}' on a {h}x{w} input");
                }
                (h, w) = (common::qnet::maxpool_out(h), common::qnet::maxpool_out(w));
                b.activation(name, c, h, w)?;
            }
            Layer::GlobalAvgPool { name } => {
                (h, w) = (1, 1);
                b.activation(name, c, h, w)?;
            }
        }
    }
    Ok(())
}

fn single_output(n: &NodeProto) -> Result<&str> {
    match n.output.first() {
        Some(o) if !o.is_empty() => Ok(o),
        _ => bail!("node '{}' ({}) has no output", node_name(n), n.op_type),
    }
}

/// The layer order the accelerator handles: conv, then pools and Fires, then a classifier
/// conv and the global average pool.
fn check_sequence(layers: &[Layer]) -> Result<()> {
    let n = layers.len();
    if !matches!(layers.first(), Some(Layer::Conv(_))) {
        bail!("the network does not start with a convolution");
    }
    if !layers.iter().any(|l| matches!(l, Layer::Fire(_))) {
        bail!("the network has no Fire module");
    }
    if n < 3
        || !matches!(layers[n - 1], Layer::GlobalAvgPool { .. })
        || !matches!(layers[n - 2], Layer::Conv(_))
    {
        bail!("the network does not end with a classifier convolution and a global average pool");
    }
    for l in &layers[1..n - 2] {
        match l {
            Layer::Conv(c) => bail!(
                "convolution '{}' between Fire modules is not a SqueezeNet layer",
                c.name
            ),
            Layer::GlobalAvgPool { name } => {
                bail!("global average pool '{name}' is not at the end")
            }
            _ => {}
        }
    }
    Ok(())
}
