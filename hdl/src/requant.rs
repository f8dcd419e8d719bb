//! The output stage's requantizer: `common::arith::requantize` of `acc + bias` as a
//! 8-stage pipeline (input registers after the drain ring | bias add | 32x17 multiply in 3
//! stages | round | arithmetic shift | saturate), every stage registered, carrying its output channel's byte lane and word address.
//!
//! Leaves work on 49-bit two's complement: `acc * m` with a full u16 `m` fits in 48 bits,
//! plus the rounding term. Shifts up to 47 are the contract (`arith::MAX_SHIFT`).

use crate::mul8::{sext, trunc};
use rust_hdl::prelude::*;

/// Width of the product and rounding stages.
pub const RW: u32 = 49;

/// Signed 32-bit accumulator times unsigned 16-bit multiplier, pipelined: `p` is the product
/// of the `x`, `m` presented 3 clock edges earlier. Two 18x18 partial products (`x[15:0] * m`
/// and `x[31:16] * m`, both exact in 32 bits) with registered inputs and outputs, then their
/// registered sum `(hi << 16) + lo`. With `SQZ_ECP5_DSP` the partial products are
/// instantiated MULT18X18D with their internal input and output registers, with
/// `SQZ_ICE40_DSP` SB_MAC16s likewise (see `mul8.rs`).
#[derive(LogicBlock, Default)]
pub struct ReqMul {
    pub clock: Signal<In, Clock>,
    pub x: Signal<In, Bits<32>>,
    pub m: Signal<In, Bits<16>>,
    pub p: Signal<Out, Bits<49>>,
    _d: [u64; 2],
    /// ECP5 sites of the low and high MULT18X18D (`floorplan`), or none.
    _sites: Vec<String>,
}

