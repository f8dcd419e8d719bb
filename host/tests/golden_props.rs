//! The fast int8 golden model (AVX2 and portable kernels) equals the direct reference
//! (`common::reference`), on random small layers including the extremes.

use common::qnet::{QConv, QFire, QLayer, QNet};
use common::reference::{conv_tensor, run};
use common::tensor::Tensor8;
use host::golden::{Golden, Kernel};
use proptest::prelude::*;

fn extreme_i8() -> impl Strategy<Value = i8> {
    prop_oneof![Just(-128i8), Just(127i8), Just(0i8), any::<i8>()]
}

fn extreme_u8() -> impl Strategy<Value = u8> {
    prop_oneof![Just(255u8), Just(0u8), Just(128u8), any::<u8>()]
}

#[derive(Debug, Clone)]
struct Case {
    q: QConv,
    h: usize,
    w: usize,
    input: Vec<u8>,
}

fn conv_case() -> impl Strategy<Value = Case> {
    (
        1usize..20,
        1usize..11,
        prop_oneof![Just(1usize), Just(3), Just(5), Just(7)],
        1usize..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(cin, cout, k, stride, in_signed, relu)| {
            let pad = 0..=k / 2;
            (pad, k.max(1)..k + 9, k.max(1)..k + 9).prop_flat_map(move |(pad, h, w)| {
                (
                    proptest::collection::vec(extreme_i8(), cout * cin * k * k),
                    proptest::collection::vec(
                        prop_oneof![
                            Just(i32::MAX),
                            Just(i32::MIN),
                            -100_000i32..100_000,
                            any::<i32>()
                        ],
                        cout,
                    ),
                    proptest::collection::vec(prop_oneof![Just(32767u16), 0u16..32768], cout),
                    proptest::collection::vec(0u8..=47, cout),
                    proptest::collection::vec(extreme_u8(), cin * h * w),
                )
                    .prop_map(move |(weights, bias, m, shift, input)| Case {
                        q: QConv {
                            name: "c".into(),
                            cin,
                            cout,
                            kernel: k,
                            stride,
                            pad,
                            weights,
                            bias,
                            m,
                            shift,
                            in_signed,
                            relu,
                            out_scale: 1.0,
                        },
                        h,
                        w,
                        input,
                    })
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fast_conv_equals_reference(c in conv_case()) {
        let x = Tensor8 { c: c.q.cin, h: c.h, w: c.w, signed: c.q.in_signed, data: c.input.clone() };
        let want = conv_tensor(&c.q, &x);
        let mut net = QNet { name: "t".into(), in_c: c.q.cin, in_h: c.h, in_w: c.w, in_scale: 1.0, layers: vec![] };
        // The golden model's input is always signed; an unsigned layer is tested behind a
        // 1x1 ReLU conv computing relu(-2x), which reaches every even byte and 255.
        let input: Vec<i8>;
        if c.q.in_signed {
            input = c.input.iter().map(|&b| b as i8).collect();
        } else {
            let cin = c.q.cin;
            let mut weights = vec![0i8; cin * cin];
            for i in 0..cin { weights[i * cin + i] = -2; }
            net.layers.push(QLayer::Conv(QConv {
                name: "copy".into(), cin, cout: cin, kernel: 1, stride: 1, pad: 0, weights,
                bias: vec![0; cin], m: vec![1; cin], shift: vec![0; cin], in_signed: true, relu: true, out_scale: 1.0,
            }));
            input = c.input.iter().map(|&b| (-((b as i32 + 1) / 2)) as i8).collect();
        }
        net.layers.push(QLayer::Conv(c.q.clone()));
        let want_net = run(&net, &input);
        for k in Kernel::supported() {
            let got = Golden::with_kernel(&net, k).run_layers(&input);
            prop_assert_eq!(&got, &want_net, "kernel {:?}", k);
        }
        if c.q.in_signed {
            prop_assert_eq!(&want_net.last().unwrap().out, &want);
        }
    }
}

/// A whole tiny network (conv, pool, Fire, classifier, avgpool) with saturating and
/// wrapping parameters, fast vs reference, both kernels.
#[test]
fn tiny_network_equals_reference() {
    let mut rng = 12345u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut conv = |name: &str, cin, cout, k, stride, pad, in_signed| QConv {
        name: name.into(),
        cin,
        cout,
        kernel: k,
        stride,
        pad,
        weights: (0..cout * cin * k * k).map(|_| next() as i8).collect(),
        bias: (0..cout).map(|_| (next() % 20001) as i32 - 10000).collect(),
        m: (0..cout).map(|_| (next() % 32768) as u16).collect(),
        shift: (0..cout).map(|_| 10 + (next() % 12) as u8).collect(),
        in_signed,
        relu: true,
        out_scale: 0.1,
    };
    let net = QNet {
        name: "tiny".into(),
        in_c: 3,
        in_h: 23,
        in_w: 23,
        in_scale: 1.0,
        layers: vec![
            QLayer::Conv(conv("conv1", 3, 16, 3, 2, 0, true)),
            QLayer::MaxPool {
                name: "pool1".into(),
            },
            QLayer::Fire(QFire {
                name: "fire2".into(),
                squeeze: conv("s", 16, 8, 1, 1, 0, false),
                expand1x1: conv("e1", 8, 16, 1, 1, 0, false),
                expand3x3: conv("e3", 8, 16, 3, 1, 1, false),
            }),
            QLayer::Conv(conv("conv10", 32, 10, 1, 1, 1, false)),
            QLayer::AvgPool {
                name: "pool10".into(),
                bias: vec![0; 10],
                m: vec![20000; 10],
                shift: vec![20; 10],
                relu: true,
                out_scale: 0.05,
            },
        ],
    };
    let input: Vec<i8> = (0..3 * 23 * 23)
        .map(|i| ((i * 37 + 11) % 256) as u8 as i8)
        .collect();
    let want = run(&net, &input);
    assert_eq!(want.len(), 5);
    assert!(want[2].squeeze.is_some());
    for k in Kernel::supported() {
        assert_eq!(
            Golden::with_kernel(&net, k).run_layers(&input),
            want,
            "kernel {k:?}"
        );
    }
}
