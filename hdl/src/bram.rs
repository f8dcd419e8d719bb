//! Block RAM leaves: one read port, one write port, registered read, exact depth.
//!
//! rust-hdl's `RAM` widget is always `2^N` deep; the buffers here are sized from the
//! `DeviceConfig` (e.g. 12 K words), so these leaves declare exactly `depth` words.
//! Out-of-range reads return 0 and out-of-range writes are dropped, as in `common::device`.
//!
//! Timing (ECP5): a DP16KD read without its output register has about 5.8 ns clock-to-out, and
//! one address register driving dozens of block RAMs across the chip is a long route. So the
//! buffers that feed the MAC array (`ActBuf`, `Bram::new_pipelined`) are pipelined: (1) the read
//! address and the write address, data and enable are registered per RAM (per bank), marked
//! `(* keep *)` so Yosys does not merge the copies; (2) the RAM's read register; (3) its read
//! data registered once more, directly after the RAM and before any logic (range gating, bank
//! or buffer select). Read latency 3 cycles; a write lands one cycle later than with
//! `Bram::new` (read latency 1, write at the clock edge that samples it). With the Verilog
//! macro `SQZ_ECP5_BRAM` (`scripts/build.sh ulx3s`) stages (2) and (3) are an instantiated
//! DP16KD's address and output registers (`ecp5::dp16kd`, `REGMODE_B = "OUTREG"`): Yosys
//! infers DP16KD without its output register, so the read would cost the 5.8 ns clock-to-out
//! and the placer would have to keep a fabric register next to each of the 183 RAMs.
//!
//! A slow clock (the iCE40 build, 24 MHz) needs none of that, but flip-flops are its scarce
//! resource: `Bram::new_addr_delayed` gets a longer read latency from registers on the
//! narrow read address instead of the wide data, and writes as `Bram::new` does.
//!
//! Every memory is marked `(* no_rw_check *)`: no user of these RAMs ever uses a word read in
//! the cycle it is written (the engine reads its memories while busy and the bus writes them
//! while idle; the link writes its word RAM while receiving and reads it after), so Yosys
//! need not build the bypass (a register per data bit and a mux) that would make such a read
//! return the old word on block RAMs whose collision behaviour is undefined.

use crate::ecp5::{dp16kd, dp16kd_depth};
use rust_hdl::prelude::*;

/// Address bits needed for `depth` words (at least 1).
pub fn addr_bits(depth: usize) -> usize {
    (usize::BITS - (depth.max(2) - 1).leading_zeros()) as usize
}

/// The DP16KD mode a pipelined RAM of `depth` words is built from with `SQZ_ECP5_BRAM` (the
/// deepest word that holds it, so the fewest cells per bit), or `None` if it is deeper than
/// one DP16KD: such RAMs stay inferred.
fn ecp5_mode(depth: usize) -> Option<usize> {
    [18, 9].into_iter().find(|&w| depth <= dp16kd_depth(w))
}

/// How many DP16KDs a pipelined `depth` x `width` RAM instantiates with `SQZ_ECP5_BRAM`.
pub fn ecp5_cells(width: usize, depth: usize) -> Option<usize> {
    ecp5_mode(depth).map(|w| width.div_ceil(w))
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
    _piped: bool,
    /// Out-of-range reads return 0 (else whatever the RAM answers: see `ungated`).
    _gated: bool,
    // Address-delayed model: the read addresses of the last `_ad.len()` edges, newest first.
    _ad: Vec<usize>,
    // Pipelined model: the registered read address, write (address, data, enable), RAM word.
    _ra: usize,
    _w: (usize, Bits<W>, bool),
    _q: Bits<W>,
    _mem: Vec<Bits<W>>,
    /// Initial contents (from address 0), emitted as an `initial` block.
    _init: Vec<Bits<W>>,
    /// ECP5 sites of the DP16KDs (pipelined build, `floorplan`), in data-bit order.
    _sites: Vec<String>,
}

