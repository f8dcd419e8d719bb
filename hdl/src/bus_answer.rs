//! The bus read's answer: the addressed memory's word at `Schedule::act` (with the request's
//! tags from `BusPort`), registered `Schedule::bus_answer` times.
//!
//! Full pipeline: the descriptor and parameter words are selected at t4 (`osel_r`); the
//! weights (each row pair's word, `MacRow::w_pair`) and A, B, S (the activation path's t4
//! word) answer from their own t4 registers, selected into the answer at t5: the banks' OR
//! and the region select in one cycle is a path from across the chip. Lean: every word is
//! selected into one register, which is the answer and holds until the next read (the link
//! sends its bytes from it).

// (`Kernel` stays unimported: its methods would shadow `Logic`'s in the derive.)
use crate::variant::{Full, Lean};
use crate::variant_logic;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BusAnswer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The request's tags at `act` (`BusPort`).
    pub rq_v: Signal<In, Bit>,
    pub rq_reg: Signal<In, Bits<4>>,
    pub rq_row: Signal<In, Bits<8>>,
    pub rq_ok: Signal<In, Bit>,
    /// The words at `act`: descriptor, parameter, the shared A/B/S port's (lean), the
    /// addressed weight row's (lean).
    pub desc_word: Signal<In, Bits<64>>,
    pub param_word: Signal<In, Bits<54>>,
    pub ab_word: Signal<In, Bits<64>>,
    pub w_word: Signal<In, Bits<64>>,
    /// Full: the addressed row pair's word and the activation path's A, B, S registers, at
    /// `act + 1`.
    pub w_pair: Signal<In, Bits<64>>,
    pub a_word: Signal<In, Bits<64>>,
    pub b_word: Signal<In, Bits<64>>,
    pub s_word: Signal<In, Bits<64>>,
    /// The weight row at `act + 1` (selects `w_pair`).
    pub row4: Signal<Out, Bits<8>>,
    pub bus_rdata: Signal<Out, Bits<64>>,
    pub bus_rvalid: Signal<Out, Bit>,
    osel_r: DFF<Bits<64>>,
    rd_v4: DFF<Bit>,
    rd_w4: DFF<Bit>,
    rd_a4: DFF<Bit>,
    rd_b4: DFF<Bit>,
    rd_s4: DFF<Bit>,
    rd_row4: DFF<Bits<8>>,
    rdata_r: DFF<Bits<64>>,
    rvalid_r: DFF<Bit>,
    _lean: bool,
}

impl BusAnswer {
    pub fn new(lean: bool) -> Self {
        BusAnswer {
            clock: Default::default(),
            reset: Default::default(),
            rq_v: Default::default(),
            rq_reg: Default::default(),
            rq_row: Default::default(),
            rq_ok: Default::default(),
            desc_word: Default::default(),
            param_word: Default::default(),
            ab_word: Default::default(),
            w_word: Default::default(),
            w_pair: Default::default(),
            a_word: Default::default(),
            b_word: Default::default(),
            s_word: Default::default(),
            row4: Default::default(),
            bus_rdata: Default::default(),
            bus_rvalid: Default::default(),
            osel_r: Default::default(),
            rd_v4: Default::default(),
            rd_w4: Default::default(),
            rd_a4: Default::default(),
            rd_b4: Default::default(),
            rd_s4: Default::default(),
            rd_row4: Default::default(),
            rdata_r: Default::default(),
            rvalid_r: Default::default(),
            _lean: lean,
        }
    }
}

impl crate::variant::Kernel<Full> for BusAnswer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, osel_r, rd_v4, rd_w4, rd_a4, rd_b4, rd_s4, rd_row4, rdata_r, rvalid_r
        );
        self.osel_r.d.next = 0.into();
        if self.rq_reg.val() == 0 {
            self.osel_r.d.next = self.desc_word.val();
        }
        if self.rq_reg.val() == 5 {
            self.osel_r.d.next = bit_cast::<64, 54>(self.param_word.val());
        }
        if !self.rq_ok.val() {
            self.osel_r.d.next = 0.into();
        }
        self.rd_v4.d.next = self.rq_v.val();
        self.rd_w4.d.next = self.rq_ok.val() & (self.rq_reg.val() == 4);
        self.rd_a4.d.next = self.rq_ok.val() & (self.rq_reg.val() == 1);
        self.rd_b4.d.next = self.rq_ok.val() & (self.rq_reg.val() == 2);
        self.rd_s4.d.next = self.rq_ok.val() & (self.rq_reg.val() == 3);
        self.rd_row4.d.next = self.rq_row.val();
        self.row4.next = self.rd_row4.q.val();
        self.rdata_r.d.next = self.osel_r.q.val();
        if self.rd_w4.q.val() {
            self.rdata_r.d.next = self.w_pair.val();
        }
        if self.rd_a4.q.val() {
            self.rdata_r.d.next = self.a_word.val();
        }
        if self.rd_b4.q.val() {
            self.rdata_r.d.next = self.b_word.val();
        }
        if self.rd_s4.q.val() {
            self.rdata_r.d.next = self.s_word.val();
        }
        self.rvalid_r.d.next = self.rd_v4.q.val();
        self.bus_rdata.next = self.rdata_r.q.val();
        self.bus_rvalid.next = self.rvalid_r.q.val();
        if self.reset.val() {
            self.rd_v4.d.next = false;
            self.rvalid_r.d.next = false;
        }
    }
}

impl crate::variant::Kernel<Lean> for BusAnswer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, osel_r, rd_v4, rd_w4, rd_a4, rd_b4, rd_s4, rd_row4, rdata_r, rvalid_r
        );
        self.osel_r.d.next = 0.into();
        if self.rq_reg.val() == 0 {
            self.osel_r.d.next = self.desc_word.val();
        }
        if (self.rq_reg.val() == 1) | (self.rq_reg.val() == 2) | (self.rq_reg.val() == 3) {
            self.osel_r.d.next = self.ab_word.val();
        }
        if self.rq_reg.val() == 5 {
            self.osel_r.d.next = bit_cast::<64, 54>(self.param_word.val());
        }
        if self.rq_reg.val() == 4 {
            self.osel_r.d.next = self.w_word.val();
        }
        if !self.rq_ok.val() {
            self.osel_r.d.next = 0.into();
        }
        if !self.rq_v.val() {
            self.osel_r.d.next = self.osel_r.q.val();
        }
        self.rd_v4.d.next = self.rq_v.val();
        self.row4.next = self.rd_row4.q.val();
        self.bus_rdata.next = self.osel_r.q.val();
        self.bus_rvalid.next = self.rd_v4.q.val();
        if self.reset.val() {
            self.rd_v4.d.next = false;
        }
    }
}

variant_logic!(BusAnswer);