impl ReqMul {
    /// The ECP5 build places the low and high partial products at `sites`.
    pub fn placed(sites: Option<[String; 2]>) -> Self {
        ReqMul {
            _sites: sites.map(Vec::from).unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// Cycles from `ReqMul`'s inputs to its product.
pub const REQMUL_LATENCY: usize = 3;

impl Logic for ReqMul {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let p = self.x.val().to_u32() as i32 as i64 * self.m.val().to_u64() as i64;
            self.p.next = self._d[1].into();
            self._d[1] = self._d[0];
            self._d[0] = trunc(p, RW);
        }
    }
    fn connect(&mut self) {
        self.p.connect();
    }
    fn hdl(&self) -> Verilog {
        let dsp = |name: &str, a: &dyn Fn(usize) -> String, out: &str, site: usize| {
            let mut pins = String::new();
            for b in 0..18 {
                let mb = if b < 16 {
                    format!("m[{b}]")
                } else {
                    "1'b0".to_string()
                };
                pins += &format!(".A{b}({}), .B{b}({mb}), .C{b}(1'b0), ", a(b));
            }
            for b in 0..36 {
                pins += &format!(".P{b}({out}f[{b}]), ");
            }
            format!(
                "wire [35:0] {out}f;
assign {out} = {out}f[31:0];
{bel}MULT18X18D #(.REG_INPUTA_CLK(\"CLK0\"), .REG_INPUTB_CLK(\"CLK0\"), .REG_OUTPUT_CLK(\"CLK0\"), .GSR(\"DISABLED\"))
   {name} ({pins}.SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
   .CLK0(clock), .CE0(1'b1), .RST0(1'b0));
",
                bel = crate::floorplan::bel_attr(self._sites.get(site).map(String::as_str)),
            )
        };
        let lo = dsp(
            "dsp_lo",
            &|b| {
                if b < 16 {
                    format!("x[{b}]")
                } else {
                    "1'b0".into()
                }
            },
            "pl",
            0,
        );
        let hi = dsp(
            "dsp_hi",
            &|b| {
                if b < 16 {
                    format!("x[{}]", b + 16)
                } else {
                    "x[31]".into()
                }
            },
            "ph",
            1,
        );
        // iCE40: the same two partial products in SB_MAC16s with input and product registers.
        let lo40 = crate::mul8::sb_mac16("mac_lo", true, false, false, "x[15:0]", "m", "pl");
        let hi40 = crate::mul8::sb_mac16("mac_hi", true, true, false, "x[31:16]", "m", "ph");
        Verilog::Custom(format!(
            "wire [31:0] pl;
wire [31:0] ph;
reg [48:0] ps;
`ifdef SQZ_ECP5_DSP
{lo}{hi}`elsif SQZ_ICE40_DSP
{lo40}{hi40}`else
reg [15:0] xl_r;
reg [15:0] xh_r;
reg [15:0] m_r;
reg [31:0] pl_r;
reg [31:0] ph_r;
always @(posedge clock) begin
   xl_r <= x[15:0];
   xh_r <= x[31:16];
   m_r <= m;
   pl_r <= xl_r * m_r;
   ph_r <= $signed(xh_r) * $signed({{1'b0, m_r}});
end
assign pl = pl_r;
assign ph = ph_r;
`endif
always @(posedge clock) ps <= {{ph[31], ph, 16'd0}} + {{17'd0, pl}};
always @(*) p = ps;"
        ))
    }
}

/// The rounding term of a shift: `2^(shift-1)` (nothing for shift 0). It depends on the
/// shift alone, so `Requant` registers it a stage ahead of the addition (`ReqRound`).
#[derive(LogicBlock, Default)]
pub struct ReqRoundTerm {
    pub sh: Signal<In, Bits<6>>,
    pub t: Signal<Out, Bits<49>>,
}

impl Logic for ReqRoundTerm {
    fn update(&mut self) {
        let s = self.sh.val().to_u64();
        let t = if s == 0 { 0 } else { 1u64 << (s - 1) };
        self.t.next = trunc(t as i64, RW).into();
    }
    fn connect(&mut self) {
        self.t.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(*) t = (sh == 6'd0) ? 49'd0 : (49'd1 << (sh - 6'd1));".into())
    }
}

/// Add the rounding term (`ReqRoundTerm`), wrapping at 49 bits.
#[derive(LogicBlock, Default)]
pub struct ReqRound {
    pub p: Signal<In, Bits<49>>,
    pub t: Signal<In, Bits<49>>,
    pub r: Signal<Out, Bits<49>>,
}

impl Logic for ReqRound {
    fn update(&mut self) {
        let p = sext(self.p.val().to_u64(), RW);
        let t = self.t.val().to_u64() as i64;
        self.r.next = trunc(p.wrapping_add(t), RW).into();
    }
    fn connect(&mut self) {
        self.r.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(*) r = p + t;".into())
    }
}

/// Arithmetic (flooring) right shift.
#[derive(LogicBlock, Default)]
pub struct ReqShift {
    pub r: Signal<In, Bits<49>>,
    pub sh: Signal<In, Bits<6>>,
    pub y: Signal<Out, Bits<49>>,
}

impl Logic for ReqShift {
    fn update(&mut self) {
        let s = self.sh.val().to_u64();
        let r = sext(self.r.val().to_u64(), RW);
        self.y.next = trunc(r >> s.min(63), RW).into();
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(*) y = $signed(r) >>> sh;".into())
    }
}

/// Saturate to [0, 255] (ReLU) or [-128, 127] (linear) and return the stored byte.
#[derive(LogicBlock, Default)]
pub struct ReqSat {
    pub y: Signal<In, Bits<49>>,
    pub relu: Signal<In, Bit>,
    pub b: Signal<Out, Bits<8>>,
}

impl Logic for ReqSat {
    fn update(&mut self) {
        let y = sext(self.y.val().to_u64(), RW);
        let mode = if self.relu.val() {
            common::arith::OutMode::Relu
        } else {
            common::arith::OutMode::Linear
        };
        self.b.next = (common::arith::saturate(y, mode) as u64).into();
    }
    fn connect(&mut self) {
        self.b.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "always @(*) begin
   if (relu) b = ($signed(y) < 0) ? 8'd0 : (($signed(y) > 255) ? 8'd255 : y[7:0]);
   else b = ($signed(y) < -128) ? 8'h80 : (($signed(y) > 127) ? 8'h7f : y[7:0]);
end"
            .into(),
        )
    }
}

