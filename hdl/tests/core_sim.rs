//! `sqz_core` in rust-hdl's simulator against `common::device::Device`, byte for byte, on
//! tiny jobs (the simulator runs a few thousand cycles per second; whole layers run in
//! Verilator in the `sim` crate). Memories are loaded and read back over the core's bus.

use common::bus::{Param, Region};
use common::device::Device;
use common::job::{Buf, Op, Step, encode_job};
use common::{DeviceConfig, Schedule};
use hdl::core::SqzCore;
use rust_hdl::prelude::*;
use std::sync::{Arc, Mutex};

mod support;
use support::Rng;

/// Bus writes that load `dev`'s memories (nonzero words only; the core starts zeroed).
fn loads(dev: &Device) -> Vec<(u32, u64)> {
    let mut w = Vec::new();
    let mut push = |r: Region, words: &[u64]| {
        for (i, &x) in words.iter().enumerate() {
            if x != 0 {
                w.push((r.addr(i), x));
            }
        }
    };
    push(Region::Desc, &dev.desc);
    push(Region::A, &dev.a);
    push(Region::B, &dev.b);
    push(Region::S, &dev.s);
    let rows = dev.cfg.rows;
    let mut wt = vec![0u64; rows * dev.cfg.weight_words];
    for (r, row) in dev.weights.iter().enumerate() {
        for (i, &x) in row.iter().enumerate() {
            wt[i * rows + r] = x;
        }
    }
    push(Region::Weights, &wt);
    let p: Vec<u64> = dev.params.iter().map(|p| p.to_word()).collect();
    push(Region::Params, &p);
    w
}

/// Cycles from `bus_read` to `bus_rvalid` (docs/architecture.md, "Handshake details").
fn bus_read_latency(cfg: &DeviceConfig) -> usize {
    Schedule::of(cfg).bus_read()
}

/// Make the bus `writes`, run the job in descriptor memory (if `job`) on the RTL; return the
/// words at `reads` and the reported job cycles.
fn run_rtl<const R: usize, const U: usize, const D: usize>(
    cfg: &DeviceConfig,
    writes: Vec<(u32, u64)>,
    reads: Vec<u32>,
    max_cycles: u64,
    job: bool,
    abort: u64,
) -> (Vec<u64>, u32) {
    let (got, cycles, collided) = run_core(
        SqzCore::<R, U, D>::new(cfg),
        bus_read_latency(cfg),
        writes,
        reads,
        max_cycles,
        job,
        abort,
    );
    // A shared A/B port (icebreaker) never saw a read and a write in one cycle.
    assert!(!collided, "read/write collision on the shared A/B port");
    (got, cycles)
}

/// `run_rtl` on a given core; also returns whether its shared A/B port saw a collision.
fn run_core<const R: usize, const U: usize, const D: usize>(
    mut uut: SqzCore<R, U, D>,
    latency: usize,
    writes: Vec<(u32, u64)>,
    reads: Vec<u32>,
    max_cycles: u64,
    job: bool,
    abort: u64,
) -> (Vec<u64>, u32, bool) {
    uut.connect_all();
    let out = Arc::new(Mutex::new((Vec::new(), 0u32, false)));
    let out2 = out.clone();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<SqzCore<R, U, D>>| {
        x.clock.next = !x.clock.val()
    });
    sim.add_testbench(move |mut sim: Sim<SqzCore<R, U, D>>| {
        let mut x = sim.init()?;
        x.reset.next = true;
        wait_clock_cycles!(sim, clock, x, 2);
        x.reset.next = false;
        for &(a, d) in &writes {
            x.bus_addr.next = (a as u64).into();
            x.bus_wdata.next = d.into();
            x.bus_write.next = true;
            wait_clock_cycle!(sim, clock, x);
        }
        x.bus_write.next = false;
        if abort > 0 {
            // Start, reset mid-job: the core must be idle right after and run again cleanly.
            x.start.next = true;
            wait_clock_cycle!(sim, clock, x);
            x.start.next = false;
            wait_clock_cycles!(sim, clock, x, abort);
            sim_assert!(sim, x.busy.val(), x);
            x.reset.next = true;
            wait_clock_cycle!(sim, clock, x);
            x.reset.next = false;
            wait_clock_cycle!(sim, clock, x);
            sim_assert!(sim, !x.busy.val(), x);
        }
        if job {
            x.start.next = true;
            wait_clock_cycle!(sim, clock, x);
            x.start.next = false;
            let mut n = 0;
            while !x.done.val() {
                wait_clock_cycle!(sim, clock, x);
                n += 1;
                sim_assert!(sim, n < max_cycles, x);
            }
        }
        // job_cycles is valid with the done pulse and holds afterwards.
        let cycles = x.job_cycles.val().to_u32();
        wait_clock_cycle!(sim, clock, x);
        sim_assert!(sim, !x.busy.val(), x);
        sim_assert!(sim, !job || x.job_cycles.val().to_u32() == cycles, x);
        let mut got = Vec::new();
        for &a in &reads {
            x.bus_addr.next = (a as u64).into();
            x.bus_read.next = true;
            wait_clock_cycle!(sim, clock, x);
            x.bus_read.next = false;
            // bus_rvalid comes a fixed number of cycles after the request.
            for _ in 1..latency {
                sim_assert!(sim, !x.bus_rvalid.val(), x);
                wait_clock_cycle!(sim, clock, x);
            }
            sim_assert!(sim, x.bus_rvalid.val(), x);
            got.push(x.bus_rdata.val().to_u64());
        }
        *out2.lock().unwrap() = (got, cycles, x.ab_collided());
        sim.done(x)
    });
    sim.run(Box::new(uut), 10 * (max_cycles + 20_000)).unwrap();
    out.lock().unwrap().clone()
}

