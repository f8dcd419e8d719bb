//! The engine's small blocks on their own in rust-hdl's simulator: `Delay` against a model
//! of a register line (every length the `Schedule`s use, with hold and clear), and the core's
//! sub-blocks (`ActPath`, `BusPort`, `BusAnswer`, `OutStage`) cycle by cycle against models of
//! their documented contracts.

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

/// A word that stands for the descriptor RAM's content at `addr`.
fn desc_mem(addr: u64) -> u64 {
    addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xde5c
}

/// `BusPort`, both schedules, against the memory map (`common::bus`): the request at t0
/// (`bus_in` registers later) with its decode and write enables, the next request's index, and
/// the read's tags and descriptor word at `act` (the descriptor RAM modelled with its read
/// latency of 1 cycle).
#[test]
fn bus_port_matches_the_memory_map() {
    use common::bus::Region;
    use hdl::bus_port::BusPort;
    const ROWS: u64 = 16;
    const DEPTHS: [u64; 3] = [40, 100, 300]; // descriptor, parameter, weight words
    for cfg in [DeviceConfig::ulx3s(), DeviceConfig::icebreaker()] {
        let s = Schedule::of(&cfg);
        assert_eq!(s.desc_addr + 1 + s.desc_data, s.act);
        let mut rng = Rng(0xb05 + s.bus_in as u64);
        // (addr, wdata, write, read, start, busy)
        let vectors: Vec<(u64, u64, bool, bool, bool, bool)> = (0..400)
            .map(|_| {
                let r = rng.next();
                let region = [0, 1, 2, 3, 4, 5, 6, 15][(r & 7) as usize];
                let depth = match region {
                    0 => DEPTHS[0],
                    4 => DEPTHS[2] * ROWS,
                    5 => DEPTHS[1],
                    _ => 1 << 16,
                };
                // Inside, at the edge of, past the memory; past 2^16 words.
                let index = match r >> 3 & 3 {
                    0 => rng.next() % depth,
                    1 => depth - 2 + (rng.next() & 3),
                    2 => rng.next() & 0xf_ffff,
                    _ => (4 * ROWS) << 16 | rng.next() & 0xfff,
                } & 0xf_ffff;
                (
                    region << 20 | index,
                    rng.next(),
                    r >> 8 & 1 == 1,
                    r >> 9 & 1 == 1,
                    r >> 10 & 7 == 0,
                    r >> 13 & 3 == 0,
                )
            })
            .collect();
        // Cycle i's request at t0 is vector i - bus_in (sampled before the edge, so n registers
        // show vector i - n); before the first, all zero.
        let at = |i: usize, lag: usize| {
            i.checked_sub(lag)
                .and_then(|j| vectors.get(j).copied())
                .unwrap_or_default()
        };
        let decode = |addr: u64| {
            let (region, index) = (addr >> 20, addr & 0xf_ffff);
            let word = if region == Region::Weights as u64 {
                index / ROWS
            } else {
                index
            };
            let fits = word < 1 << 16;
            let in_depth = match region {
                0 => index < DEPTHS[0],
                4 => word < DEPTHS[2],
                5 => index < DEPTHS[1],
                _ => true,
            };
            let buf = if (1..=3).contains(&region) {
                1 << (region - 1)
            } else {
                0
            };
            (region, index, word, fits, in_depth, buf)
        };
        let mut want = Vec::new();
        for i in 0..vectors.len() {
            let (addr, wdata, write, read, start, _) = at(i, s.bus_in);
            let busy = vectors[i].5;
            let (region, index, _, fits, _, buf) = decode(addr);
            let we = |r: Region| write && !busy && fits && region == r as u64;
            let next = at(i + 1, s.bus_in).0 & 0xffff;
            // The read's tags: the request `act` samples earlier, with that cycle's busy.
            let (raddr, _, _, rread, _, _) = at(i, s.bus_in + s.act);
            let rbusy = i >= s.act && vectors[i - s.act].5;
            let (rreg, rindex, _, rfits, rdepth, rbuf) = decode(raddr);
            let rv = rread && !rbusy;
            let rok = rfits && rdepth;
            want.push([
                start as u64,
                wdata,
                index & 0xffff,
                (index / ROWS) & 0xffff,
                index % ROWS,
                we(Region::Desc) as u64,
                we(Region::Params) as u64,
                we(Region::Weights) as u64,
                if write && fits { buf } else { 0 },
                next,
                region.wrapping_sub(1) & 3,
                (read && fits && buf != 0) as u64,
                rv as u64,
                rreg,
                rindex % ROWS,
                rok as u64,
                if rv && rok { rbuf } else { 0 },
                desc_mem(rindex & 0xffff),
            ]);
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<BusPort>| x.clock.next = !x.clock.val());
        let n = vectors.len();
        let vin = vectors.clone();
        sim.add_testbench(move |mut sim: Sim<BusPort>| {
            let mut x = sim.init()?;
            wait_clock_true!(sim, clock, x);
            // The descriptor RAM answers the last cycle's read address.
            let mut raddr = 0;
            for &(addr, wdata, write, read, start, busy) in &vin {
                x.bus_addr.next = addr.into();
                x.bus_wdata.next = wdata.into();
                x.bus_write.next = write;
                x.bus_read.next = read;
                x.start.next = start;
                x.busy.next = busy;
                x.desc_rdata.next = desc_mem(raddr).into();
                x = sim.wait(1, x)?;
                raddr = x.desc_raddr.val().to_u64();
                let b = |v: bool| v as u64;
                got2.lock().unwrap().push([
                    b(x.start_q.val()),
                    x.wdata.val().to_u64(),
                    x.idx16.val().to_u64(),
                    x.wword.val().to_u64(),
                    x.wrow.val().to_u64(),
                    b(x.we_desc.val()),
                    b(x.we_par.val()),
                    b(x.we_w.val()),
                    x.bwr.val().to_u64(),
                    x.next_idx.val().to_u64(),
                    x.ab_sel.val().to_u64(),
                    b(x.ab_re.val()),
                    b(x.rq_v.val()),
                    x.rq_reg.val().to_u64(),
                    x.rq_row.val().to_u64(),
                    b(x.rq_ok.val()),
                    x.rq_buf.val().to_u64(),
                    x.desc_word.val().to_u64(),
                ]);
                wait_clock_cycle!(sim, clock, x);
            }
            sim.done(x)
        });
        let [dw, pw, ww] = DEPTHS.map(|d| d as usize);
        let mut uut = BusPort::new(&s, ROWS as usize, dw, pw, ww);
        uut.connect_all();
        sim.run(Box::new(uut), 20 * n as u64).unwrap();
        let got = got.lock().unwrap().clone();
        // Skip the first samples: the descriptor word of a read before the first vector.
        let skip = s.bus_in + s.act;
        for (i, (g, w)) in got.iter().zip(&want).enumerate().skip(skip) {
            assert_eq!(
                g,
                w,
                "bus_in {} sample {i}: {:x?}",
                s.bus_in,
                at(i, s.bus_in)
            );
        }
    }
}

