//! Import recognises SqueezeNet by structure: renamed nodes/tensors and a 224x224 input
//! still load and run; other graphs are refused with the node and the reason.

use std::collections::HashMap;

use common::data::shared_or_skip;
use host::float;
use host::net::{Layer, Net};
use host::onnx::{AttributeProto, ModelProto, NodeProto};
use ndarray::Array3;
use prost::Message;

fn load_proto(name: &str) -> Option<ModelProto> {
    let dir = shared_or_skip(name)?;
    let b = std::fs::read(dir.join("models/squeezenet_v1.1.onnx")).unwrap();
    Some(ModelProto::decode_bytes(&b).unwrap())
}

/// Rename every node and tensor to an opaque name.
fn rename_all(m: &mut ModelProto) {
    let g = m.graph.as_mut().unwrap();
    let mut map: HashMap<String, String> = HashMap::new();
    let mut ren = |s: &mut String| {
        if s.is_empty() {
            return;
        }
        let n = map.len();
        *s = map
            .entry(s.clone())
            .or_insert_with(|| format!("t{n}"))
            .clone();
    };
    for n in &mut g.node {
        n.name = format!("node_{}", n.name.len() * 7919 % 1000);
        n.input.iter_mut().for_each(&mut ren);
        n.output.iter_mut().for_each(&mut ren);
    }
    g.initializer.iter_mut().for_each(|t| ren(&mut t.name));
    g.input.iter_mut().for_each(|v| ren(&mut v.name));
    g.output.iter_mut().for_each(|v| ren(&mut v.name));
    g.value_info.clear();
}

fn set_input_size(m: &mut ModelProto, s: i64) {
    let g = m.graph.as_mut().unwrap();
    let inits: Vec<String> = g.initializer.iter().map(|t| t.name.clone()).collect();
    let inp = g
        .input
        .iter_mut()
        .find(|v| !inits.contains(&v.name))
        .unwrap();
    let shape = inp
        .r#type
        .as_mut()
        .unwrap()
        .tensor_type
        .as_mut()
        .unwrap()
        .shape
        .as_mut()
        .unwrap();
    shape.dim[2].dim_value = Some(s);
    shape.dim[3].dim_value = Some(s);
}

fn reload(m: &ModelProto) -> anyhow::Result<Net> {
    let bytes = m.encode_to_vec();
    Net::from_model(&ModelProto::decode_bytes(&bytes)?, "test")
}

fn input(net: &Net) -> Array3<f32> {
    Array3::from_shape_fn((net.in_c, net.in_h, net.in_w), |(c, y, x)| {
        ((c * 31 + y * 7 + x * 3) % 97) as f32 - 48.0
    })
}

#[test]
fn renamed_and_resized_squeezenet_loads_and_runs() {
    let Some(orig) = load_proto("renamed_and_resized_squeezenet_loads_and_runs") else {
        return;
    };
    let base = Net::from_model(&orig, "v1.1").unwrap();
    assert_eq!(
        base.layers
            .iter()
            .filter(|l| matches!(l, Layer::Fire(_)))
            .count(),
        8
    );
    let mut m = orig.clone();
    rename_all(&mut m);
    let renamed = reload(&m).unwrap();
    // Same weights, same structure: identical outputs.
    let x = input(&base);
    assert_eq!(float::classify(&base, &x), float::classify(&renamed, &x));

    set_input_size(&mut m, 224);
    let small = reload(&m).unwrap();
    assert_eq!((small.in_h, small.in_w), (224, 224));
    assert_eq!(small.shapes().last(), Some(&(1000, 1, 1)));
    let p = float::classify(&small, &input(&small));
    assert_eq!(p.len(), 1000);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
}

fn expect_refused(m: &ModelProto, want: &[&str]) {
    let e = format!("{:#}", reload(m).unwrap_err());
    for w in want {
        assert!(e.contains(w), "error '{e}' should mention '{w}'");
    }
}

#[test]
fn non_squeezenet_graphs_are_refused() {
    let Some(orig) = load_proto("non_squeezenet_graphs_are_refused") else {
        return;
    };
    // An unsupported operator in the chain.
    let mut m = orig.clone();
    let g = m.graph.as_mut().unwrap();
    let i = g.node.iter().position(|n| n.op_type == "Relu").unwrap();
    g.node[i].op_type = "Sigmoid".into();
    let name = g.node[i].name.clone();
    expect_refused(&m, &[&name, "Sigmoid"]);

    // A Fire whose expands are added instead of concatenated.
    let mut m = orig.clone();
    let g = m.graph.as_mut().unwrap();
    let i = g.node.iter().position(|n| n.op_type == "Concat").unwrap();
    g.node[i].op_type = "Add".into();
    expect_refused(&m, &["not joined by one Concat"]);

    // A max pool that is not 3x3 stride 2.
    let mut m = orig.clone();
    let g = m.graph.as_mut().unwrap();
    let i = g.node.iter().position(|n| n.op_type == "MaxPool").unwrap();
    let name = g.node[i].name.clone();
    for a in &mut g.node[i].attribute {
        if a.name == "kernel_shape" {
            a.ints = vec![2, 2];
        }
    }
    expect_refused(&m, &[&name, "3x3 stride 2"]);

    // A grouped convolution.
    let mut m = orig.clone();
    let g = m.graph.as_mut().unwrap();
    let i = g.node.iter().position(|n| n.op_type == "Conv").unwrap();
    g.node[i].attribute.push(AttributeProto {
        name: "group".into(),
        r#type: 2,
        i: 3,
        ..Default::default()
    });
    expect_refused(&m, &["group 3"]);

    // A plain chain without Fire modules: conv -> relu -> global pool.
    let mut m = orig.clone();
    let g = m.graph.as_mut().unwrap();
    let conv = g.node.iter().position(|n| n.op_type == "Conv").unwrap();
    let relu_out = g.node[conv + 1].output[0].clone();
    let gap = g
        .node
        .iter()
        .position(|n| n.op_type == "GlobalAveragePool")
        .unwrap();
    let mut nodes: Vec<NodeProto> = g.node[..=conv + 1].to_vec();
    let mut gn = g.node[gap].clone();
    gn.input = vec![relu_out];
    nodes.push(gn);
    nodes.extend(g.node[gap + 1..].iter().cloned());
    g.node = nodes;
    expect_refused(&m, &["no Fire module"]);

    // Not a protobuf at all.
    assert!(ModelProto::decode_bytes(b"hello, this is not onnx").is_err());
}
