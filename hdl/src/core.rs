//! `sqz_core`: buffers, MAC array, output stage, max-pool unit, sequencer and the bus.
//!
//! Const parameters: `R` rows (output channels per group), `U` requantizer units,
//! `D = R / U` drain cycles per pixel. Buffer depths come from the `DeviceConfig`, pipeline
//! depths from its `common::Schedule`. Ports are the "Core ports" table of
//! docs/architecture.md; the blocks are its "Engine blocks".
//!
//! The variant (`common::Pipeline`) is chosen here, at construction: which memories exist,
//! the lengths of the delay lines, and which kernel the variant blocks (`BusAnswer`,
//! `ActPath`, `MacRow`, `Requant`) run. The lean engine keeps A, B and S in one single-port
//! memory (`SharedAb`): the feeder issues on every other cycle (`ph` high) and the engine's
//! writes reach the memory without the write register (`Schedule::write_regs`), an odd number
//! of cycles after their issue, so the engine's reads and writes never meet at the port; the
//! max-pool unit writes one cycle later (`Schedule::pool_write`) to keep its own parity.

use crate::act_path::ActPath;
use crate::bram::{ActBuf, Bram};
use crate::bus_answer::BusAnswer;
use crate::bus_port::BusPort;
use crate::delay::Delay;
use crate::mac_row::MacRow;
use crate::mul8::ActCopy;
use crate::out_stage::OutStage;
use crate::pool::MaxUnit;
use crate::requant::Requant;
use crate::sequencer::Sequencer;
use crate::spram::SharedAb;
use crate::variant::Pick;
use common::{DeviceConfig, Schedule};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct SqzCore<const R: usize, const U: usize, const D: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub bus_addr: Signal<In, Bits<24>>,
    pub bus_wdata: Signal<In, Bits<64>>,
    pub bus_write: Signal<In, Bit>,
    pub bus_read: Signal<In, Bit>,
    pub bus_rdata: Signal<Out, Bits<64>>,
    pub bus_rvalid: Signal<Out, Bit>,
    pub start: Signal<In, Bit>,
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub job_cycles: Signal<Out, Bits<32>>,
    bus: BusPort,
    ans: BusAnswer,
    // A, B and S in `ab` (the lean engine's shared port), else in `buf_a`/`buf_b`/`buf_s`
    // (the other is absent: reads 0, drops writes).
    buf_a: ActBuf,
    buf_b: ActBuf,
    buf_s: ActBuf,
    ab: SharedAb,
    desc: Bram<64>,
    params: Bram<54>,
    act: ActPath,
    // First level of the activation broadcast: U copies; copy u feeds the rows j·U + u
    // (the rows' own copies are the second level).
    grp: [ActCopy; U],
    rows: [MacRow; R],
    req: [Requant; U],
    maxu: MaxUnit,
    out: OutStage,
    seq: Sequencer,
    // The feeder issues on every cycle (full) or while the free-running phase is high (lean).
    ph: DFF<Bit>,
    adv: Pick<Bit>,
    // The rows load their weight register on every cycle (full) or with an issue (lean).
    w_ld: Pick<Bit>,
    a_rd: Signal<Local, Bits<64>>,
    b_rd: Signal<Local, Bits<64>>,
    s_rd: Signal<Local, Bits<64>>,
    // Bus read-back of the weights: the addressed row's word at `act` (lean), the addressed
    // row pair's at `act + 1` (full).
    w_word: Signal<Local, Bits<64>>,
    w_back: Signal<Local, Bits<64>>,
    // Issue flags delayed: bit i = the flag at t(i+1). Taps (`Schedule`): the activation
    // stage, the multipliers' inputs, the rows' flags, the sum, the max-pool unit's input.
    vsr: DFF<Bits<16>>,
    fsr: DFF<Bits<16>>,
    lsr: DFF<Bits<16>>,
    isr: DFF<Bits<16>>,
    t_act: Constant<Bits<4>>,
    t_slot: Constant<Bits<4>>,
    t_row: Constant<Bits<4>>,
    t_mac: Constant<Bits<4>>,
    t_max: Constant<Bits<4>>,
    t_pre: Constant<Bits<4>>,
    // The issue's output address to the max-pool unit's input, then on to the capture.
    o_pool: Delay<Bits<16>>,
    o_drain: Delay<Bits<16>>,
    // Parameter load: the params RAM answers `act` cycles after the sequencer's read.
    pv: Delay<Bit>,
    pidx: Delay<Bits<8>>,
}