fn region(b: Buf) -> Region {
    match b {
        Buf::A => Region::A,
        Buf::B => Region::B,
        Buf::S => Region::S,
    }
}

/// Random memories, the job `steps`, run on the device model and the RTL; compare every
/// word of every step's destination region.
fn check<const R: usize, const U: usize, const D: usize>(
    cfg: DeviceConfig,
    steps: &[Step],
    seed: u64,
) -> u32 {
    check_with::<R, U, D>(cfg, steps, seed, 0, |_| {})
}

/// `check` with the memories adjusted by `prep` after the random fill.
fn check_with<const R: usize, const U: usize, const D: usize>(
    cfg: DeviceConfig,
    steps: &[Step],
    seed: u64,
    abort: u64,
    prep: impl Fn(&mut Device),
) -> u32 {
    let mut rng = Rng(seed);
    let mut dev = Device::new(cfg.clone());
    for s in steps {
        if s.src == Buf::A || s.src == Buf::B {
            let n = s.src_base as usize + s.in_h as usize * s.in_w as usize * s.cin_words as usize;
            let buf = if s.src == Buf::A {
                &mut dev.a
            } else {
                &mut dev.b
            };
            for w in buf[..n].iter_mut() {
                if *w == 0 {
                    *w = rng.next();
                }
            }
        }
    }
    for row in dev.weights.iter_mut() {
        for w in row.iter_mut().take(64) {
            *w = rng.next();
        }
    }
    for p in dev.params.iter_mut().take(64) {
        *p = Param {
            bias: (rng.next() % 20001) as i32 - 10000,
            m: 8192 + (rng.next() % 16384) as u16,
            shift: 10 + (rng.next() % 8) as u8,
        };
    }
    prep(&mut dev);
    let desc = encode_job(steps, &cfg).unwrap();
    dev.desc[..desc.len()].copy_from_slice(&desc);
    let mut reads = Vec::new();
    let mut want_regions = Vec::new();
    for s in steps {
        let pixels = if s.op == Op::AvgPool {
            1
        } else {
            s.out_h as usize * s.out_w as usize
        };
        let end = s.dst_base as usize + pixels * s.dst_wpp as usize;
        for i in s.dst_base as usize..end {
            reads.push(region(s.dst).addr(i));
            want_regions.push((s.dst, i));
        }
    }
    let mut want_dev = dev.clone();
    want_dev.run().unwrap();
    let want: Vec<u64> = want_regions
        .iter()
        .map(|&(b, i)| want_dev.buf(b)[i])
        .collect();
    assert!(
        want.iter().any(|&w| w != 0),
        "degenerate test: all outputs zero"
    );
    let (got, cycles) = run_rtl::<R, U, D>(&cfg, loads(&dev), reads, 50_000, true, abort);
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g, w,
            "word {:?}: rtl {g:016x} device {w:016x}",
            want_regions[k]
        );
    }
    assert_eq!(got.len(), want.len());
    cycles
}

