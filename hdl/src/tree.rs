//! Adder-tree and accumulator leaves of a MAC row (combinational; the row registers
//! every level). Widths never overflow: 8 products of at most 17 bits sum in 20 bits.

use crate::mul8::{PW, sext, trunc};
use rust_hdl::prelude::*;

/// Level 1: 8 products (17 bits) -> 4 pair sums (18 bits).
#[derive(LogicBlock, Default)]
pub struct AddPairs {
    pub p: Signal<In, Bits<136>>,
    pub q: Signal<Out, Bits<72>>,
}

impl Logic for AddPairs {
    fn update(&mut self) {
        let p = self.p.val();
        let mut q = Bits::<72>::default();
        for i in 0..4 {
            let a = sext(p.get_bits::<PW>(PW * 2 * i).to_u64(), PW as u32);
            let b = sext(p.get_bits::<PW>(PW * (2 * i + 1)).to_u64(), PW as u32);
            q.set_bits::<18>(18 * i, trunc(a + b, 18).into());
        }
        self.q.next = q;
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from("always @(*) begin\n");
        for i in 0..4 {
            let a = PW * 2 * i;
            let b = PW * (2 * i + 1);
            v += &format!(
                "   q[{qh}:{ql}] = $signed(p[{ah}:{a}]) + $signed(p[{bh}:{b}]);\n",
                qh = 18 * i + 17,
                ql = 18 * i,
                ah = a + PW - 1,
                bh = b + PW - 1
            );
        }
        v += "end";
        Verilog::Custom(v)
    }
}

/// Levels 2-3: 4 pair sums (18 bits) -> one 20-bit sum.
#[derive(LogicBlock, Default)]
pub struct Sum4 {
    pub q: Signal<In, Bits<72>>,
    pub s: Signal<Out, Bits<20>>,
}

impl Logic for Sum4 {
    fn update(&mut self) {
        let q = self.q.val();
        let s: i64 = (0..4)
            .map(|i| sext(q.get_bits::<18>(18 * i).to_u64(), 18))
            .sum();
        self.s.next = trunc(s, 20).into();
    }
    fn connect(&mut self) {
        self.s.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "always @(*) s = ($signed(q[17:0]) + $signed(q[35:18])) + ($signed(q[53:36]) + $signed(q[71:54]));"
                .into(),
        )
    }
}

/// Accumulator update: `(clr ? 0 : acc) + sext(s)`, wrapping at 32 bits like `arith::mac`.
#[derive(LogicBlock, Default)]
pub struct Acc32 {
    pub acc: Signal<In, Bits<32>>,
    pub s: Signal<In, Bits<20>>,
    pub clr: Signal<In, Bit>,
    pub y: Signal<Out, Bits<32>>,
}

impl Logic for Acc32 {
    fn update(&mut self) {
        let base = if self.clr.val() {
            0
        } else {
            self.acc.val().to_u32() as i32
        };
        let s = sext(self.s.val().to_u64(), 20) as i32;
        self.y.next = (base.wrapping_add(s) as u32 as u64).into();
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(*) y = (clr ? 32'd0 : acc) + {{12{s[19]}}, s};".into())
    }
}