impl<const R: usize, const U: usize, const D: usize> SqzCore<R, U, D> {
    pub fn new(cfg: &DeviceConfig) -> Self {
        assert_eq!(cfg.rows, R);
        assert_eq!(cfg.requant_units, U);
        assert!(
            R.is_power_of_two() && R <= 128,
            "rows must be a power of two"
        );
        assert!(U * D == R && 8 % U == 0 && R.min(8).is_multiple_of(U));
        let sh = cfg.lean();
        let s = Schedule::of(cfg);
        let desc_words = cfg.max_steps * common::job::STEP_WORDS;
        assert!(cfg.param_words < 1 << 16 && cfg.weight_words < 1 << 16);
        // Weight read-back goes by row pairs (`MacRow::w_pair`) except in the lean build.
        assert!(
            sh || R >= 2,
            "the pipelined build reads weights back by row pairs"
        );
        // The time-sharing relies on at most one write per issue (D = 1).
        assert!(
            !sh || D == 1,
            "a shared A/B port needs rows = requant units"
        );
        let tap = |t: usize| Constant::new((Schedule::tap(t) as u64).into());
        let act_buf = |depth| {
            if sh {
                ActBuf::absent()
            } else {
                ActBuf::new(depth)
            }
        };
        // The multipliers' places on the ECP5 (the ULX3S builds; ignored elsewhere).
        let plan = crate::floorplan::ecp5_85f(R, U);
        SqzCore {
            clock: Default::default(),
            reset: Default::default(),
            bus_addr: Default::default(),
            bus_wdata: Default::default(),
            bus_write: Default::default(),
            bus_read: Default::default(),
            bus_rdata: Default::default(),
            bus_rvalid: Default::default(),
            start: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            job_cycles: Default::default(),
            bus: BusPort::new(&s, R, desc_words, cfg.param_words, cfg.weight_words),
            ans: BusAnswer::new(sh),
            buf_a: act_buf(cfg.act_words),
            buf_b: act_buf(cfg.act_words),
            buf_s: act_buf(cfg.sq_words),
            ab: if sh {
                SharedAb::new(cfg.act_words, cfg.sq_words)
            } else {
                SharedAb::absent()
            },
            // Ungated: the engine reads in range, and bus reads check the range (`BusPort`).
            desc: Bram::new(desc_words).ungated(),
            params: if sh {
                Bram::new_addr_delayed(cfg.param_words, s.act)
            } else {
                Bram::new_pipelined(cfg.param_words)
            }
            .ungated(),
            act: ActPath::new(sh),
            grp: std::array::from_fn(|_| {
                if sh {
                    ActCopy::wire()
                } else {
                    ActCopy::default()
                }
            }),
            rows: std::array::from_fn(|r| MacRow::new(r, cfg.weight_words, sh, D, plan.as_ref())),
            req: std::array::from_fn(|u| {
                Requant::new(u, sh, plan.as_ref().map(|p| p.requant[u].clone()))
            }),
            maxu: MaxUnit::new(sh, s.pool_write),
            out: OutStage::new(U, D, s.write_regs),
            seq: Sequencer::new(R, D, cfg.max_steps, sh),
            ph: Default::default(),
            adv: Pick::new(s.issue_every != 1),
            w_ld: Pick::new(sh),
            a_rd: Default::default(),
            b_rd: Default::default(),
            s_rd: Default::default(),
            w_word: Default::default(),
            w_back: Default::default(),
            vsr: Default::default(),
            fsr: Default::default(),
            lsr: Default::default(),
            isr: Default::default(),
            t_act: tap(s.act),
            t_slot: tap(s.slot),
            t_row: tap(s.row_flags),
            t_mac: tap(s.mac),
            t_max: tap(s.pool),
            t_pre: tap(s.pool - 1),
            o_pool: Delay::new(s.pool_addr_stages()),
            o_drain: Delay::new(s.drain_addr_stages() - s.pool_addr_stages()),
            pv: Delay::new(s.act),
            pidx: Delay::new(s.act),
        }
    }

