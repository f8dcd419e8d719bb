//! `sqz_core`: buffers, MAC array, output stage, max-pool unit, sequencer and the bus.
//!
//! Const parameters: `R` rows (output channels per group), `U` requantizer units,
//! `D = R / U` drain cycles per pixel. Buffer depths come from the `DeviceConfig`.
//! Ports are the "Core ports" table of docs/architecture.md.
//!
//! With `DeviceConfig::lean` A, B and S are one single-port memory (`SharedAb`):
//! the feeder issues on every other cycle (`ph` high) and the engine's writes reach the memory
//! one register earlier (without `ew`), an odd number of cycles after their issue, so the
//! engine's reads and writes never meet at the port.
//!
//! That build (24 MHz, short of flip-flops rather than of time) also has the lean pipeline:
//! the memories answer at t2 without a register after them (`SharedAb`, the weight RAMs) or
//! through address registers (the parameters), the activation word is not copied per row, the
//! MAC row sums at t6 instead of t10 (`MacRow`, lean), and the bus inputs and answer pass one
//! register each. The MAC pipeline is 4 cycles shorter, which keeps the write parity; the
//! max-pool unit writes one cycle later (`MaxUnit::new(true)`) to keep its own.

use crate::bram::{ActBuf, Bram};
use crate::mac_row::MacRow;
use crate::mul8::ActCopy;
use crate::pool::MaxUnit;
use crate::requant::Requant;
use crate::sequencer::Sequencer;
use crate::spram::SharedAb;
use common::DeviceConfig;
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
    buf_a: ActBuf,
    buf_b: ActBuf,
    buf_s: ActBuf,
    ab: SharedAb,
    // A, B and S in `ab` (time-shared port), else in `buf_a`/`buf_b`/`buf_s`.
    spram: Constant<Bit>,
    // The engine's writes skip the register `ew` (the shared port's parity rule).
    xw: Constant<Bit>,
    // Free-running phase: the feeder issues while it is high (shared port only).
    ph: DFF<Bit>,
    // What the buffers get: `ew`, or the write before it (shared port).
    wr_a: Signal<Local, Bits<16>>,
    wr_d: Signal<Local, Bits<64>>,
    wr_e: Signal<Local, Bits<8>>,
    a_rd: Signal<Local, Bits<64>>,
    b_rd: Signal<Local, Bits<64>>,
    s_rd: Signal<Local, Bits<64>>,
    bus_ab: Signal<Local, Bit>,
    // The bus region as a `SharedAb` buffer select (region 1..3 = A, B, S).
    bus_sel: Signal<Local, Bits<4>>,
    desc: Bram<64>,
    params: Bram<54>,
    rows: [MacRow; R],
    req: [Requant; U],
    maxu: MaxUnit,
    seq: Sequencer,
    logr: Constant<Bits<5>>,
    // Issue-flag taps (bit i of `vsr`.. = the flag at t(i+1)): the activation's padding gate,
    // the multipliers' inputs (`MacRow::slot`), the row's sum, the max-pool unit's input.
    t_act: Constant<Bits<4>>,
    t_slot: Constant<Bits<4>>,
    t_mac: Constant<Bits<4>>,
    /// The rows' flag tap: a cycle before `t_mac`, as each row registers its flags
    /// (`FlagCopy`); the lean rows take them at `t_mac`.
    t_row: Constant<Bits<4>>,
    t_max: Constant<Bits<4>>,
    rmask: Constant<Bits<8>>,
    ustep: Constant<Bits<11>>,
    dlast: Constant<Bits<8>>,
    // The bus and start inputs pass 2 registers first: the link drives bus_wdata from a block
    // RAM output, and the word fans out to every RAM bank and weight row.
    in_a1: DFF<Bits<24>>,
    in_d1: DFF<Bits<64>>,
    in_w1: DFF<Bit>,
    in_r1: DFF<Bit>,
    in_st1: DFF<Bit>,
    in_a2: DFF<Bits<24>>,
    in_d2: DFF<Bits<64>>,
    in_w2: DFF<Bit>,
    in_r2: DFF<Bit>,
    in_st2: DFF<Bit>,
    region: Signal<Local, Bits<4>>,
    index: Signal<Local, Bits<20>>,
    idx16: Signal<Local, Bits<16>>,
    idx_ok: Signal<Local, Bit>,
    /// A bus read's index is inside its memory (descriptors, parameters, weights; the
    /// activation buffers gate their own reads).
    in_depth: Signal<Local, Bit>,
    desc_words: Constant<Bits<16>>,
    param_words: Constant<Bits<16>>,
    weight_words: Constant<Bits<16>>,
    wword: Signal<Local, Bits<20>>,
    wrow: Signal<Local, Bits<8>>,
    bw: Signal<Local, Bit>,
    /// Bus writes to A, B, S (bits 0-2): `bw` and the region, decoded from stage 2's next
    /// address and registered with it, so the decode stays out of every bank's write enable
    /// (the routed ULX3S build's critical path, 10.49 ns). `n*`: that next address.
    bwr: DFF<Bits<3>>,
    nregion: Signal<Local, Bits<4>>,
    nidx_ok: Signal<Local, Bit>,
    act_src: Signal<Local, Bits<64>>,
    we_eng: Signal<Local, Bits<8>>,
    wd_eng: Signal<Local, Bits<64>>,
    wa_eng: Signal<Local, Bits<16>>,
    // The engine's buffer write (requantizers or max-pool unit), registered before the
    // bus/engine select and the fan-out to every bank.
    ew_a: DFF<Bits<16>>,
    ew_d: DFF<Bits<64>>,
    ew_e: DFF<Bits<8>>,
    // The A/B/S banks' write address (full build): the engine's (`ew_a`) while busy, the
    // bus's (`idx16`) otherwise, selected from the values they load and registered, so every
    // bank decodes its own write enable from one register, not through the busy select (the
    // routed ULX3S build's critical path, 10.51 ns). Same cycle as before.
    wpa: DFF<Bits<16>>,
    // Bus reads: request at t0, the descriptor word at t1, the other memories' words at t3,
    // the weight row's word and the other regions' word registered at t4, the answer at t5.
    rd_v: DFF<Bit>,
    rd_reg: DFF<Bits<4>>,
    rd_row: DFF<Bits<8>>,
    rd_ok: DFF<Bit>,
    rd_v2: DFF<Bit>,
    rd_reg2: DFF<Bits<4>>,
    rd_row2: DFF<Bits<8>>,
    rd_ok2: DFF<Bit>,
    rd_v3: DFF<Bit>,
    rd_reg3: DFF<Bits<4>>,
    rd_row3: DFF<Bits<8>>,
    rd_ok3: DFF<Bit>,
    desc_q2: DFF<Bits<64>>,
    desc_q3: DFF<Bits<64>>,
    // Lean build: every memory answers a bus read at t2 (the descriptor RAM through this
    // address register), the t3 tags are the t1 ones, the weight word and the other regions'
    // word share one register, and that register is the answer (bus_rvalid 4 cycles after
    // bus_read).
    bda1: DFF<Bits<16>>,
    desc_word: Signal<Local, Bits<64>>,
    wsel: Signal<Local, Bits<64>>,
    rd_v4: DFF<Bit>,
    rd_w4: DFF<Bit>,
    rd_a4: DFF<Bit>,
    rd_b4: DFF<Bit>,
    rd_s4: DFF<Bit>,
    rd_row4: DFF<Bits<8>>,
    osel_r: DFF<Bits<64>>,
    rdata_r: DFF<Bits<64>>,
    rvalid_r: DFF<Bit>,
    // Issue flags delayed: bit i = the flag at t(i+1).
    vsr: DFF<Bits<16>>,
    fsr: DFF<Bits<16>>,
    lsr: DFF<Bits<16>>,
    isr: DFF<Bits<16>>,
    o1: DFF<Bits<16>>,
    o2: DFF<Bits<16>>,
    o3: DFF<Bits<16>>,
    o4: DFF<Bits<16>>,
    o5: DFF<Bits<16>>,
    o6: DFF<Bits<16>>,
    o7: DFF<Bits<16>>,
    o8: DFF<Bits<16>>,
    o9: DFF<Bits<16>>,
    o10: DFF<Bits<16>>,
    act_r: DFF<Bits<64>>,
    // Full build, t4: each buffer's word registered on its own, loaded only if it is the
    // engine's source (a padding tap: none) or a bus read's, so the source word is their OR
    // after the registers (`act4`, act_r's word): the banks' OR, the source select and the
    // padding gate in one cycle was the routed ULX3S build's critical path (RAM across the
    // chip -> 4 logic levels -> act_r, 10.38 ns), and a select after the registers in front
    // of the max-pool compare the next one (10.57 ns).
    a_q: DFF<Bits<64>>,
    b_q: DFF<Bits<64>>,
    s_q: DFF<Bits<64>>,
    use_a3: Signal<Local, Bit>,
    use_b3: Signal<Local, Bit>,
    use_s3: Signal<Local, Bit>,
    act4: Signal<Local, Bits<64>>,
    // First level of the activation broadcast: U kept copies; copy u feeds the rows j·U + u
    // (the rows' own copies are the second level).
    grp: [ActCopy; U],
    // Parameter load: the params RAM answers 3 cycles after the sequencer's read.
    pv1: DFF<Bit>,
    pidx1: DFF<Bits<8>>,
    pv2: DFF<Bit>,
    pidx2: DFF<Bits<8>>,
    pv3: DFF<Bit>,
    pidx3: DFF<Bits<8>>,
    dact: DFF<Bit>,
    dj: DFF<Bits<8>>,
    cj: DFF<Bits<11>>,
    ocap: DFF<Bits<16>>,
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
            buf_a: if sh {
                ActBuf::absent()
            } else {
                ActBuf::new(cfg.act_words)
            },
            buf_b: if sh {
                ActBuf::absent()
            } else {
                ActBuf::new(cfg.act_words)
            },
            buf_s: if sh {
                ActBuf::absent()
            } else {
                ActBuf::new(cfg.sq_words)
            },
            ab: if sh {
                SharedAb::new(cfg.act_words, cfg.sq_words)
            } else {
                SharedAb::absent()
            },
            spram: Constant::new(sh),
            xw: Constant::new(sh),
            ph: Default::default(),
            wr_a: Default::default(),
            wr_d: Default::default(),
            wr_e: Default::default(),
            a_rd: Default::default(),
            b_rd: Default::default(),
            s_rd: Default::default(),
            bus_ab: Default::default(),
            bus_sel: Default::default(),
            // Ungated: the engine reads in range, and bus reads check the range (`in_depth`).
            desc: Bram::new(desc_words).ungated(),
            params: if sh {
                Bram::new_addr_delayed(cfg.param_words, 2)
            } else {
                Bram::new_pipelined(cfg.param_words)
            }
            .ungated(),
            desc_words: Constant::new((desc_words as u64).into()),
            param_words: Constant::new((cfg.param_words as u64).into()),
            weight_words: Constant::new((cfg.weight_words as u64).into()),
            in_depth: Default::default(),
            rows: std::array::from_fn(|r| MacRow::new(r, cfg.weight_words, sh, D, plan.as_ref())),
            req: std::array::from_fn(|u| {
                Requant::new(u, sh, plan.as_ref().map(|p| p.requant[u].clone()))
            }),
            maxu: MaxUnit::new(sh),
            seq: Sequencer::new(R, D, cfg.max_steps, sh),
            logr: Constant::new((R.trailing_zeros() as u64).into()),
            t_act: Constant::new((if sh { 1u64 } else { 2 }).into()),
            t_slot: Constant::new((if sh { 2u64 } else { 5 }).into()),
            t_mac: Constant::new((if sh { 5u64 } else { 9 }).into()),
            t_row: Constant::new((if sh { 5u64 } else { 8 }).into()),
            t_max: Constant::new((if sh { 2u64 } else { 3 }).into()),
            rmask: Constant::new(((R - 1) as u64).into()),
            ustep: Constant::new((U as u64).into()),
            dlast: Constant::new(((D - 1) as u64).into()),
            in_a1: Default::default(),
            in_d1: Default::default(),
            in_w1: Default::default(),
            in_r1: Default::default(),
            in_st1: Default::default(),
            in_a2: Default::default(),
            in_d2: Default::default(),
            in_w2: Default::default(),
            in_r2: Default::default(),
            in_st2: Default::default(),
            region: Default::default(),
            index: Default::default(),
            idx16: Default::default(),
            idx_ok: Default::default(),
            wword: Default::default(),
            wrow: Default::default(),
            bw: Default::default(),
            bwr: Default::default(),
            nregion: Default::default(),
            nidx_ok: Default::default(),
            act_src: Default::default(),
            we_eng: Default::default(),
            wd_eng: Default::default(),
            wa_eng: Default::default(),
            ew_a: Default::default(),
            wpa: Default::default(),
            ew_d: Default::default(),
            ew_e: Default::default(),
            rd_v: Default::default(),
            rd_reg: Default::default(),
            rd_row: Default::default(),
            rd_ok: Default::default(),
            rd_v2: Default::default(),
            rd_reg2: Default::default(),
            rd_row2: Default::default(),
            rd_ok2: Default::default(),
            rd_v3: Default::default(),
            rd_reg3: Default::default(),
            rd_row3: Default::default(),
            rd_ok3: Default::default(),
            desc_q2: Default::default(),
            desc_q3: Default::default(),
            bda1: Default::default(),
            desc_word: Default::default(),
            wsel: Default::default(),
            rd_v4: Default::default(),
            rd_w4: Default::default(),
            rd_a4: Default::default(),
            rd_b4: Default::default(),
            rd_s4: Default::default(),
            rd_row4: Default::default(),
            osel_r: Default::default(),
            rdata_r: Default::default(),
            rvalid_r: Default::default(),
            vsr: Default::default(),
            fsr: Default::default(),
            lsr: Default::default(),
            isr: Default::default(),
            o1: Default::default(),
            o2: Default::default(),
            o3: Default::default(),
            o4: Default::default(),
            o5: Default::default(),
            o6: Default::default(),
            o7: Default::default(),
            o8: Default::default(),
            o9: Default::default(),
            o10: Default::default(),
            act_r: Default::default(),
            a_q: Default::default(),
            b_q: Default::default(),
            s_q: Default::default(),
            use_a3: Default::default(),
            use_b3: Default::default(),
            use_s3: Default::default(),
            act4: Default::default(),
            grp: std::array::from_fn(|_| {
                if sh {
                    ActCopy::wire()
                } else {
                    ActCopy::default()
                }
            }),
            pv1: Default::default(),
            pidx1: Default::default(),
            pv2: Default::default(),
            pidx2: Default::default(),
            pv3: Default::default(),
            pidx3: Default::default(),
            dact: Default::default(),
            dj: Default::default(),
            cj: Default::default(),
            ocap: Default::default(),
        }
    }
}

