//! Arithmetic leaves in rust-hdl's simulator against `common::arith`, with the extremes:
//! activations -128 / 127 / 255 (signed and unsigned), weights -128 / 127, saturation both
//! ways, all-zero, shift 0 and 47, wrapping bias addition.

use common::arith::{OutMode, activation_value, mac, requantize};
use common::{DeviceConfig, Schedule};
use hdl::mul8::{Mul8, sext};
use hdl::requant::Requant;
use hdl::tree::{Acc32, AddPairs, Sum4};
use rust_hdl::prelude::*;
use std::sync::{Arc, Mutex};

mod support;
use support::Rng;

/// The MAC datapath of one row (multiply, two adder levels, accumulate) as a chain of the
/// leaves, for checking against `arith::mac`. The multiplier registers its inputs and products
/// (2 cycles); the rest is combinational.
#[derive(LogicBlock, Default)]
struct Dot8 {
    clock: Signal<In, Clock>,
    a: Signal<In, Bits<64>>,
    sgn: Signal<In, Bit>,
    slot: Signal<In, Bit>,
    w: Signal<In, Bits<64>>,
    acc_in: Signal<In, Bits<32>>,
    clr: Signal<In, Bit>,
    y: Signal<Out, Bits<32>>,
    mul: Mul8,
    pairs: AddPairs,
    sum4: Sum4,
    acc: Acc32,
}

impl Logic for Dot8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.mul.clock.next = self.clock.val();
        self.mul.a.next = self.a.val();
        self.mul.sgn.next = self.sgn.val();
        self.mul.w.next = self.w.val();
        self.mul.slot.next = self.slot.val();
        self.acc.acc.next = self.acc_in.val();
        self.acc.clr.next = self.clr.val();
        self.y.next = self.acc.y.val();
        self.pairs.p.next = self.mul.p.val();
        self.sum4.q.next = self.pairs.q.val();
        self.acc.s.next = self.sum4.s.val();
    }
}

fn word(bytes: [u8; 8]) -> u64 {
    u64::from_le_bytes(bytes)
}

#[test]
fn mac_leaves_match_arith() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    // (activation word, signed, weight word, accumulator in, clear)
    let mut vectors: Vec<(u64, bool, u64, i32, bool)> = vec![
        (word([0x80; 8]), true, word([0x80; 8]), 0, true), // -128 * -128 x 8
        (word([0xff; 8]), false, word([0x80; 8]), 0, true), // 255 * -128 x 8 (most negative)
        (word([0x7f; 8]), true, word([0x7f; 8]), 0, true),
        (word([0x80; 8]), true, word([0x7f; 8]), i32::MIN, false), // wraps
        (word([0xff; 8]), false, word([0x7f; 8]), i32::MAX, false), // wraps
        (0, false, 0, 0, true),
        (0, true, word([0x80; 8]), -7, false),
        (
            word([0x80, 0x7f, 0xff, 0, 1, 0x81, 0xfe, 0x40]),
            true,
            word([0x80, 0x7f, 0x01, 0xff, 0x80, 0x80, 0x7f, 0]),
            5,
            false,
        ),
        (
            word([0x80, 0x7f, 0xff, 0, 1, 0x81, 0xfe, 0x40]),
            false,
            word([0x80, 0x7f, 0x01, 0xff, 0x80, 0x80, 0x7f, 0]),
            5,
            false,
        ),
    ];
    for _ in 0..200 {
        let clr = rng.next() & 1 == 1;
        vectors.push((
            rng.next(),
            rng.next() & 1 == 1,
            rng.next(),
            rng.next() as i32,
            clr,
        ));
    }
    let want: Vec<i32> = vectors
        .iter()
        .map(|&(a, sgn, w, acc, clr)| {
            let mut y = if clr { 0 } else { acc };
            for l in 0..8 {
                y = mac(
                    y,
                    activation_value((a >> (8 * l)) as u8, sgn),
                    (w >> (8 * l)) as u8 as i8,
                );
            }
            y
        })
        .collect();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Dot8>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: Sim<Dot8>| {
        let mut x = sim.init()?;
        // One vector per cycle into the multiplier; its products come out 2 edges later, so
        // the combinational accumulator inputs of a vector follow one cycle behind it.
        for j in 0..=vectors.len() {
            if let Some(&(a, sgn, w, _, _)) = vectors.get(j) {
                x.a.next = a.into();
                x.sgn.next = sgn;
                x.w.next = w.into();
            }
            if j >= 1 {
                let (_, _, _, acc, clr) = vectors[j - 1];
                x.acc_in.next = (acc as u32 as u64).into();
                x.clr.next = clr;
            }
            wait_clock_cycle!(sim, clock, x);
            if j >= 1 {
                got2.lock().unwrap().push(x.y.val().to_u32() as i32);
            }
        }
        sim.done(x)
    });
    let mut uut = Dot8::default();
    uut.connect_all();
    sim.run(Box::new(uut), 1_000_000).unwrap();
    assert_eq!(*got.lock().unwrap(), want);
}

/// Requantizer pipeline: one vector per cycle in, bytes out `Schedule::requant` cycles later
/// in their lane.
#[test]
fn requant_pipeline_matches_arith() {
    let s = Schedule::of(&DeviceConfig::ulx3s());
    assert_eq!(Requant::stages(false), s.requant);
    requant_pipeline(false, s.requant);
}

