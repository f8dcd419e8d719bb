//! The engine's small blocks on their own in rust-hdl's simulator: `Delay` against a model
//! of a register line (every length the `Schedule`s use, with hold and clear).

use common::{DeviceConfig, Schedule};
use hdl::delay::Delay;
use rust_hdl::prelude::*;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

mod support;
use support::Rng;

/// A `Delay` of `n` stages driven with random data, enables and clears; returns what `q`
/// held after each edge, and what a register line model says it should hold.
fn run_delay(n: usize, seed: u64) -> (Vec<u64>, Vec<u64>) {
    let mut rng = Rng(seed);
    let vectors: Vec<(u64, bool, bool)> = (0..200)
        .map(|_| {
            let r = rng.next();
            (r & 0xffff, r >> 20 & 3 != 0, r >> 24 & 15 == 0)
        })
        .collect();
    let mut line: VecDeque<u64> = std::iter::repeat_n(0, n).collect();
    let want: Vec<u64> = vectors
        .iter()
        .map(|&(d, en, clr)| {
            if n == 0 {
                return d;
            }
            if clr {
                line.iter_mut().for_each(|x| *x = 0);
            } else if en {
                line.pop_back();
                line.push_front(d);
            }
            *line.back().unwrap()
        })
        .collect();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Delay<Bits<16>>>| {
        x.clock.next = !x.clock.val()
    });
    sim.add_testbench(move |mut sim: Sim<Delay<Bits<16>>>| {
        let mut x = sim.init()?;
        wait_clock_true!(sim, clock, x);
        for &(d, en, clr) in &vectors {
            x.d.next = d.into();
            x.en.next = en;
            x.reset.next = clr;
            if n == 0 {
                x = sim.wait(1, x)?;
                got2.lock().unwrap().push(x.q.val().to_u64());
                wait_clock_cycle!(sim, clock, x);
            } else {
                wait_clock_cycle!(sim, clock, x);
                got2.lock().unwrap().push(x.q.val().to_u64());
            }
        }
        sim.done(x)
    });
    let mut uut = Delay::<Bits<16>>::new(n);
    uut.connect_all();
    sim.run(Box::new(uut), 100_000).unwrap();
    let got = got.lock().unwrap().clone();
    (got, want)
}

#[test]
fn delay_matches_a_register_line() {
    for n in [0, 1, 2, 3, 6] {
        let (got, want) = run_delay(n, 0x5eed + n as u64);
        assert_eq!(got, want, "Delay::new({n})");
    }
}

/// The contract's bus read latency and the lines the core builds from the schedules.
#[test]
fn schedules_give_the_documented_depths() {
    let full = Schedule::of(&DeviceConfig::ulx3s());
    let lean = Schedule::of(&DeviceConfig::icebreaker());
    assert_eq!((full.bus_read(), lean.bus_read()), (7, 4));
    assert_eq!((full.requant, lean.requant), (8, 6));
    assert_eq!((full.pool_addr_stages(), full.drain_addr_stages()), (4, 10));
    assert_eq!((lean.pool_addr_stages(), lean.drain_addr_stages()), (2, 3));
    assert_eq!(Schedule::of(&DeviceConfig::small()), full);
}