    /// Test only: the core with the full engine's write register on the shared port, so the
    /// engine's writes land on the read parity. The collision detector must catch it.
    #[doc(hidden)]
    pub fn without_write_parity(cfg: &DeviceConfig) -> Self {
        let mut c = Self::new(cfg);
        c.out.set_write_regs(1);
        c
    }

    /// The shared A/B/S port saw a read and a write in the same cycle since the last `reset`
    /// (always false without a shared port). Simulation tests check it after every job.
    pub fn ab_collided(&self) -> bool {
        self.ab.collide.val()
    }
}

impl<const R: usize, const U: usize, const D: usize> Logic for SqzCore<R, U, D> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ph, vsr, fsr, lsr, isr);
        self.bus.clock.next = self.clock.val();
        self.ans.clock.next = self.clock.val();
        self.buf_a.clock.next = self.clock.val();
        self.buf_b.clock.next = self.clock.val();
        self.buf_s.clock.next = self.clock.val();
        self.ab.clock.next = self.clock.val();
        self.desc.clock.next = self.clock.val();
        self.params.clock.next = self.clock.val();
        self.act.clock.next = self.clock.val();
        self.maxu.clock.next = self.clock.val();
        self.out.clock.next = self.clock.val();
        self.seq.clock.next = self.clock.val();
        self.o_pool.clock.next = self.clock.val();
        self.o_drain.clock.next = self.clock.val();
        self.pv.clock.next = self.clock.val();
        self.pidx.clock.next = self.clock.val();
        self.bus.reset.next = self.reset.val();
        self.ans.reset.next = self.reset.val();
        self.ab.reset.next = self.reset.val();
        self.out.reset.next = self.reset.val();
        self.seq.reset.next = self.reset.val();
        self.ph.d.next = !self.ph.q.val();
        self.adv.full.next = true;
        self.adv.lean.next = self.ph.q.val();
        self.seq.adv.next = self.adv.q.val();
        // The bus port.
        self.bus.bus_addr.next = self.bus_addr.val();
        self.bus.bus_wdata.next = self.bus_wdata.val();
        self.bus.bus_write.next = self.bus_write.val();
        self.bus.bus_read.next = self.bus_read.val();
        self.bus.start.next = self.start.val();
        self.bus.busy.next = self.seq.busy.val();
        self.seq.start.next = self.bus.start_q.val();
        self.busy.next = self.seq.busy.val();
        self.done.next = self.seq.done.val();
        self.job_cycles.next = self.seq.job_cycles.val();
        // The absent buffers read 0.
        self.a_rd.next = self.buf_a.rdata.val() | self.ab.rdata.val();
        self.b_rd.next = self.buf_b.rdata.val() | self.ab.rdata.val();
        self.s_rd.next = self.buf_s.rdata.val() | self.ab.rdata.val();
        // Read ports: the engine while busy, the bus otherwise.
        self.desc.raddr.next = self.bus.desc_raddr.val();
        self.params.raddr.next = self.bus.idx16.val();
        self.buf_a.raddr.next = self.bus.idx16.val();
        self.buf_b.raddr.next = self.bus.idx16.val();
        self.buf_s.raddr.next = self.bus.idx16.val();
        self.ab.raddr.next = self.bus.idx16.val();
        self.ab.rsel.next = self.bus.ab_sel.val();
        self.ab.re.next = self.bus.ab_re.val();
        if self.seq.busy.val() {
            self.ab.raddr.next = self.seq.a_addr.val();
            self.ab.rsel.next = self.seq.src.val();
            self.ab.re.next = self.seq.f_v.val();
            self.desc.raddr.next = self.seq.desc_raddr.val();
            self.params.raddr.next = self.seq.par_raddr.val();
            self.buf_a.raddr.next = self.seq.a_addr.val();
            self.buf_b.raddr.next = self.seq.a_addr.val();
            self.buf_s.raddr.next = self.seq.a_addr.val();
        }
        self.seq.desc_rdata.next = self.desc.rdata.val();
        self.bus.desc_rdata.next = self.desc.rdata.val();
        // The bus read's answer; the weights' read-back (`MacRow::w_pair`: rows 2k and
        // 2k + 1 sit side by side, and a 16-way select of 64-bit words in one place was the
        // ULX3S's worst routing hot spot).
        self.ans.rq_v.next = self.bus.rq_v.val();
        self.ans.rq_reg.next = self.bus.rq_reg.val();
        self.ans.rq_row.next = self.bus.rq_row.val();
        self.ans.rq_ok.next = self.bus.rq_ok.val();
        self.ans.desc_word.next = self.bus.desc_word.val();
        self.ans.param_word.next = self.params.rdata.val();
        self.ans.ab_word.next = self.ab.rdata.val();
        self.w_word.next = 0.into();
        for r in 0..R {
            if self.bus.rq_row.val().index() == r {
                self.w_word.next = self.rows[r].w_rdata.val();
            }
            self.rows[r].w_nb.next = 0.into();
            self.rows[r].rb_odd.next = self.bus.rq_row.val().get_bit(0);
        }
        for k in 0..(R / 2) {
            self.rows[2 * k].w_nb.next = self.rows[2 * k + 1].w_rdata.val();
        }
        self.w_back.next = 0.into();
        for k in 0..(R / 2) {
            if self.ans.row4.val().get_bits::<7>(1).index() == k {
                self.w_back.next = self.rows[2 * k].w_pair.val();
            }
        }
        self.ans.w_word.next = self.w_word.val();
        self.ans.w_pair.next = self.w_back.val();
        self.ans.a_word.next = self.act.qa.val();
        self.ans.b_word.next = self.act.qb.val();
        self.ans.s_word.next = self.act.qs.val();
        self.bus_rdata.next = self.ans.bus_rdata.val();
        self.bus_rvalid.next = self.ans.bus_rvalid.val();
        // Bus writes to descriptor and parameters.
        self.desc.waddr.next = self.bus.idx16.val();
        self.desc.wdata.next = self.bus.wdata.val();
        self.desc.we.next = self.bus.we_desc.val();
        self.params.waddr.next = self.bus.idx16.val();
        self.params.wdata.next = self.bus.wdata.val().get_bits::<54>(0);
        self.params.we.next = self.bus.we_par.val();
        // Issue flags through the pipeline.
        self.vsr.d.next = self.vsr.q.val() << 1;
        self.fsr.d.next = self.fsr.q.val() << 1;
        self.lsr.d.next = self.lsr.q.val() << 1;
        self.isr.d.next = self.isr.q.val() << 1;
        if self.seq.f_v.val() {
            self.vsr.d.next = (self.vsr.q.val() << 1) | 1;
        }
        if self.seq.f_first.val() {
            self.fsr.d.next = (self.fsr.q.val() << 1) | 1;
        }
        if self.seq.f_last.val() {
            self.lsr.d.next = (self.lsr.q.val() << 1) | 1;
        }
        if self.seq.f_inr.val() {
            self.isr.d.next = (self.isr.q.val() << 1) | 1;
        }
        // The output address moves on issue cycles (a lean stage holds it for two).
        self.o_pool.reset.next = false;
        self.o_drain.reset.next = false;
        self.o_pool.en.next = self.adv.q.val();
        self.o_drain.en.next = self.adv.q.val();
        self.o_pool.d.next = self.seq.o_addr.val();
        self.o_drain.d.next = self.o_pool.q.val();
        self.pv.reset.next = self.reset.val();
        self.pidx.reset.next = false;
        self.pv.en.next = true;
        self.pidx.en.next = true;
        self.pv.d.next = self.seq.par_v.val();
        self.pidx.d.next = self.seq.par_idx.val();
        // The activation path: the source word at `act`, registered (`act + 1`), then a
        // 2-level register tree broadcasts it: U group copies, then each row's own copy next
        // to its multipliers (lean: wires).
        self.act.a.next = self.a_rd.val();
        self.act.b.next = self.b_rd.val();
        self.act.s.next = self.s_rd.val();
        self.act.src.next = self.seq.src.val();
        self.act.issue.next = self.vsr.q.val().get_bit(self.t_act.val().index());
        self.act.inr.next = self.isr.q.val().get_bit(self.t_act.val().index());
        self.act.rq_buf.next = self.bus.rq_buf.val();
        for u in 0..U {
            self.grp[u].clock.next = self.clock.val();
            self.grp[u].d.next = self.act.q.val();
            self.grp[u].ds.next = self.seq.sgn.val();
            for j in 0..D {
                for uu in U..(U + 1) {
                    self.rows[j * uu + u].act.next = self.grp[u].q.val();
                    self.rows[j * uu + u].sgn.next = self.grp[u].qs.val();
                }
            }
        }
        self.w_ld.full.next = true;
        self.w_ld.lean.next = self.vsr.q.val().get_bit(self.t_act.val().index());
        for r in 0..R {
            self.rows[r].clock.next = self.clock.val();
            self.rows[r].w_raddr.next = self.bus.wword.val();
            if self.seq.busy.val() {
                self.rows[r].w_raddr.next = self.seq.w_addr.val();
            }
            self.rows[r].avg.next = self.seq.is_avg.val();
            self.rows[r].avg_lane.next = self.seq.glane.val();
            self.rows[r].slot.next = self.vsr.q.val().get_bit(self.t_slot.val().index());
            self.rows[r].w_ld.next = self.w_ld.q.val();
            self.rows[r].v.next =
                self.vsr.q.val().get_bit(self.t_row.val().index()) & !self.seq.is_max.val();
            self.rows[r].first.next = self.fsr.q.val().get_bit(self.t_row.val().index());
            self.rows[r].last.next = self.lsr.q.val().get_bit(self.t_row.val().index());
            self.rows[r].w_waddr.next = self.bus.wword.val();
            self.rows[r].w_wdata.next = self.bus.wdata.val();
            self.rows[r].w_we.next = self.bus.we_w.val();
            self.rows[r].w_row.next = self.bus.wrow.val();
            self.rows[r].p_ld.next = self.pv.q.val();
            self.rows[r].p_idx.next = self.pidx.q.val();
            self.rows[r].p_word.next = self.params.rdata.val();
        }
        // Max pool datapath. Taps outside the tile are zero here, and `inr` tells the unit
        // to skip them.
        self.maxu.a.next = self.act.q.val();
        self.maxu.sgn.next = self.seq.sgn.val();
        self.maxu.v.next =
            self.vsr.q.val().get_bit(self.t_max.val().index()) & self.seq.is_max.val();
        self.maxu.first.next = self.fsr.q.val().get_bit(self.t_max.val().index());
        self.maxu.last.next = self.lsr.q.val().get_bit(self.t_max.val().index());
        self.maxu.inr.next = self.isr.q.val().get_bit(self.t_max.val().index());
        self.maxu.addr.next = self.o_pool.q.val();
        self.maxu.reset.next = self.reset.val();
        self.maxu.start.next = self.seq.go.val();
        self.maxu.pv.next =
            self.vsr.q.val().get_bit(self.t_pre.val().index()) & self.seq.is_max.val();
        self.maxu.pfirst.next = self.fsr.q.val().get_bit(self.t_pre.val().index());
        self.maxu.plast.next = self.lsr.q.val().get_bit(self.t_pre.val().index());
        self.maxu.rows_m1.next = self.seq.mp_rows_m1.val();
        self.maxu.in_h.next = self.seq.in_rows.val();
        self.maxu.o0.next = self.seq.o0.val();
        self.maxu.ostep.next = self.seq.ostep.val();
        // Output stage: capture on the last tap's sum, drain U rows per cycle for D cycles.
        self.out.cap.next = self.vsr.q.val().get_bit(self.t_mac.val().index())
            & self.lsr.q.val().get_bit(self.t_mac.val().index())
            & !self.seq.is_max.val();
        self.out.co_base.next = self.seq.co_base.val();
        self.out.obase.next = self.o_drain.q.val();
        for u in 0..U {
            self.req[u].clock.next = self.clock.val();
            self.req[u].dv.next = self.out.dv.val();
            self.req[u].cj.next = self.out.cj.val();
            self.req[u].lim.next = self.seq.lim.val();
            self.req[u].obase.next = self.out.ocap.val();
            self.req[u].relu.next = self.seq.relu.val();
            // Drain step j: the rows have rotated j times, so row u holds row j * U + u.
            self.req[u].acc.next = self.rows[u].bank.val();
            self.req[u].bias.next = self.rows[u].bias.val();
            self.req[u].m.next = self.rows[u].m.val();
            self.req[u].shift.next = self.rows[u].shift.val();
        }
        // The ring: row r takes row r + U, the last U rows take the first U.
        for r in 0..R {
            self.rows[r].clr.next = self.reset.val();
        }
        for uu in U..(U + 1) {
            for r in 0..(R - U) {
                self.rows[r].rot_bank.next = self.rows[r + uu].bank.val();
                self.rows[r].rot_par.next = self.rows[r + uu].par.val();
            }
            for rr in R..(R + 1) {
                for r in (R - U)..R {
                    self.rows[r].rot_bank.next = self.rows[r + uu - rr].bank.val();
                    self.rows[r].rot_par.next = self.rows[r + uu - rr].par.val();
                }
            }
        }
        self.req[0].wd_in.next = 0.into();
        self.req[0].be_in.next = 0.into();
        for u in 1..U {
            self.req[u].wd_in.next = self.req[u - 1].wd_out.val();
            self.req[u].be_in.next = self.req[u - 1].be_out.val();
        }
        self.out.req_wa.next = self.req[0].addr_out.val();
        self.out.req_we.next = 0.into();
        self.out.req_wd.next = 0.into();
        for uu in (U - 1)..U {
            self.out.req_we.next = self.req[uu].be_out.val();
            self.out.req_wd.next = self.req[uu].wd_out.val();
        }
        self.out.is_max.next = self.seq.is_max.val();
        self.out.max_wv.next = self.maxu.wv.val();
        self.out.max_wa.next = self.maxu.wa.val();
        self.out.max_wd.next = self.maxu.wd.val();
        self.out.busy_next.next = self.seq.busy_next.val();
        self.out.bus_idx.next = self.bus.next_idx.val();
        // Write ports: the engine while busy (to the step's dst), the bus otherwise.
        self.buf_a.wdata.next = self.bus.wdata.val();
        self.buf_b.wdata.next = self.bus.wdata.val();
        self.buf_s.wdata.next = self.bus.wdata.val();
        self.buf_a.wbe.next = 0.into();
        self.buf_b.wbe.next = 0.into();
        self.buf_s.wbe.next = 0.into();
        if self.bus.bwr.val().get_bit(0) & !self.seq.busy.val() {
            self.buf_a.wbe.next = 255.into();
        }
        if self.bus.bwr.val().get_bit(1) & !self.seq.busy.val() {
            self.buf_b.wbe.next = 255.into();
        }
        if self.bus.bwr.val().get_bit(2) & !self.seq.busy.val() {
            self.buf_s.wbe.next = 255.into();
        }
        self.ab.waddr.next = self.bus.idx16.val();
        self.ab.wsel.next = self.bus.ab_sel.val();
        self.ab.wdata.next = self.bus.wdata.val();
        self.ab.wbe.next = 0.into();
        if self.bus.bwr.val().any() & !self.seq.busy.val() {
            self.ab.wbe.next = 255.into();
        }
        // (The shared port keeps the busy select; the banks take `wpa`.)
        self.buf_a.waddr.next = self.out.wpa.val();
        self.buf_b.waddr.next = self.out.wpa.val();
        self.buf_s.waddr.next = self.out.wpa.val();
        if self.seq.busy.val() {
            self.ab.waddr.next = self.out.wr_a.val();
            self.buf_a.wdata.next = self.out.wr_d.val();
            self.buf_b.wdata.next = self.out.wr_d.val();
            self.buf_s.wdata.next = self.out.wr_d.val();
            self.ab.wdata.next = self.out.wr_d.val();
            self.ab.wsel.next = self.seq.dst.val();
            self.ab.wbe.next = self.out.wr_e.val();
            if self.seq.dst.val() == 0 {
                self.buf_a.wbe.next = self.out.wr_e.val();
            }
            if self.seq.dst.val() == 1 {
                self.buf_b.wbe.next = self.out.wr_e.val();
            }
            if self.seq.dst.val() == 2 {
                self.buf_s.wbe.next = self.out.wr_e.val();
            }
        }
        if self.reset.val() {
            self.vsr.d.next = 0.into();
            self.fsr.d.next = 0.into();
            self.lsr.d.next = 0.into();
            self.isr.d.next = 0.into();
            self.ph.d.next = false;
        }
    }
}
