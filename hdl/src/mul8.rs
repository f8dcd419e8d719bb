//! The 8-lane multiplier leaf: 8 products of a 9-bit signed activation (the byte, sign-
//! or zero-extended per `common::arith::activation_value`) and an 8-bit signed weight.
//! Combinational; the MAC row registers its inputs and the products around it (DSP timing).

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
    pub a: Signal<In, Bits<64>>,
    pub sgn: Signal<In, Bit>,
    pub w: Signal<In, Bits<64>>,
    pub p: Signal<Out, Bits<136>>,
}

impl Logic for Mul8 {
    fn update(&mut self) {
        let prods = mul8_model(self.a.val().to_u64(), self.sgn.val(), self.w.val().to_u64());
        let mut p = Bits::<136>::default();
        for (l, &x) in prods.iter().enumerate() {
            p.set_bits::<PW>(PW * l, trunc(x as i64, PW as u32).into());
        }
        self.p.next = p;
    }
    fn connect(&mut self) {
        self.p.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from("always @(*) begin\n");
        for l in 0..8 {
            let (h, lo) = (8 * l + 7, 8 * l);
            v += &format!(
                "   p[{ph}:{pl}] = $signed({{sgn & a[{h}], a[{h}:{lo}]}}) * $signed(w[{h}:{lo}]);\n",
                ph = PW * l + PW - 1,
                pl = PW * l
            );
        }
        v += "end";
        Verilog::Custom(v)
    }
}
