//! Address generator: walks one step (or one output-channel group of it) and issues one
//! activation address and one weight address per cycle.
//!
//! Loops, outermost first: output row `oy`, output column `ox`, sub-pixel `pc` (the channel
//! word of a max pool), tap row `ky`, tap column `kx`, channel word `cw`. All addresses are
//! kept incrementally (no multipliers): along a tap row the words are contiguous, a tap
//! row further is `rs = in_w * cin_words` words on. The input position `(iy, ix)` of each tap
//! is tracked offset by 16 (so `y0 >= -8` stays positive) and checked against the tile:
//! taps outside are flagged `inr = 0` (zero padding for conv, skipped for max pool).
//!
//! `gap_min` holds the first tap of a pixel until that many cycles passed since the
//! previous pixel's first tap, so the output stage (which needs `rows / units` cycles per
//! pixel) is never overrun. With `k*k*cin_words >= gap_min` there is no bubble at all.
//!
//! Timing (`Feeder::new(true)`, the ECP5 builds): the loop-end flags (`e_cw` = "cw is at its
//! bound", ...), the first-tap flag and the gap check are registers, set from each counter's
//! next value (a compare of `q + 1` or of the bound with 0, beside the loop logic). So an
//! issue decides every counter and address enable from flip-flops, not through the
//! counters' compares. This relies on the bounds being stable from `go` to `done`, which the
//! sequencer guarantees (they are registered from the step's descriptor, fetched before
//! `go`). The lean iCE40 build (24 MHz, short of logic cells) compares the counters
//! directly instead: the same flags for fewer LCs; Yosys removes the unused side.

use crate::variant::Pick;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Feeder {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub go: Signal<In, Bit>,
    pub kh_m1: Signal<In, Bits<9>>,
    pub kw_m1: Signal<In, Bits<9>>,
    pub cwl_m1: Signal<In, Bits<8>>,
    pub pcl_m1: Signal<In, Bits<8>>,
    pub oh_m1: Signal<In, Bits<9>>,
    pub ow_m1: Signal<In, Bits<9>>,
    /// Words per input pixel, words per input row.
    pub cwn: Signal<In, Bits<16>>,
    pub rs: Signal<In, Bits<16>>,
    /// Input words from one output pixel to the next, and from one output row to the next.
    pub pstep: Signal<In, Bits<16>>,
    pub rstep: Signal<In, Bits<16>>,
    /// Activation, weight and output addresses of the first issue.
    pub p0: Signal<In, Bits<16>>,
    pub w0: Signal<In, Bits<16>>,
    pub o0: Signal<In, Bits<16>>,
    pub ostep: Signal<In, Bits<16>>,
    /// Input position of the first tap (+16), stride, tile size (+16).
    pub iy0: Signal<In, Bits<12>>,
    pub ix0: Signal<In, Bits<12>>,
    pub stride: Signal<In, Bits<12>>,
    pub ih16: Signal<In, Bits<12>>,
    pub iw16: Signal<In, Bits<12>>,
    pub gap_min: Signal<In, Bits<8>>,
    /// Issue enable: the loops advance, and `v` and the flags are set, only while it is high
    /// (every other cycle when A and B share a single-port memory, always otherwise).
    pub adv: Signal<In, Bit>,
    pub v: Signal<Out, Bit>,
    pub first: Signal<Out, Bit>,
    pub last: Signal<Out, Bit>,
    pub inr: Signal<Out, Bit>,
    pub a_addr: Signal<Out, Bits<16>>,
    pub w_addr: Signal<Out, Bits<16>>,
    pub o_addr: Signal<Out, Bits<16>>,
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    issue: Signal<Local, Bit>,
    /// The flags the loops use: from their registers (full: timing) or from the counters'
    /// compares (lean: logic cells).
    p_first: Pick<Bit>,
    p_cw: Pick<Bit>,
    p_kx: Pick<Bit>,
    p_ky: Pick<Bit>,
    p_pc: Pick<Bit>,
    p_ox: Pick<Bit>,
    p_oy: Pick<Bit>,
    p_gap: Pick<Bit>,
    f_first: Signal<Local, Bit>,
    f_cw: Signal<Local, Bit>,
    f_kx: Signal<Local, Bit>,
    f_ky: Signal<Local, Bit>,
    f_pc: Signal<Local, Bit>,
    f_ox: Signal<Local, Bit>,
    f_oy: Signal<Local, Bit>,
    f_gap: Signal<Local, Bit>,
    /// The bound is 0: the flag's value after its counter restarts.
    z_cw: Signal<Local, Bit>,
    z_kx: Signal<Local, Bit>,
    z_ky: Signal<Local, Bit>,
    z_pc: Signal<Local, Bit>,
    z_ox: Signal<Local, Bit>,
    z_oy: Signal<Local, Bit>,
    /// The counter reaches its bound with this step: the flag's value after an increment.
    n_cw: Signal<Local, Bit>,
    n_kx: Signal<Local, Bit>,
    n_ky: Signal<Local, Bit>,
    n_pc: Signal<Local, Bit>,
    n_ox: Signal<Local, Bit>,
    n_oy: Signal<Local, Bit>,
    /// cw, kx and ky are 0: the next issue is a pixel's first tap.
    at_first: DFF<Bit>,
    /// Counter at its bound (`cw == cwl_m1`, ...).
    e_cw: DFF<Bit>,
    e_kx: DFF<Bit>,
    e_ky: DFF<Bit>,
    e_pc: DFF<Bit>,
    e_ox: DFF<Bit>,
    e_oy: DFF<Bit>,
    /// `gap >= gap_min`.
    gap_ok: DFF<Bit>,
    run: DFF<Bit>,
    done_r: DFF<Bit>,
    cw: DFF<Bits<8>>,
    kx: DFF<Bits<9>>,
    ky: DFF<Bits<9>>,
    pc: DFF<Bits<8>>,
    ox: DFF<Bits<9>>,
    oy: DFF<Bits<9>>,
    a: DFF<Bits<16>>,
    a_kx: DFF<Bits<16>>,
    a_ky: DFF<Bits<16>>,
    a_pc: DFF<Bits<16>>,
    a_px: DFF<Bits<16>>,
    a_row: DFF<Bits<16>>,
    w: DFF<Bits<16>>,
    o_pc: DFF<Bits<16>>,
    o_px: DFF<Bits<16>>,
    iy: DFF<Bits<12>>,
    ix: DFF<Bits<12>>,
    iy_b: DFF<Bits<12>>,
    ix_b: DFF<Bits<12>>,
    gap: DFF<Bits<8>>,
}