impl<const R: usize, const U: usize, const D: usize> SqzCore<R, U, D> {
    /// Test only: the core with the dual-port build's write register `ew` on the shared port,
    /// so the engine's writes land on the read parity. The collision detector must catch it.
    #[doc(hidden)]
    pub fn without_write_parity(cfg: &DeviceConfig) -> Self {
        let mut c = Self::new(cfg);
        c.xw = Constant::new(false);
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
        dff_setup!(
            self, clock, in_a1, in_d1, in_w1, in_r1, in_st1, in_a2, in_d2, in_w2, in_r2, in_st2,
            bwr, rd_v, rd_reg, rd_row, rd_ok, rd_v2, rd_reg2, rd_row2, rd_ok2, rd_v3, rd_reg3,
            rd_row3, rd_ok3, desc_q2, desc_q3, rd_v4, rd_w4, rd_a4, rd_b4, rd_s4, rd_row4, osel_r,
            rdata_r, rvalid_r, vsr, fsr, lsr, isr, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, act_r,
            a_q, b_q, s_q, pv1, pidx1, pv2, pidx2, pv3, pidx3, ew_a, wpa, ew_d, ew_e, dact, dj, cj,
            ocap, ph, bda1
        );
        self.buf_a.clock.next = self.clock.val();
        self.buf_b.clock.next = self.clock.val();
        self.buf_s.clock.next = self.clock.val();
        self.ab.clock.next = self.clock.val();
        self.ab.reset.next = self.reset.val();
        self.ph.d.next = !self.ph.q.val();
        self.seq.adv.next = self.ph.q.val() | !self.spram.val();
        self.a_rd.next = self.buf_a.rdata.val();
        self.b_rd.next = self.buf_b.rdata.val();
        self.s_rd.next = self.buf_s.rdata.val();
        if self.spram.val() {
            self.a_rd.next = self.ab.rdata.val();
            self.b_rd.next = self.ab.rdata.val();
            self.s_rd.next = self.ab.rdata.val();
        }
        self.desc.clock.next = self.clock.val();
        self.params.clock.next = self.clock.val();
        self.maxu.clock.next = self.clock.val();
        self.seq.clock.next = self.clock.val();
        self.seq.reset.next = self.reset.val();
        self.in_a1.d.next = self.bus_addr.val();
        self.in_d1.d.next = self.bus_wdata.val();
        self.in_w1.d.next = self.bus_write.val();
        self.in_r1.d.next = self.bus_read.val();
        self.in_st1.d.next = self.start.val();
        self.in_a2.d.next = self.in_a1.q.val();
        self.in_d2.d.next = self.in_d1.q.val();
        self.in_w2.d.next = self.in_w1.q.val();
        self.in_r2.d.next = self.in_r1.q.val();
        self.in_st2.d.next = self.in_st1.q.val();
        if self.spram.val() {
            self.in_a2.d.next = self.bus_addr.val();
            self.in_d2.d.next = self.bus_wdata.val();
            self.in_w2.d.next = self.bus_write.val();
            self.in_r2.d.next = self.bus_read.val();
            self.in_st2.d.next = self.start.val();
        }
        self.seq.start.next = self.in_st2.q.val();
        self.busy.next = self.seq.busy.val();
        self.done.next = self.seq.done.val();
        self.job_cycles.next = self.seq.job_cycles.val();
        // Bus address decode (common::bus).
        self.region.next = self.in_a2.q.val().get_bits::<4>(20);
        self.index.next = self.in_a2.q.val().get_bits::<20>(0);
        self.idx16.next = self.index.val().get_bits::<16>(0);
        self.idx_ok.next = self.index.val().get_bits::<4>(16) == 0;
        self.wword.next = self.index.val() >> self.logr.val();
        self.wrow.next = self.index.val().get_bits::<8>(0) & self.rmask.val();
        if self.region.val() == 4 {
            self.idx_ok.next = self.wword.val().get_bits::<4>(16) == 0;
        }
        self.bw.next = self.in_w2.q.val() & !self.seq.busy.val() & self.idx_ok.val();
        // Read ports: the engine while busy, the bus otherwise.
        self.desc.raddr.next = self.idx16.val();
        self.bda1.d.next = self.idx16.val();
        if self.spram.val() {
            self.desc.raddr.next = self.bda1.q.val();
        }
        self.params.raddr.next = self.idx16.val();
        self.buf_a.raddr.next = self.idx16.val();
        self.buf_b.raddr.next = self.idx16.val();
        self.buf_s.raddr.next = self.idx16.val();
        self.bus_ab.next =
            (self.region.val() == 1) | (self.region.val() == 2) | (self.region.val() == 3);
        self.bus_sel.next = self.region.val() - 1;
        self.ab.raddr.next = self.idx16.val();
        self.ab.rsel.next = self.bus_sel.val().get_bits::<2>(0);
        self.ab.re.next = self.in_r2.q.val() & self.idx_ok.val() & self.bus_ab.val();
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
        self.rd_v.d.next = self.in_r2.q.val() & !self.seq.busy.val();
        self.rd_reg.d.next = self.region.val();
        self.rd_row.d.next = self.wrow.val();
        self.in_depth.next = true;
        if self.region.val() == 0 {
            self.in_depth.next = self.idx16.val() < self.desc_words.val();
        }
        if self.region.val() == 4 {
            self.in_depth.next = self.wword.val().get_bits::<16>(0) < self.weight_words.val();
        }
        if self.region.val() == 5 {
            self.in_depth.next = self.idx16.val() < self.param_words.val();
        }
        self.rd_ok.d.next = self.idx_ok.val() & self.in_depth.val();
        // t1 -> t3: the request's tags, and the descriptor RAM's word, wait for the other RAMs.
        self.rd_v2.d.next = self.rd_v.q.val();
        self.rd_reg2.d.next = self.rd_reg.q.val();
        self.rd_row2.d.next = self.rd_row.q.val();
        self.rd_ok2.d.next = self.rd_ok.q.val();
        self.rd_v3.d.next = self.rd_v2.q.val();
        self.rd_reg3.d.next = self.rd_reg2.q.val();
        self.rd_row3.d.next = self.rd_row2.q.val();
        self.rd_ok3.d.next = self.rd_ok2.q.val();
        if self.spram.val() {
            // Lean: every memory answers a bus read at t2, so the t3 tags are the t1 ones.
            self.rd_v3.d.next = self.rd_v.q.val();
            self.rd_reg3.d.next = self.rd_reg.q.val();
            self.rd_row3.d.next = self.rd_row.q.val();
            self.rd_ok3.d.next = self.rd_ok.q.val();
        }
        self.desc_q2.d.next = self.desc.rdata.val();
        self.desc_q3.d.next = self.desc_q2.q.val();
        self.desc_word.next = self.desc_q3.q.val();
        if self.spram.val() {
            self.desc_word.next = self.desc.rdata.val();
        }
        // t3 -> t4: the other regions' word registered, and each pair of weight rows' word
        // (`MacRow::w_pair`: rows 2k and 2k + 1 sit side by side, and a 16-way select of
        // 64-bit words in one place was the ULX3S's worst routing hot spot). Lean: the
        // addressed row's word, without a register.
        self.wsel.next = 0.into();
        for r in 0..R {
            if self.rd_row3.q.val().index() == r {
                self.wsel.next = self.rows[r].w_rdata.val();
            }
            self.rows[r].w_nb.next = 0.into();
            self.rows[r].rb_odd.next = self.rd_row3.q.val().get_bit(0);
        }
        for k in 0..(R / 2) {
            self.rows[2 * k].w_nb.next = self.rows[2 * k + 1].w_rdata.val();
        }
        self.rd_row4.d.next = self.rd_row3.q.val();
        self.osel_r.d.next = 0.into();
        if self.rd_reg3.q.val() == 0 {
            self.osel_r.d.next = self.desc_word.val();
        }
        if self.spram.val()
            & ((self.rd_reg3.q.val() == 1)
                | (self.rd_reg3.q.val() == 2)
                | (self.rd_reg3.q.val() == 3))
        {
            // Lean: A, B and S are one memory (the full build answers them at t4, below).
            self.osel_r.d.next = self.a_rd.val();
        }
        if self.rd_reg3.q.val() == 5 {
            self.osel_r.d.next = bit_cast::<64, 54>(self.params.rdata.val());
        }
        if self.spram.val() & (self.rd_reg3.q.val() == 4) {
            self.osel_r.d.next = self.wsel.val();
        }
        if !self.rd_ok3.q.val() {
            self.osel_r.d.next = 0.into();
        }
        if self.spram.val() & !self.rd_v3.q.val() {
            // Lean: the answer holds until the next read (the link sends its bytes from it).
            self.osel_r.d.next = self.osel_r.q.val();
        }
        self.rd_v4.d.next = self.rd_v3.q.val();
        self.rd_w4.d.next = self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 4);
        self.rd_a4.d.next = self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 1);
        self.rd_b4.d.next = self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 2);
        self.rd_s4.d.next = self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 3);
        // t4 -> t5: the answer (bus_rvalid 7 cycles after bus_read: 2 input registers, then t0..t5).
        self.rdata_r.d.next = self.osel_r.q.val();
        if self.rd_w4.q.val() & !self.spram.val() {
            for k in 0..(R / 2) {
                if self.rd_row4.q.val().get_bits::<7>(1).index() == k {
                    self.rdata_r.d.next = self.rows[2 * k].w_pair.val();
                }
            }
        }
        // A, B and S answer from their own t4 registers (the engine's a_q, b_q, s_q), not
        // through osel_r: the banks' OR and the region select in one cycle is a path from
        // across the chip, like the engine's was.
        if self.rd_a4.q.val() & !self.spram.val() {
            self.rdata_r.d.next = self.a_q.q.val();
        }
        if self.rd_b4.q.val() & !self.spram.val() {
            self.rdata_r.d.next = self.b_q.q.val();
        }
        if self.rd_s4.q.val() & !self.spram.val() {
            self.rdata_r.d.next = self.s_q.q.val();
        }
        self.rvalid_r.d.next = self.rd_v4.q.val();
        self.bus_rdata.next = self.rdata_r.q.val();
        self.bus_rvalid.next = self.rvalid_r.q.val();
        if self.spram.val() {
            self.bus_rdata.next = self.osel_r.q.val();
            self.bus_rvalid.next = self.rd_v4.q.val();
        }
        // Bus writes to descriptor and parameters.
        self.desc.waddr.next = self.idx16.val();
        self.desc.wdata.next = self.in_d2.q.val();
        self.desc.we.next = self.bw.val() & (self.region.val() == 0);
        self.params.waddr.next = self.idx16.val();
        self.params.wdata.next = self.in_d2.q.val().get_bits::<54>(0);
        self.params.we.next = self.bw.val() & (self.region.val() == 5);
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
        self.o1.d.next = self.seq.o_addr.val();
        self.o2.d.next = self.o1.q.val();
        self.o3.d.next = self.o2.q.val();
        self.o4.d.next = self.o3.q.val();
        self.o5.d.next = self.o4.q.val();
        self.o6.d.next = self.o5.q.val();
        self.o7.d.next = self.o6.q.val();
        self.o8.d.next = self.o7.q.val();
        self.o9.d.next = self.o8.q.val();
        self.o10.d.next = self.o9.q.val();
        if self.spram.val() & !self.ph.q.val() {
            // Lean: issues come on `ph` cycles only, so the line moves on those: o1 holds the
            // issue's output address at t1-t2, o2 at t3-t4, o3 at t5-t6.
            self.o1.d.next = self.o1.q.val();
            self.o2.d.next = self.o2.q.val();
            self.o3.d.next = self.o3.q.val();
        }
        self.pv1.d.next = self.seq.par_v.val();
        self.pidx1.d.next = self.seq.par_idx.val();
        self.pv2.d.next = self.pv1.q.val();
        self.pidx2.d.next = self.pidx1.q.val();
        self.pv3.d.next = self.pv2.q.val();
        self.pidx3.d.next = self.pidx2.q.val();
        if self.spram.val() {
            // Lean: the parameters answer at t2.
            self.pv3.d.next = self.pv1.q.val();
            self.pidx3.d.next = self.pidx1.q.val();
        }
        // t3 (lean: t2): the source word (the buffers' read data, registered twice after the RAMs).
        self.act_src.next = self.s_rd.val();
        if self.seq.src.val() == 0 {
            self.act_src.next = self.a_rd.val();
        }
        if self.seq.src.val() == 1 {
            self.act_src.next = self.b_rd.val();
        }
        // t4: the source word, padding taps read as zero (act_r; the full build selects it
        // after its own registers instead, `act4`). A 2-level register tree broadcasts it: U
        // group copies (t5), then each row's own copy (t6) next to its multipliers. (Lean:
        // act_r at t3 goes to the multipliers as it is.)
        self.act_r.d.next = 0.into();
        if self.spram.val() {
            // A, B and S are one memory.
            self.act_src.next = self.a_rd.val();
        }
        if self.isr.q.val().get_bit(self.t_act.val().index()) {
            self.act_r.d.next = self.act_src.val();
        }
        if self.spram.val() & !self.vsr.q.val().get_bit(self.t_act.val().index()) {
            // Lean: held between issues (the iCE40 `Mul8` reads it for two cycles).
            self.act_r.d.next = self.act_r.q.val();
        }
        // (Bus reads come only while the engine is idle, so the two never load together.)
        self.use_a3.next = (self.isr.q.val().get_bit(self.t_act.val().index())
            & (self.seq.src.val() == 0))
            | (self.rd_v3.q.val() & self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 1));
        self.use_b3.next = (self.isr.q.val().get_bit(self.t_act.val().index())
            & (self.seq.src.val() == 1))
            | (self.rd_v3.q.val() & self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 2));
        self.use_s3.next = (self.isr.q.val().get_bit(self.t_act.val().index())
            & (self.seq.src.val() != 0)
            & (self.seq.src.val() != 1))
            | (self.rd_v3.q.val() & self.rd_ok3.q.val() & (self.rd_reg3.q.val() == 3));
        self.a_q.d.next = 0.into();
        self.b_q.d.next = 0.into();
        self.s_q.d.next = 0.into();
        if self.use_a3.val() {
            self.a_q.d.next = self.a_rd.val();
        }
        if self.use_b3.val() {
            self.b_q.d.next = self.b_rd.val();
        }
        if self.use_s3.val() {
            self.s_q.d.next = self.s_rd.val();
        }
        self.act4.next = self.a_q.q.val() | self.b_q.q.val() | self.s_q.q.val();
        if self.spram.val() {
            self.act4.next = self.act_r.q.val();
        }
        for u in 0..U {
            self.grp[u].clock.next = self.clock.val();
            self.grp[u].d.next = self.act4.val();
            self.grp[u].ds.next = self.seq.sgn.val();
            for j in 0..D {
                for uu in U..(U + 1) {
                    self.rows[j * uu + u].act.next = self.grp[u].q.val();
                    self.rows[j * uu + u].sgn.next = self.grp[u].qs.val();
                }
            }
        }
        for r in 0..R {
            self.rows[r].clock.next = self.clock.val();
            self.rows[r].w_raddr.next = self.wword.val().get_bits::<16>(0);
            if self.seq.busy.val() {
                self.rows[r].w_raddr.next = self.seq.w_addr.val();
            }
            self.rows[r].avg.next = self.seq.is_avg.val();
            self.rows[r].avg_lane.next = self.seq.glane.val();
            self.rows[r].slot.next = self.vsr.q.val().get_bit(self.t_slot.val().index());
            self.rows[r].w_ld.next = self.vsr.q.val().get_bit(self.t_act.val().index());
            self.rows[r].v.next =
                self.vsr.q.val().get_bit(self.t_row.val().index()) & !self.seq.is_max.val();
            self.rows[r].first.next = self.fsr.q.val().get_bit(self.t_row.val().index());
            self.rows[r].last.next = self.lsr.q.val().get_bit(self.t_row.val().index());
            self.rows[r].w_waddr.next = self.wword.val().get_bits::<16>(0);
            self.rows[r].w_wdata.next = self.in_d2.q.val();
            self.rows[r].w_we.next = self.bw.val() & (self.region.val() == 4);
            self.rows[r].w_row.next = self.wrow.val();
            self.rows[r].p_ld.next = self.pv3.q.val();
            self.rows[r].p_idx.next = self.pidx3.q.val();
            self.rows[r].p_word.next = self.params.rdata.val();
        }
        // Max pool datapath (t4 -> write at t5). Taps outside the tile are zero here, and
        // `inr` tells the unit to skip them.
        self.maxu.a.next = self.act4.val();
        self.maxu.sgn.next = self.seq.sgn.val();
        self.maxu.v.next =
            self.vsr.q.val().get_bit(self.t_max.val().index()) & self.seq.is_max.val();
        self.maxu.first.next = self.fsr.q.val().get_bit(self.t_max.val().index());
        self.maxu.last.next = self.lsr.q.val().get_bit(self.t_max.val().index());
        self.maxu.inr.next = self.isr.q.val().get_bit(self.t_max.val().index());
        self.maxu.addr.next = self.o4.q.val();
        if self.spram.val() {
            self.maxu.addr.next = self.o2.q.val();
        }
        // Output stage: capture at t10 (lean: t6; last tap), drain U rows per cycle for D cycles.
        if self.dact.q.val() {
            self.dj.d.next = self.dj.q.val() + 1;
            self.cj.d.next = self.cj.q.val() + self.ustep.val();
            if self.dj.q.val() == self.dlast.val() {
                self.dact.d.next = false;
            }
        }
        if self.vsr.q.val().get_bit(self.t_mac.val().index())
            & self.lsr.q.val().get_bit(self.t_mac.val().index())
            & !self.seq.is_max.val()
        {
            self.dact.d.next = true;
            self.dj.d.next = 0.into();
            self.cj.d.next = self.seq.co_base.val();
            self.ocap.d.next = self.o10.q.val();
            if self.spram.val() {
                self.ocap.d.next = self.o3.q.val();
            }
        }
        for u in 0..U {
            self.req[u].clock.next = self.clock.val();
            self.req[u].dv.next = self.dact.q.val();
            self.req[u].cj.next = self.cj.q.val();
            self.req[u].lim.next = self.seq.lim.val();
            self.req[u].obase.next = self.ocap.q.val();
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
        self.wa_eng.next = self.req[0].addr_out.val();
        self.we_eng.next = 0.into();
        self.wd_eng.next = 0.into();
        for uu in (U - 1)..U {
            self.we_eng.next = self.req[uu].be_out.val();
            self.wd_eng.next = self.req[uu].wd_out.val();
        }
        if self.seq.is_max.val() {
            self.wa_eng.next = self.maxu.wa.val();
            self.wd_eng.next = self.maxu.wd.val();
            self.we_eng.next = 0.into();
            if self.maxu.wv.val() {
                self.we_eng.next = 255.into();
            }
        }
        self.ew_a.d.next = self.wa_eng.val();
        self.ew_d.d.next = self.wd_eng.val();
        self.ew_e.d.next = self.we_eng.val();
        self.wr_a.next = self.ew_a.q.val();
        self.wr_d.next = self.ew_d.q.val();
        self.wr_e.next = self.ew_e.q.val();
        if self.xw.val() {
            // The port registers the write itself (24 MHz: no need for `ew` too).
            self.wr_a.next = self.wa_eng.val();
            self.wr_d.next = self.wd_eng.val();
            self.wr_e.next = self.we_eng.val();
        }
        // Write ports: the engine while busy (to the step's dst), the bus otherwise.
        self.buf_a.wdata.next = self.in_d2.q.val();
        self.buf_b.wdata.next = self.in_d2.q.val();
        self.buf_s.wdata.next = self.in_d2.q.val();
        self.buf_a.wbe.next = 0.into();
        self.buf_b.wbe.next = 0.into();
        self.buf_s.wbe.next = 0.into();
        if self.bwr.q.val().get_bit(0) & !self.seq.busy.val() {
            self.buf_a.wbe.next = 255.into();
        }
        if self.bwr.q.val().get_bit(1) & !self.seq.busy.val() {
            self.buf_b.wbe.next = 255.into();
        }
        if self.bwr.q.val().get_bit(2) & !self.seq.busy.val() {
            self.buf_s.wbe.next = 255.into();
        }
        self.ab.waddr.next = self.idx16.val();
        self.ab.wsel.next = self.bus_sel.val().get_bits::<2>(0);
        self.ab.wdata.next = self.in_d2.q.val();
        self.ab.wbe.next = 0.into();
        if self.bwr.q.val().any() & !self.seq.busy.val() {
            self.ab.wbe.next = 255.into();
        }
        self.wpa.d.next = self.in_a2.d.val().get_bits::<16>(0);
        if self.seq.busy_next.val() {
            self.wpa.d.next = self.wa_eng.val();
        }
        // (Lean: A, B and S are `ab`, which keeps the select; these buffers are absent.)
        self.buf_a.waddr.next = self.wpa.q.val();
        self.buf_b.waddr.next = self.wpa.q.val();
        self.buf_s.waddr.next = self.wpa.q.val();
        if self.seq.busy.val() {
            self.ab.waddr.next = self.wr_a.val();
            self.buf_a.wdata.next = self.wr_d.val();
            self.buf_b.wdata.next = self.wr_d.val();
            self.buf_s.wdata.next = self.wr_d.val();
            self.ab.wdata.next = self.wr_d.val();
            self.ab.wsel.next = self.seq.dst.val();
            self.ab.wbe.next = self.wr_e.val();
            if self.seq.dst.val() == 0 {
                self.buf_a.wbe.next = self.wr_e.val();
            }
            if self.seq.dst.val() == 1 {
                self.buf_b.wbe.next = self.wr_e.val();
            }
            if self.seq.dst.val() == 2 {
                self.buf_s.wbe.next = self.wr_e.val();
            }
        }
        if self.reset.val() {
            self.vsr.d.next = 0.into();
            self.fsr.d.next = 0.into();
            self.lsr.d.next = 0.into();
            self.isr.d.next = 0.into();
            self.dact.d.next = false;
            self.ew_e.d.next = 0.into();
            self.ph.d.next = false;
            self.dj.d.next = 0.into();
            self.rd_v.d.next = false;
            self.in_w1.d.next = false;
            self.in_r1.d.next = false;
            self.in_st1.d.next = false;
            self.in_w2.d.next = false;
            self.in_r2.d.next = false;
            self.in_st2.d.next = false;
            self.rd_v2.d.next = false;
            self.rd_v3.d.next = false;
            self.rd_v4.d.next = false;
            self.rvalid_r.d.next = false;
            self.pv1.d.next = false;
            self.pv2.d.next = false;
            self.pv3.d.next = false;
        }
        // `bwr` from the values stage 2 takes next (A, B, S: regions 1-3, index below 2^16).
        self.nregion.next = self.in_a2.d.val().get_bits::<4>(20);
        self.nidx_ok.next = self.in_a2.d.val().get_bits::<4>(16) == 0;
        self.bwr.d.next = 0.into();
        if self.in_w2.d.val() & self.nidx_ok.val() {
            if self.nregion.val() == 1 {
                self.bwr.d.next = 1.into();
            }
            if self.nregion.val() == 2 {
                self.bwr.d.next = 2.into();
            }
            if self.nregion.val() == 3 {
                self.bwr.d.next = 4.into();
            }
        }
    }
}
