//! Issue 3 "done when": whole layers of real SqueezeNet shape run on the Verilated engine
//! (ulx3s configuration), tiled by the job compiler into row bands (3x3 with halo) with the
//! weights resident across bands. Every output byte must equal the device model running the
//! same jobs and the direct convolution of `common::reference`; the 1x1 and 3x3 layers must
//! keep at least 80 % of the MACs busy.
//!
//! Needs the `ulx3s` model in the build (`SQZ_SIM_CONFIGS`, default `ulx3s,small,icebreaker`): without
//! it the tests skip loudly, and fail under `SQZ_REQUIRE_DATA=1` as CI sets.

use std::time::Instant;

use common::DeviceConfig;
use common::compile::{Executor, Plan};
use common::device::Device;
use common::qnet::{QConv, QLayer, QNet};
use common::reference;
use common::synthetic::SplitMix;
use common::tensor::Tensor;
use sim::Core;

/// A random byte where about 1 in 16 is an extreme of the range.
fn byte(rng: &mut SplitMix, signed: bool) -> u8 {
    let (lo, hi) = if signed { (-128, 127) } else { (0, 255) };
    match rng.range(0, 31) {
        0 => lo as i8 as u8,
        1 => hi as u8,
        _ => rng.range(lo, hi) as i8 as u8,
    }
}

/// A convolution with seeded random weights (extremes -128 and 127 included) and per-channel
/// requantization spread so outputs cover the byte range, saturate both ways, and hit the
/// corner cases: shift 0, shift 47, the largest multiplier, a zero multiplier.
fn random_conv(seed: u64, shape: [usize; 5], in_signed: bool) -> QConv {
    let [cin, cout, kernel, stride, pad] = shape;
    let rng = &mut SplitMix(seed);
    let weights = (0..cout * cin * kernel * kernel)
        .map(|_| byte(rng, true) as i8)
        .collect();
    // Typical accumulator spread: sqrt(fan-in) * rms activation * rms weight.
    let rms_act = if in_signed { 74.0 } else { 147.0 };
    let spread = ((cin * kernel * kernel) as f64).sqrt() * rms_act * 74.0;
    let (mut bias, mut m, mut shift) = (Vec::new(), Vec::new(), Vec::new());
    for co in 0..cout {
        let (mm, ss) = match co % 16 {
            3 => (1, 0),       // shift 0: saturates almost everywhere
            7 => (32767, 47),  // shift 47: everything rounds to 0 or -0
            11 => (0, 0),      // zero multiplier
            12 => (32767, 20), // largest multiplier
            _ => common::arith::quantize_multiplier(
                255.0 / (2.0 * spread) * (0.25 + 3.75 * rng.range(0, 1000) as f64 / 1000.0),
            ),
        };
        m.push(mm);
        shift.push(ss);
        bias.push(rng.range(-(spread as i64), spread as i64) as i32);
    }
    QConv {
        name: format!("conv{kernel}x{kernel}_{cin}to{cout}"),
        cin,
        cout,
        kernel,
        stride,
        pad,
        weights,
        bias,
        m,
        shift,
        in_signed,
        relu: !in_signed || seed.is_multiple_of(2),
        out_scale: 1.0,
    }
}

/// Measured numbers of one layer on the RTL.
#[derive(Debug)]
struct LayerRun {
    macs: u64,
    cycles: u64,
    utilization: f64,
}