/// `ReqShift` then `ReqSat` in one leaf that computes only what the byte needs: the shift
/// is a log shifter, largest step first, keeping at each step only the bits the later steps
/// can bring into the low 9, plus a flag that every bit dropped above that window equals the
/// sign. About half the LUTs of the two leaves (the lean, iCE40 requantizer uses it).
#[derive(LogicBlock, Default)]
pub struct ReqShiftSat {
    pub r: Signal<In, Bits<49>>,
    pub sh: Signal<In, Bits<6>>,
    pub relu: Signal<In, Bit>,
    pub b: Signal<Out, Bits<8>>,
}

impl Logic for ReqShiftSat {
    fn update(&mut self) {
        let s = self.sh.val().to_u64();
        let r = sext(self.r.val().to_u64(), RW);
        let mode = if self.relu.val() {
            common::arith::OutMode::Relu
        } else {
            common::arith::OutMode::Linear
        };
        self.b.next = (common::arith::saturate(r >> s.min(63), mode) as u64).into();
    }
    fn connect(&mut self) {
        self.b.connect();
    }
    fn hdl(&self) -> Verilog {
        // Window w_k after the shift by 2^k (k = 5..0): its bits [0, 9 + 2^k - 1] are those a
        // shift by up to 2^k - 1 more can bring into [0, 8]. Shifts of 48 and more are outside
        // the contract (`arith::MAX_SHIFT` = 47) but exact here too (all sign).
        let mut v = String::from("wire sg = r[48];\n");
        let mut prev = "r".to_string();
        let mut prev_w = 49usize;
        let mut flags = Vec::new();
        for k in (0..6).rev() {
            let step = 1usize << k;
            let w = 9 + step - 1;
            let name = format!("w{k}");
            v += &format!("wire [{}:0] {name};\n", w - 1);
            for i in 0..w {
                let hi = if i + step < prev_w {
                    format!("{prev}[{}]", i + step)
                } else {
                    "sg".to_string()
                };
                let lo = if i < prev_w {
                    format!("{prev}[{i}]")
                } else {
                    "sg".to_string()
                };
                v += &format!("assign {name}[{i}] = sh[{k}] ? {hi} : {lo};\n");
            }
            // Unshifted, the bits [w, prev_w) of the previous window leave it (shifted, only
            // sign copies or bits of it do).
            if prev_w > w {
                flags.push(format!(
                    "(sh[{k}] | ({prev}[{}:{w}] == {{{}{{sg}}}}))",
                    prev_w - 1,
                    prev_w - w
                ));
            }
            prev = name;
            prev_w = w;
        }
        // `hi9`: y[48:9] all equal the sign; then y[48:8] (`u8`) and y[48:7] (`u7`).
        v += &format!(
            "wire hi9 = {};
wire u8 = hi9 & (w0[8] == sg);
wire u7 = u8 & (w0[7] == sg);
always @(*) begin
   if (relu) b = sg ? 8'd0 : (u8 ? w0[7:0] : 8'd255);
   else b = u7 ? w0[7:0] : (sg ? 8'h80 : 8'h7f);
end",
            flags.join(" & ")
        );
        Verilog::Custom(v)
    }
}

/// Place a byte in lane `pos` of a word and OR it into a chain (the units of one drain
/// cycle write disjoint lanes of one word).
#[derive(LogicBlock, Default)]
pub struct Place {
    pub b: Signal<In, Bits<8>>,
    pub pos: Signal<In, Bits<3>>,
    pub v: Signal<In, Bit>,
    pub wd_in: Signal<In, Bits<64>>,
    pub be_in: Signal<In, Bits<8>>,
    pub wd_out: Signal<Out, Bits<64>>,
    pub be_out: Signal<Out, Bits<8>>,
}

