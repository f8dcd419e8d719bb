//! One row of the MAC array: output channel `r` of the current group.
//!
//! Pipeline (t0 = the cycle the feeder issues the addresses):
//! t1 the addresses registered at each RAM; t2 its weight RAM and the activation buffer's
//! RAMs deliver their words; t3 both registered again right after the RAMs; t4 the weight word
//! registered, and the activation word selected (A/B/S, padding) and registered once in the
//! core; t5 one of 4 group copies of it in the core; t6 the row's own copy of the activation
//! (`ActCopy`) and the weight word (or the avg-pool one-hot); t7 multiplier inputs registered
//! (inside the DSPs on the ECP5); t8 8 products registered; t9 4 pair sums; t10 20-bit sum;
//! during t10 the accumulator adds it (`first` restarts from 0; the bias is added in the output
//! stage, which gives the same wrapped i32 as starting from the bias); on `last` the
//! pixel's sum goes to `bank`, which the output stage drains while the next pixel runs.
//! The row also holds the group's parameters (bias, m, shift) for its channel.
//!
//! `lean` (the 24 MHz iCE40 build, short of flip-flops): the weight RAM answers at t2 and the
//! weight word is registered once (t3); the activation arrives at t3 and is not copied; the
//! multipliers' inputs are those (t3), their products are there at t5, and the adder tree's
//! two levels are one stage: the sum is registered at t6, 4 cycles earlier than above. The
//! accumulator starts from the bias (the same wrapped i32), so `Requant` adds none.

use crate::bram::Bram;
use crate::delay::Delay;
use crate::mul8::{ActCopy, FlagCopy, Mul8};
use crate::tree::{Acc32, AddPairs, Sum4};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct MacRow {
    pub clock: Signal<In, Clock>,
    /// Activation word and sign mode at t5 (the word already zero for padding taps).
    pub act: Signal<In, Bits<64>>,
    pub sgn: Signal<In, Bit>,
    /// An issue reaches the multipliers' inputs (the flag at t6; `Mul8::slot`).
    pub slot: Signal<In, Bit>,
    /// Load the weight register (an issue's word is there; else it holds, as the lean
    /// `Mul8` needs on the iCE40; the full engine loads every cycle).
    pub w_ld: Signal<In, Bit>,
    /// Weight RAM read address at t0.
    pub w_raddr: Signal<In, Bits<16>>,
    /// Global average pool: the weight is 1 in lane `avg_lane + row` (mod 8) instead.
    pub avg: Signal<In, Bit>,
    pub avg_lane: Signal<In, Bits<3>>,
    /// Flags at t9, registered in the row (`FlagCopy`) for t10; lean: at t5, not registered.
    pub v: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub last: Signal<In, Bit>,
    pub bank: Signal<Out, Bits<32>>,
    /// Bus access to this row's weights (`w_row` selects the row).
    pub w_waddr: Signal<In, Bits<16>>,
    pub w_wdata: Signal<In, Bits<64>>,
    pub w_we: Signal<In, Bit>,
    pub w_row: Signal<In, Bits<8>>,
    pub w_rdata: Signal<Out, Bits<64>>,
    /// Bus read-back in pairs: an even row registers its own word, or (`rb_odd`, at t3) its
    /// odd neighbour's (`w_nb`), as `w_pair` at t4. The pair's two rows are side by side on
    /// the chip (`floorplan`), so the read-back select in the core takes R/2 words, not R.
    pub w_nb: Signal<In, Bits<64>>,
    pub rb_odd: Signal<In, Bit>,
    pub w_pair: Signal<Out, Bits<64>>,
    /// Output-stage drain: for the `D` cycles after the row captures a pixel's sum into
    /// `bank` (its own registered valid & last flags, as the core's drain starts), `bank` and
    /// the parameters take the values of the row `U` further on (`rot_bank`, `rot_par`), in a
    /// ring, so the requantizers always read the first `U` rows (neighbour wires, no row
    /// select) and the `D` rotations restore every row. `clr` (the core's reset) stops it.
    pub clr: Signal<In, Bit>,
    pub rot_bank: Signal<In, Bits<32>>,
    pub rot_par: Signal<In, Bits<54>>,
    pub par: Signal<Out, Bits<54>>,
    /// Parameter load: when `p_ld` and `p_idx` names this row, take `p_word`.
    pub p_ld: Signal<In, Bit>,
    pub p_idx: Signal<In, Bits<8>>,
    pub p_word: Signal<In, Bits<54>>,
    pub bias: Signal<Out, Bits<32>>,
    pub m: Signal<Out, Bits<16>>,
    pub shift: Signal<Out, Bits<6>>,
    row: Constant<Bits<8>>,
    lane: Constant<Bits<3>>,
    /// Zero, or (lean) all ones: the accumulator starts from the bias (the requantizer then
    /// adds none) rather than from 0.
    bias_mask: Constant<Bits<32>>,
    wram: Bram<64>,
    onehot: crate::pool::OneHot,
    copy: ActCopy,
    flags: FlagCopy,
    mul: Mul8,
    pairs: AddPairs,
    sum4: Sum4,
    accu: Acc32,
    /// The weight word from the RAM to the multipliers' register (as the activation's
    /// broadcast tree; lean: none).
    w_line: Delay<Bits<64>>,
    w_r: DFF<Bits<64>>,
    wp_r: DFF<Bits<64>>,
    /// The pair sums registered (lean: the two adder levels are one stage).
    q_line: Delay<Bits<72>>,
    sum_r: DFF<Bits<20>>,
    acc_r: DFF<Bits<32>>,
    bank_r: DFF<Bits<32>>,
    par_r: DFF<Bits<54>>,
    /// Drain cycles: bit i = the row captured a sum i + 1 cycles ago.
    dsr: DFF<Bits<8>>,
    drain_mask: Constant<Bits<8>>,
}