impl<const W: usize> Bram<W> {
    /// Read latency 1: `rdata` is valid the cycle after `raddr`.
    pub fn new(depth: usize) -> Self {
        Self::with_latency(depth, false)
    }
    /// Read latency 3: registered address, the RAM's read register, a second data register
    /// with nothing in between (the range gating comes after it). Writes are registered too.
    pub fn new_pipelined(depth: usize) -> Self {
        Self::with_latency(depth, true)
    }
    /// Read latency `latency`: the read address passes `latency - 1` registers first.
    /// Writes as `new`.
    pub fn new_addr_delayed(depth: usize, latency: usize) -> Self {
        assert!(latency >= 1);
        Bram {
            _ad: vec![usize::MAX; latency - 1],
            ..Self::with_latency(depth, false)
        }
    }
    fn with_latency(depth: usize, piped: bool) -> Self {
        assert!((1..=1 << 16).contains(&depth), "depth {depth} out of range");
        Bram {
            clock: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            we: Default::default(),
            _depth: depth,
            _piped: piped,
            _gated: true,
            _ad: Vec::new(),
            _ra: usize::MAX,
            _w: (usize::MAX, Default::default(), false),
            _q: Default::default(),
            _mem: vec![Bits::<W>::default(); depth],
            _init: Vec::new(),
            _sites: Vec::new(),
        }
    }
    /// The same RAM, its DP16KD `i` (data bits from `i` times its width) placed at
    /// `sites[i]` in the ECP5 build (`floorplan::ecp5_85f`).
    pub fn placed(mut self, sites: Vec<String>) -> Self {
        self._sites = sites;
        self
    }
    /// The same RAM without the out-of-range read gating (a 2:1 select per data bit): for
    /// users whose reads are in range by construction, or which check the range themselves
    /// (the engine's bus reads). An out-of-range read answers some word (the model: the word
    /// at the address's low bits, or 0).
    pub fn ungated(mut self) -> Self {
        self._gated = false;
        self
    }
    /// The same RAM, holding `words` from address 0 after configuration.
    pub fn with_init(mut self, words: &[Bits<W>]) -> Self {
        assert!(words.len() <= self._depth);
        self._mem[..words.len()].copy_from_slice(words);
        self._init = words.to_vec();
        self
    }
    fn read(&self, r: usize) -> Bits<W> {
        let r = if self._gated {
            r
        } else {
            r & ((1 << addr_bits(self._depth)) - 1)
        };
        self._mem.get(r).copied().unwrap_or_default()
    }
    fn init_verilog(&self) -> String {
        if self._init.is_empty() {
            return String::new();
        }
        let mut v = String::from("initial begin\n");
        for (i, w) in self._init.iter().enumerate() {
            v += &format!("   mem[{i}] = {W}'h{:x};\n", w);
        }
        v + "end\n"
    }
}