impl Logic for Place {
    fn update(&mut self) {
        let (mut wd, mut be) = (self.wd_in.val().to_u64(), self.be_in.val().to_u64());
        if self.v.val() {
            let p = self.pos.val().to_u64();
            wd |= self.b.val().to_u64() << (8 * p);
            be |= 1 << p;
        }
        self.wd_out.next = wd.into();
        self.be_out.next = be.into();
    }
    fn connect(&mut self) {
        self.wd_out.connect();
        self.be_out.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "always @(*) begin
   wd_out = wd_in | (v ? ({56'd0, b} << {pos, 3'b000}) : 64'd0);
   be_out = be_in | (v ? (8'd1 << pos) : 8'd0);
end"
            .into(),
        )
    }
}

/// Pipeline stages of `Requant`: its inputs are taken in the drain cycle, the byte comes out
/// this many cycles later.
pub const REQ_STAGES: usize = 8;
/// The same for `Requant::new(_, true, _)`.
pub const REQ_STAGES_LEAN: usize = 6;

/// One requantizer unit of the output stage. Inputs are taken in the drain cycle; the
/// byte comes out `REQ_STAGES` (8) cycles later, already placed in its lane and chained with the
/// other units' bytes (`wd_in`/`be_in` -> `wd_out`/`be_out`).
///
/// `lean` (the 24 MHz iCE40 build, short of flip-flops): no stage 0 and no bias (the MAC row's
/// accumulator starts from it), and one stage shifts and saturates (`ReqShiftSat`):
/// `REQ_STAGES_LEAN` (6) cycles.
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
    lean: Constant<Bit>,
    ch: Signal<Local, Bits<11>>,
    // Stage 1's inputs: the stage 0 registers, or (lean) the ports.
    dv_s: Signal<Local, Bit>,
    ob_s: Signal<Local, Bits<16>>,
    acc_s: Signal<Local, Bits<32>>,
    bias_s: Signal<Local, Bits<32>>,
    m_s: Signal<Local, Bits<16>>,
    sh_s: Signal<Local, Bits<6>>,
    rl_s: Signal<Local, Bit>,
    shsat: ReqShiftSat,
    mul: ReqMul,
    rterm: ReqRoundTerm,
    round: ReqRound,
    shr: ReqShift,
    sat: ReqSat,
    place: Place,
    // Stage 0: the inputs, registered from the first rows of the core's drain ring.
    dv0: DFF<Bit>,
    cj0: DFF<Bits<11>>,
    ob0: DFF<Bits<16>>,
    acc0: DFF<Bits<32>>,
    bias0: DFF<Bits<32>>,
    m0: DFF<Bits<16>>,
    sh0: DFF<Bits<6>>,
    rl0: DFF<Bit>,
    x1: DFF<Bits<32>>,
    m1: DFF<Bits<16>>,
    /// The rounding term of `sh3`, registered with `sh4` (not for `lean`: few flip-flops).
    rt4: DFF<Bits<49>>,
    r5: DFF<Bits<49>>,
    y6: DFF<Bits<49>>,
    b7: DFF<Bits<8>>,
    // Tags per stage: shift, valid, ReLU, byte lane, word address.
    sh1: DFF<Bits<6>>,
    sh2: DFF<Bits<6>>,
    sh3: DFF<Bits<6>>,
    sh4: DFF<Bits<6>>,
    sh5: DFF<Bits<6>>,
    v1: DFF<Bit>,
    v2: DFF<Bit>,
    v3: DFF<Bit>,
    v4: DFF<Bit>,
    v5: DFF<Bit>,
    v6: DFF<Bit>,
    v7: DFF<Bit>,
    rl1: DFF<Bit>,
    rl2: DFF<Bit>,
    rl3: DFF<Bit>,
    rl4: DFF<Bit>,
    rl5: DFF<Bit>,
    rl6: DFF<Bit>,
    l1: DFF<Bits<3>>,
    l2: DFF<Bits<3>>,
    l3: DFF<Bits<3>>,
    l4: DFF<Bits<3>>,
    l5: DFF<Bits<3>>,
    l6: DFF<Bits<3>>,
    l7: DFF<Bits<3>>,
    a1: DFF<Bits<16>>,
    a2: DFF<Bits<16>>,
    a3: DFF<Bits<16>>,
    a4: DFF<Bits<16>>,
    a5: DFF<Bits<16>>,
    a6: DFF<Bits<16>>,
    a7: DFF<Bits<16>>,
}

