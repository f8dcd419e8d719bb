//! `SharedAb`: the activation buffers A, B and S in one single-port memory (the iCE40 UP5K's
//! four SB_SPRAM256KA side by side = 16K x 64 bit, nibble write masks used as byte enables).
//! A is words `[0, act)`, B is `[act, 2·act)`, S is `[2·act, 2·act + sq)`.
//!
//! One port: each cycle it either reads (`raddr` in buffer `rsel`: 0 A, 1 B, 2 S, as
//! `common::job::Buf`) or writes (`waddr` in buffer `wsel`, byte enables `wbe`). A write wins
//! the port. A cycle that asks for both (`re` and a nonzero `wbe`) is a **collision**: the read
//! would return a wrong word, so the leaf raises the sticky `collide` flag (cleared by
//! `reset`). The engine never causes one: its feeder issues reads on one clock parity and every
//! write lands on the other (docs/architecture.md, "Single-port A/B/S"). The bus never reads
//! and writes at once.
//!
//! Timing: the address, data and enables are registered (t1), and the SPRAM reads or writes at
//! the next edge (its own registered read: DATAOUT valid at t2). Read latency 2, one less than
//! `ActBuf`'s: the iCE40 build runs at 24 MHz and is short of flip-flops, so no register
//! follows the SPRAM. A write lands one edge after it is presented, so a read presented the
//! cycle after a write returns the new word. Out-of-range
//! reads return 0 and out-of-range writes are dropped, as in `common::device`.
//!
//! With the Verilog macro `SQZ_ICE40_SPRAM` (`scripts/build.sh icebreaker`) the memory is four
//! instantiated SB_SPRAM256KA; otherwise (Verilator, generic Yosys) a behavioural model with
//! the same timing. During a write the SPRAM's DATAOUT is undefined (Yosys' `cells_sim.v`); the
//! model gives 0 there. No read is ever taken from such a cycle.

use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct SharedAb {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub raddr: Signal<In, Bits<16>>,
    /// The buffer read: 0 A, 1 B, 2 S (3: none, reads 0).
    pub rsel: Signal<In, Bits<2>>,
    /// A read is wanted this cycle (only for the collision check: the port reads whenever it
    /// does not write).
    pub re: Signal<In, Bit>,
    pub rdata: Signal<Out, Bits<64>>,
    pub waddr: Signal<In, Bits<16>>,
    /// The buffer written (as `rsel`; 3 drops the write).
    pub wsel: Signal<In, Bits<2>>,
    pub wdata: Signal<In, Bits<64>>,
    pub wbe: Signal<In, Bits<8>>,
    /// Sticky: some cycle asked for a read and a write at once.
    pub collide: Signal<Out, Bit>,
    /// Words of A (and of B), words of S; 0: no memory.
    _depth: usize,
    _sq: usize,
    // Model: the registered port (address, write data, byte mask, write, in range), the
    // SPRAM's output word, the sticky flag.
    _ad: usize,
    _wd: u64,
    _mask: u64,
    _wen: bool,
    _inr: [bool; 2],
    _q: u64,
    _col: bool,
    _mem: Vec<u64>,
}

/// Words of one SB_SPRAM256KA (16 bit each); four side by side hold A and B.
pub const SPRAM_WORDS: usize = 16 * 1024;

impl SharedAb {
    /// A and B of `depth` words each and S of `sq` words; `2·depth + sq <= 16K`.
    pub fn new(depth: usize, sq: usize) -> Self {
        assert!(
            depth >= 1 && sq >= 1 && 2 * depth + sq <= SPRAM_WORDS,
            "A/B {depth} and S {sq} words: 2 x A/B + S must be at most {SPRAM_WORDS}"
        );
        SharedAb {
            clock: Default::default(),
            reset: Default::default(),
            raddr: Default::default(),
            rsel: Default::default(),
            re: Default::default(),
            rdata: Default::default(),
            waddr: Default::default(),
            wsel: Default::default(),
            wdata: Default::default(),
            wbe: Default::default(),
            collide: Default::default(),
            _depth: depth,
            _sq: sq,
            _ad: 0,
            _wd: 0,
            _mask: 0,
            _wen: false,
            _inr: [false; 2],
            _q: 0,
            _col: false,
            _mem: vec![0; SPRAM_WORDS],
        }
    }
}

impl SharedAb {
    /// No memory (configurations with A and B in `ActBuf`s): reads 0, never collides.
    pub fn absent() -> Self {
        SharedAb {
            _depth: 0,
            _mem: Vec::new(),
            ..SharedAb::new(1, 1)
        }
    }
}

impl SharedAb {
    /// Base word and size of buffer `sel` (0 A, 1 B, 2 S; 3 none).
    fn region(&self, sel: usize) -> (usize, usize) {
        match sel {
            0 => (0, self._depth),
            1 => (self._depth, self._depth),
            2 => (2 * self._depth, self._sq),
            _ => (0, 0),
        }
    }
}

