//! Pooling datapaths.
//!
//! - `MaxUnit`: 3x3 stride-2 max pool (ceil mode), one variant per engine (`variant.rs`):
//!   - full (ECP5): the feeder walks the input once, channel word by channel word, row by
//!     row (the sequencer sets its loops). The unit keeps the running maximum of the current
//!     window's columns, and a line buffer (`LINE_WORDS` words, one per output column) holds
//!     the maximum of the window rows seen so far: an even row ends the window above it
//!     (written to the destination) and starts the next one, an odd row is a window's middle
//!     row. One word per cycle in, `out_h * out_w` words out per channel word.
//!   - lean (iCE40): the feeder walks the 9 taps of each output word; taps outside the tile
//!     are skipped (clipped windows), the first tap is always inside. One word per cycle in,
//!     one word out per 9 cycles.
//! - Global average pool runs on the MAC array: the feeder walks every pixel of one input
//!   word, and `OneHot` replaces row r's weights by 1 in lane `(channel) % 8`, so row r sums
//!   channel `g*G + r`; the output stage adds the bias and requantizes.

use crate::bram::Bram;
use crate::delay::Delay;
use crate::mul8::sext;
// (`Kernel` stays unimported: its methods would shadow `Logic`'s in the derive.)
use crate::variant::{Full, Lean};
use crate::variant_logic;
use rust_hdl::prelude::*;

/// Words of the full unit's line buffer: one per output column. A valid step has
/// `2 * (out_w - 1) < in_w < 512`, so `out_w <= 256`.
pub const LINE_WORDS: usize = 256;

/// Weight word with a 1 in byte lane `lane`.
#[derive(LogicBlock, Default)]
pub struct OneHot {
    pub lane: Signal<In, Bits<3>>,
    pub w: Signal<Out, Bits<64>>,
}

impl Logic for OneHot {
    fn update(&mut self) {
        self.w.next = (1u64 << (8 * self.lane.val().to_u64())).into();
    }
    fn connect(&mut self) {
        self.w.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(*) w = 64'd1 << {lane, 3'b000};".into())
    }
}

/// Per-lane maximum of two words, lanes signed or unsigned.
pub fn max8_model(a: u64, b: u64, signed: bool) -> u64 {
    let mut out = 0u64;
    for l in 0..8 {
        let (x, y) = ((a >> (8 * l)) & 0xff, (b >> (8 * l)) & 0xff);
        let bigger = if signed {
            sext(y, 8) > sext(x, 8)
        } else {
            y > x
        };
        out |= (if bigger { y } else { x }) << (8 * l);
    }
    out
}

#[derive(LogicBlock, Default)]
pub struct Max8 {
    pub a: Signal<In, Bits<64>>,
    pub b: Signal<In, Bits<64>>,
    pub sgn: Signal<In, Bit>,
    pub y: Signal<Out, Bits<64>>,
}

impl Logic for Max8 {
    fn update(&mut self) {
        self.y.next =
            max8_model(self.a.val().to_u64(), self.b.val().to_u64(), self.sgn.val()).into();
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from("always @(*) begin\n");
        for l in 0..8 {
            let (h, lo) = (8 * l + 7, 8 * l);
            v += &format!(
                "   y[{h}:{lo}] = (sgn ? ($signed(b[{h}:{lo}]) > $signed(a[{h}:{lo}])) : (b[{h}:{lo}] > a[{h}:{lo}])) ? b[{h}:{lo}] : a[{h}:{lo}];\n"
            );
        }
        v += "end";
        Verilog::Custom(v)
    }
}

