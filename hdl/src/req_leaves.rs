//! The requantizer's arithmetic leaves (`Requant` in requant.rs chains them): the 32x16
//! multiply, the rounding term and its addition, the arithmetic shift, the saturation, and
//! the byte's placement in its lane.
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