/// The same for the lean (iCE40) requantizer, which takes the sum with its bias.
#[test]
fn lean_requant_pipeline_matches_arith() {
    let s = Schedule::of(&DeviceConfig::icebreaker());
    assert_eq!(Requant::stages(true), s.requant);
    requant_pipeline(true, s.requant);
}

fn requant_pipeline(lean: bool, stages: usize) {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    // (acc, bias, m, shift, relu, channel)
    let mut vectors: Vec<(i32, i32, u16, u8, bool, u16)> = Vec::new();
    for &acc in &[i32::MIN, i32::MAX, 0, -1, 1, 1000, -1000, 255, 256, -129] {
        for &(m, sh) in &[
            (1u16, 0u8),
            (32767, 0),
            (32767, 47),
            (32767, 46),
            (16384, 14),
            (0, 0),
            (1, 1),
            (20000, 39),
        ] {
            for &relu in &[false, true] {
                vectors.push((acc, 0, m, sh, relu, (rng.next() % 2048) as u16));
            }
        }
    }
    // Wrapping bias addition and ties (x.5 rounds up).
    vectors.push((i32::MAX, 1, 1, 0, false, 3));
    vectors.push((5, 0, 1, 1, false, 0));
    vectors.push((-5, 0, 1, 1, false, 1));
    vectors.push((-7, 0, 1, 1, false, 2));
    for _ in 0..300 {
        vectors.push((
            rng.next() as i32 >> (rng.next() % 32),
            rng.next() as i32 >> (rng.next() % 32),
            (rng.next() % 32768) as u16,
            (rng.next() % 48) as u8,
            rng.next() & 1 == 1,
            (rng.next() % 2048) as u16,
        ));
    }
    let want: Vec<(u64, u64, u64)> = vectors
        .iter()
        .map(|&(acc, bias, m, sh, relu, ch)| {
            let mode = if relu { OutMode::Relu } else { OutMode::Linear };
            // The lean requantizer adds no bias (the MAC row's sum starts from it).
            let x = if lean { acc } else { acc.wrapping_add(bias) };
            let y = requantize(x, m, sh, mode) as u64;
            let lane = ch as u64 % 8;
            (y << (8 * lane), 1 << lane, (100 + ch as u64 / 8) & 0xffff)
        })
        .collect();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    let n = vectors.len();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Requant>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: Sim<Requant>| {
        let mut x = sim.init()?;
        x.lim.next = 2047.into();
        x.obase.next = 100.into();
        for i in 0..n + stages {
            x.dv.next = i < n;
            if let Some(&(acc, bias, m, sh, relu, ch)) = vectors.get(i) {
                x.acc.next = (acc as u32 as u64).into();
                x.bias.next = (bias as u32 as u64).into();
                x.m.next = (m as u64).into();
                x.shift.next = (sh as u64).into();
                x.relu.next = relu;
                x.cj.next = (ch as u64).into();
            }
            wait_clock_cycle!(sim, clock, x);
            if i + 1 >= stages && i + 1 < n + stages {
                got2.lock().unwrap().push((
                    x.wd_out.val().to_u64(),
                    x.be_out.val().to_u64(),
                    x.addr_out.val().to_u64(),
                ));
            }
        }
        sim.done(x)
    });
    let mut uut = Requant::new(0, lean, None);
    uut.connect_all();
    sim.run(Box::new(uut), 100_000).unwrap();
    let got = got.lock().unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "vector {i}");
    }
}

#[test]
fn sext_helper() {
    assert_eq!(sext(0x1ffff, 17), -1);
    assert_eq!(sext(0x10000, 17), -65536);
    assert_eq!(sext(0x0ffff, 17), 65535);
}

/// The max-pool leaf: per-lane maximum, signed and unsigned, at the byte extremes.
#[test]
fn max8_leaf_matches_arith() {
    use hdl::pool::Max8;
    let mut rng = Rng(99);
    let mut vectors: Vec<(u64, u64, bool)> = vec![
        (
            word([0x80, 0x7f, 0xff, 0, 1, 0x80, 0x7f, 0xff]),
            word([0x7f, 0x80, 0, 0xff, 0x80, 0x80, 0x7f, 0xfe]),
            true,
        ),
        (
            word([0x80, 0x7f, 0xff, 0, 1, 0x80, 0x7f, 0xff]),
            word([0x7f, 0x80, 0, 0xff, 0x80, 0x80, 0x7f, 0xfe]),
            false,
        ),
        (0, 0, true),
    ];
    for _ in 0..200 {
        vectors.push((rng.next(), rng.next(), rng.next() & 1 == 1));
    }
    let want: Vec<u64> = vectors
        .iter()
        .map(|&(a, b, sgn)| {
            let mut y = [0u8; 8];
            for (l, yl) in y.iter_mut().enumerate() {
                let (x, z) = ((a >> (8 * l)) as u8, (b >> (8 * l)) as u8);
                let m = activation_value(x, sgn).max(activation_value(z, sgn));
                *yl = m as u8;
            }
            u64::from_le_bytes(y)
        })
        .collect();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    let mut sim = Simulation::new();
    sim.add_testbench(move |mut sim: Sim<Max8>| {
        let mut x = sim.init()?;
        for &(a, b, sgn) in &vectors {
            x.a.next = a.into();
            x.b.next = b.into();
            x.sgn.next = sgn;
            x = sim.wait(10, x)?;
            got2.lock().unwrap().push(x.y.val().to_u64());
        }
        sim.done(x)
    });
    let mut uut = Max8::default();
    uut.connect_all();
    sim.run(Box::new(uut), 1_000_000).unwrap();
    assert_eq!(*got.lock().unwrap(), want);
}
