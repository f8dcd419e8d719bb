//! The 8-lane multiplier leaf: 8 products of a 9-bit signed activation (the byte, sign-
//! or zero-extended per `common::arith::activation_value`) and an 8-bit signed weight.
//! Registered inputs and registered products: `p` is the product of the `a`, `sgn`, `w`
//! presented 2 clock edges earlier.
//!
//! With the Verilog macro `SQZ_ECP5_DSP` defined (`scripts/build.sh ulx3s` passes it to Yosys)
//! each lane is one instantiated MULT18X18D whose own input registers (REG_INPUTA/B_CLK) and
//! output register (REG_OUTPUT_CLK) are these registers, so nextpnr times the DSP as
//! register-to-register. Yosys does not pack fabric registers into an inferred MULT18X18D.
//! Without the macro (Verilator, generic Yosys, iCE40) the same two register stages are
//! behavioural. The operands are placed at the top of the DSP's 18-bit signed inputs (see `hdl`),
//! and the 17 product bits are read from P[35:19].
//!
//! With `SQZ_ICE40_DSP` (`scripts/build.sh icebreaker`) the 8 lanes share 4 instantiated
//! SB_MAC16 (16x16 signed, product register only): lanes 0-3 multiply in the cycle `slot` is
//! high, lanes 4-7 the cycle after, and lanes 0-3's products wait a register for them. `p` is
//! the same as above for the inputs of a `slot` cycle, provided the inputs hold for the next
//! cycle and it is not a `slot` one: true in the shared A/B/S build, whose feeder issues every
//! other cycle (`DeviceConfig::lean`) and whose MAC rows load their operand
//! registers only on an issue. The UP5K has 8 DSPs, and the requantizer needs 2 of them.
//!
//! `ActCopy` is a per-row copy of the broadcast activation word (and the sign mode) marked
//! `(* keep *)`, so Yosys' `opt_merge` keeps one register per row next to that row's DSPs
//! instead of one register driving every row across the chip.

use rust_hdl::prelude::*;

/// Bits per product: 9-bit x 8-bit signed fits in 17 bits.
pub const PW: usize = 17;