/// The max-pool datapath: the source word, the flags and (lean) its output address
/// at `Schedule::pool` (the cycle after the source buffer delivers the word); the finished
/// word is written `Schedule::pool_write` cycles later.
///
/// Full (row walk, the sequencer's "Max pool" loops): the flags also one cycle earlier (`pv`, `pfirst`, `plast`),
/// where the column's parity decides whether it ends a window (an even column past the
/// first, or a row's last column) and the line buffer is read for that window. At `pool`
/// the running column maximum `m_r` takes the word (a column outside the tile is skipped;
/// an even column starts the next window). A cycle later the window's row maximum meets
/// the line buffer's word: row 0 of a channel word writes the row maximum into the line
/// buffer, an odd row the maximum of both, an even row writes the maximum of both to the
/// destination (the window above is complete) and its own row maximum into the line buffer
/// (the window below starts). The last walked row is even, or odd and the last, and ends
/// a window; a row past the tile (when `in_h < 2*out_h`) adds nothing. Output words are
/// written in destination order: `o0 + cw`, then `ostep` apart. The line buffer's word is
/// written the cycle after its read, and read again a row (at least 3 issues) later.
/// Lean (window walk): the running maximum register itself is the written word; it holds
/// until the next window's first tap, and the write comes at `pool_write` (the shared
/// A/B/S port's write parity; issues are at least 2 cycles apart, so the maximum holds).
#[derive(LogicBlock)]
pub struct MaxUnit {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// A step starts (full: the row, column and output counters restart).
    pub start: Signal<In, Bit>,
    pub a: Signal<In, Bits<64>>,
    pub sgn: Signal<In, Bit>,
    pub v: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub last: Signal<In, Bit>,
    pub inr: Signal<In, Bit>,
    /// Lean: the window's output address.
    pub addr: Signal<In, Bits<16>>,
    /// Full: the flags at `pool - 1`.
    pub pv: Signal<In, Bit>,
    pub pfirst: Signal<In, Bit>,
    pub plast: Signal<In, Bit>,
    /// Full: walked rows per channel word minus 1 (the sequencer's walk), input rows, the first output
    /// word's address (`dst_base + dst_off`) and words per output pixel.
    pub rows_m1: Signal<In, Bits<9>>,
    pub in_h: Signal<In, Bits<9>>,
    pub o0: Signal<In, Bits<16>>,
    pub ostep: Signal<In, Bits<16>>,
    pub wv: Signal<Out, Bit>,
    pub wa: Signal<Out, Bits<16>>,
    pub wd: Signal<Out, Bits<64>>,
    max: Max8,
    m_next: Signal<Local, Bits<64>>,
    m_r: DFF<Bits<64>>,
    wv_r: DFF<Bit>,
    wa_r: DFF<Bits<16>>,
    // Lean: the write's further cycles (`write - 1`).
    wv_d: Delay<Bit>,
    wa_d: Delay<Bits<16>>,
    // Full. Before `pool`: the next column is odd, this one is; it ends a window; windows
    // ended so far in the row (the line buffer's read address).
    p_odd: DFF<Bit>,
    c_odd: Signal<Local, Bit>,
    c_end: Signal<Local, Bit>,
    k_r: DFF<Bits<8>>,
    // At `pool`.
    end4: DFF<Bit>,
    odd4: DFF<Bit>,
    k4: DFF<Bits<8>>,
    // The row within the channel word: index, row 0, odd, the last walked, inside the tile.
    ry: DFF<Bits<9>>,
    ry_n: Signal<Local, Bits<9>>,
    r_zero: DFF<Bit>,
    r_odd: DFF<Bit>,
    r_last: DFF<Bit>,
    r_in: DFF<Bit>,
    // At `pool + 1`: the window's row maximum and what to do with it.
    end5: DFF<Bit>,
    k5: DFF<Bits<8>>,
    h5: DFF<Bits<64>>,
    l5: DFF<Bits<64>>,
    even5: DFF<Bit>,
    out5: DFF<Bit>,
    in5: DFF<Bit>,
    plane5: DFF<Bit>,
    vmax: Max8,
    vm: Signal<Local, Bits<64>>,
    line: Bram<64>,
    wd_r: DFF<Bits<64>>,
    // The output word's address, and the current channel word's first.
    op: DFF<Bits<16>>,
    oc: DFF<Bits<16>>,
    _lean: bool,
}

