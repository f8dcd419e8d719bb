//! The output stage's requantizer: `common::arith::requantize` of `acc + bias` as a pipeline
//! (input registers after the drain ring | bias add | 32x17 multiply in 3 stages | round |
//! arithmetic shift | saturate), every stage registered, carrying its output channel's byte
//! lane and word address. The leaves are in req_leaves.rs; the depth is
//! `Schedule::requant`.
//!
//! Lean (the 24 MHz iCE40 build, short of flip-flops): no input registers and no bias (the
//! MAC row's accumulator starts from it), the rounding term is not registered, and one stage
//! shifts and saturates (`ReqShiftSat`).

use crate::delay::Delay;
use crate::req_leaves::{
    Place, REQMUL_LATENCY, ReqMul, ReqRound, ReqRoundTerm, ReqSat, ReqShift, ReqShiftSat,
};
use crate::variant::{Full, Lean, Pick};
use crate::variant_logic;
use rust_hdl::prelude::*;

/// The last stages: shift and saturate the rounded value (`r`, `sh`, `relu` of one stage)
/// into the byte `b`, in two registered stages (full) or one (lean, `ReqShiftSat`).
#[derive(LogicBlock)]
pub struct ReqOut {
    pub clock: Signal<In, Clock>,
    pub r: Signal<In, Bits<49>>,
    pub sh: Signal<In, Bits<6>>,
    pub relu: Signal<In, Bit>,
    pub b: Signal<Out, Bits<8>>,
    shr: ReqShift,
    sat: ReqSat,
    shsat: ReqShiftSat,
    y_r: DFF<Bits<49>>,
    rl_r: DFF<Bit>,
    b_r: DFF<Bits<8>>,
    _lean: bool,
}

impl ReqOut {
    pub fn new(lean: bool) -> Self {
        ReqOut {
            clock: Default::default(),
            r: Default::default(),
            sh: Default::default(),
            relu: Default::default(),
            b: Default::default(),
            shr: Default::default(),
            sat: Default::default(),
            shsat: Default::default(),
            y_r: Default::default(),
            rl_r: Default::default(),
            b_r: Default::default(),
            _lean: lean,
        }
    }

    /// Registered stages.
    pub fn stages(lean: bool) -> usize {
        if lean { 1 } else { 2 }
    }
}

impl crate::variant::Kernel<Full> for ReqOut {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, y_r, rl_r, b_r);
        self.shr.r.next = self.r.val();
        self.shr.sh.next = self.sh.val();
        self.y_r.d.next = self.shr.y.val();
        self.rl_r.d.next = self.relu.val();
        self.sat.y.next = self.y_r.q.val();
        self.sat.relu.next = self.rl_r.q.val();
        self.b_r.d.next = self.sat.b.val();
        self.shsat.r.next = 0.into();
        self.shsat.sh.next = 0.into();
        self.shsat.relu.next = false;
        self.b.next = self.b_r.q.val();
    }
}

impl crate::variant::Kernel<Lean> for ReqOut {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, y_r, rl_r, b_r);
        self.shr.r.next = 0.into();
        self.shr.sh.next = 0.into();
        self.sat.y.next = 0.into();
        self.sat.relu.next = false;
        self.shsat.r.next = self.r.val();
        self.shsat.sh.next = self.sh.val();
        self.shsat.relu.next = self.relu.val();
        self.b_r.d.next = self.shsat.b.val();
        self.b.next = self.b_r.q.val();
    }
}

variant_logic!(ReqOut);