impl Requant {
    /// `sites`: where the ECP5 build places the multiplier's two MULT18X18D (`floorplan`).
    pub fn new(unit: usize, lean: bool, sites: Option<[String; 2]>) -> Self {
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
            lean: Constant::new(lean),
            dv_s: Default::default(),
            ob_s: Default::default(),
            acc_s: Default::default(),
            bias_s: Default::default(),
            m_s: Default::default(),
            sh_s: Default::default(),
            rl_s: Default::default(),
            shsat: Default::default(),
            ch: Default::default(),
            mul: ReqMul::placed(sites),
            rterm: Default::default(),
            round: Default::default(),
            shr: Default::default(),
            sat: Default::default(),
            place: Default::default(),
            dv0: Default::default(),
            cj0: Default::default(),
            ob0: Default::default(),
            acc0: Default::default(),
            bias0: Default::default(),
            m0: Default::default(),
            sh0: Default::default(),
            rl0: Default::default(),
            x1: Default::default(),
            m1: Default::default(),
            rt4: Default::default(),
            r5: Default::default(),
            y6: Default::default(),
            b7: Default::default(),
            sh1: Default::default(),
            sh2: Default::default(),
            sh3: Default::default(),
            sh4: Default::default(),
            sh5: Default::default(),
            v1: Default::default(),
            v2: Default::default(),
            v3: Default::default(),
            v4: Default::default(),
            v5: Default::default(),
            v6: Default::default(),
            v7: Default::default(),
            rl1: Default::default(),
            rl2: Default::default(),
            rl3: Default::default(),
            rl4: Default::default(),
            rl5: Default::default(),
            rl6: Default::default(),
            l1: Default::default(),
            l2: Default::default(),
            l3: Default::default(),
            l4: Default::default(),
            l5: Default::default(),
            l6: Default::default(),
            l7: Default::default(),
            a1: Default::default(),
            a2: Default::default(),
            a3: Default::default(),
            a4: Default::default(),
            a5: Default::default(),
            a6: Default::default(),
            a7: Default::default(),
        }
    }
}

