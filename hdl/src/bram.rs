//! Block RAM leaves: one read port, one write port, registered read, exact depth.
//!
//! rust-hdl's `RAM` widget is always `2^N` deep; the buffers here are sized from the
//! `DeviceConfig` (e.g. 12 K words), so these leaves declare exactly `depth` words.
//! Out-of-range reads return 0 and out-of-range writes are dropped, as in `common::device`.

use rust_hdl::prelude::*;

/// Address bits needed for `depth` words (at least 1).
pub fn addr_bits(depth: usize) -> usize {
    (usize::BITS - (depth.max(2) - 1).leading_zeros()) as usize
}

/// A `depth` x `W` simple dual-port RAM with a 16-bit address.
#[derive(LogicBlock)]
pub struct Bram<const W: usize> {
    pub clock: Signal<In, Clock>,
    pub raddr: Signal<In, Bits<16>>,
    pub rdata: Signal<Out, Bits<W>>,
    pub waddr: Signal<In, Bits<16>>,
    pub wdata: Signal<In, Bits<W>>,
    pub we: Signal<In, Bit>,
    _depth: usize,
    _mem: Vec<Bits<W>>,
}

impl<const W: usize> Bram<W> {
    pub fn new(depth: usize) -> Self {
        assert!((1..=1 << 16).contains(&depth), "depth {depth} out of range");
        Bram {
            clock: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            we: Default::default(),
            _depth: depth,
            _mem: vec![Bits::<W>::default(); depth],
        }
    }
}

impl<const W: usize> Logic for Bram<W> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let r = self.raddr.val().index();
            self.rdata.next = self._mem.get(r).copied().unwrap_or_default();
            let a = self.waddr.val().index();
            if self.we.val() && a < self._depth {
                self._mem[a] = self.wdata.val();
            }
        }
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        let (d, aw) = (self._depth, addr_bits(self._depth));
        Verilog::Custom(format!(
            "reg [{w1}:0] mem[0:{d1}];
reg [{w1}:0] q;
reg inr;
always @(posedge clock) begin
   q <= mem[raddr[{a1}:0]];
   inr <= (raddr < 16'd{d});
   if (we && (waddr < 16'd{d})) mem[waddr[{a1}:0]] <= wdata;
end
always @(*) rdata = inr ? q : {W}'d0;",
            w1 = W - 1,
            d1 = d - 1,
            a1 = aw - 1,
        ))
    }
}

/// An activation buffer: `depth` words of 8 byte lanes, each lane its own RAM with its own
/// write enable, so the output stage can write single bytes (channel groups smaller than a word).
#[derive(LogicBlock)]
pub struct ActBuf {
    pub clock: Signal<In, Clock>,
    pub raddr: Signal<In, Bits<16>>,
    pub rdata: Signal<Out, Bits<64>>,
    pub waddr: Signal<In, Bits<16>>,
    pub wdata: Signal<In, Bits<64>>,
    pub wbe: Signal<In, Bits<8>>,
    _depth: usize,
    _mem: Vec<u64>,
}

impl ActBuf {
    pub fn new(depth: usize) -> Self {
        assert!((1..=1 << 16).contains(&depth), "depth {depth} out of range");
        ActBuf {
            clock: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            wbe: Default::default(),
            _depth: depth,
            _mem: vec![0; depth],
        }
    }
}

impl Logic for ActBuf {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let r = self.raddr.val().index();
            self.rdata.next = self._mem.get(r).copied().unwrap_or(0).into();
            let a = self.waddr.val().index();
            if a < self._depth {
                let be = self.wbe.val().to_u64();
                let mut mask = 0u64;
                for l in 0..8 {
                    if be >> l & 1 == 1 {
                        mask |= 0xff << (8 * l);
                    }
                }
                let w = self.wdata.val().to_u64();
                self._mem[a] = (self._mem[a] & !mask) | (w & mask);
            }
        }
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        let (d, aw) = (self._depth, addr_bits(self._depth));
        let mut v = String::new();
        for l in 0..8 {
            v += &format!(
                "reg [7:0] mem{l}[0:{d1}];
reg [7:0] q{l};
always @(posedge clock) begin
   q{l} <= mem{l}[raddr[{a1}:0]];
   if (wbe[{l}] && (waddr < 16'd{d})) mem{l}[waddr[{a1}:0]] <= wdata[{hi}:{lo}];
end
",
                d1 = d - 1,
                a1 = aw - 1,
                hi = 8 * l + 7,
                lo = 8 * l
            );
        }
        v += &format!(
            "reg inr;
always @(posedge clock) inr <= (raddr < 16'd{d});
always @(*) rdata = inr ? {{q7, q6, q5, q4, q3, q2, q1, q0}} : 64'd0;"
        );
        Verilog::Custom(v)
    }
}
