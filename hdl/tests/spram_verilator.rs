//! `SharedAb`'s Verilog in Verilator, both ways it is built: the behavioural memory, and
//! (`SQZ_ICE40_SPRAM`) four SB_SPRAM256KA with Yosys' own simulation model of the primitive
//! (`ice40/cells_sim.v`), so the nibble-mask wiring and the read timing of the real cell are
//! checked. A random stream of reads and byte-masked writes to A, B and S (in and out of
//! range), never both in one cycle except where a collision is provoked, is compared with a
//! plain reference: read data 3 cycles after the read, the sticky collision flag.
//! Skips loudly without Verilator (or without Yosys' cell library for the SPRAM build), fails
//! under `SQZ_REQUIRE_DATA=1`.

use hdl::spram::SharedAb;
use rust_hdl::prelude::*;

mod support;
use hdl::cells::{cell_model, ice40_cells_sim as cells_sim};
use support::{Rng, skip, verilate_and_run};

const TEST: &str = "spram_verilog_matches_reference";

const ACT: usize = 6 * 1024;
const SQ: usize = 4 * 1024;

#[derive(LogicBlock)]
struct Bench {
    clock: Signal<In, Clock>,
    reset: Signal<In, Bit>,
    raddr: Signal<In, Bits<16>>,
    rsel: Signal<In, Bits<2>>,
    re: Signal<In, Bit>,
    waddr: Signal<In, Bits<16>>,
    wsel: Signal<In, Bits<2>>,
    wdata: Signal<In, Bits<64>>,
    wbe: Signal<In, Bits<8>>,
    rdata: Signal<Out, Bits<64>>,
    collide: Signal<Out, Bit>,
    ab: SharedAb,
}

impl Logic for Bench {
    #[hdl_gen]
    fn update(&mut self) {
        self.ab.clock.next = self.clock.val();
        self.ab.reset.next = self.reset.val();
        self.ab.raddr.next = self.raddr.val();
        self.ab.rsel.next = self.rsel.val();
        self.ab.re.next = self.re.val();
        self.ab.waddr.next = self.waddr.val();
        self.ab.wsel.next = self.wsel.val();
        self.ab.wdata.next = self.wdata.val();
        self.ab.wbe.next = self.wbe.val();
        self.rdata.next = self.ab.rdata.val();
        self.collide.next = self.ab.collide.val();
    }
}

const MAIN: &str = r#"
#include "Vtop.h"
#include <cstdio>
int main() {
  Vtop t;
  unsigned long long reset, raddr, rsel, re, waddr, wsel, wdata, wbe;
  while (scanf("%llx %llx %llx %llx %llx %llx %llx %llx", &reset, &raddr, &rsel, &re, &waddr, &wsel, &wdata, &wbe) == 8) {
    t.reset = reset; t.raddr = raddr; t.rsel = rsel; t.re = re;
    t.waddr = waddr; t.wsel = wsel; t.wdata = wdata; t.wbe = wbe;
    t.clock = 0; t.eval(); t.clock = 1; t.eval(); t.clock = 0; t.eval();
    printf("%llx %x\n", (unsigned long long)t.rdata, (unsigned)t.collide);
  }
  return 0;
}
"#;

/// One cycle of stimulus: reset, raddr, rsel, re, waddr, wsel, wdata, wbe.
type Cycle = [u64; 8];

fn stimulus() -> Vec<Cycle> {
    let mut rng = Rng(0x0005_9a3f_77aa_1234);
    let mut v: Vec<Cycle> = vec![[1, 0, 0, 0, 0, 0, 0, 0]; 2];
    let size = |sel: u64| if sel == 2 { SQ } else { ACT } as u64;
    // A few hot addresses per buffer (so reads hit earlier writes), the ends of each buffer and
    // out-of-range indices.
    let pick = |rng: &mut Rng, sel: u64| -> u64 {
        let n = size(sel);
        match rng.next() % 8 {
            0 => n - 1,
            1 => n + rng.next() % 3000,
            _ => rng.next() % 16,
        }
    };
    for i in 0..4000 {
        let sel = rng.next() % 3;
        let idle = [0, 0, 0, 0, 0, 0, 0, 0];
        v.push(if i % 997 == 500 {
            // A provoked collision; the flag must stay set until the reset that follows.
            [0, 1, 0, 1, 2, 0, 0xdead, 0xff]
        } else if i % 997 == 510 {
            [1, 0, 0, 0, 0, 0, 0, 0]
        } else if rng.next().is_multiple_of(2) {
            let wbe = match rng.next() % 4 {
                0 => 0xff,
                1 => 1 << (rng.next() % 8),
                _ => rng.next() & 0xff,
            };
            [
                0,
                rng.next() & 0xffff,
                0,
                0,
                pick(&mut rng, sel),
                sel,
                rng.next(),
                wbe,
            ]
        } else if rng.next().is_multiple_of(5) {
            idle
        } else {
            [
                0,
                pick(&mut rng, sel),
                sel,
                1,
                rng.next() & 0xffff,
                sel,
                0,
                0,
            ]
        });
    }
    v
}