impl MacRow {
    /// `drain`: the output stage's drain cycles per pixel (D = rows / requantizers, <= 8).
    /// `plan`: where the ECP5 build places the row's 8 MULT18X18D and its weight RAM's
    /// DP16KDs (`floorplan`).
    pub fn new(
        row: usize,
        weight_words: usize,
        lean: bool,
        drain: usize,
        plan: Option<&crate::floorplan::Floorplan>,
    ) -> Self {
        assert!((1..=8).contains(&drain), "drain {drain} out of range");
        MacRow {
            clock: Default::default(),
            act: Default::default(),
            sgn: Default::default(),
            slot: Default::default(),
            w_ld: Default::default(),
            w_raddr: Default::default(),
            avg: Default::default(),
            avg_lane: Default::default(),
            v: Default::default(),
            first: Default::default(),
            last: Default::default(),
            bank: Default::default(),
            w_waddr: Default::default(),
            w_wdata: Default::default(),
            w_we: Default::default(),
            w_row: Default::default(),
            w_rdata: Default::default(),
            w_nb: Default::default(),
            rb_odd: Default::default(),
            w_pair: Default::default(),
            clr: Default::default(),
            rot_bank: Default::default(),
            rot_par: Default::default(),
            par: Default::default(),
            p_ld: Default::default(),
            p_idx: Default::default(),
            p_word: Default::default(),
            bias: Default::default(),
            m: Default::default(),
            shift: Default::default(),
            row: Constant::new((row as u64).into()),
            lane: Constant::new(((row % 8) as u64).into()),
            bias_mask: Constant::new((if lean { 0xffff_ffffu64 } else { 0 }).into()),
            // The engine reads in range; its bus reads check the range themselves.
            wram: match (lean, plan, crate::bram::ecp5_cells(64, weight_words)) {
                (true, ..) => Bram::new_addr_delayed(weight_words, 2),
                (false, Some(p), Some(n)) => {
                    Bram::new_pipelined(weight_words).placed(p.weight_sites(row, n))
                }
                _ => Bram::new_pipelined(weight_words),
            }
            .ungated(),
            onehot: Default::default(),
            copy: if lean {
                ActCopy::wire()
            } else {
                ActCopy::default()
            },
            flags: if lean {
                FlagCopy::wire()
            } else {
                FlagCopy::default()
            },
            mul: Mul8::placed(plan.map(|p| p.rows[row].clone())),
            pairs: Default::default(),
            sum4: Default::default(),
            accu: Default::default(),
            w_line: Delay::new(if lean { 0 } else { 2 }),
            w_r: Default::default(),
            wp_r: Default::default(),
            q_line: Delay::new(if lean { 0 } else { 1 }),
            sum_r: Default::default(),
            acc_r: Default::default(),
            bank_r: Default::default(),
            par_r: Default::default(),
            dsr: Default::default(),
            drain_mask: Constant::new(((1u64 << drain) - 1).into()),
        }
    }
}