/// Sign-extend the low `bits` of `v`.
pub fn sext(v: u64, bits: u32) -> i64 {
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

/// Low `bits` of a two's complement value.
pub fn trunc(v: i64, bits: u32) -> u64 {
    if bits == 64 {
        v as u64
    } else {
        (v as u64) & ((1u64 << bits) - 1)
    }
}

/// The products, lane `l` at bits `[17l, 17l+17)`.
pub fn mul8_model(a: u64, signed: bool, w: u64) -> [i32; 8] {
    std::array::from_fn(|l| {
        let act = common::arith::activation_value((a >> (8 * l)) as u8, signed);
        act * ((w >> (8 * l)) as u8 as i8 as i32)
    })
}

#[derive(LogicBlock, Default)]
pub struct Mul8 {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<64>>,
    pub sgn: Signal<In, Bit>,
    pub w: Signal<In, Bits<64>>,
    /// The inputs hold an issue (used by the iCE40 build only, see above).
    pub slot: Signal<In, Bit>,
    pub p: Signal<Out, Bits<136>>,
    _p1: Bits<136>,
    /// ECP5 sites of the 8 lanes' MULT18X18D (`floorplan`), or none.
    _sites: Vec<String>,
}

impl Mul8 {
    /// The ECP5 build places lane `l`'s MULT18X18D at `sites[l]` (`floorplan::ecp5_85f`).
    pub fn placed(sites: Option<[String; 8]>) -> Self {
        Mul8 {
            _sites: sites.map(Vec::from).unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// The SB_MAC16 ports every instance ties off the same way (no accumulator, no holds, no resets).
pub const SB_MAC16_TIES: &str = ".C(16'd0), .D(16'd0), .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), \
.DHOLD(1'b0), .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0), .OLOADTOP(1'b0), \
.OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), \
.ACCUMCI(1'b0), .SIGNEXTIN(1'b0), .CO(), .ACCUMCO(), .SIGNEXTOUT()";

/// An SB_MAC16 as one registered 16x16 multiplier: `O` is the product of `A`, `B` at the
/// previous clock edge, or of `A`, `B` two edges earlier with `in_reg`.
pub fn sb_mac16(
    name: &str,
    in_reg: bool,
    a_signed: bool,
    b_signed: bool,
    a: &str,
    b: &str,
    o: &str,
) -> String {
    let (r, sa, sb) = (in_reg as u8, a_signed as u8, b_signed as u8);
    format!(
        "SB_MAC16 #(.A_REG(1'b{r}), .B_REG(1'b{r}), .PIPELINE_16x16_MULT_REG2(1'b1), .TOPOUTPUT_SELECT(2'b11),
   .BOTOUTPUT_SELECT(2'b11), .MODE_8x8(1'b0), .A_SIGNED(1'b{sa}), .B_SIGNED(1'b{sb}))
   {name} (.CLK(clock), .CE(1'b1), .A({a}), .B({b}), .O({o}), {SB_MAC16_TIES});
"
    )
}

impl Logic for Mul8 {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let prods = mul8_model(self.a.val().to_u64(), self.sgn.val(), self.w.val().to_u64());
            let mut p = Bits::<136>::default();
            for (l, &x) in prods.iter().enumerate() {
                p.set_bits::<PW>(PW * l, trunc(x as i64, PW as u32).into());
            }
            self.p.next = self._p1;
            self._p1 = p;
        }
    }
    fn connect(&mut self) {
        self.p.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from("`ifdef SQZ_ECP5_DSP\nwire [135:0] pw;\n");
        for l in 0..8 {
            let (h, lo) = (8 * l + 7, 8 * l);
            // The operands sit at the top of A and B (A = act * 2^9, B = w * 2^10, so
            // P = act * w * 2^19): no sign-extension copies, and nextpnr ties the constant
            // low bits inside the DSP's routing block, so 17 input pins per DSP are routed
            // instead of 36 (the DSP rows are where the ULX3S routing congests).
            let mut pins = String::new();
            for b in 0..18 {
                let ab = match b {
                    0..=8 => "1'b0".to_string(),
                    9..=16 => format!("a[{}]", lo + b - 9),
                    _ => format!("sa{l}"),
                };
                let wb = match b {
                    0..=9 => "1'b0".to_string(),
                    _ => format!("w[{}]", lo + b - 10),
                };
                pins += &format!(".A{b}({ab}), .B{b}({wb}), .C{b}(1'b0), ");
            }
            for b in 0..36 {
                pins += &format!(".P{b}(pf{l}[{b}]), ");
            }
            v += &format!(
                "wire [35:0] pf{l};
assign pw[{p1}:{p0}] = pf{l}[35:19];
wire sa{l} = sgn & a[{h}];
{bel}MULT18X18D #(.REG_INPUTA_CLK(\"CLK0\"), .REG_INPUTB_CLK(\"CLK0\"), .REG_OUTPUT_CLK(\"CLK0\"), .GSR(\"DISABLED\"))
   dsp{l} ({pins}.SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
   .CLK0(clock), .CE0(1'b1), .RST0(1'b0));
",
                p1 = PW * l + PW - 1,
                p0 = PW * l,
                bel = crate::floorplan::bel_attr(self._sites.get(l).map(String::as_str)),
            );
        }
        // One register per lane and stage: Yosys 0.23 (ice40_dsp) kept only the last lane of a
        // product register written slice by slice, and left the other products undriven.
        v += "always @(*) p = pw;\n`elsif SQZ_ICE40_DSP\n";
        // Per held lane: the 9-bit activation above the 8-bit weight.
        v += "wire [127:0] o;\nreg [67:0] plo;\nalways @(posedge clock) begin\n";
        for l in 0..4 {
            v += &format!(
                "   plo[{}:{}] <= o[{}:{}];\n",
                17 * l + 16,
                17 * l,
                32 * l + 16,
                32 * l
            );
        }
        v += "end\n";
        for l in 0..4 {
            let (h, lo) = (8 * l + 7, 8 * l);
            let (h4, lo4) = (h + 32, lo + 32);
            v += &format!(
                "wire [8:0] am{l} = slot ? {{sgn & a[{h}], a[{h}:{lo}]}} : {{sgn & a[{h4}], a[{h4}:{lo4}]}};
wire [7:0] wm{l} = slot ? w[{h}:{lo}] : w[{h4}:{lo4}];
"
            );
            v += &sb_mac16(
                &format!("mac{l}"),
                false,
                true,
                true,
                &format!("{{{{7{{am{l}[8]}}}}, am{l}}}"),
                &format!("{{{{8{{wm{l}[7]}}}}, wm{l}}}"),
                &format!("o[{}:{}]", 32 * l + 31, 32 * l),
            );
        }
        v += "always @(*) p = {o[112:96], o[80:64], o[48:32], o[16:0], plo};\n`else\n";
        for l in 0..8 {
            v += &format!(
                "reg [8:0] ar{l};\nreg [7:0] wr{l};\nreg [{}:0] pr{l};\n",
                PW - 1
            );
        }
        v += "always @(posedge clock) begin\n";
        for l in 0..8 {
            let (h, lo) = (8 * l + 7, 8 * l);
            v += &format!(
                "   ar{l} <= {{sgn & a[{h}], a[{h}:{lo}]}};\n   wr{l} <= w[{h}:{lo}];\n   pr{l} <= $signed(ar{l}) * $signed(wr{l});\n"
            );
        }
        let lanes: Vec<String> = (0..8).rev().map(|l| format!("pr{l}")).collect();
        v += &format!("end\nalways @(*) p = {{{}}};\n`endif", lanes.join(", "));
        Verilog::Custom(v)
    }
}

/// A register copy of the activation word and sign mode for one MAC row, kept apart from the
/// other rows' copies by `(* keep *)`; or (`ActCopy::wire`, the 24 MHz iCE40 build) no
/// register at all.
#[derive(LogicBlock, Default)]
pub struct ActCopy {
    pub clock: Signal<In, Clock>,
    pub d: Signal<In, Bits<64>>,
    pub ds: Signal<In, Bit>,
    pub q: Signal<Out, Bits<64>>,
    pub qs: Signal<Out, Bit>,
    _wire: bool,
}

impl ActCopy {
    /// `q = d`, `qs = ds`, no register.
    pub fn wire() -> Self {
        ActCopy {
            _wire: true,
            ..Default::default()
        }
    }
}

impl Logic for ActCopy {
    fn update(&mut self) {
        // A wire follows its input at once, a register at the clock edge.
        if self._wire || self.clock.pos_edge() {
            self.q.next = self.d.val();
            self.qs.next = self.ds.val();
        }
    }
    fn connect(&mut self) {
        self.q.connect();
        self.qs.connect();
    }
    fn hdl(&self) -> Verilog {
        if self._wire {
            return Verilog::Custom("always @(*) begin\n   q = d;\n   qs = ds;\nend".into());
        }
        Verilog::Custom(
            "(* keep *) always @(posedge clock) begin
   q <= d;
   qs <= ds;
end"
            .into(),
        )
    }
}

/// A register copy of a row's MAC flags (valid, first, last) and of the average-pool mode,
/// marked `(* keep *)`, like `ActCopy`: each row's accumulator enables and weight-register
/// controls then fan out from registers of its own instead of one net reaching the same
/// flip-flops of all 16 rows across the chip. `FlagCopy::wire`
/// (the 24 MHz iCE40 build): no register.
#[derive(LogicBlock, Default)]
pub struct FlagCopy {
    pub clock: Signal<In, Clock>,
    pub v: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub last: Signal<In, Bit>,
    pub avg: Signal<In, Bit>,
    pub qv: Signal<Out, Bit>,
    pub qfirst: Signal<Out, Bit>,
    pub qlast: Signal<Out, Bit>,
    pub qavg: Signal<Out, Bit>,
    _wire: bool,
}

impl FlagCopy {
    /// Outputs follow the inputs, no register.
    pub fn wire() -> Self {
        FlagCopy {
            _wire: true,
            ..Default::default()
        }
    }
}

impl Logic for FlagCopy {
    fn update(&mut self) {
        if self._wire || self.clock.pos_edge() {
            self.qv.next = self.v.val();
            self.qfirst.next = self.first.val();
            self.qlast.next = self.last.val();
            self.qavg.next = self.avg.val();
        }
    }
    fn connect(&mut self) {
        self.qv.connect();
        self.qfirst.connect();
        self.qlast.connect();
        self.qavg.connect();
    }
    fn hdl(&self) -> Verilog {
        let (kw, op) = if self._wire {
            ("always @(*)", "=")
        } else {
            ("(* keep *) always @(posedge clock)", "<=")
        };
        Verilog::Custom(format!(
            "{kw} begin\n   qv {op} v;\n   qfirst {op} first;\n   qlast {op} last;\n   qavg {op} avg;\nend"
        ))
    }
}