/// Run one convolution layer of `size x size` input on the device model and on the
/// Verilated ulx3s core; check both against the direct reference and print the numbers.
/// `None` when the ulx3s model is not built (the RTL part is skipped loudly).
fn check_layer(name: &str, q: QConv, size: usize, seed: u64) -> Option<LayerRun> {
    let cfg = DeviceConfig::ulx3s();
    let rng = &mut SplitMix(seed ^ 0xa5a5);
    let input: Vec<u8> = (0..q.cin * size * size)
        .map(|_| byte(rng, q.in_signed))
        .collect();
    let (want, oh, ow) = reference::conv(&q, &input, size, size);
    let net = QNet {
        name: name.into(),
        in_c: q.cin,
        in_h: size,
        in_w: size,
        in_scale: 1.0,
        layers: vec![QLayer::Conv(q.clone())],
    };
    let mut plan = Plan::compile(&net, &cfg).unwrap();
    // The compiler takes a network's input as signed; these layers stand alone inside a
    // network, where their input is whatever `q` says (unsigned after a ReLU).
    for s in plan.layers[0].jobs.iter_mut().flat_map(|j| &mut j.steps) {
        s.in_signed = q.in_signed;
    }
    let lp = &plan.layers[0];
    let x = Tensor::from_chw(&input, q.cin, size, size);

    let mut dev = Device::new(cfg.clone());
    let (model_out, _) = Executor::new(&plan, &mut dev)
        .run_layer(0, &x, |_| {})
        .unwrap();
    let model_bytes = model_out.to_chw();
    assert_eq!((model_out.c, model_out.h, model_out.w), (q.cout, oh, ow));
    assert_first_equal(
        name,
        "device model vs reference",
        &model_bytes,
        &want,
        oh * ow,
    );

    // The data must exercise the range, or equality proves little.
    let zeros = want.iter().filter(|&&b| b == 0).count();
    let sat = if q.relu {
        want.iter().filter(|&&b| b == 255).count()
    } else {
        want.iter().filter(|&&b| b == 127 || b == 128).count()
    };
    assert!(
        zeros < want.len() * 3 / 4,
        "{name}: {zeros} of {} outputs are 0",
        want.len()
    );
    assert!(
        sat > 0 && zeros > 0,
        "{name}: no saturated or no zero outputs"
    );

    if !Core::models().contains(&cfg.name.as_str()) {
        common::data::skip(
            &format!("{name} on the RTL"),
            &format!("the ulx3s model is not built (built: {:?})", Core::models()),
        );
        return None;
    }

    let t = Instant::now();
    let mut core = Core::for_config(&cfg).unwrap();
    let c0 = core.cycles();
    let (rtl_out, st) = Executor::new(&plan, &mut core)
        .run_layer(0, &x, |_| {})
        .unwrap_or_else(|e| panic!("{name} on the RTL: {e}"));
    let wall = t.elapsed().as_secs_f64();
    let clocked = core.cycles() - c0;
    let in_model = core.sim_time().as_secs_f64();
    let cpu = core.cpu_time().as_secs_f64();
    assert_first_equal(
        name,
        "RTL vs device model",
        &rtl_out.to_chw(),
        &model_bytes,
        oh * ow,
    );

    let bands = lp.jobs.iter().map(|j| j.tile).max().unwrap_or(0) + 1;
    // Tiled into row bands, every band with the same resident weights (loaded once).
    assert!(
        bands > 1,
        "{name}: {bands} band(s); the layer should not fit whole"
    );
    assert_eq!(
        lp.weight_sets.len(),
        1,
        "{name}: weights reloaded between bands"
    );
    let util = lp.macs as f64 / (cfg.multipliers() as f64 * st.cycles as f64);
    eprintln!(
        "{name}: {} -> {:?}, {} MACs, {} job cycles ({} jobs, {bands} bands, {} weight sets), \
         MAC utilization {:.1} %; {clocked} cycles simulated in {wall:.1} s, {in_model:.1} s of \
         it in the model: {:.0} k cycles/s ({:.0} k cycles per CPU second)",
        format_args!("{:?}", lp.in_shape),
        lp.out_shape,
        lp.macs,
        st.cycles,
        st.jobs,
        lp.weight_sets.len(),
        100.0 * util,
        clocked as f64 / in_model / 1e3,
        clocked as f64 / cpu / 1e3
    );
    Some(LayerRun {
        macs: lp.macs,
        cycles: st.cycles,
        utilization: util,
    })
}

/// Equality of two `[c][h][w]` byte tensors, reporting the first difference's position.
fn assert_first_equal(name: &str, what: &str, got: &[u8], want: &[u8], plane: usize) {
    assert_eq!(got.len(), want.len(), "{name}: {what}: sizes");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        let bad = (0..got.len()).filter(|&i| got[i] != want[i]).count();
        panic!(
            "{name}: {what}: {bad} of {} bytes differ; first at channel {} pixel {}: {} != {}",
            got.len(),
            i / plane,
            i % plane,
            got[i],
            want[i]
        );
    }
}

#[test]
fn fire2_squeeze_1x1_55x55() {
    let q = random_conv(1, [96, 16, 1, 1, 0], false);
    if let Some(r) = check_layer("fire2/squeeze1x1", q, 55, 11) {
        assert_eq!(r.macs, 55 * 55 * 96 * 16);
        assert!(r.utilization >= 0.80, "{r:?}");
    }
}

#[test]
fn fire2_expand3x3_55x55() {
    let q = random_conv(2, [16, 64, 3, 1, 1], false);
    if let Some(r) = check_layer("fire2/expand3x3", q, 55, 12) {
        assert_eq!(r.macs, 55 * 55 * 16 * 64 * 9);
        assert!(r.utilization >= 0.80, "{r:?}");
    }
}

#[test]
fn conv1_v10_7x7_s2_im2col() {
    let q = random_conv(3, [3, 96, 7, 2, 0], true);
    if let Some(r) = check_layer("v1.0 conv1", q, 227, 13) {
        assert_eq!(r.macs, 111 * 111 * 96 * 147);
        assert!(r.cycles > 0);
    }
}

#[test]
fn conv1_v11_3x3_s2_im2col() {
    let q = random_conv(4, [3, 64, 3, 2, 0], true);
    if let Some(r) = check_layer("v1.1 conv1", q, 227, 14) {
        assert_eq!(r.macs, 113 * 113 * 64 * 27);
        assert!(r.cycles > 0);
    }
}
