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

/// `ActPath`, both variants, against a model: one cycle later, the source word (full: each
/// buffer's register, loaded for the engine's source or a bus read; lean: one register that
/// holds between issues), padding taps zero.
#[test]
fn act_path_matches_its_model() {
    use hdl::act_path::ActPath;
    for lean in [false, true] {
        let mut rng = Rng(0xac7 + lean as u64);
        // (a, b, s, src, issue, inr, rq_buf)
        let vectors: Vec<(u64, u64, u64, u64, bool, bool, u64)> = (0..300)
            .map(|_| {
                let r = rng.next();
                let issue = r & 3 != 0;
                // Bus reads come only while the engine is idle.
                let rq = if issue {
                    0
                } else {
                    [0, 1, 2, 4][(r >> 2 & 3) as usize]
                };
                (
                    rng.next(),
                    rng.next(),
                    rng.next(),
                    r >> 4 & 3,
                    issue,
                    issue && r >> 6 & 7 != 0,
                    rq,
                )
            })
            .collect();
        let mut reg = 0u64;
        let mut want = Vec::new();
        for &(a, b, s, src, issue, inr, rq) in &vectors {
            if lean {
                if issue {
                    reg = if inr { a } else { 0 };
                }
                want.push((reg, [0; 3]));
            } else {
                let pick = |k: u64, w: u64| {
                    let eng = inr && (src == k || (k == 2 && src == 3));
                    if eng || rq >> k & 1 == 1 { w } else { 0 }
                };
                let regs = [pick(0, a), pick(1, b), pick(2, s)];
                want.push((regs[0] | regs[1] | regs[2], regs));
            }
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<ActPath>| x.clock.next = !x.clock.val());
        sim.add_testbench(move |mut sim: Sim<ActPath>| {
            let mut x = sim.init()?;
            wait_clock_true!(sim, clock, x);
            for &(a, b, s, src, issue, inr, rq) in &vectors {
                x.a.next = a.into();
                x.b.next = b.into();
                x.s.next = s.into();
                x.src.next = src.into();
                x.issue.next = issue;
                x.inr.next = inr;
                x.rq_buf.next = rq.into();
                wait_clock_cycle!(sim, clock, x);
                let w = [x.qa.val(), x.qb.val(), x.qs.val()].map(|v| v.to_u64());
                got2.lock().unwrap().push((x.q.val().to_u64(), w));
            }
            sim.done(x)
        });
        let mut uut = ActPath::new(lean);
        uut.connect_all();
        sim.run(Box::new(uut), 100_000).unwrap();
        assert_eq!(*got.lock().unwrap(), want, "lean {lean}");
    }
}
