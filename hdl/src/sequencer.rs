//! The sequencer: reads steps from the descriptor memory, decodes them (bit layout
//! `common::job::fields`), computes each step's address constants without multipliers,
//! runs the feeder once per output-channel group (loading the group's parameters into
//! the rows first), waits for the pipeline to drain, and repeats until the step marked
//! `last`. It counts `job_cycles` from `start` to `done`.

use crate::feeder::Feeder;
use crate::variant::Pick;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum SeqState {
    Idle,
    Fetch,
    Setup,
    SetY,
    SetX,
    ParLoad,
    Go,
    Run,
    Flush,
    Next,
    StepEnd,
    Done,
}

#[derive(LogicBlock)]
pub struct Sequencer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    /// The feeder's issue enable (`Feeder::adv`).
    pub adv: Signal<In, Bit>,
    pub desc_raddr: Signal<Out, Bits<16>>,
    pub desc_rdata: Signal<In, Bits<64>>,
    pub busy: Signal<Out, Bit>,
    /// `busy` of the next cycle (the value its register loads), so the core can register
    /// what it selects by `busy`.
    pub busy_next: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub job_cycles: Signal<Out, Bits<32>>,
    /// The current step, decoded.
    pub is_max: Signal<Out, Bit>,
    pub is_avg: Signal<Out, Bit>,
    pub sgn: Signal<Out, Bit>,
    pub relu: Signal<Out, Bit>,
    pub src: Signal<Out, Bits<2>>,
    pub dst: Signal<Out, Bits<2>>,
    /// First channel of the current group, the group's channel limit, its byte lane.
    pub co_base: Signal<Out, Bits<11>>,
    pub lim: Signal<Out, Bits<11>>,
    pub glane: Signal<Out, Bits<3>>,
    /// Parameter reads while loading a group (`par_idx` = row).
    pub par_raddr: Signal<Out, Bits<16>>,
    pub par_v: Signal<Out, Bit>,
    pub par_idx: Signal<Out, Bits<8>>,
    /// The feeder's issue (see `Feeder`).
    pub f_v: Signal<Out, Bit>,
    pub f_first: Signal<Out, Bit>,
    pub f_last: Signal<Out, Bit>,
    pub f_inr: Signal<Out, Bit>,
    pub a_addr: Signal<Out, Bits<16>>,
    pub w_addr: Signal<Out, Bits<16>>,
    pub o_addr: Signal<Out, Bits<16>>,
    /// The feeder starts a group (or a max-pool step).
    pub go: Signal<Out, Bit>,
    /// For the max-pool unit (`MaxUnit`, full): walked rows per channel word minus 1, input
    /// rows, the first output word (`dst_base + dst_off`), words per output pixel.
    pub mp_rows_m1: Signal<Out, Bits<9>>,
    pub in_rows: Signal<Out, Bits<9>>,
    pub o0: Signal<Out, Bits<16>>,
    pub ostep: Signal<Out, Bits<16>>,
    feeder: Feeder,
    /// The feeder's loops for a max pool, per variant (see "Max pool" in `Sequencer::new`).
    mp_pcl: Pick<Bits<8>>,
    mp_kh: Pick<Bits<9>>,
    mp_kw: Pick<Bits<9>>,
    mp_oh: Pick<Bits<9>>,
    mp_ow: Pick<Bits<9>>,
    mp_pstep: Pick<Bits<16>>,
    mp_rstep: Pick<Bits<16>>,
    mp_stride: Pick<Bits<12>>,
    /// Channel words, and the row walk's rows and columns per channel word (minus 1), from
    /// the descriptor, registered (the picks take registers, not this block's locals: a
    /// pick of a local is a combinational loop through this block for Verilator); twice the
    /// output rows and columns.
    mp_cw: DFF<Bits<8>>,
    mp_rows: DFF<Bits<10>>,
    mp_cols: DFF<Bits<10>>,
    mp_oh2: Signal<Local, Bits<10>>,
    mp_ow2: Signal<Local, Bits<10>>,
    rows: Constant<Bits<11>>,
    gavg: Constant<Bits<11>>,
    drain: Constant<Bits<8>>,
    flush: Constant<Bits<8>>,
    last_step: Constant<Bits<8>>,
    // Decoded fields.
    op: Signal<Local, Bits<2>>,
    k3: Signal<Local, Bit>,
    y0: Signal<Local, Bits<4>>,
    x0: Signal<Local, Bits<4>>,
    cwn8: Signal<Local, Bits<8>>,
    cwn16: Signal<Local, Bits<16>>,
    cout: Signal<Local, Bits<11>>,
    in_h: Signal<Local, Bits<9>>,
    in_w: Signal<Local, Bits<9>>,
    gsz: Signal<Local, Bits<11>>,
    co_next: Signal<Local, Bits<12>>,
    /// The next group's first channel, whether it is below cout, and the current group's
    /// channel limit, registered: `cob` and the step hold for at least two cycles before
    /// `Next` and the drain read them (ParLoad, Go), and the add-and-compare was the
    /// iCE40's longest path.
    co_nx: DFF<Bits<12>>,
    more: DFF<Bit>,
    lim_r: DFF<Bits<11>>,
    kkcw: Signal<Local, Bits<16>>,
    // p0's step in SetY (rs) and SetX (cwn), added or (y0, x0 < 0) subtracted with one adder:
    // p0 - op = ~(~p0 + op).
    p0_op: Signal<Local, Bits<16>>,
    p0_mask: Signal<Local, Bits<16>>,
    p0_new: Signal<Local, Bits<16>>,
    state: DFF<SeqState>,
    /// `state != Idle`, registered from the next state: the engine's port selects (every
    /// activation buffer bank's address and enables) do not wait for the state decode.
    busy_r: DFF<Bit>,
    step: DFF<Bits<8>>,
    fc: DFF<Bits<3>>,
    d0: DFF<Bits<64>>,
    d1: DFF<Bits<64>>,
    d2: DFF<Bits<64>>,
    /// Cycles since `start`; stops in `Done`, so it holds the job's count from the done
    /// pulse until the next start.
    cyc: DFF<Bits<32>>,
    rs: DFF<Bits<16>>,
    cnt: DFF<Bits<8>>,
    p0: DFF<Bits<16>>,
    yc: DFF<Bits<4>>,
    xc: DFF<Bits<4>>,
    cob: DFF<Bits<11>>,
    wg: DFF<Bits<16>>,
    pi: DFF<Bits<11>>,
    fl: DFF<Bits<8>>,
    // The feeder's loop bounds, registered: the descriptor is stable for a whole step (fetched
    // several cycles before the feeder's `go`), and the subtracters stay out of its compares.
    f_cwl: DFF<Bits<8>>,
    f_pcl: DFF<Bits<8>>,
    f_kh: DFF<Bits<9>>,
    f_kw: DFF<Bits<9>>,
    f_oh: DFF<Bits<9>>,
    f_ow: DFF<Bits<9>>,
    f_ih: DFF<Bits<12>>,
    f_iw: DFF<Bits<12>>,
    // The feeder's start addresses, steps and start coordinates, registered too: `go` comes at
    // least a cycle after their last change (`p0` in SetX, `cob` in Next, then ParLoad), and
    // the descriptor decode (`is_max`, `op`) stays out of the feeder's address adders.
    f_p0: DFF<Bits<16>>,
    f_o0: DFF<Bits<16>>,
    f_pstep: DFF<Bits<16>>,
    f_rstep: DFF<Bits<16>>,
    f_iy0: DFF<Bits<12>>,
    f_ix0: DFF<Bits<12>>,
    f_stride: DFF<Bits<12>>,
    f_gap: DFF<Bits<8>>,
}