impl<const W: usize> Logic for Bram<W> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let r = self.raddr.val().index();
            let a = self.waddr.val().index();
            if self._piped {
                self.rdata.next = self._q;
                self._q = self.read(self._ra);
                let (wa, wd, we) = self._w;
                if we && wa < self._depth {
                    self._mem[wa] = wd;
                }
                self._ra = r;
                self._w = (a, self.wdata.val(), self.we.val());
            } else {
                // The RAM reads the oldest delayed address (or `raddr` itself without delay).
                self._ad.insert(0, r);
                let r = self._ad.pop().unwrap();
                self.rdata.next = self.read(r);
                if self.we.val() && a < self._depth {
                    self._mem[a] = self.wdata.val();
                }
            }
        }
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        let (d, aw) = (self._depth, addr_bits(self._depth));
        let (w1, d1, a1, init) = (W - 1, d - 1, aw - 1, self.init_verilog());
        // The range flag follows the read address through its registers (gated RAMs only).
        let gated = self._gated;
        let flag = |name: &str, src: &str| {
            if gated {
                format!("reg {name};\nalways @(posedge clock) {name} <= {src};\n")
            } else {
                String::new()
            }
        };
        let out = |q: &str, inr: &str| {
            if gated {
                format!("always @(*) rdata = {inr} ? {q} : {W}'d0;")
            } else {
                format!("always @(*) rdata = {q};")
            }
        };
        if self._piped {
            // ECP5 (`SQZ_ECP5_BRAM`): DP16KD instances whose output register is `q2`.
            let cells = match (self._init.is_empty(), ecp5_mode(d)) {
                (true, Some(width)) => {
                    let n = W.div_ceil(width);
                    let (wx, ax) = (width * n, addr_bits(dp16kd_depth(width)));
                    let mut c = format!(
                        "wire [{}:0] rax = ra;\nwire [{}:0] wax = wa;\nwire [{}:0] wdx = wd;\nwire [{}:0] dox;\n",
                        ax - 1,
                        ax - 1,
                        wx - 1,
                        wx - 1
                    );
                    for i in 0..n {
                        let (lo, hi) = (width * i, width * i + width - 1);
                        c += &format!(
                            "wire [{w1}:0] wd{i} = wdx[{hi}:{lo}];\nwire [{w1}:0] do{i};\nassign dox[{hi}:{lo}] = do{i};\n",
                            w1 = width - 1
                        );
                        c += &dp16kd(
                            &format!("ram{i}"),
                            width,
                            "wax",
                            &format!("wd{i}"),
                            "wen",
                            "rax",
                            &format!("do{i}"),
                            self._sites.get(i).map(String::as_str),
                        );
                    }
                    Some(c + &out(&format!("dox[{w1}:0]"), "inr3"))
                }
                _ => None,
            };
            let inferred = format!(
                "(* no_rw_check *) reg [{w1}:0] mem[0:{d1}];
{init}reg [{w1}:0] q;
reg [{w1}:0] q2;
always @(posedge clock) begin
   q <= mem[ra];
   q2 <= q;
   if (wen) mem[wa] <= wd;
end
{out}",
                out = out("q2", "inr3"),
            );
            let body = match cells {
                Some(c) => format!("`ifdef SQZ_ECP5_BRAM\n{c}\n`else\n{inferred}\n`endif"),
                None => inferred,
            };
            return Verilog::Custom(format!(
                "reg [{a1}:0] ra;
reg [{a1}:0] wa;
reg [{w1}:0] wd;
reg wen;
(* keep *) always @(posedge clock) begin
   ra <= raddr[{a1}:0];
   wa <= waddr[{a1}:0];
   wd <= wdata;
   wen <= we && (waddr < 16'd{d});
end
{f1}{f2}{f3}{body}",
                f1 = flag("inr", &format!("(raddr < 16'd{d})")),
                f2 = flag("inr2", "inr"),
                f3 = flag("inr3", "inr2"),
            ));
        }
        // `n` address registers (ra1..ran, with their range flags), then the RAM.
        let n = self._ad.len();
        let in_range = format!("(raddr < 16'd{d})");
        let mut v = String::new();
        for i in 1..=n {
            let (src, isrc) = if i == 1 {
                (format!("raddr[{a1}:0]"), in_range.clone())
            } else {
                (format!("ra{}", i - 1), format!("in{}", i - 1))
            };
            v += &format!(
                "reg [{a1}:0] ra{i};\nalways @(posedge clock) ra{i} <= {src};\n{}",
                flag(&format!("in{i}"), &isrc)
            );
        }
        let (ra, inr_src) = if n == 0 {
            (format!("raddr[{a1}:0]"), in_range)
        } else {
            (format!("ra{n}"), format!("in{n}"))
        };
        v += &format!(
            "(* no_rw_check *) reg [{w1}:0] mem[0:{d1}];
{init}reg [{w1}:0] q;
always @(posedge clock) begin
   q <= mem[{ra}];
   if (we && (waddr < 16'd{d})) mem[waddr[{a1}:0]] <= wdata;
end
{}{}",
            flag("inr", &inr_src),
            out("q", "inr"),
        );
        Verilog::Custom(v)
    }
}

/// Words per block-RAM bank of an activation buffer lane: one DP16KD in 2K x 9 mode.
pub const BANK_WORDS: usize = 2048;

/// An activation buffer: `depth` words of 8 byte lanes, each lane its own RAM with its own
/// write enable, so the output stage can write single bytes (channel groups smaller than a word).
/// Read latency 3, writes land one cycle after they are presented. Each lane is split into
/// `BANK_WORDS` banks. Every bank has its own (kept) registers of the read address and of the
/// write address, data and byte enables, and of whether the read is its own (in range, its bank);
/// its read data is registered right after the RAM, cleared unless the read is its own, and the
/// read word is the OR of the banks' registers (a deep RAM inferred as one memory would put the
/// bank mux between the RAM and a register; a bank mux after the registers needs wide select
/// nets). With `SQZ_ECP5_BRAM` that register is the DP16KD's output register and the clear
/// follows it (an AND before the OR): the DP16KD's reset cannot clear it, because a reset
/// also cancels the read the RAM takes at the same edge.
#[derive(LogicBlock)]
pub struct ActBuf {
    pub clock: Signal<In, Clock>,
    pub raddr: Signal<In, Bits<16>>,
    pub rdata: Signal<Out, Bits<64>>,
    pub waddr: Signal<In, Bits<16>>,
    pub wdata: Signal<In, Bits<64>>,
    pub wbe: Signal<In, Bits<8>>,
    _depth: usize,
    // Model of the pipeline: registered read address, write (address, data, enables), RAM word.
    _ra: usize,
    _w: (usize, u64, u64),
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
            _ra: usize::MAX,
            _w: (usize::MAX, 0, 0),
            _q: 0,
            _mem: vec![0; depth],
        }
    }
    /// No memory: reads 0, writes are dropped (A and B of a configuration that keeps them in
    /// `spram::SharedAb`).
    pub fn absent() -> Self {
        ActBuf {
            _depth: 0,
            _mem: Vec::new(),
            ..ActBuf::new(1)
        }
    }
}