impl Logic for SharedAb {
    fn update(&mut self) {
        if self._depth == 0 {
            return;
        }
        if self.clock.pos_edge() {
            // t2: the SPRAM writes or reads; the word read is gated by the read's range check.
            self._inr[1] = self._inr[0];
            if self._wen {
                let m = self._mem[self._ad];
                self._mem[self._ad] = (m & !self._mask) | (self._wd & self._mask);
                self._q = 0;
            } else {
                self._q = self._mem[self._ad];
            }
            self.rdata.next = (if self._inr[1] { self._q } else { 0 }).into();
            // t1: the port's input registers.
            let (ra, wa) = (self.raddr.val().index(), self.waddr.val().index());
            let (rbase, rlim) = self.region(self.rsel.val().index());
            let (wbase, wlim) = self.region(self.wsel.val().index());
            let wbe = self.wbe.val().to_u64();
            let ben = if wa < wlim { wbe } else { 0 };
            let mut mask = 0u64;
            for l in 0..8 {
                if ben >> l & 1 == 1 {
                    mask |= 0xff << (8 * l);
                }
            }
            self._wen = mask != 0;
            self._mask = mask;
            self._wd = self.wdata.val().to_u64();
            // The 14-bit port address wraps (only in-range accesses matter).
            let ad = if wbe != 0 { wbase + wa } else { rbase + ra };
            self._ad = ad % SPRAM_WORDS;
            self._inr[0] = ra < rlim;
            if self.reset.val() {
                self._col = false;
            } else if self.re.val() && wbe != 0 {
                self._col = true;
            }
        }
        self.collide.next = self._col;
    }
    fn connect(&mut self) {
        self.rdata.connect();
        self.collide.connect();
    }
    fn hdl(&self) -> Verilog {
        let (d, sq) = (self._depth, self._sq);
        if d == 0 {
            return Verilog::Custom(
                "always @(*) begin\n   rdata = 64'd0;\n   collide = 1'b0;\nend".into(),
            );
        }
        let sprams = (0..4)
            .map(|i| {
                let (hi, lo) = (16 * i + 15, 16 * i);
                // MASKWREN bit j enables DATAIN[4j+3:4j]: two bits per byte.
                let (b0, b1) = (2 * i, 2 * i + 1);
                format!(
                    "SB_SPRAM256KA sp{i} (.ADDRESS(ad), .DATAIN(wd[{hi}:{lo}]), \
.MASKWREN({{be[{b1}], be[{b1}], be[{b0}], be[{b0}]}}), .WREN(wen), .CHIPSELECT(1'b1), \
.CLOCK(clock), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1), .DATAOUT(q[{hi}:{lo}]));
"
                )
            })
            .collect::<String>();
        let model = "reg [63:0] mem[0:16383];
always @(posedge clock) begin
   if (wen) begin
      if (be[0]) mem[ad][7:0] <= wd[7:0];
      if (be[1]) mem[ad][15:8] <= wd[15:8];
      if (be[2]) mem[ad][23:16] <= wd[23:16];
      if (be[3]) mem[ad][31:24] <= wd[31:24];
      if (be[4]) mem[ad][39:32] <= wd[39:32];
      if (be[5]) mem[ad][47:40] <= wd[47:40];
      if (be[6]) mem[ad][55:48] <= wd[55:48];
      if (be[7]) mem[ad][63:56] <= wd[63:56];
      qm <= 64'd0;
   end else begin
      qm <= mem[ad];
   end
end
always @(*) q = qm;
";
        Verilog::Custom(format!(
            "reg [13:0] ad;
reg [63:0] wd;
reg [7:0] be;
reg wen;
reg inr;
reg inr2;
reg col;
wire wany = |wbe;
reg [15:0] rlim;
reg [15:0] wlim;
reg [13:0] rbase;
reg [13:0] wbase;
always @(*) begin
   case (rsel)
      2'd0: begin rbase = 14'd0; rlim = 16'd{d}; end
      2'd1: begin rbase = 14'd{d}; rlim = 16'd{d}; end
      2'd2: begin rbase = 14'd{s0}; rlim = 16'd{sq}; end
      default: begin rbase = 14'd0; rlim = 16'd0; end
   endcase
   case (wsel)
      2'd0: begin wbase = 14'd0; wlim = 16'd{d}; end
      2'd1: begin wbase = 14'd{d}; wlim = 16'd{d}; end
      2'd2: begin wbase = 14'd{s0}; wlim = 16'd{sq}; end
      default: begin wbase = 14'd0; wlim = 16'd0; end
   endcase
end
wire wok = waddr < wlim;
always @(posedge clock) begin
   ad <= wany ? wbase + waddr[13:0] : rbase + raddr[13:0];
   wd <= wdata;
   be <= wok ? wbe : 8'd0;
   wen <= wany && wok;
   inr <= raddr < rlim;
   inr2 <= inr;
   if (reset) col <= 1'b0;
   else if (re && wany) col <= 1'b1;
end
`ifdef SQZ_ICE40_SPRAM
wire [63:0] q;
{sprams}`else
reg [63:0] qm;
reg [63:0] q;
{model}`endif
always @(*) begin
   rdata = inr2 ? q : 64'd0;
   collide = col;
end",
            s0 = 2 * d,
        ))
    }
}