impl Feeder {
    /// `reg_flags`: loop flags from registers (timing) or from compares (logic cells).
    pub fn new(reg_flags: bool) -> Self {
        Feeder {
            clock: Default::default(),
            reset: Default::default(),
            go: Default::default(),
            kh_m1: Default::default(),
            kw_m1: Default::default(),
            cwl_m1: Default::default(),
            pcl_m1: Default::default(),
            oh_m1: Default::default(),
            ow_m1: Default::default(),
            cwn: Default::default(),
            rs: Default::default(),
            pstep: Default::default(),
            rstep: Default::default(),
            p0: Default::default(),
            w0: Default::default(),
            o0: Default::default(),
            ostep: Default::default(),
            iy0: Default::default(),
            ix0: Default::default(),
            stride: Default::default(),
            ih16: Default::default(),
            iw16: Default::default(),
            gap_min: Default::default(),
            adv: Default::default(),
            v: Default::default(),
            first: Default::default(),
            last: Default::default(),
            inr: Default::default(),
            a_addr: Default::default(),
            w_addr: Default::default(),
            o_addr: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            issue: Default::default(),
            p_first: Pick::new(!reg_flags),
            p_cw: Pick::new(!reg_flags),
            p_kx: Pick::new(!reg_flags),
            p_ky: Pick::new(!reg_flags),
            p_pc: Pick::new(!reg_flags),
            p_ox: Pick::new(!reg_flags),
            p_oy: Pick::new(!reg_flags),
            p_gap: Pick::new(!reg_flags),
            f_first: Default::default(),
            f_cw: Default::default(),
            f_kx: Default::default(),
            f_ky: Default::default(),
            f_pc: Default::default(),
            f_ox: Default::default(),
            f_oy: Default::default(),
            f_gap: Default::default(),
            z_cw: Default::default(),
            z_kx: Default::default(),
            z_ky: Default::default(),
            z_pc: Default::default(),
            z_ox: Default::default(),
            z_oy: Default::default(),
            n_cw: Default::default(),
            n_kx: Default::default(),
            n_ky: Default::default(),
            n_pc: Default::default(),
            n_ox: Default::default(),
            n_oy: Default::default(),
            at_first: Default::default(),
            e_cw: Default::default(),
            e_kx: Default::default(),
            e_ky: Default::default(),
            e_pc: Default::default(),
            e_ox: Default::default(),
            e_oy: Default::default(),
            gap_ok: Default::default(),
            run: Default::default(),
            done_r: Default::default(),
            cw: Default::default(),
            kx: Default::default(),
            ky: Default::default(),
            pc: Default::default(),
            ox: Default::default(),
            oy: Default::default(),
            a: Default::default(),
            a_kx: Default::default(),
            a_ky: Default::default(),
            a_pc: Default::default(),
            a_px: Default::default(),
            a_row: Default::default(),
            w: Default::default(),
            o_pc: Default::default(),
            o_px: Default::default(),
            iy: Default::default(),
            ix: Default::default(),
            iy_b: Default::default(),
            ix_b: Default::default(),
            gap: Default::default(),
        }
    }
}