/// One requantizer unit of the output stage. Inputs are taken in the drain cycle; the byte
/// comes out `Requant::stages` cycles later (`Schedule::requant`), already placed in its lane
/// and chained with the other units' bytes (`wd_in`/`be_in` -> `wd_out`/`be_out`).
#[derive(LogicBlock)]
pub struct Requant {
    pub clock: Signal<In, Clock>,
    pub dv: Signal<In, Bit>,
    /// First channel of this drain cycle; this unit's channel is `cj + unit`.
    pub cj: Signal<In, Bits<11>>,
    /// Channels `>= lim` are not written (end of group or of `cout`).
    pub lim: Signal<In, Bits<11>>,
    /// Word address of the pixel's channel 0.
    pub obase: Signal<In, Bits<16>>,
    pub acc: Signal<In, Bits<32>>,
    pub bias: Signal<In, Bits<32>>,
    pub m: Signal<In, Bits<16>>,
    pub shift: Signal<In, Bits<6>>,
    pub relu: Signal<In, Bit>,
    pub wd_in: Signal<In, Bits<64>>,
    pub be_in: Signal<In, Bits<8>>,
    pub wd_out: Signal<Out, Bits<64>>,
    pub be_out: Signal<Out, Bits<8>>,
    pub addr_out: Signal<Out, Bits<16>>,
    unit: Constant<Bits<11>>,
    ch: Signal<Local, Bits<11>>,
    /// Stage 1's value: `acc + bias`, or (lean) `acc` (the accumulator already holds the
    /// bias, and the adder is then left unconnected).
    acc_bias: Signal<Local, Bits<32>>,
    x_in: Pick<Bits<32>>,
    mul: ReqMul,
    rterm: ReqRoundTerm,
    round: ReqRound,
    tail: ReqOut,
    place: Place,
    // Stage 0: the inputs, registered from the first rows of the core's drain ring (lean:
    // wires).
    dv0: Delay<Bit>,
    cj0: Delay<Bits<11>>,
    ob0: Delay<Bits<16>>,
    acc0: Delay<Bits<32>>,
    bias0: Delay<Bits<32>>,
    m0: Delay<Bits<16>>,
    sh0: Delay<Bits<6>>,
    rl0: Delay<Bit>,
    // Stage 1: bias added; the tags (shift, valid, ReLU, byte lane, word address).
    x1: DFF<Bits<32>>,
    m1: DFF<Bits<16>>,
    sh1: DFF<Bits<6>>,
    v1: DFF<Bit>,
    rl1: DFF<Bit>,
    l1: DFF<Bits<3>>,
    a1: DFF<Bits<16>>,
    /// The shift to the rounding term, which is registered (`rt`) before the addition
    /// (not for lean: few flip-flops), and on to the shift stage.
    sh_rt: Delay<Bits<6>>,
    rt: Delay<Bits<49>>,
    sh_out: Delay<Bits<6>>,
    rl_out: Delay<Bit>,
    r5: DFF<Bits<49>>,
    // Valid, lane and address from stage 1 to the byte.
    v_out: Delay<Bit>,
    l_out: Delay<Bits<3>>,
    a_out: Delay<Bits<16>>,
}

impl Requant {
    /// `sites`: where the ECP5 build places the multiplier's two MULT18X18D (`floorplan`).
    pub fn new(unit: usize, lean: bool, sites: Option<[String; 2]>) -> Self {
        let s0 = if lean { 0 } else { 1 };
        let rt_regs = if lean { 0 } else { 1 };
        // Stage 1 to the rounding stage's inputs: the multiplier's latency; to the byte: the
        // rounding stage and the last stages.
        let to_round = REQMUL_LATENCY;
        let to_byte = to_round + 1 + ReqOut::stages(lean);
        Requant {
            clock: Default::default(),
            dv: Default::default(),
            cj: Default::default(),
            lim: Default::default(),
            obase: Default::default(),
            acc: Default::default(),
            bias: Default::default(),
            m: Default::default(),
            shift: Default::default(),
            relu: Default::default(),
            wd_in: Default::default(),
            be_in: Default::default(),
            wd_out: Default::default(),
            be_out: Default::default(),
            addr_out: Default::default(),
            unit: Constant::new((unit as u64).into()),
            ch: Default::default(),
            acc_bias: Default::default(),
            x_in: Pick::new(lean),
            mul: ReqMul::placed(sites),
            rterm: Default::default(),
            round: Default::default(),
            tail: ReqOut::new(lean),
            place: Default::default(),
            dv0: Delay::new(s0),
            cj0: Delay::new(s0),
            ob0: Delay::new(s0),
            acc0: Delay::new(s0),
            bias0: Delay::new(s0),
            m0: Delay::new(s0),
            sh0: Delay::new(s0),
            rl0: Delay::new(s0),
            x1: Default::default(),
            m1: Default::default(),
            sh1: Default::default(),
            v1: Default::default(),
            rl1: Default::default(),
            l1: Default::default(),
            a1: Default::default(),
            sh_rt: Delay::new(to_round - rt_regs),
            rt: Delay::new(rt_regs),
            sh_out: Delay::new(to_round + 1),
            rl_out: Delay::new(to_round + 1),
            r5: Default::default(),
            v_out: Delay::new(to_byte),
            l_out: Delay::new(to_byte),
            a_out: Delay::new(to_byte),
        }
    }

    /// Cycles from the inputs to the byte (`Schedule::requant`).
    pub fn stages(lean: bool) -> usize {
        (if lean { 0 } else { 1 }) + 1 + REQMUL_LATENCY + 1 + ReqOut::stages(lean)
    }
}