impl MaxUnit {
    /// `write`: `Schedule::pool_write` (the full unit's is 2).
    pub fn new(lean: bool, write: usize) -> Self {
        assert!(if lean { write >= 1 } else { write == 2 });
        let tail = if lean { write - 1 } else { 0 };
        MaxUnit {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            a: Default::default(),
            sgn: Default::default(),
            v: Default::default(),
            first: Default::default(),
            last: Default::default(),
            inr: Default::default(),
            addr: Default::default(),
            pv: Default::default(),
            pfirst: Default::default(),
            plast: Default::default(),
            rows_m1: Default::default(),
            in_h: Default::default(),
            o0: Default::default(),
            ostep: Default::default(),
            wv: Default::default(),
            wa: Default::default(),
            wd: Default::default(),
            max: Default::default(),
            m_next: Default::default(),
            m_r: Default::default(),
            wv_r: Default::default(),
            wa_r: Default::default(),
            wv_d: Delay::new(tail),
            wa_d: Delay::new(tail),
            p_odd: Default::default(),
            c_odd: Default::default(),
            c_end: Default::default(),
            k_r: Default::default(),
            end4: Default::default(),
            odd4: Default::default(),
            k4: Default::default(),
            ry: Default::default(),
            ry_n: Default::default(),
            r_zero: Default::default(),
            r_odd: Default::default(),
            r_last: Default::default(),
            r_in: Default::default(),
            end5: Default::default(),
            k5: Default::default(),
            h5: Default::default(),
            l5: Default::default(),
            even5: Default::default(),
            out5: Default::default(),
            in5: Default::default(),
            plane5: Default::default(),
            vmax: Default::default(),
            vm: Default::default(),
            line: Bram::new(if lean { 1 } else { LINE_WORDS }).ungated(),
            wd_r: Default::default(),
            op: Default::default(),
            oc: Default::default(),
            _lean: lean,
        }
    }
}

impl crate::variant::Kernel<Full> for MaxUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, m_r, wv_r, wa_r, p_odd, k_r, end4, odd4, k4, ry, r_zero, r_odd, r_last,
            r_in, end5, k5, h5, l5, even5, out5, in5, plane5, wd_r, op, oc
        );
        self.wv_d.clock.next = self.clock.val();
        self.wa_d.clock.next = self.clock.val();
        self.wv_d.reset.next = false;
        self.wa_d.reset.next = false;
        self.wv_d.en.next = false;
        self.wa_d.en.next = false;
        self.wv_d.d.next = false;
        self.wa_d.d.next = 0.into();
        self.line.clock.next = self.clock.val();
        // Before `pool`: does the column end a window? Read that window's line-buffer word.
        self.c_odd.next = self.p_odd.q.val() & !self.pfirst.val();
        self.c_end.next =
            self.pv.val() & ((!self.c_odd.val() & !self.pfirst.val()) | self.plast.val());
        if self.pv.val() {
            self.p_odd.d.next = !self.c_odd.val();
        }
        if self.pv.val() & self.pfirst.val() {
            self.k_r.d.next = 0.into();
        }
        if self.c_end.val() {
            self.k_r.d.next = self.k_r.q.val() + 1;
        }
        self.line.raddr.next = bit_cast::<16, 8>(self.k_r.q.val());
        self.end4.d.next = self.c_end.val();
        self.odd4.d.next = self.c_odd.val();
        self.k4.d.next = self.k_r.q.val();
        // `pool`: the running maximum of the window's columns (a column outside is skipped).
        self.max.a.next = self.m_r.q.val();
        self.max.b.next = self.a.val();
        self.max.sgn.next = self.sgn.val();
        self.m_next.next = self.m_r.q.val();
        if self.inr.val() {
            self.m_next.next = self.max.y.val();
        }
        if self.v.val() {
            self.m_r.d.next = self.m_next.val();
            if self.first.val() | !self.odd4.q.val() {
                self.m_r.d.next = self.a.val();
            }
        }
        self.end5.d.next = self.end4.q.val();
        self.k5.d.next = self.k4.q.val();
        self.h5.d.next = self.m_next.val();
        self.even5.d.next = !self.r_odd.q.val();
        self.out5.d.next = (!self.r_odd.q.val() & !self.r_zero.q.val()) | self.r_last.q.val();
        self.in5.d.next = self.r_in.q.val();
        self.plane5.d.next = self.v.val() & self.last.val() & self.r_last.q.val();
        // The next row (after the channel word's last, row 0 of the next).
        self.ry_n.next = self.ry.q.val() + 1;
        if self.v.val() & self.last.val() {
            if self.r_last.q.val() {
                self.ry.d.next = 0.into();
                self.r_zero.d.next = true;
                self.r_odd.d.next = false;
                self.r_last.d.next = self.rows_m1.val() == 0;
                self.r_in.d.next = true;
            } else {
                self.ry.d.next = self.ry_n.val();
                self.r_zero.d.next = false;
                self.r_odd.d.next = !self.r_odd.q.val();
                self.r_last.d.next = self.ry_n.val() == self.rows_m1.val();
                self.r_in.d.next = self.ry_n.val() < self.in_h.val();
            }
        }
        // `pool + 1`: the window's rows so far, with this row's maximum (if inside).
        self.l5.d.next = self.line.rdata.val();
        self.vmax.a.next = self.l5.q.val();
        self.vmax.b.next = self.h5.q.val();
        self.vmax.sgn.next = self.sgn.val();
        self.vm.next = self.l5.q.val();
        if self.in5.q.val() {
            self.vm.next = self.vmax.y.val();
        }
        self.line.waddr.next = bit_cast::<16, 8>(self.k5.q.val());
        self.line.we.next = self.end5.q.val();
        self.line.wdata.next = self.vm.val();
        if self.even5.q.val() {
            self.line.wdata.next = self.h5.q.val();
        }
        self.wv_r.d.next = self.end5.q.val() & self.out5.q.val();
        self.wa_r.d.next = self.op.q.val();
        self.wd_r.d.next = self.vm.val();
        if self.end5.q.val() & self.out5.q.val() {
            if self.plane5.q.val() {
                self.oc.d.next = self.oc.q.val() + 1;
                self.op.d.next = self.oc.q.val() + 1;
            } else {
                self.op.d.next = self.op.q.val() + self.ostep.val();
            }
        }
        self.wv.next = self.wv_r.q.val();
        self.wa.next = self.wa_r.q.val();
        self.wd.next = self.wd_r.q.val();
        if self.start.val() | self.reset.val() {
            self.op.d.next = self.o0.val();
            self.oc.d.next = self.o0.val();
            self.ry.d.next = 0.into();
            self.r_zero.d.next = true;
            self.r_odd.d.next = false;
            self.r_last.d.next = self.rows_m1.val() == 0;
            self.r_in.d.next = true;
            self.p_odd.d.next = false;
            self.k_r.d.next = 0.into();
        }
        if self.reset.val() {
            self.end4.d.next = false;
            self.end5.d.next = false;
            self.wv_r.d.next = false;
        }
    }
}

