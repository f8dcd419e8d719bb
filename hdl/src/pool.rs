//! Pooling datapaths.
//!
//! - `MaxUnit`: 3x3 stride-2 max pool (ceil mode). The feeder walks the 9 taps of each
//!   output word; taps outside the tile are skipped (clipped windows), the first tap is
//!   always inside. One word per cycle in, one word out per 9 cycles.
//! - Global average pool runs on the MAC array: the feeder walks every pixel of one input
//!   word, and `OneHot` replaces row r's weights by 1 in lane `(channel) % 8`, so row r sums
//!   channel `g*G + r`; the output stage adds the bias and requantizes.

use crate::delay::Delay;
use crate::mul8::sext;
use rust_hdl::prelude::*;

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

/// The max-pool datapath: inputs at t1 (the cycle the source buffer delivers the word),
/// the finished word is written `write` cycles later: at t2 (the running maximum register
/// itself: it holds the word until the next window's first tap), or at t3 (the shared A/B/S
/// port's write parity, `Schedule::pool_write`; issues are then at least 2 cycles apart, so
/// the maximum still holds).
#[derive(LogicBlock)]
pub struct MaxUnit {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<64>>,
    pub sgn: Signal<In, Bit>,
    pub v: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub last: Signal<In, Bit>,
    pub inr: Signal<In, Bit>,
    pub addr: Signal<In, Bits<16>>,
    pub wv: Signal<Out, Bit>,
    pub wa: Signal<Out, Bits<16>>,
    pub wd: Signal<Out, Bits<64>>,
    max: Max8,
    m_next: Signal<Local, Bits<64>>,
    m_r: DFF<Bits<64>>,
    wv_r: DFF<Bit>,
    wa_r: DFF<Bits<16>>,
    // The write's further cycles (`write - 1`).
    wv_d: Delay<Bit>,
    wa_d: Delay<Bits<16>>,
}

impl MaxUnit {
    pub fn new(write: usize) -> Self {
        assert!(write >= 1);
        MaxUnit {
            clock: Default::default(),
            a: Default::default(),
            sgn: Default::default(),
            v: Default::default(),
            first: Default::default(),
            last: Default::default(),
            inr: Default::default(),
            addr: Default::default(),
            wv: Default::default(),
            wa: Default::default(),
            wd: Default::default(),
            max: Default::default(),
            m_next: Default::default(),
            m_r: Default::default(),
            wv_r: Default::default(),
            wa_r: Default::default(),
            wv_d: Delay::new(write - 1),
            wa_d: Delay::new(write - 1),
        }
    }
}

impl Logic for MaxUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, m_r, wv_r, wa_r);
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