fn conv(k: u8, cin_words: u16, cout: u16, h: u16, w: u16, pad: i8) -> Step {
    let (oh, ow) = (
        h + 2 * pad as u16 + 1 - k as u16,
        w + 2 * pad as u16 + 1 - k as u16,
    );
    Step {
        op: Op::Conv,
        kernel: k,
        in_signed: false,
        relu: true,
        src: Buf::A,
        dst: Buf::B,
        cin_words,
        cout,
        in_h: h,
        in_w: w,
        out_h: oh,
        out_w: ow,
        y0: -pad,
        x0: -pad,
        src_base: 0,
        dst_base: 0,
        dst_wpp: cout.div_ceil(8),
        dst_off: 0,
        weight_base: 0,
        param_base: 0,
    }
}

#[test]
fn conv1x1_small_signed_linear_two_groups() {
    let mut s = conv(1, 2, 6, 2, 3, 0);
    s.in_signed = true;
    s.relu = false;
    let c = check::<4, 2, 2>(DeviceConfig::small(), &[s], 1);
    eprintln!("job cycles {c}");
}

#[test]
fn conv3x3_pad1_small() {
    let s = conv(3, 1, 4, 3, 4, 1);
    check::<4, 2, 2>(DeviceConfig::small(), &[s], 2);
}

#[test]
fn maxpool_small() {
    let mut s = conv(3, 2, 0, 5, 4, 0);
    s.op = Op::MaxPool;
    (s.out_h, s.out_w) = (2, 2);
    s.dst_wpp = 2;
    s.in_signed = true;
    check::<4, 2, 2>(DeviceConfig::small(), &[s], 3);
}

/// Max pools on random tiles (`support::random_pool_step`: odd and even sizes, clipped
/// windows, rows and columns no window reaches, concatenation offsets) through the whole
/// small core, which walks them row by row (`MaxUnit`): the feeder's loops and
/// the sequencer's setup for them, on each pair of source and destination buffers. Each
/// step reads every input word at most once (plus the columns and the row that end a
/// clipped window): no more cycles than the window walk's 9 taps per output word.
#[test]
fn maxpool_random_tiles_small() {
    let mut rng = Rng(0x7001);
    let pairs = [(Buf::A, Buf::B), (Buf::B, Buf::S), (Buf::S, Buf::A)];
    for k in 0..12 {
        let mut s = support::random_pool_step(&mut rng);
        (s.src, s.dst) = pairs[k % pairs.len()];
        // (`check` fills an A or B source; S here.)
        let n = s.src_base as usize + (s.in_h * s.in_w * s.cin_words) as usize;
        let fill = |d: &mut Device| {
            let mut r = Rng(k as u64 + 1);
            d.s[..n].iter_mut().for_each(|w| *w = r.next());
        };
        let c = check_with::<4, 2, 2>(DeviceConfig::small(), &[s.clone()], 100 + k as u64, 0, fill)
            as usize;
        let (rows, cols) = (2 * s.out_h as usize + 1, (2 * s.out_w as usize + 1).max(3));
        let words = s.cin_words as usize;
        // The walk, plus the step's setup and flush (`sequencer.rs`: 44 + cin_words cycles
        // with D = 2). (2*out_h + 1) * (2*out_w + 1) <= 9 * out_h * out_w.
        assert!(
            c <= rows * cols * words + 46 + words,
            "{c} cycles for {s:?}"
        );
    }
}

#[test]
fn avgpool_small() {
    let mut s = conv(1, 2, 13, 2, 3, 0);
    s.op = Op::AvgPool;
    (s.out_h, s.out_w) = (1, 1);
    s.dst_wpp = 2;
    check::<4, 2, 2>(DeviceConfig::small(), &[s], 4);
}