impl Logic for MacRow {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, w_r, wp_r, sum_r, acc_r, bank_r, par_r, dsr);
        self.wram.clock.next = self.clock.val();
        self.wram.raddr.next = self.w_raddr.val();
        self.wram.waddr.next = self.w_waddr.val();
        self.wram.wdata.next = self.w_wdata.val();
        self.wram.we.next = self.w_we.val() & (self.w_row.val() == self.row.val());
        self.w_rdata.next = self.wram.rdata.val();
        self.wp_r.d.next = self.wram.rdata.val();
        if self.rb_odd.val() {
            self.wp_r.d.next = self.w_nb.val();
        }
        self.w_pair.next = self.wp_r.q.val();
        // t3 -> t4 -> t5: weight word registered (twice, as the activation's broadcast tree);
        // t5 -> t6: the multiplier operands.
        self.w_line.clock.next = self.clock.val();
        self.w_line.reset.next = false;
        self.w_line.en.next = true;
        self.w_line.d.next = self.wram.rdata.val();
        self.onehot.lane.next = self.avg_lane.val() + self.lane.val();
        self.copy.clock.next = self.clock.val();
        self.copy.d.next = self.act.val();
        self.copy.ds.next = self.sgn.val();
        self.w_r.d.next = self.w_line.q.val();
        if self.flags.qavg.val() {
            self.w_r.d.next = self.onehot.w.val();
        }
        if !self.w_ld.val() {
            self.w_r.d.next = self.w_r.q.val();
        }
        // t6 -> t8: registered multiplier; t8 -> t9 -> t10: adder tree.
        self.mul.clock.next = self.clock.val();
        self.mul.a.next = self.copy.q.val();
        self.mul.sgn.next = self.copy.qs.val();
        self.mul.w.next = self.w_r.q.val();
        self.mul.slot.next = self.slot.val();
        self.pairs.p.next = self.mul.p.val();
        self.q_line.clock.next = self.clock.val();
        self.q_line.reset.next = false;
        self.q_line.en.next = true;
        self.q_line.d.next = self.pairs.q.val();
        self.sum4.q.next = self.q_line.q.val();
        self.sum_r.d.next = self.sum4.s.val();
        // t10: accumulate; the flags from the row's own copy.
        self.flags.clock.next = self.clock.val();
        self.flags.v.next = self.v.val();
        self.flags.first.next = self.first.val();
        self.flags.last.next = self.last.val();
        self.flags.avg.next = self.avg.val();
        // The first tap's sum starts from 0 or (lean) the bias.
        self.accu.acc.next = self.acc_r.q.val();
        self.accu.s.next = self.sum_r.q.val();
        self.accu.clr.next = false;
        if self.flags.qfirst.val() {
            self.accu.acc.next = self.par_r.q.val().get_bits::<32>(0) & self.bias_mask.val();
        }
        self.dsr.d.next = self.dsr.q.val() << 1;
        if self.flags.qv.val() & self.flags.qlast.val() {
            self.dsr.d.next = (self.dsr.q.val() << 1) | 1;
        }
        if self.clr.val() {
            self.dsr.d.next = 0.into();
        }
        if (self.dsr.q.val() & self.drain_mask.val()).any() {
            self.bank_r.d.next = self.rot_bank.val();
            self.par_r.d.next = self.rot_par.val();
        }
        if self.flags.qv.val() {
            self.acc_r.d.next = self.accu.y.val();
            if self.flags.qlast.val() {
                self.bank_r.d.next = self.accu.y.val();
            }
        }
        self.bank.next = self.bank_r.q.val();
        self.par.next = self.par_r.q.val();
        if self.p_ld.val() & (self.p_idx.val() == self.row.val()) {
            self.par_r.d.next = self.p_word.val();
        }
        self.bias.next = self.par_r.q.val().get_bits::<32>(0);
        self.m.next = self.par_r.q.val().get_bits::<16>(32);
        self.shift.next = self.par_r.q.val().get_bits::<6>(48);
    }
}
