//! Block RAM leaves: one read port, one write port, registered read, exact depth.
//!
//! rust-hdl's `RAM` widget is always `2^N` deep; the buffers here are sized from the
//! `DeviceConfig` (e.g. 12 K words), so these leaves declare exactly `depth` words.
//! Out-of-range reads return 0 and out-of-range writes are dropped, as in `common::device`.
//!
//! Timing (ECP5): a DP16KD read without its output register has about 5.8 ns clock-to-out, so
//! the buffers that feed the MAC array (`ActBuf`, `Bram::new_outreg`) register the RAM's read
//! data once more, directly after the RAM and before any logic (range gating, bank or buffer
//! select). Their read latency is 2 cycles; the plain `Bram::new` has 1.

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
    _outreg: bool,
    _q: Bits<W>,
    _mem: Vec<Bits<W>>,
}

impl<const W: usize> Bram<W> {
    /// Read latency 1: `rdata` is valid the cycle after `raddr`.
    pub fn new(depth: usize) -> Self {
        Self::with_latency(depth, false)
    }
    /// Read latency 2: the RAM's read register is followed by a second register, with nothing
    /// in between (the range gating comes after it).
    pub fn new_outreg(depth: usize) -> Self {
        Self::with_latency(depth, true)
    }
    fn with_latency(depth: usize, outreg: bool) -> Self {
        assert!((1..=1 << 16).contains(&depth), "depth {depth} out of range");
        Bram {
            clock: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            we: Default::default(),
            _depth: depth,
            _outreg: outreg,
            _q: Default::default(),
            _mem: vec![Bits::<W>::default(); depth],
        }
    }
}

impl<const W: usize> Logic for Bram<W> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let r = self.raddr.val().index();
            let word = self._mem.get(r).copied().unwrap_or_default();
            if self._outreg {
                self.rdata.next = self._q;
                self._q = word;
            } else {
                self.rdata.next = word;
            }
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
        if self._outreg {
            return Verilog::Custom(format!(
                "reg [{w1}:0] mem[0:{d1}];
reg [{w1}:0] q;
reg [{w1}:0] q2;
reg inr;
reg inr2;
always @(posedge clock) begin
   q <= mem[raddr[{a1}:0]];
   q2 <= q;
   inr <= (raddr < 16'd{d});
   inr2 <= inr;
   if (we && (waddr < 16'd{d})) mem[waddr[{a1}:0]] <= wdata;
end
always @(*) rdata = inr2 ? q2 : {W}'d0;",
                w1 = W - 1,
                d1 = d - 1,
                a1 = aw - 1,
            ));
        }
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

/// Words per block-RAM bank of an activation buffer lane: one DP16KD in 2K x 9 mode.
pub const BANK_WORDS: usize = 2048;

/// An activation buffer: `depth` words of 8 byte lanes, each lane its own RAM with its own
/// write enable, so the output stage can write single bytes (channel groups smaller than a word).
/// Read latency 2. Each lane is split into `BANK_WORDS` banks; every bank's read data is
/// registered right after the RAM, and only then do the bank select and the range gating follow
/// (a deep RAM inferred as one memory would put the bank mux between the RAM and a register).
#[derive(LogicBlock)]
pub struct ActBuf {
    pub clock: Signal<In, Clock>,
    pub raddr: Signal<In, Bits<16>>,
    pub rdata: Signal<Out, Bits<64>>,
    pub waddr: Signal<In, Bits<16>>,
    pub wdata: Signal<In, Bits<64>>,
    pub wbe: Signal<In, Bits<8>>,
    _depth: usize,
    _q: u64,
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
            _q: 0,
            _mem: vec![0; depth],
        }
    }
}

impl Logic for ActBuf {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let r = self.raddr.val().index();
            self.rdata.next = self._q.into();
            self._q = self._mem.get(r).copied().unwrap_or(0);
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
        let d = self._depth;
        let banks = d.div_ceil(BANK_WORDS);
        // Address bits inside a bank, and the bank number's bits above them.
        let ab = if banks == 1 {
            addr_bits(d)
        } else {
            addr_bits(BANK_WORDS)
        };
        let mut v = String::new();
        for k in 0..banks {
            let bd = (d - k * BANK_WORDS).min(BANK_WORDS);
            let sel = if banks == 1 {
                String::new()
            } else {
                format!(" && (waddr[15:{ab}] == {}'d{k})", 16 - ab)
            };
            for l in 0..8 {
                v += &format!(
                    "reg [7:0] m{l}_{k}[0:{bd1}];
reg [7:0] q{l}_{k};
reg [7:0] r{l}_{k};
always @(posedge clock) begin
   q{l}_{k} <= m{l}_{k}[raddr[{a1}:0]];
   r{l}_{k} <= q{l}_{k};
   if (wbe[{l}] && (waddr < 16'd{d}){sel}) m{l}_{k}[waddr[{a1}:0]] <= wdata[{hi}:{lo}];
end
",
                    bd1 = bd - 1,
                    a1 = ab - 1,
                    hi = 8 * l + 7,
                    lo = 8 * l
                );
            }
        }
        let word = |k: usize| {
            (0..8)
                .rev()
                .map(|l| format!("r{l}_{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        v += &format!(
            "reg inr;
reg inr2;
always @(posedge clock) begin
   inr <= (raddr < 16'd{d});
   inr2 <= inr;
end
"
        );
        if banks == 1 {
            v += &format!("always @(*) rdata = inr2 ? {{{}}} : 64'd0;", word(0));
        } else {
            let bw = 16 - ab;
            v += &format!(
                "reg [{b1}:0] bk;
reg [{b1}:0] bk2;
always @(posedge clock) begin
   bk <= raddr[15:{ab}];
   bk2 <= bk;
end
always @(*) begin
   rdata = 64'd0;
   if (inr2) begin
      case (bk2)
",
                b1 = bw - 1
            );
            for k in 0..banks {
                v += &format!("         {bw}'d{k}: rdata = {{{}}};
", word(k));
            }
            v += "         default: rdata = 64'd0;
      endcase
   end
end";
        }
        Verilog::Custom(v)
    }
}