/// A Fire module as one job: squeeze to S, expand 1x1 and 3x3 concatenated into B.
#[test]
fn fire_job_icebreaker_and_small() {
    let sq = Step {
        dst: Buf::S,
        ..conv(1, 2, 3, 3, 3, 0)
    };
    let e1 = Step {
        src: Buf::S,
        dst: Buf::B,
        dst_wpp: 2,
        weight_base: 2,
        param_base: 3,
        ..conv(1, 1, 5, 3, 3, 0)
    };
    let e3 = Step {
        src: Buf::S,
        dst: Buf::B,
        dst_wpp: 2,
        dst_off: 1,
        weight_base: 12,
        param_base: 8,
        ..conv(3, 1, 4, 3, 3, 1)
    };
    check::<1, 1, 1>(
        DeviceConfig::icebreaker(),
        &[sq.clone(), e1.clone(), e3.clone()],
        5,
    );
    let e1 = Step {
        weight_base: 1,
        ..e1
    };
    let e3 = Step {
        weight_base: 4,
        ..e3
    };
    check::<4, 2, 2>(DeviceConfig::small(), &[sq, e1, e3], 6);
}

/// Row bands: the expands address the squeeze's halo rows through positive `y0`, at
/// nonzero buffer bases; avg pool over signed input with a linear output.
#[test]
fn halo_offsets_bases_small() {
    let e3 = Step {
        y0: 0,
        x0: -1,
        out_h: 2,
        src_base: 5,
        dst_base: 7,
        dst_wpp: 3,
        dst_off: 2,
        ..conv(3, 1, 4, 4, 3, 1)
    };
    let e1 = Step {
        y0: 1,
        out_h: 2,
        src_base: 3,
        dst_base: 1,
        weight_base: 9,
        param_base: 4,
        ..conv(1, 2, 7, 4, 3, 0)
    };
    let mut ap = conv(1, 2, 11, 3, 2, 0);
    ap.op = Op::AvgPool;
    (ap.out_h, ap.out_w) = (1, 1);
    ap.in_signed = true;
    ap.relu = false;
    (
        ap.src,
        ap.dst,
        ap.src_base,
        ap.dst_base,
        ap.dst_wpp,
        ap.dst_off,
    ) = (Buf::B, Buf::S, 40, 3, 3, 1);
    check::<4, 2, 2>(DeviceConfig::small(), &[e3, e1, ap], 11);
}

/// Requantizer and multiplier extremes through the whole core: activations -128 / 127 / 255
/// signed and unsigned, weights -128 / 127, saturation both ways, shift 0 / 46 / 47, ties,
/// wrapping bias, all-zero pixel; ReLU and linear outputs.
#[test]
fn extremes_small() {
    let mut s1 = conv(1, 1, 16, 2, 2, 0);
    (s1.in_signed, s1.relu, s1.dst_wpp) = (true, false, 2);
    let s2 = Step {
        in_signed: false,
        relu: true,
        dst: Buf::S,
        ..s1.clone()
    };
    let s3 = Step {
        in_signed: false,
        dst_base: 8,
        ..s1.clone()
    };
    let s4 = Step {
        in_signed: true,
        relu: true,
        dst: Buf::S,
        dst_base: 8,
        ..s1.clone()
    };
    check_with::<4, 2, 2>(DeviceConfig::small(), &[s1, s2, s3, s4], 12, 0, |d| {
        d.a[0] = u64::from_le_bytes([0x80, 0x7f, 0xff, 0, 1, 0x80, 0x80, 0x80]);
        d.a[1] = u64::from_le_bytes([0x80; 8]);
        d.a[2] = u64::from_le_bytes([0xff; 8]);
        d.a[3] = 0;
        for row in d.weights.iter_mut() {
            row[0] = u64::from_le_bytes([0x80; 8]);
        }
        d.weights[0][0] = u64::from_le_bytes([0x7f; 8]);
        let ext = [
            (i32::MAX, 32767u16, 0u8),
            (i32::MIN, 32767, 0),
            (i32::MIN, 32767, 47),
            (i32::MAX, 32767, 47),
            (i32::MIN, 32767, 46),
            (i32::MAX, 32767, 39),
            (-5, 1, 1),
            (5, 1, 1),
            (-7, 1, 1),
            (0, 0, 0),
            (1000, 1, 0),
            (-1000, 1, 0),
            (0, 16384, 14),
            (-200, 1, 0),
            (300, 1, 0),
            (i32::MIN + 5, 1, 0),
        ];
        for (i, &(bias, m, shift)) in ext.iter().enumerate() {
            d.params[i] = Param { bias, m, shift };
        }
    });
}

