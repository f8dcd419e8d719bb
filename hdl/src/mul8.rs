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
//! behavioural. Only the low 17 product bits are used, and those are the same for signed and
//! unsigned 18-bit operands once both are sign-extended.
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
    pub p: Signal<Out, Bits<136>>,
    _p1: Bits<136>,
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
            // A: the 9-bit activation sign-extended to 18 bits; B: the weight, likewise.
            let mut pins = String::new();
            for b in 0..18 {
                let ab = if b < 8 {
                    format!("a[{}]", lo + b)
                } else {
                    format!("sa{l}")
                };
                let wb = if b < 8 { lo + b } else { h };
                pins += &format!(".A{b}({ab}), .B{b}(w[{wb}]), .C{b}(1'b0), ");
            }
            for b in 0..PW {
                pins += &format!(".P{b}(pw[{}]), ", PW * l + b);
            }
            v += &format!(
                "wire sa{l} = sgn & a[{h}];
MULT18X18D #(.REG_INPUTA_CLK(\"CLK0\"), .REG_INPUTB_CLK(\"CLK0\"), .REG_OUTPUT_CLK(\"CLK0\"), .GSR(\"DISABLED\"))
   dsp{l} ({pins}.SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
   .CLK0(clock), .CE0(1'b1), .RST0(1'b0));
"
            );
        }
        // One register per lane and stage: Yosys 0.23 (ice40_dsp) kept only the last lane of a
        // product register written slice by slice, and left the other products undriven.
        v += "always @(*) p = pw;\n`else\n";
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
/// other rows' copies by `(* keep *)`.
#[derive(LogicBlock, Default)]
pub struct ActCopy {
    pub clock: Signal<In, Clock>,
    pub d: Signal<In, Bits<64>>,
    pub ds: Signal<In, Bit>,
    pub q: Signal<Out, Bits<64>>,
    pub qs: Signal<Out, Bit>,
}

impl Logic for ActCopy {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = self.d.val();
            self.qs.next = self.ds.val();
        }
    }
    fn connect(&mut self) {
        self.q.connect();
        self.qs.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "(* keep *) always @(posedge clock) begin
   q <= d;
   qs <= ds;
end"
            .into(),
        )
    }
}