impl Logic for ActBuf {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.rdata.next = self._q.into();
            self._q = self._mem.get(self._ra).copied().unwrap_or(0);
            let (a, w, be) = self._w;
            if a < self._depth {
                let mut mask = 0u64;
                for l in 0..8 {
                    if be >> l & 1 == 1 {
                        mask |= 0xff << (8 * l);
                    }
                }
                self._mem[a] = (self._mem[a] & !mask) | (w & mask);
            }
            self._ra = self.raddr.val().index();
            self._w = (
                self.waddr.val().index(),
                self.wdata.val().to_u64(),
                self.wbe.val().to_u64(),
            );
        }
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        let d = self._depth;
        if d == 0 {
            return Verilog::Custom("always @(*) rdata = 64'd0;".into());
        }
        let banks = d.div_ceil(BANK_WORDS);
        // Address bits inside a bank, and the bank number's bits above them.
        let ab = if banks == 1 {
            addr_bits(d)
        } else {
            addr_bits(BANK_WORDS)
        };
        let (mut v, mut cells, mut inferred) = (String::new(), String::new(), String::new());
        for k in 0..banks {
            let bd = (d - k * BANK_WORDS).min(BANK_WORDS);
            // Whether an address is this bank's, from its own bits only: a shared `addr < depth`
            // compare would be one net to every bank across the chip (the routed ULX3S build's
            // critical path). Only a partial last bank needs a bound, on the in-bank bits.
            let own = |a: &str| {
                if banks == 1 {
                    format!("({a} < 16'd{d})")
                } else if bd < BANK_WORDS {
                    format!(
                        "({a}[15:{ab}] == {}'d{k}) && ({a}[{a1}:0] < {ab}'d{bd})",
                        16 - ab,
                        a1 = ab - 1
                    )
                } else {
                    format!("({a}[15:{ab}] == {}'d{k})", 16 - ab)
                }
            };
            let (sel, rsel) = (own("waddr"), own("raddr"));
            v += &format!(
                "reg [{a1}:0] ra_{k};
reg [{a1}:0] wa_{k};
reg [63:0] wd_{k};
reg [7:0] we_{k};
reg rs_{k};
reg sel_{k};
(* keep *) always @(posedge clock) begin
   ra_{k} <= raddr[{a1}:0];
   rs_{k} <= {rsel};
   sel_{k} <= rs_{k};
   wa_{k} <= waddr[{a1}:0];
   wd_{k} <= wdata;
   we_{k} <= ({sel}) ? wbe : 8'd0;
end
",
                a1 = ab - 1,
            );
            // ECP5: the bank's word passes the DP16KDs' output registers, and is cleared
            // after them unless the read is its own (their reset would also cancel the next
            // read, see `ecp5.rs`).
            cells += &format!(
                "wire [10:0] rax_{k} = ra_{k};\nwire [10:0] wax_{k} = wa_{k};\nreg sel3_{k};\nalways @(posedge clock) sel3_{k} <= sel_{k};\n"
            );
            for l in 0..8 {
                cells += &format!(
                    "wire [8:0] wd{l}_{k} = {{1'b0, wd_{k}[{hi}:{lo}]}};\nwire [8:0] d{l}_{k};\nwire [7:0] r{l}_{k} = sel3_{k} ? d{l}_{k}[7:0] : 8'd0;\n",
                    hi = 8 * l + 7,
                    lo = 8 * l
                );
                cells += &dp16kd(
                    &format!("ram{l}_{k}"),
                    9,
                    &format!("wax_{k}"),
                    &format!("wd{l}_{k}"),
                    &format!("we_{k}[{l}]"),
                    &format!("rax_{k}"),
                    &format!("d{l}_{k}"),
                    None,
                );
                inferred += &format!(
                    "reg [7:0] m{l}_{k}[0:{bd1}];
reg [7:0] q{l}_{k};
reg [7:0] r{l}_{k};
always @(posedge clock) begin
   q{l}_{k} <= m{l}_{k}[ra_{k}];
   r{l}_{k} <= sel_{k} ? q{l}_{k} : 8'd0;
   if (we_{k}[{l}]) m{l}_{k}[wa_{k}] <= wd_{k}[{hi}:{lo}];
end
",
                    bd1 = bd - 1,
                    hi = 8 * l + 7,
                    lo = 8 * l
                );
            }
        }
        // Only the bank being read (in range) keeps its word in the register after the RAM, so
        // the read word is the OR of the banks': no bank-select mux with its wide select nets.
        let word = |k: usize| {
            (0..8)
                .rev()
                .map(|l| format!("r{l}_{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let words: Vec<String> = (0..banks).map(|k| format!("{{{}}}", word(k))).collect();
        v += &format!("`ifdef SQZ_ECP5_BRAM\n{cells}`else\n{inferred}`endif\n");
        v += &format!("always @(*) rdata = {};", words.join(" | "));
        Verilog::Custom(v)
    }
}
