//! The activation path's first register: the source buffer's word (A, B or S, as the
//! sequencer's `src`) at `Schedule::act`, padding taps read as zero, registered once (the
//! word the max-pool unit and the broadcast to the MAC rows take).
//!
//! Full pipeline: each buffer's word is registered on its own, loaded only if it is the
//! engine's source (a padding tap: none) or a bus read's, so the source word is their OR
//! after the registers: the banks' OR, the source select and the padding gate in one cycle
//! was the routed ULX3S build's critical path (RAM across the chip, 4 logic levels), and a
//! select after the registers, in front of the max-pool compare, the next one. The bus
//! answer (`BusAnswer`) reads A, B and S from these registers too (each its own: the
//! engine's source register may load alongside).
//!
//! Lean: A, B and S are one memory (`SharedAb`, its word on `a`); one register, which holds
//! between issues (the iCE40 `Mul8` reads it for two cycles).

// (`Kernel` stays unimported: its methods would shadow `Logic`'s in the derive.)
use crate::variant::{Full, Lean};
use crate::variant_logic;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct ActPath {
    pub clock: Signal<In, Clock>,
    /// The buffers' words at `act`.
    pub a: Signal<In, Bits<64>>,
    pub b: Signal<In, Bits<64>>,
    pub s: Signal<In, Bits<64>>,
    /// The engine's source buffer (`common::job::Buf`: 0 A, 1 B, else S).
    pub src: Signal<In, Bits<2>>,
    /// At `act`: an issue's word (`issue`), inside the tile (`inr`: else a padding tap).
    pub issue: Signal<In, Bit>,
    pub inr: Signal<In, Bit>,
    /// A bus read of A, B, S (bits 0-2) at `act`.
    pub rq_buf: Signal<In, Bits<3>>,
    /// The word at `act + 1`.
    pub q: Signal<Out, Bits<64>>,
    /// Full: each buffer's register (the bus answer's A, B, S words; lean: 0).
    pub qa: Signal<Out, Bits<64>>,
    pub qb: Signal<Out, Bits<64>>,
    pub qs: Signal<Out, Bits<64>>,
    use_a: Signal<Local, Bit>,
    use_b: Signal<Local, Bit>,
    use_s: Signal<Local, Bit>,
    a_q: DFF<Bits<64>>,
    b_q: DFF<Bits<64>>,
    s_q: DFF<Bits<64>>,
    act_r: DFF<Bits<64>>,
    _lean: bool,
}

impl ActPath {
    pub fn new(lean: bool) -> Self {
        ActPath {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            s: Default::default(),
            src: Default::default(),
            issue: Default::default(),
            inr: Default::default(),
            rq_buf: Default::default(),
            q: Default::default(),
            qa: Default::default(),
            qb: Default::default(),
            qs: Default::default(),
            use_a: Default::default(),
            use_b: Default::default(),
            use_s: Default::default(),
            a_q: Default::default(),
            b_q: Default::default(),
            s_q: Default::default(),
            act_r: Default::default(),
            _lean: lean,
        }
    }
}

impl crate::variant::Kernel<Full> for ActPath {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, a_q, b_q, s_q, act_r);
        // (Bus reads come only while the engine is idle, so the two never load together; the
        // padding flag stays high while idle, so the source's register loads along with the
        // one a bus read asks for.)
        self.use_a.next = (self.inr.val() & (self.src.val() == 0)) | self.rq_buf.val().get_bit(0);
        self.use_b.next = (self.inr.val() & (self.src.val() == 1)) | self.rq_buf.val().get_bit(1);
        self.use_s.next = (self.inr.val() & (self.src.val() != 0) & (self.src.val() != 1))
            | self.rq_buf.val().get_bit(2);
        self.a_q.d.next = 0.into();
        self.b_q.d.next = 0.into();
        self.s_q.d.next = 0.into();
        if self.use_a.val() {
            self.a_q.d.next = self.a.val();
        }
        if self.use_b.val() {
            self.b_q.d.next = self.b.val();
        }
        if self.use_s.val() {
            self.s_q.d.next = self.s.val();
        }
        self.q.next = self.a_q.q.val() | self.b_q.q.val() | self.s_q.q.val();
        self.qa.next = self.a_q.q.val();
        self.qb.next = self.b_q.q.val();
        self.qs.next = self.s_q.q.val();
    }
}

impl crate::variant::Kernel<Lean> for ActPath {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, a_q, b_q, s_q, act_r);
        self.use_a.next = false;
        self.use_b.next = false;
        self.use_s.next = false;
        self.act_r.d.next = 0.into();
        if self.inr.val() {
            self.act_r.d.next = self.a.val();
        }
        if !self.issue.val() {
            self.act_r.d.next = self.act_r.q.val();
        }
        self.q.next = self.act_r.q.val();
        self.qa.next = 0.into();
        self.qb.next = 0.into();
        self.qs.next = 0.into();
    }
}

variant_logic!(ActPath);