/// `BusAnswer`, both variants, against its contract: a read's tags at `act` give `bus_rvalid`
/// `Schedule::bus_answer` cycles later with the addressed memory's word (full: the weight row
/// pair's and the A, B, S registers' words of `act + 1`, and the weight row at `act + 1`;
/// lean: every word of `act`, held until the next read); out of range or an unmapped region
/// answers zero.
#[test]
fn bus_answer_matches_its_model() {
    use hdl::bus_answer::BusAnswer;
    for cfg in [DeviceConfig::ulx3s(), DeviceConfig::icebreaker()] {
        let s = Schedule::of(&cfg);
        let lean = s.issue_every != 1;
        let mut rng = Rng(0xa5 + lean as u64);
        // (v, region, row, ok, desc, param, ab, w, w_pair, a, b, s)
        type V = (bool, u64, u64, bool, [u64; 8]);
        let vectors: Vec<V> = (0..400)
            .map(|_| {
                let r = rng.next();
                let words = [0; 8].map(|_| rng.next());
                (
                    r & 3 == 0,
                    r >> 2 & 7,
                    r >> 5 & 0xff,
                    r >> 13 & 7 != 0,
                    words,
                )
            })
            .collect();
        let word = |k: usize| {
            let (_, reg, _, ok, w) = vectors[k];
            // Full: the weights and A, B, S answer from their registers a cycle later.
            let late = |j: usize| {
                if lean {
                    w[j]
                } else {
                    vectors.get(k + 1).map_or(0, |v| v.4[j])
                }
            };
            match (ok, reg) {
                (false, _) => 0,
                (_, 0) => w[0],
                (_, 5) => w[1] & ((1 << 54) - 1),
                (_, 1..=3) if lean => w[2],
                (_, 1..=3) => late(reg as usize + 4),
                (_, 4) => late(if lean { 3 } else { 4 }),
                _ => 0,
            }
        };
        let n = s.bus_answer;
        // (rvalid, rdata if it is defined, row4)
        let mut want = Vec::new();
        let mut held = None;
        for i in 0..vectors.len() {
            let k = i.checked_sub(n);
            let v = k.is_some_and(|k| vectors[k].0);
            if v {
                held = k.map(word);
            }
            let data = if lean || v { held } else { None };
            let row = (!lean).then(|| i.checked_sub(1).map_or(0, |k| vectors[k].2));
            want.push((v, data, row));
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<BusAnswer>| x.clock.next = !x.clock.val());
        let vin = vectors.clone();
        sim.add_testbench(move |mut sim: Sim<BusAnswer>| {
            let mut x = sim.init()?;
            wait_clock_true!(sim, clock, x);
            for &(v, reg, row, ok, w) in &vin {
                x.rq_v.next = v;
                x.rq_reg.next = reg.into();
                x.rq_row.next = row.into();
                x.rq_ok.next = ok;
                x.desc_word.next = w[0].into();
                x.param_word.next = (w[1] & ((1 << 54) - 1)).into();
                x.ab_word.next = w[2].into();
                x.w_word.next = w[3].into();
                x.w_pair.next = w[4].into();
                x.a_word.next = w[5].into();
                x.b_word.next = w[6].into();
                x.s_word.next = w[7].into();
                x = sim.wait(1, x)?;
                got2.lock().unwrap().push((
                    x.bus_rvalid.val(),
                    x.bus_rdata.val().to_u64(),
                    x.row4.val().to_u64(),
                ));
                wait_clock_cycle!(sim, clock, x);
            }
            sim.done(x)
        });
        let mut uut = BusAnswer::new(lean);
        uut.connect_all();
        sim.run(Box::new(uut), 20 * vectors.len() as u64).unwrap();
        let got = got.lock().unwrap().clone();
        for (i, (&(v, d, r), &(wv, wd, wr))) in got.iter().zip(&want).enumerate() {
            let ctx = format!("lean {lean} cycle {i}");
            assert_eq!(v, wv, "bus_rvalid, {ctx}");
            if let Some(wd) = wd {
                assert_eq!(d, wd, "bus_rdata, {ctx}");
            }
            if let Some(wr) = wr {
                assert_eq!(r, wr, "row4, {ctx}");
            }
        }
    }
}