/// Bus writes and reads of every region as `Device::write` / `Device::read` define them:
/// weights interleaved by row, parameters masked to their 54 bits, 0 outside the memories.
#[test]
fn bus_regions_small() {
    bus_regions::<4, 2, 2>(DeviceConfig::small());
}

/// The same on the icebreaker's shared A/B/S memory: A, B and S are separate regions, and
/// out-of-range indices neither alias the other half nor wrap.
#[test]
fn bus_regions_icebreaker() {
    bus_regions::<1, 1, 1>(DeviceConfig::icebreaker());
}

fn bus_regions<const R: usize, const U: usize, const D: usize>(cfg: DeviceConfig) {
    let mut rng = Rng(77);
    let mut dev = Device::new(cfg.clone());
    let regions = [
        Region::Desc,
        Region::A,
        Region::B,
        Region::S,
        Region::Weights,
        Region::Params,
    ];
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    for &r in &regions {
        let size = match r {
            Region::Desc => cfg.max_steps * common::job::STEP_WORDS,
            Region::A | Region::B => cfg.act_words,
            Region::S => cfg.sq_words,
            Region::Weights => cfg.weight_words * cfg.rows,
            Region::Params => cfg.param_words,
        };
        for i in [0, 1, 2, 5, size - 1, size, size + 3, 1 << 16 | 1] {
            let d = rng.next() | 1 << 63;
            dev.write(r, i, d);
            writes.push((r.addr(i), d));
            reads.push((r, i));
        }
    }
    let addrs = reads.iter().map(|&(r, i)| r.addr(i)).collect();
    let (got, _) = run_rtl::<R, U, D>(&cfg, writes, addrs, 0, false, 0);
    for (k, &(r, i)) in reads.iter().enumerate() {
        assert_eq!(got[k], dev.read(r, i), "{r:?} index {i}");
    }
    assert!(
        got.iter().filter(|&&w| w == 0).count() >= 12,
        "out-of-range reads are 0"
    );
}

/// A descriptor the host would reject (2047 output channels: the group counter's last
/// step passes 2047) still finishes: the hardware never hangs on a bad job.
#[test]
fn out_of_contract_job_terminates() {
    let cfg = DeviceConfig::small();
    let s = Step {
        cout: 2047,
        dst_wpp: 255,
        ..conv(1, 1, 8, 1, 1, 0)
    };
    let writes: Vec<(u32, u64)> = s
        .encode(true)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, &w)| (Region::Desc.addr(i), w))
        .collect();
    let (_, cycles) = run_rtl::<4, 2, 2>(&cfg, writes, vec![], 30_000, true, 0);
    assert!(cycles > 512 * 20, "{cycles} cycles for 512 groups");
}

/// `reset` in the middle of a job (here inside the first group's pixels) returns the core
/// to idle; the same job then runs to the right bytes.
#[test]
fn reset_mid_job_then_rerun() {
    let s = conv(3, 1, 6, 3, 4, 1);
    check_with::<4, 2, 2>(DeviceConfig::small(), &[s], 13, 40, |_| {});
}

/// The ULX3S shape (16 rows, 4 requantizers), and 16 rows with 8 requantizers (D = 2:
/// expand1x1 layers with 16 input channels would run at full rate; 144 multipliers).
#[test]
fn sixteen_rows_four_and_eight_units() {
    let s = Step {
        dst_wpp: 3,
        ..conv(1, 2, 20, 2, 2, 0)
    };
    let mut ap = conv(1, 2, 11, 2, 1, 0);
    ap.op = Op::AvgPool;
    (ap.out_h, ap.out_w, ap.dst, ap.dst_wpp) = (1, 1, Buf::S, 2);
    check::<16, 4, 4>(DeviceConfig::ulx3s(), &[s.clone(), ap.clone()], 14);
    let cfg = DeviceConfig {
        requant_units: 8,
        ..DeviceConfig::ulx3s()
    };
    check::<16, 8, 2>(cfg, &[s, ap], 15);
}