/// What the outputs after each cycle must be: `Some(rdata)` 2 cycles after a read (None
/// otherwise), and the collision flag.
fn reference(v: &[Cycle]) -> Vec<(Option<u64>, bool)> {
    let mut mem = vec![0u64; 16 * 1024];
    let mut col = false;
    let mut reads: Vec<Option<u64>> = Vec::new();
    let mut out = Vec::new();
    let base = |sel: u64| [0, ACT, 2 * ACT, 0][sel as usize];
    let lim = |sel: u64| [ACT, ACT, SQ, 0][sel as usize] as u64;
    for c in v {
        let [reset, ra, rs, re, wa, ws, wd, wbe] = *c;
        // A write lands one edge after it is presented; a read returns 2 edges after, so a
        // read presented the cycle after a write sees it.
        if wbe != 0 && wa < lim(ws) {
            let a = base(ws) + wa as usize;
            for l in 0..8 {
                if wbe >> l & 1 == 1 {
                    let m = 0xffu64 << (8 * l);
                    mem[a] = (mem[a] & !m) | (wd & m);
                }
            }
        }
        let word = if ra < lim(rs) {
            mem[base(rs) + ra as usize]
        } else {
            0
        };
        reads.push((re == 1 && wbe == 0).then_some(word));
        col = if reset == 1 {
            false
        } else {
            col || (re == 1 && wbe != 0)
        };
        let n = reads.len();
        out.push((if n >= 2 { reads[n - 2] } else { None }, col));
    }
    out
}

fn run(dir: &std::path::Path, extra: &[&str], v: &[Cycle]) -> Vec<(u64, bool)> {
    let vectors: Vec<&[u64]> = v.iter().map(|r| &r[..]).collect();
    verilate_and_run(dir, &["top.v"], extra, MAIN, &vectors)
        .iter()
        .map(|l| {
            let (d, c) = l.split_once(' ').unwrap();
            (u64::from_str_radix(d, 16).unwrap(), c == "1")
        })
        .collect()
}

#[test]
fn spram_verilog_matches_reference() {
    if !hdl::verilator::available_or_skip(TEST) {
        return;
    }
    let mut uut = Bench {
        clock: Default::default(),
        reset: Default::default(),
        raddr: Default::default(),
        rsel: Default::default(),
        re: Default::default(),
        waddr: Default::default(),
        wsel: Default::default(),
        wdata: Default::default(),
        wbe: Default::default(),
        rdata: Default::default(),
        collide: Default::default(),
        ab: SharedAb::new(ACT, SQ),
    };
    uut.connect_all();
    let v = stimulus();
    let want = reference(&v);
    assert!(
        want.iter().filter(|w| w.1).count() >= 20,
        "collisions provoked"
    );
    let mut builds: Vec<(&str, Vec<&str>)> = vec![("behavioural", vec![])];
    let lib = cells_sim();
    if lib.is_some() {
        builds.push(("SB_SPRAM256KA", vec!["+define+SQZ_ICE40_SPRAM", "spram.v"]));
    }
    for (name, extra) in builds {
        let dir = std::env::temp_dir().join(format!("sqz-spram-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("top.v"), generate_verilog(&uut)).unwrap();
        if let Some(lib) = &lib {
            let text = std::fs::read_to_string(lib).unwrap();
            std::fs::write(dir.join("spram.v"), cell_model(&text, "SB_SPRAM256KA")).unwrap();
        }
        let got = run(&dir, &extra, &v);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(got.len(), v.len(), "{name}");
        let mut checked = 0;
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            if let Some(d) = w.0 {
                assert_eq!(g.0, d, "{name}: read data after cycle {k} ({:x?})", v[k]);
                checked += 1;
            }
            assert_eq!(g.1, w.1, "{name}: collision flag after cycle {k}");
        }
        assert!(checked > 1000, "{name}: {checked} reads checked");
        eprintln!("{name}: {checked} reads and {} cycles checked", v.len());
    }
    if lib.is_none() {
        skip(
            TEST,
            "Yosys' ice40/cells_sim.v not found: the SB_SPRAM256KA build was not checked",
        );
    }
}