impl Sequencer {
    /// `rows` output channels per group, `drain` output-stage cycles per pixel; `lean`: the
    /// feeder compares its counters instead of keeping registered loop flags (`Feeder::new`).
    pub fn new(rows: usize, drain: usize, max_steps: usize, lean: bool) -> Self {
        assert!(rows <= 128 && drain <= 128 && (1..=64).contains(&max_steps));
        Sequencer {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            adv: Default::default(),
            desc_raddr: Default::default(),
            desc_rdata: Default::default(),
            busy: Default::default(),
            busy_next: Default::default(),
            done: Default::default(),
            job_cycles: Default::default(),
            is_max: Default::default(),
            is_avg: Default::default(),
            sgn: Default::default(),
            relu: Default::default(),
            src: Default::default(),
            dst: Default::default(),
            co_base: Default::default(),
            lim: Default::default(),
            glane: Default::default(),
            par_raddr: Default::default(),
            par_v: Default::default(),
            par_idx: Default::default(),
            f_v: Default::default(),
            f_first: Default::default(),
            f_last: Default::default(),
            f_inr: Default::default(),
            a_addr: Default::default(),
            w_addr: Default::default(),
            o_addr: Default::default(),
            go: Default::default(),
            mp_rows_m1: Default::default(),
            in_rows: Default::default(),
            o0: Default::default(),
            ostep: Default::default(),
            feeder: Feeder::new(!lean),
            mp_pcl: Pick::new(lean),
            mp_kh: Pick::new(lean),
            mp_kw: Pick::new(lean),
            mp_oh: Pick::new(lean),
            mp_ow: Pick::new(lean),
            mp_pstep: Pick::new(lean),
            mp_rstep: Pick::new(lean),
            mp_stride: Pick::new(lean),
            mp_cw: Default::default(),
            mp_rows: Default::default(),
            mp_cols: Default::default(),
            mp_oh2: Default::default(),
            mp_ow2: Default::default(),
            rows: Constant::new((rows as u64).into()),
            gavg: Constant::new((rows.min(8) as u64).into()),
            drain: Constant::new((drain as u64).into()),
            // Pipeline: 10 MAC stages + drain + 8 requant stages + 2 write registers, with margin.
            flush: Constant::new((drain as u64 + 29).into()),
            last_step: Constant::new((max_steps as u64 - 1).into()),
            op: Default::default(),
            k3: Default::default(),
            y0: Default::default(),
            x0: Default::default(),
            cwn8: Default::default(),
            cwn16: Default::default(),
            cout: Default::default(),
            in_h: Default::default(),
            in_w: Default::default(),
            gsz: Default::default(),
            co_next: Default::default(),
            co_nx: Default::default(),
            more: Default::default(),
            lim_r: Default::default(),
            kkcw: Default::default(),
            p0_op: Default::default(),
            p0_mask: Default::default(),
            p0_new: Default::default(),
            state: Default::default(),
            busy_r: Default::default(),
            step: Default::default(),
            fc: Default::default(),
            d0: Default::default(),
            d1: Default::default(),
            d2: Default::default(),
            cyc: Default::default(),
            rs: Default::default(),
            cnt: Default::default(),
            p0: Default::default(),
            yc: Default::default(),
            xc: Default::default(),
            cob: Default::default(),
            wg: Default::default(),
            pi: Default::default(),
            fl: Default::default(),
            f_cwl: Default::default(),
            f_pcl: Default::default(),
            f_kh: Default::default(),
            f_kw: Default::default(),
            f_oh: Default::default(),
            f_ow: Default::default(),
            f_ih: Default::default(),
            f_iw: Default::default(),
            f_p0: Default::default(),
            f_o0: Default::default(),
            f_pstep: Default::default(),
            f_rstep: Default::default(),
            f_iy0: Default::default(),
            f_ix0: Default::default(),
            f_stride: Default::default(),
            f_gap: Default::default(),
        }
    }
}