impl Logic for Feeder {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, run, done_r, cw, kx, ky, pc, ox, oy, a, a_kx, a_ky, a_pc, a_px, a_row, w,
            o_pc, o_px, iy, ix, iy_b, ix_b, gap, at_first, e_cw, e_kx, e_ky, e_pc, e_ox, e_oy,
            gap_ok
        );
        self.done_r.d.next = false;
        self.p_first.full.next = self.at_first.q.val();
        self.p_first.lean.next =
            (self.cw.q.val() == 0) & (self.kx.q.val() == 0) & (self.ky.q.val() == 0);
        self.f_first.next = self.p_first.q.val();
        self.p_cw.full.next = self.e_cw.q.val();
        self.p_cw.lean.next = self.cw.q.val() == self.cwl_m1.val();
        self.f_cw.next = self.p_cw.q.val();
        self.p_kx.full.next = self.e_kx.q.val();
        self.p_kx.lean.next = self.kx.q.val() == self.kw_m1.val();
        self.f_kx.next = self.p_kx.q.val();
        self.p_ky.full.next = self.e_ky.q.val();
        self.p_ky.lean.next = self.ky.q.val() == self.kh_m1.val();
        self.f_ky.next = self.p_ky.q.val();
        self.p_pc.full.next = self.e_pc.q.val();
        self.p_pc.lean.next = self.pc.q.val() == self.pcl_m1.val();
        self.f_pc.next = self.p_pc.q.val();
        self.p_ox.full.next = self.e_ox.q.val();
        self.p_ox.lean.next = self.ox.q.val() == self.ow_m1.val();
        self.f_ox.next = self.p_ox.q.val();
        self.p_oy.full.next = self.e_oy.q.val();
        self.p_oy.lean.next = self.oy.q.val() == self.oh_m1.val();
        self.f_oy.next = self.p_oy.q.val();
        self.p_gap.full.next = self.gap_ok.q.val();
        self.p_gap.lean.next = self.gap.q.val() >= self.gap_min.val();
        self.f_gap.next = self.p_gap.q.val();
        self.issue.next =
            self.run.q.val() & self.adv.val() & (!self.f_first.val() | self.f_gap.val());
        self.z_cw.next = self.cwl_m1.val() == 0;
        self.z_kx.next = self.kw_m1.val() == 0;
        self.z_ky.next = self.kh_m1.val() == 0;
        self.z_pc.next = self.pcl_m1.val() == 0;
        self.z_ox.next = self.ow_m1.val() == 0;
        self.z_oy.next = self.oh_m1.val() == 0;
        self.n_cw.next = (self.cw.q.val() + 1) == self.cwl_m1.val();
        self.n_kx.next = (self.kx.q.val() + 1) == self.kw_m1.val();
        self.n_ky.next = (self.ky.q.val() + 1) == self.kh_m1.val();
        self.n_pc.next = (self.pc.q.val() + 1) == self.pcl_m1.val();
        self.n_ox.next = (self.ox.q.val() + 1) == self.ow_m1.val();
        self.n_oy.next = (self.oy.q.val() + 1) == self.oh_m1.val();
        self.v.next = self.issue.val();
        self.first.next = self.f_first.val() & self.adv.val();
        self.last.next = self.f_cw.val() & self.f_kx.val() & self.f_ky.val() & self.adv.val();
        self.inr.next = self.adv.val()
            & (self.iy.q.val() >= 16)
            & (self.iy.q.val() < self.ih16.val())
            & (self.ix.q.val() >= 16)
            & (self.ix.q.val() < self.iw16.val());
        self.a_addr.next = self.a.q.val();
        self.w_addr.next = self.w.q.val();
        self.o_addr.next = self.o_pc.q.val();
        self.busy.next = self.run.q.val();
        self.done.next = self.done_r.q.val();
        if self.gap.q.val() != 255 {
            self.gap.d.next = self.gap.q.val() + 1;
            self.gap_ok.d.next =
                (bit_cast::<9, 8>(self.gap.q.val()) + 1) >= bit_cast::<9, 8>(self.gap_min.val());
        }
        if self.issue.val() {
            if self.f_first.val() {
                self.gap.d.next = 1.into();
                self.gap_ok.d.next = self.gap_min.val() <= 1;
            }
            self.at_first.d.next = false;
            self.w.d.next = self.w.q.val() + 1;
            if !self.f_cw.val() {
                self.cw.d.next = self.cw.q.val() + 1;
                self.e_cw.d.next = self.n_cw.val();
                self.a.d.next = self.a.q.val() + 1;
            } else if !self.f_kx.val() {
                self.cw.d.next = 0.into();
                self.e_cw.d.next = self.z_cw.val();
                self.kx.d.next = self.kx.q.val() + 1;
                self.e_kx.d.next = self.n_kx.val();
                self.a_kx.d.next = self.a_kx.q.val() + self.cwn.val();
                self.a.d.next = self.a_kx.q.val() + self.cwn.val();
                self.ix.d.next = self.ix.q.val() + 1;
            } else if !self.f_ky.val() {
                self.cw.d.next = 0.into();
                self.e_cw.d.next = self.z_cw.val();
                self.kx.d.next = 0.into();
                self.e_kx.d.next = self.z_kx.val();
                self.ky.d.next = self.ky.q.val() + 1;
                self.e_ky.d.next = self.n_ky.val();
                self.a_ky.d.next = self.a_ky.q.val() + self.rs.val();
                self.a_kx.d.next = self.a_ky.q.val() + self.rs.val();
                self.a.d.next = self.a_ky.q.val() + self.rs.val();
                self.iy.d.next = self.iy.q.val() + 1;
                self.ix.d.next = self.ix_b.q.val();
            } else {
                // The (sub-)pixel is complete.
                self.at_first.d.next = true;
                self.cw.d.next = 0.into();
                self.e_cw.d.next = self.z_cw.val();
                self.kx.d.next = 0.into();
                self.e_kx.d.next = self.z_kx.val();
                self.ky.d.next = 0.into();
                self.e_ky.d.next = self.z_ky.val();
                self.w.d.next = self.w0.val();
                self.iy.d.next = self.iy_b.q.val();
                self.ix.d.next = self.ix_b.q.val();
                if !self.f_pc.val() {
                    self.pc.d.next = self.pc.q.val() + 1;
                    self.e_pc.d.next = self.n_pc.val();
                    self.a_pc.d.next = self.a_pc.q.val() + 1;
                    self.a_ky.d.next = self.a_pc.q.val() + 1;
                    self.a_kx.d.next = self.a_pc.q.val() + 1;
                    self.a.d.next = self.a_pc.q.val() + 1;
                    self.o_pc.d.next = self.o_pc.q.val() + 1;
                } else if !self.f_ox.val() {
                    self.pc.d.next = 0.into();
                    self.e_pc.d.next = self.z_pc.val();
                    self.ox.d.next = self.ox.q.val() + 1;
                    self.e_ox.d.next = self.n_ox.val();
                    self.a_px.d.next = self.a_px.q.val() + self.pstep.val();
                    self.a_pc.d.next = self.a_px.q.val() + self.pstep.val();
                    self.a_ky.d.next = self.a_px.q.val() + self.pstep.val();
                    self.a_kx.d.next = self.a_px.q.val() + self.pstep.val();
                    self.a.d.next = self.a_px.q.val() + self.pstep.val();
                    self.o_px.d.next = self.o_px.q.val() + self.ostep.val();
                    self.o_pc.d.next = self.o_px.q.val() + self.ostep.val();
                    self.ix_b.d.next = self.ix_b.q.val() + self.stride.val();
                    self.ix.d.next = self.ix_b.q.val() + self.stride.val();
                } else if !self.f_oy.val() {
                    self.pc.d.next = 0.into();
                    self.e_pc.d.next = self.z_pc.val();
                    self.ox.d.next = 0.into();
                    self.e_ox.d.next = self.z_ox.val();
                    self.oy.d.next = self.oy.q.val() + 1;
                    self.e_oy.d.next = self.n_oy.val();
                    self.a_row.d.next = self.a_row.q.val() + self.rstep.val();
                    self.a_px.d.next = self.a_row.q.val() + self.rstep.val();
                    self.a_pc.d.next = self.a_row.q.val() + self.rstep.val();
                    self.a_ky.d.next = self.a_row.q.val() + self.rstep.val();
                    self.a_kx.d.next = self.a_row.q.val() + self.rstep.val();
                    self.a.d.next = self.a_row.q.val() + self.rstep.val();
                    self.o_px.d.next = self.o_px.q.val() + self.ostep.val();
                    self.o_pc.d.next = self.o_px.q.val() + self.ostep.val();
                    self.iy_b.d.next = self.iy_b.q.val() + self.stride.val();
                    self.iy.d.next = self.iy_b.q.val() + self.stride.val();
                    self.ix_b.d.next = self.ix0.val();
                    self.ix.d.next = self.ix0.val();
                } else {
                    self.run.d.next = false;
                    self.done_r.d.next = true;
                }
            }
        }
        if self.go.val() | self.reset.val() {
            // Every counter restarts at 0 (the bounds are already the step's).
            self.at_first.d.next = true;
            self.e_cw.d.next = self.z_cw.val();
            self.e_kx.d.next = self.z_kx.val();
            self.e_ky.d.next = self.z_ky.val();
            self.e_pc.d.next = self.z_pc.val();
            self.e_ox.d.next = self.z_ox.val();
            self.e_oy.d.next = self.z_oy.val();
            self.gap_ok.d.next = true;
        }
        if self.go.val() {
            self.run.d.next = true;
            self.cw.d.next = 0.into();
            self.kx.d.next = 0.into();
            self.ky.d.next = 0.into();
            self.pc.d.next = 0.into();
            self.ox.d.next = 0.into();
            self.oy.d.next = 0.into();
            self.a.d.next = self.p0.val();
            self.a_kx.d.next = self.p0.val();
            self.a_ky.d.next = self.p0.val();
            self.a_pc.d.next = self.p0.val();
            self.a_px.d.next = self.p0.val();
            self.a_row.d.next = self.p0.val();
            self.w.d.next = self.w0.val();
            self.o_pc.d.next = self.o0.val();
            self.o_px.d.next = self.o0.val();
            self.iy.d.next = self.iy0.val();
            self.iy_b.d.next = self.iy0.val();
            self.ix.d.next = self.ix0.val();
            self.ix_b.d.next = self.ix0.val();
            self.gap.d.next = 255.into();
        }
        if self.reset.val() {
            self.run.d.next = false;
            self.done_r.d.next = false;
            self.gap.d.next = 255.into();
            self.cw.d.next = 0.into();
            self.kx.d.next = 0.into();
            self.ky.d.next = 0.into();
            self.pc.d.next = 0.into();
            self.ox.d.next = 0.into();
            self.oy.d.next = 0.into();
        }
    }
}