impl Logic for Requant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, x1, m1, sh1, v1, rl1, l1, a1, r5);
        // Stage 0 (lean: wires).
        self.dv0.d.next = self.dv.val();
        self.cj0.d.next = self.cj.val();
        self.ob0.d.next = self.obase.val();
        self.acc0.d.next = self.acc.val();
        self.bias0.d.next = self.bias.val();
        self.m0.d.next = self.m.val();
        self.sh0.d.next = self.shift.val();
        self.rl0.d.next = self.relu.val();
        // Stage 1: bias add (wrapping, as the accumulator starting from the bias).
        self.ch.next = self.cj0.q.val() + self.unit.val();
        self.acc_bias.next = self.acc0.q.val() + self.bias0.q.val();
        self.x_in.full.next = self.acc_bias.val();
        self.x_in.lean.next = self.acc0.q.val();
        self.x1.d.next = self.x_in.q.val();
        self.m1.d.next = self.m0.q.val();
        self.sh1.d.next = self.sh0.q.val();
        self.v1.d.next = self.dv0.q.val() & (self.ch.val() < self.lim.val());
        self.rl1.d.next = self.rl0.q.val();
        self.l1.d.next = self.ch.val().get_bits::<3>(0);
        self.a1.d.next = self.ob0.q.val() + bit_cast::<16, 8>(self.ch.val().get_bits::<8>(3));
        // Stages 2-4: multiply (DSP input registers, DSP output registers, partial sum); the
        // rounding term from the shift.
        self.mul.clock.next = self.clock.val();
        self.mul.x.next = self.x1.q.val();
        self.mul.m.next = self.m1.q.val();
        self.sh_rt.d.next = self.sh1.q.val();
        self.rterm.sh.next = self.sh_rt.q.val();
        self.rt.d.next = self.rterm.t.val();
        // Stage 5: rounding term added.
        self.round.p.next = self.mul.p.val();
        self.round.t.next = self.rt.q.val();
        self.r5.d.next = self.round.r.val();
        self.sh_out.d.next = self.sh1.q.val();
        self.rl_out.d.next = self.rl1.q.val();
        // Then shift and saturate.
        self.tail.clock.next = self.clock.val();
        self.tail.r.next = self.r5.q.val();
        self.tail.sh.next = self.sh_out.q.val();
        self.tail.relu.next = self.rl_out.q.val();
        self.v_out.d.next = self.v1.q.val();
        self.l_out.d.next = self.l1.q.val();
        self.a_out.d.next = self.a1.q.val();
        // Output: byte placed in its lane, chained.
        self.place.b.next = self.tail.b.val();
        self.place.pos.next = self.l_out.q.val();
        self.place.v.next = self.v_out.q.val();
        self.place.wd_in.next = self.wd_in.val();
        self.place.be_in.next = self.be_in.val();
        self.wd_out.next = self.place.wd_out.val();
        self.be_out.next = self.place.be_out.val();
        self.addr_out.next = self.a_out.q.val();
        // Every line is a plain one (clock, never held, never cleared).
        self.dv0.clock.next = self.clock.val();
        self.cj0.clock.next = self.clock.val();
        self.ob0.clock.next = self.clock.val();
        self.acc0.clock.next = self.clock.val();
        self.bias0.clock.next = self.clock.val();
        self.m0.clock.next = self.clock.val();
        self.sh0.clock.next = self.clock.val();
        self.rl0.clock.next = self.clock.val();
        self.sh_rt.clock.next = self.clock.val();
        self.rt.clock.next = self.clock.val();
        self.sh_out.clock.next = self.clock.val();
        self.rl_out.clock.next = self.clock.val();
        self.v_out.clock.next = self.clock.val();
        self.l_out.clock.next = self.clock.val();
        self.a_out.clock.next = self.clock.val();
        self.dv0.en.next = true;
        self.cj0.en.next = true;
        self.ob0.en.next = true;
        self.acc0.en.next = true;
        self.bias0.en.next = true;
        self.m0.en.next = true;
        self.sh0.en.next = true;
        self.rl0.en.next = true;
        self.sh_rt.en.next = true;
        self.rt.en.next = true;
        self.sh_out.en.next = true;
        self.rl_out.en.next = true;
        self.v_out.en.next = true;
        self.l_out.en.next = true;
        self.a_out.en.next = true;
        self.dv0.reset.next = false;
        self.cj0.reset.next = false;
        self.ob0.reset.next = false;
        self.acc0.reset.next = false;
        self.bias0.reset.next = false;
        self.m0.reset.next = false;
        self.sh0.reset.next = false;
        self.rl0.reset.next = false;
        self.sh_rt.reset.next = false;
        self.rt.reset.next = false;
        self.sh_out.reset.next = false;
        self.rl_out.reset.next = false;
        self.v_out.reset.next = false;
        self.l_out.reset.next = false;
        self.a_out.reset.next = false;
    }
}