/// `OutStage`, both schedules' write registers, against its contract: a capture starts `D`
/// drain cycles from the next cycle (first channel `co_base`, `U` more each cycle, the
/// pixel's address held; a capture restarts the drain), the engine's write (the
/// requantizers', or in a max-pool step the max-pool unit's with all bytes enabled while it
/// writes) `Schedule::write_regs` cycles later, and `wpa` registered from the engine's
/// address while busy next cycle, else the bus request's next index.
#[test]
fn out_stage_matches_its_model() {
    use hdl::out_stage::OutStage;
    for (cfg, units, drain) in [
        (DeviceConfig::ulx3s(), 4, 4),
        (DeviceConfig::icebreaker(), 2, 8),
    ] {
        let s = Schedule::of(&cfg);
        let mut rng = Rng(0x05 + drain as u64);
        // (cap, co_base, obase, req_wa, req_wd, req_we, is_max, max_wv, max_wa, max_wd,
        //  busy_next, bus_idx)
        type V = (
            bool,
            u64,
            u64,
            u64,
            u64,
            u64,
            bool,
            bool,
            u64,
            u64,
            bool,
            u64,
        );
        let vectors: Vec<V> = (0..400)
            .map(|_| {
                let r = rng.next();
                (
                    r.is_multiple_of(6),
                    r >> 3 & 0x7ff,
                    r >> 14 & 0xffff,
                    r >> 30 & 0xffff,
                    rng.next(),
                    r >> 46 & 0xff,
                    r >> 54 & 1 == 1,
                    r >> 55 & 1 == 1,
                    rng.next() & 0xffff,
                    rng.next(),
                    r >> 56 & 1 == 1,
                    rng.next() & 0xffff,
                )
            })
            .collect();
        let eng = |v: &V| {
            if v.6 {
                (v.8, v.9, if v.7 { 0xff } else { 0 })
            } else {
                (v.3, v.4, v.5)
            }
        };
        // (dv, cj while dv, ocap after the first capture, wr, wpa)
        type Out = (bool, Option<u64>, Option<u64>, (u64, u64, u64), u64);
        let mut want: Vec<Out> = Vec::new();
        let mut last_cap: Option<usize> = None;
        for i in 0..vectors.len() {
            let drain_j = last_cap.map(|k| i - k - 1).filter(|&j| j < drain);
            let cj = drain_j.map(|j| (vectors[last_cap.unwrap()].1 + (j * units) as u64) & 0x7ff);
            let ocap = last_cap.map(|k| vectors[k].2);
            let wr = i
                .checked_sub(s.write_regs)
                .map_or((0, 0, 0), |k| eng(&vectors[k]));
            let wpa = i.checked_sub(1).map_or(0, |k| {
                let v = &vectors[k];
                if v.10 { eng(v).0 } else { v.11 }
            });
            want.push((drain_j.is_some(), cj, ocap, wr, wpa));
            if vectors[i].0 {
                last_cap = Some(i);
            }
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<OutStage>| x.clock.next = !x.clock.val());
        let vin = vectors.clone();
        sim.add_testbench(move |mut sim: Sim<OutStage>| {
            let mut x = sim.init()?;
            wait_clock_true!(sim, clock, x);
            for v in &vin {
                x.cap.next = v.0;
                x.co_base.next = v.1.into();
                x.obase.next = v.2.into();
                x.req_wa.next = v.3.into();
                x.req_wd.next = v.4.into();
                x.req_we.next = v.5.into();
                x.is_max.next = v.6;
                x.max_wv.next = v.7;
                x.max_wa.next = v.8.into();
                x.max_wd.next = v.9.into();
                x.busy_next.next = v.10;
                x.bus_idx.next = v.11.into();
                x = sim.wait(1, x)?;
                got2.lock().unwrap().push((
                    x.dv.val(),
                    x.cj.val().to_u64(),
                    x.ocap.val().to_u64(),
                    (
                        x.wr_a.val().to_u64(),
                        x.wr_d.val().to_u64(),
                        x.wr_e.val().to_u64(),
                    ),
                    x.wpa.val().to_u64(),
                ));
                wait_clock_cycle!(sim, clock, x);
            }
            sim.done(x)
        });
        let mut uut = OutStage::new(units, drain, s.write_regs);
        uut.connect_all();
        sim.run(Box::new(uut), 20 * vectors.len() as u64).unwrap();
        let got = got.lock().unwrap().clone();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let ctx = format!("write_regs {} cycle {i}", s.write_regs);
            assert_eq!(g.0, w.0, "dv, {ctx}");
            if let Some(cj) = w.1 {
                assert_eq!(g.1, cj, "cj, {ctx}");
            }
            if let Some(ocap) = w.2 {
                assert_eq!(g.2, ocap, "ocap, {ctx}");
            }
            assert_eq!((g.3, g.4), (w.3, w.4), "(wr_a, wr_d, wr_e), wpa, {ctx}");
        }
    }
}