/// Every step type on the icebreaker core, whose A and B share one single-port memory: the
/// feeder issues every other cycle and the writes land on the other parity. `run_rtl` checks
/// that the port never saw a read and a write in the same cycle.
#[test]
fn icebreaker_shared_port_all_ops() {
    let ib = DeviceConfig::icebreaker;
    // 1x1 over one channel word: a write for every issue (the densest write stream).
    let dense = Step {
        dst_base: 100,
        ..conv(1, 1, 3, 3, 4, 0)
    };
    let c1 = check::<1, 1, 1>(ib(), &[dense], 21);
    let c3 = check::<1, 1, 1>(ib(), &[conv(3, 1, 2, 3, 4, 1)], 22);
    let mut mp = conv(3, 2, 0, 5, 4, 0);
    mp.op = Op::MaxPool;
    (mp.out_h, mp.out_w, mp.dst_wpp, mp.in_signed) = (2, 2, 2, true);
    let cm = check::<1, 1, 1>(ib(), &[mp.clone()], 23);
    let mut ap = conv(1, 2, 13, 2, 3, 0);
    ap.op = Op::AvgPool;
    (ap.out_h, ap.out_w, ap.dst_wpp) = (1, 1, 2);
    let ca = check::<1, 1, 1>(ib(), &[ap], 24);
    // B -> A and a source in the upper half of B: the buffer select and base offsets.
    let hi = Step {
        src: Buf::B,
        dst: Buf::A,
        src_base: 6000,
        dst_base: 6130,
        ..conv(3, 1, 2, 3, 4, 1)
    };
    check::<1, 1, 1>(ib(), &[hi], 25);
    // Two issue cycles per MAC word: a max pool of 4 windows x 2 words x 9 taps = 72 issues.
    assert!(cm > 2 * 72, "max pool {cm} cycles");
    eprintln!("icebreaker job cycles: 1x1 {c1}, 3x3 {c3}, max pool {cm}, avg pool {ca}");
}

/// The collision detector works: a bus read and a bus write of A in the same cycle (which
/// the link never does) is flagged on the icebreaker core.
#[test]
fn icebreaker_collision_detected() {
    let cfg = DeviceConfig::icebreaker();
    let mut uut = SqzCore::<1, 1, 1>::new(&cfg);
    uut.connect_all();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<SqzCore<1, 1, 1>>| {
        x.clock.next = !x.clock.val()
    });
    sim.add_testbench(move |mut sim: Sim<SqzCore<1, 1, 1>>| {
        let mut x = sim.init()?;
        x.reset.next = true;
        wait_clock_cycles!(sim, clock, x, 2);
        x.reset.next = false;
        // A read alone and a write alone are fine.
        x.bus_addr.next = (Region::A.addr(3) as u64).into();
        x.bus_read.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.bus_read.next = false;
        x.bus_write.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.bus_write.next = false;
        wait_clock_cycles!(sim, clock, x, 10);
        let before = x.ab_collided();
        x.bus_read.next = true;
        x.bus_write.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.bus_read.next = false;
        x.bus_write.next = false;
        wait_clock_cycles!(sim, clock, x, 10);
        let after = x.ab_collided();
        // Sticky until reset.
        x.reset.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.reset.next = false;
        wait_clock_cycles!(sim, clock, x, 2);
        *seen2.lock().unwrap() = Some((before, after, x.ab_collided()));
        sim.done(x)
    });
    sim.run(Box::new(uut), 1000).unwrap();
    assert_eq!(*seen.lock().unwrap(), Some((false, true, false)));
}

/// Without the extra write register the engine's writes land on the read parity: the
/// detector must see it (and the bytes go wrong), so the parity rule is what keeps the
/// shared port correct, not luck.
#[test]
fn icebreaker_engine_collision_detected() {
    let cfg = DeviceConfig::icebreaker();
    let s = Step {
        dst_base: 100,
        ..conv(1, 1, 3, 3, 4, 0)
    };
    let mut rng = Rng(31);
    let mut dev = Device::new(cfg.clone());
    for w in dev.a[..12].iter_mut() {
        *w = rng.next();
    }
    for w in dev.weights[0][..3].iter_mut() {
        *w = rng.next();
    }
    for p in dev.params.iter_mut().take(3) {
        *p = Param {
            bias: 100,
            m: 16000,
            shift: 12,
        };
    }
    dev.desc[..4].copy_from_slice(&encode_job(&[s], &cfg).unwrap());
    let (_, _, collided) = run_core(
        SqzCore::<1, 1, 1>::without_write_parity(&cfg),
        bus_read_latency(&cfg),
        loads(&dev),
        vec![],
        50_000,
        true,
        0,
    );
    assert!(collided, "the engine's read/write collision went unnoticed");
}