impl Logic for Requant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, dv0, cj0, ob0, acc0, bias0, m0, sh0, rl0, x1, m1, rt4, r5, y6, b7, sh1,
            sh2, sh3, sh4, sh5, v1, v2, v3, v4, v5, v6, v7, rl1, rl2, rl3, rl4, rl5, rl6, l1, l2,
            l3, l4, l5, l6, l7, a1, a2, a3, a4, a5, a6, a7
        );
        // Stage 0: inputs registered.
        self.dv0.d.next = self.dv.val();
        self.cj0.d.next = self.cj.val();
        self.ob0.d.next = self.obase.val();
        self.acc0.d.next = self.acc.val();
        self.bias0.d.next = self.bias.val();
        self.m0.d.next = self.m.val();
        self.sh0.d.next = self.shift.val();
        self.rl0.d.next = self.relu.val();
        self.ch.next = self.cj0.q.val() + self.unit.val();
        self.dv_s.next = self.dv0.q.val();
        self.ob_s.next = self.ob0.q.val();
        self.acc_s.next = self.acc0.q.val();
        self.bias_s.next = self.bias0.q.val();
        self.m_s.next = self.m0.q.val();
        self.sh_s.next = self.sh0.q.val();
        self.rl_s.next = self.rl0.q.val();
        if self.lean.val() {
            self.ch.next = self.cj.val() + self.unit.val();
            self.dv_s.next = self.dv.val();
            self.ob_s.next = self.obase.val();
            self.acc_s.next = self.acc.val();
            self.bias_s.next = 0.into();
            self.m_s.next = self.m.val();
            self.sh_s.next = self.shift.val();
            self.rl_s.next = self.relu.val();
        }
        // Stage 1: bias add (wrapping, as the accumulator starting from the bias).
        self.x1.d.next = self.acc_s.val() + self.bias_s.val();
        self.m1.d.next = self.m_s.val();
        self.sh1.d.next = self.sh_s.val();
        self.v1.d.next = self.dv_s.val() & (self.ch.val() < self.lim.val());
        self.rl1.d.next = self.rl_s.val();
        self.l1.d.next = self.ch.val().get_bits::<3>(0);
        self.a1.d.next = self.ob_s.val() + bit_cast::<16, 8>(self.ch.val().get_bits::<8>(3));
        // Stages 2-4: multiply (DSP input registers, DSP output registers, partial sum).
        self.mul.clock.next = self.clock.val();
        self.mul.x.next = self.x1.q.val();
        self.mul.m.next = self.m1.q.val();
        self.sh2.d.next = self.sh1.q.val();
        self.sh3.d.next = self.sh2.q.val();
        self.sh4.d.next = self.sh3.q.val();
        self.v2.d.next = self.v1.q.val();
        self.v3.d.next = self.v2.q.val();
        self.v4.d.next = self.v3.q.val();
        self.rl2.d.next = self.rl1.q.val();
        self.rl3.d.next = self.rl2.q.val();
        self.rl4.d.next = self.rl3.q.val();
        self.l2.d.next = self.l1.q.val();
        self.l3.d.next = self.l2.q.val();
        self.l4.d.next = self.l3.q.val();
        self.a2.d.next = self.a1.q.val();
        self.a3.d.next = self.a2.q.val();
        self.a4.d.next = self.a3.q.val();
        self.rterm.sh.next = self.sh3.q.val();
        self.rt4.d.next = self.rterm.t.val();
        // Stage 5: rounding term added.
        self.round.p.next = self.mul.p.val();
        self.round.t.next = self.rt4.q.val();
        if self.lean.val() {
            self.rterm.sh.next = self.sh4.q.val();
            self.round.t.next = self.rterm.t.val();
        }
        self.r5.d.next = self.round.r.val();
        self.sh5.d.next = self.sh4.q.val();
        self.v5.d.next = self.v4.q.val();
        self.rl5.d.next = self.rl4.q.val();
        self.l5.d.next = self.l4.q.val();
        self.a5.d.next = self.a4.q.val();
        // Stage 6: shift.
        self.shr.r.next = self.r5.q.val();
        self.shr.sh.next = self.sh5.q.val();
        self.y6.d.next = self.shr.y.val();
        self.v6.d.next = self.v5.q.val();
        self.rl6.d.next = self.rl5.q.val();
        self.l6.d.next = self.l5.q.val();
        self.a6.d.next = self.a5.q.val();
        // Stage 7: saturate.
        self.sat.y.next = self.y6.q.val();
        self.sat.relu.next = self.rl6.q.val();
        self.b7.d.next = self.sat.b.val();
        self.v7.d.next = self.v6.q.val();
        self.l7.d.next = self.l6.q.val();
        self.a7.d.next = self.a6.q.val();
        // Lean: stage 6 shifts and saturates the rounded value at once.
        self.shsat.r.next = self.r5.q.val();
        self.shsat.sh.next = self.sh5.q.val();
        self.shsat.relu.next = self.rl5.q.val();
        if self.lean.val() {
            self.b7.d.next = self.shsat.b.val();
            self.v7.d.next = self.v5.q.val();
            self.l7.d.next = self.l5.q.val();
            self.a7.d.next = self.a5.q.val();
        }
        // Output: byte placed in its lane, chained.
        self.place.b.next = self.b7.q.val();
        self.place.pos.next = self.l7.q.val();
        self.place.v.next = self.v7.q.val();
        self.place.wd_in.next = self.wd_in.val();
        self.place.be_in.next = self.be_in.val();
        self.wd_out.next = self.place.wd_out.val();
        self.be_out.next = self.place.be_out.val();
        self.addr_out.next = self.a7.q.val();
    }
}