/// The full `MaxUnit` (row walk) against the golden max pool (`common::device::Device`) on
/// random tiles (`support::random_pool_step`), fed as the feeder walks them (the sequencer's
/// bounds, modelled here: rows `2*out_h` plus one if the tile has it, columns `2*out_w` plus one if
/// the tile has it, at least 3; rows past the tile read garbage, columns past it are flagged
/// outside) with random bubbles between issues. Every destination word must equal the
/// model's (the words the step does not write keep their random contents), and each output
/// word is written once.
#[test]
fn max_unit_row_walk_matches_the_golden_pool() {
    use common::device::Device;
    use hdl::pool::MaxUnit;
    let s = Schedule::of(&DeviceConfig::ulx3s());
    let mut rng = Rng(0x9001);
    for tile in 0..60 {
        let st = support::random_pool_step(&mut rng);
        let mut dev = Device::new(DeviceConfig::small());
        for w in dev.a.iter_mut().chain(dev.b.iter_mut()) {
            *w = rng.next();
        }
        let src = dev.a.clone();
        let dst0 = dev.b.clone();
        dev.run_step(&st);
        let (ih, iw, oh, ow) = (
            st.in_h as usize,
            st.in_w as usize,
            st.out_h as usize,
            st.out_w as usize,
        );
        let cwn = st.cin_words as usize;
        let rows = 2 * oh + (ih > 2 * oh) as usize;
        let cols = (2 * ow + (iw > 2 * ow) as usize).max(3);
        // (v, first, last, inr, word), in issue order, with bubbles.
        let mut issues = Vec::new();
        for c in 0..cwn {
            for y in 0..rows {
                for x in 0..cols {
                    let word = if y < ih && x < iw {
                        src[st.src_base as usize + (y * iw + x) * cwn + c]
                    } else {
                        rng.next()
                    };
                    issues.push((true, x == 0, x == cols - 1, x < iw, word));
                    while rng.next().is_multiple_of(4) {
                        issues.push((false, rng.next() & 1 == 1, false, true, rng.next()));
                    }
                }
            }
        }
        // Drain the pipeline.
        issues.extend((0..8).map(|_| (false, false, false, false, 0)));
        let n = issues.len() as u64;
        let got = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<MaxUnit>| x.clock.next = !x.clock.val());
        let (sgn, o0, ostep) = (
            st.in_signed,
            (st.dst_base + st.dst_off) as u64,
            st.dst_wpp as u64,
        );
        sim.add_testbench(move |mut sim: Sim<MaxUnit>| {
            let mut x = sim.init()?;
            wait_clock_true!(sim, clock, x);
            x.sgn.next = sgn;
            x.rows_m1.next = ((rows - 1) as u64).into();
            x.in_h.next = (ih as u64).into();
            x.o0.next = o0.into();
            x.ostep.next = ostep.into();
            x.start.next = true;
            wait_clock_cycle!(sim, clock, x);
            x.start.next = false;
            // The flags at `pool - 1`, then the issue (flags and word) at `pool`.
            let mut prev = (false, false, false, false, 0u64);
            for &i in &issues {
                (x.pv.next, x.pfirst.next, x.plast.next) = (i.0, i.1, i.2);
                (x.v.next, x.first.next, x.last.next, x.inr.next) =
                    (prev.0, prev.1, prev.2, prev.3);
                x.a.next = prev.4.into();
                prev = i;
                wait_clock_cycle!(sim, clock, x);
                if x.wv.val() {
                    got2.lock()
                        .unwrap()
                        .push((x.wa.val().to_u64() as usize, x.wd.val().to_u64()));
                }
            }
            sim.done(x)
        });
        let mut uut = MaxUnit::new(false, s.pool_write);
        uut.connect_all();
        sim.run(Box::new(uut), 20 * (n + 50)).unwrap();
        let writes = got.lock().unwrap().clone();
        let mut out = dst0;
        for &(a, d) in &writes {
            out[a] = d;
        }
        assert_eq!(writes.len(), oh * ow * cwn, "writes, tile {tile}: {st:?}");
        assert_eq!(out, dev.b, "tile {tile}: {st:?}");
    }
}