impl Logic for Sequencer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, busy_r, step, fc, d0, d1, d2, cyc, rs, cnt, p0, yc, xc, cob, wg,
            pi, fl, f_cwl, f_pcl, f_kh, f_kw, f_oh, f_ow, f_ih, f_iw, co_nx, more, lim_r, f_p0,
            f_o0, f_pstep, f_rstep, f_iy0, f_ix0, f_stride, f_gap, mp_cw, mp_rows, mp_cols
        );
        self.feeder.clock.next = self.clock.val();
        self.feeder.reset.next = self.reset.val();
        self.feeder.go.next = false;
        // Field decode (common::job::fields).
        self.op.next = self.d0.q.val().get_bits::<2>(0);
        self.k3.next = self.d0.q.val().get_bits::<2>(3) == 3;
        self.sgn.next = self.d0.q.val().get_bit(5);
        self.relu.next = self.d0.q.val().get_bit(6);
        self.src.next = self.d0.q.val().get_bits::<2>(7);
        self.dst.next = self.d0.q.val().get_bits::<2>(9);
        self.y0.next = self.d0.q.val().get_bits::<4>(11);
        self.x0.next = self.d0.q.val().get_bits::<4>(15);
        self.cwn8.next = self.d0.q.val().get_bits::<8>(19);
        self.cwn16.next = bit_cast::<16, 8>(self.cwn8.val());
        self.cout.next = self.d0.q.val().get_bits::<11>(27);
        self.in_h.next = self.d0.q.val().get_bits::<9>(38);
        self.in_w.next = self.d0.q.val().get_bits::<9>(47);
        self.is_max.next = self.op.val() == 1;
        self.is_avg.next = self.op.val() == 2;
        self.kkcw.next = self.cwn16.val();
        if self.k3.val() {
            self.kkcw.next = (self.cwn16.val() << 3) + self.cwn16.val();
        }
        self.gsz.next = self.rows.val();
        if self.is_avg.val() {
            self.gsz.next = self.gavg.val();
        }
        // 12 bits: the last group's end never wraps below cout (so every job terminates).
        self.co_next.next =
            bit_cast::<12, 11>(self.cob.q.val()) + bit_cast::<12, 11>(self.gsz.val());
        self.co_base.next = self.cob.q.val();
        self.glane.next = self.cob.q.val().get_bits::<3>(0);
        self.co_nx.d.next = self.co_next.val();
        self.more.d.next = self.co_next.val() < bit_cast::<12, 11>(self.cout.val());
        self.lim_r.d.next = self.cout.val();
        if self.more.d.val() {
            self.lim_r.d.next = self.co_next.val().get_bits::<11>(0);
        }
        self.lim.next = self.lim_r.q.val();
        // Feeder configuration (held while it runs).
        self.feeder.cwn.next = self.cwn16.val();
        self.feeder.rs.next = self.rs.q.val();
        self.f_o0.d.next = self.d2.q.val().get_bits::<16>(16)
            + bit_cast::<16, 8>(self.d1.q.val().get_bits::<8>(26));
        self.feeder.ostep.next = bit_cast::<16, 8>(self.d1.q.val().get_bits::<8>(18));
        self.f_ih.d.next = bit_cast::<12, 9>(self.in_h.val()) + 16;
        self.f_iw.d.next = bit_cast::<12, 9>(self.in_w.val()) + 16;
        self.f_oh.d.next = self.d1.q.val().get_bits::<9>(0) - 1;
        self.f_ow.d.next = self.d1.q.val().get_bits::<9>(9) - 1;
        self.feeder.w0.next = self.wg.q.val();
        self.f_gap.d.next = self.drain.val();
        self.feeder.adv.next = self.adv.val();
        self.f_cwl.d.next = 0.into();
        self.f_pcl.d.next = 0.into();
        self.f_pstep.d.next = self.cwn16.val();
        self.f_rstep.d.next = self.rs.q.val();
        self.f_iy0.d.next = 16.into();
        self.f_ix0.d.next = 16.into();
        self.f_stride.d.next = 1.into();
        self.f_kh.d.next = 2.into();
        self.f_kw.d.next = 2.into();
        self.f_p0.d.next = self.d2.q.val().get_bits::<16>(0);
        if self.op.val() == 0 {
            // Conv: k x k taps of cin_words words, padding from (y0, x0).
            self.f_p0.d.next = self.p0.q.val();
            self.f_cwl.d.next = self.cwn8.val() - 1;
            if !self.k3.val() {
                self.f_kh.d.next = 0.into();
                self.f_kw.d.next = 0.into();
            }
            if self.y0.val().get_bit(3) {
                self.f_iy0.d.next = bit_cast::<12, 4>(self.y0.val());
            } else {
                self.f_iy0.d.next = bit_cast::<12, 4>(self.y0.val()) + 16;
            }
            if self.x0.val().get_bit(3) {
                self.f_ix0.d.next = bit_cast::<12, 4>(self.x0.val());
            } else {
                self.f_ix0.d.next = bit_cast::<12, 4>(self.x0.val()) + 16;
            }
        }
        // Max pool, full (row walk, `pool::MaxUnit`): the output-row loop walks the channel
        // words (`rstep` 1), the output-column loop the input rows (`pstep` one row), the
        // tap-column loop a row's columns. Rows: 2*out_h + 1, or 2*out_h when the tile has
        // no more, so the last row ends a window. Columns: 2*out_w + 1, or 2*out_w (the last
        // ends the clipped last window), at least 3; `stride` 0 keeps the column check on the
        // row, and columns past the tile are flagged outside. Lean (window walk): output
        // pixel, channel word, 3x3 taps at stride 2.
        self.mp_cw.d.next = self.cwn8.val() - 1;
        self.mp_oh2.next = bit_cast::<10, 9>(self.d1.q.val().get_bits::<9>(0)) << 1;
        self.mp_ow2.next = bit_cast::<10, 9>(self.d1.q.val().get_bits::<9>(9)) << 1;
        self.mp_rows.d.next = self.mp_oh2.val() - 1;
        if bit_cast::<10, 9>(self.in_h.val()) > self.mp_oh2.val() {
            self.mp_rows.d.next = self.mp_oh2.val();
        }
        self.mp_cols.d.next = self.mp_ow2.val() - 1;
        if (bit_cast::<10, 9>(self.in_w.val()) > self.mp_ow2.val()) | (self.mp_ow2.val() == 2) {
            self.mp_cols.d.next = self.mp_ow2.val();
        }
        self.mp_pcl.full.next = 0.into();
        self.mp_pcl.lean.next = self.mp_cw.q.val();
        self.mp_kh.full.next = 0.into();
        self.mp_kh.lean.next = 2.into();
        self.mp_kw.full.next = self.mp_cols.q.val().get_bits::<9>(0);
        self.mp_kw.lean.next = 2.into();
        self.mp_oh.full.next = bit_cast::<9, 8>(self.mp_cw.q.val());
        self.mp_oh.lean.next = self.d1.q.val().get_bits::<9>(0) - 1;
        self.mp_ow.full.next = self.mp_rows.q.val().get_bits::<9>(0);
        self.mp_ow.lean.next = self.d1.q.val().get_bits::<9>(9) - 1;
        self.mp_pstep.full.next = self.rs.q.val();
        self.mp_pstep.lean.next = bit_cast::<16, 8>(self.d0.q.val().get_bits::<8>(19)) << 1;
        self.mp_rstep.full.next = 1.into();
        self.mp_rstep.lean.next = self.rs.q.val() << 1;
        self.mp_stride.full.next = 0.into();
        self.mp_stride.lean.next = 2.into();
        if self.is_max.val() {
            self.f_pcl.d.next = self.mp_pcl.q.val();
            self.f_kh.d.next = self.mp_kh.q.val();
            self.f_kw.d.next = self.mp_kw.q.val();
            self.f_oh.d.next = self.mp_oh.q.val();
            self.f_ow.d.next = self.mp_ow.q.val();
            self.f_pstep.d.next = self.mp_pstep.q.val();
            self.f_rstep.d.next = self.mp_rstep.q.val();
            self.f_stride.d.next = self.mp_stride.q.val();
            self.f_gap.d.next = 0.into();
        }
        if self.is_avg.val() {
            // One "pixel" whose taps are every input pixel, at channel word co_base / 8.
            self.f_p0.d.next = self.d2.q.val().get_bits::<16>(0)
                + bit_cast::<16, 8>(self.cob.q.val().get_bits::<8>(3));
            self.f_kh.d.next = self.in_h.val() - 1;
            self.f_kw.d.next = self.in_w.val() - 1;
            self.f_oh.d.next = 0.into();
            self.f_ow.d.next = 0.into();
        }
        self.feeder.p0.next = self.f_p0.q.val();
        self.feeder.o0.next = self.f_o0.q.val();
        self.feeder.pstep.next = self.f_pstep.q.val();
        self.feeder.rstep.next = self.f_rstep.q.val();
        self.feeder.iy0.next = self.f_iy0.q.val();
        self.feeder.ix0.next = self.f_ix0.q.val();
        self.feeder.stride.next = self.f_stride.q.val();
        self.feeder.gap_min.next = self.f_gap.q.val();
        self.feeder.cwl_m1.next = self.f_cwl.q.val();
        self.feeder.pcl_m1.next = self.f_pcl.q.val();
        self.feeder.kh_m1.next = self.f_kh.q.val();
        self.feeder.kw_m1.next = self.f_kw.q.val();
        self.feeder.oh_m1.next = self.f_oh.q.val();
        self.feeder.ow_m1.next = self.f_ow.q.val();
        self.feeder.ih16.next = self.f_ih.q.val();
        self.feeder.iw16.next = self.f_iw.q.val();
        self.f_v.next = self.feeder.v.val();
        self.f_first.next = self.feeder.first.val();
        self.f_last.next = self.feeder.last.val();
        self.f_inr.next = self.feeder.inr.val();
        self.a_addr.next = self.feeder.a_addr.val();
        self.w_addr.next = self.feeder.w_addr.val();
        self.o_addr.next = self.feeder.o_addr.val();
        self.go.next = self.state.q.val() == SeqState::Go;
        self.mp_rows_m1.next = self.f_ow.q.val();
        self.in_rows.next = self.in_h.val();
        self.o0.next = self.f_o0.q.val();
        self.ostep.next = self.feeder.ostep.val();
        // Parameter loading.
        self.par_raddr.next = bit_cast::<16, 12>(self.d1.q.val().get_bits::<12>(34))
            + bit_cast::<16, 11>(self.cob.q.val())
            + bit_cast::<16, 11>(self.pi.q.val());
        self.par_v.next = self.state.q.val() == SeqState::ParLoad;
        self.par_idx.next = self.pi.q.val().get_bits::<8>(0);
        self.desc_raddr.next =
            (bit_cast::<16, 8>(self.step.q.val()) << 2) + bit_cast::<16, 3>(self.fc.q.val());
        self.busy.next = self.busy_r.q.val();
        self.done.next = self.state.q.val() == SeqState::Done;
        self.job_cycles.next = self.cyc.q.val();
        if (self.state.q.val() != SeqState::Idle) & (self.state.q.val() != SeqState::Done) {
            self.cyc.d.next = self.cyc.q.val() + 1;
        }
        self.p0_op.next = self.rs.q.val();
        self.p0_mask.next = 0.into();
        if self.yc.q.val().get_bit(3) {
            self.p0_mask.next = 0xFFFF.into();
        }
        if self.state.q.val() == SeqState::SetX {
            self.p0_op.next = self.cwn16.val();
            self.p0_mask.next = 0.into();
            if self.xc.q.val().get_bit(3) {
                self.p0_mask.next = 0xFFFF.into();
            }
        }
        self.p0_new.next =
            ((self.p0.q.val() ^ self.p0_mask.val()) + self.p0_op.val()) ^ self.p0_mask.val();
        match self.state.q.val() {
            SeqState::Idle => {
                if self.start.val() {
                    self.state.d.next = SeqState::Fetch;
                    self.step.d.next = 0.into();
                    self.fc.d.next = 0.into();
                    self.cyc.d.next = 1.into();
                }
            }
            SeqState::Fetch => {
                self.fc.d.next = self.fc.q.val() + 1;
                if self.fc.q.val() == 1 {
                    self.d0.d.next = self.desc_rdata.val();
                }
                if self.fc.q.val() == 2 {
                    self.d1.d.next = self.desc_rdata.val();
                }
                if self.fc.q.val() == 3 {
                    self.d2.d.next = self.desc_rdata.val();
                    self.state.d.next = SeqState::Setup;
                    self.rs.d.next = 0.into();
                    self.cnt.d.next = 0.into();
                }
            }
            SeqState::Setup => {
                // rs = in_w * cin_words by repeated addition (once per step).
                if self.cnt.q.val() == self.cwn8.val() {
                    self.p0.d.next = self.d2.q.val().get_bits::<16>(0);
                    self.yc.d.next = self.y0.val();
                    self.xc.d.next = self.x0.val();
                    self.state.d.next = SeqState::SetY;
                } else {
                    self.cnt.d.next = self.cnt.q.val() + 1;
                    self.rs.d.next = self.rs.q.val() + bit_cast::<16, 9>(self.in_w.val());
                }
            }
            SeqState::SetY => {
                // p0 = src_base + y0 * rs + x0 * cin_words (conv only).
                if self.yc.q.val() == 0 {
                    self.state.d.next = SeqState::SetX;
                } else if self.yc.q.val().get_bit(3) {
                    self.p0.d.next = self.p0_new.val();
                    self.yc.d.next = self.yc.q.val() + 1;
                } else {
                    self.p0.d.next = self.p0_new.val();
                    self.yc.d.next = self.yc.q.val() - 1;
                }
            }
            SeqState::SetX => {
                if self.xc.q.val() == 0 {
                    self.cob.d.next = 0.into();
                    self.wg.d.next = self.d2.q.val().get_bits::<16>(32);
                    self.pi.d.next = 0.into();
                    if self.is_max.val() {
                        self.state.d.next = SeqState::Go;
                    } else {
                        self.state.d.next = SeqState::ParLoad;
                    }
                } else if self.xc.q.val().get_bit(3) {
                    self.p0.d.next = self.p0_new.val();
                    self.xc.d.next = self.xc.q.val() + 1;
                } else {
                    self.p0.d.next = self.p0_new.val();
                    self.xc.d.next = self.xc.q.val() - 1;
                }
            }
            SeqState::ParLoad => {
                self.pi.d.next = self.pi.q.val() + 1;
                if self.pi.q.val() + 1 == self.rows.val() {
                    self.state.d.next = SeqState::Go;
                }
            }
            SeqState::Go => {
                self.feeder.go.next = true;
                self.state.d.next = SeqState::Run;
            }
            SeqState::Run => {
                self.fl.d.next = 0.into();
                if self.feeder.done.val() {
                    self.state.d.next = SeqState::Flush;
                }
            }
            SeqState::Flush => {
                self.fl.d.next = self.fl.q.val() + 1;
                if self.fl.q.val() == self.flush.val() {
                    self.state.d.next = SeqState::Next;
                }
            }
            SeqState::Next => {
                self.pi.d.next = 0.into();
                if !self.is_max.val() & self.more.q.val() {
                    self.cob.d.next = self.co_nx.q.val().get_bits::<11>(0);
                    self.wg.d.next = self.wg.q.val() + self.kkcw.val();
                    self.state.d.next = SeqState::ParLoad;
                } else {
                    self.state.d.next = SeqState::StepEnd;
                }
            }
            SeqState::StepEnd => {
                if self.d0.q.val().get_bit(2) | (self.step.q.val() == self.last_step.val()) {
                    // `cyc` then counts the done cycle too, and is valid with the done pulse.
                    self.state.d.next = SeqState::Done;
                } else {
                    self.step.d.next = self.step.q.val() + 1;
                    self.fc.d.next = 0.into();
                    self.state.d.next = SeqState::Fetch;
                }
            }
            SeqState::Done => {
                self.state.d.next = SeqState::Idle;
            }
            _ => {
                self.state.d.next = SeqState::Idle;
            }
        }
        if self.reset.val() {
            self.state.d.next = SeqState::Idle;
            self.cyc.d.next = 0.into();
            self.step.d.next = 0.into();
            self.fc.d.next = 0.into();
            self.cnt.d.next = 0.into();
            self.pi.d.next = 0.into();
            self.fl.d.next = 0.into();
            self.cob.d.next = 0.into();
            self.yc.d.next = 0.into();
            self.xc.d.next = 0.into();
        }
        self.busy_r.d.next = self.state.d.val() != SeqState::Idle;
        self.busy_next.next = self.busy_r.d.val();
    }
}