impl crate::variant::Kernel<Lean> for MaxUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, m_r, wv_r, wa_r, p_odd, k_r, end4, odd4, k4, ry, r_zero, r_odd, r_last,
            r_in, end5, k5, h5, l5, even5, out5, in5, plane5, wd_r, op, oc
        );
        self.c_odd.next = false;
        self.c_end.next = false;
        self.ry_n.next = 0.into();
        self.vmax.a.next = 0.into();
        self.vmax.b.next = 0.into();
        self.vmax.sgn.next = false;
        self.vm.next = 0.into();
        self.line.clock.next = self.clock.val();
        self.line.raddr.next = 0.into();
        self.line.waddr.next = 0.into();
        self.line.wdata.next = 0.into();
        self.line.we.next = false;
        self.max.a.next = self.m_r.q.val();
        self.max.b.next = self.a.val();
        self.max.sgn.next = self.sgn.val();
        self.m_next.next = self.m_r.q.val();
        if self.inr.val() {
            if self.first.val() {
                self.m_next.next = self.a.val();
            } else {
                self.m_next.next = self.max.y.val();
            }
        }
        if self.v.val() {
            self.m_r.d.next = self.m_next.val();
        }
        self.wv_r.d.next = self.v.val() & self.last.val();
        self.wa_r.d.next = self.addr.val();
        self.wv_d.clock.next = self.clock.val();
        self.wa_d.clock.next = self.clock.val();
        self.wv_d.reset.next = false;
        self.wa_d.reset.next = false;
        self.wv_d.en.next = true;
        self.wa_d.en.next = true;
        self.wv_d.d.next = self.wv_r.q.val();
        self.wa_d.d.next = self.wa_r.q.val();
        self.wv.next = self.wv_d.q.val();
        self.wa.next = self.wa_d.q.val();
        self.wd.next = self.m_r.q.val();
    }
}

variant_logic!(MaxUnit);
