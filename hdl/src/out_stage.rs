//! The output stage's control and write port: the drain (capture a pixel's sums on its last
//! tap, then `D` drain cycles of `U` requantizers each), and the engine's buffer write (the
//! requantizer chain's word, or the max-pool unit's), registered `Schedule::write_regs`
//! times before the bus/engine select and the fan-out to every bank.

use crate::delay::Delay;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct OutStage {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// A pixel's last tap reaches the accumulators (MAC, not max pool): capture.
    pub cap: Signal<In, Bit>,
    /// The group's first output channel, and the pixel's word address, at the capture.
    pub co_base: Signal<In, Bits<11>>,
    pub obase: Signal<In, Bits<16>>,
    /// To the requantizers: a drain cycle, its first channel, the pixel's word address.
    pub dv: Signal<Out, Bit>,
    pub cj: Signal<Out, Bits<11>>,
    pub ocap: Signal<Out, Bits<16>>,
    /// The requantizer chain's write (address from the first unit, word and byte enables
    /// from the last), the max-pool unit's, and which one writes.
    pub req_wa: Signal<In, Bits<16>>,
    pub req_wd: Signal<In, Bits<64>>,
    pub req_we: Signal<In, Bits<8>>,
    pub is_max: Signal<In, Bit>,
    pub max_wv: Signal<In, Bit>,
    pub max_wa: Signal<In, Bits<16>>,
    pub max_wd: Signal<In, Bits<64>>,
    /// The banks' write address register (`wpa`): the engine's while busy next cycle, else
    /// the bus request's next index.
    pub busy_next: Signal<In, Bit>,
    pub bus_idx: Signal<In, Bits<16>>,
    pub wpa: Signal<Out, Bits<16>>,
    /// The engine's write to the buffers.
    pub wr_a: Signal<Out, Bits<16>>,
    pub wr_d: Signal<Out, Bits<64>>,
    pub wr_e: Signal<Out, Bits<8>>,
    ustep: Constant<Bits<11>>,
    dlast: Constant<Bits<8>>,
    dact: DFF<Bit>,
    dj: DFF<Bits<8>>,
    cj_r: DFF<Bits<11>>,
    ocap_r: DFF<Bits<16>>,
    wa_eng: Signal<Local, Bits<16>>,
    wd_eng: Signal<Local, Bits<64>>,
    we_eng: Signal<Local, Bits<8>>,
    ew_a: Delay<Bits<16>>,
    ew_d: Delay<Bits<64>>,
    ew_e: Delay<Bits<8>>,
    /// Selected from the values it loads and registered, so every bank decodes its own write
    /// enable from one register, not through the busy select (the routed ULX3S build's
    /// critical path was that select).
    wpa_r: DFF<Bits<16>>,
}

impl OutStage {
    /// `units` requantizers, `drain` cycles per pixel, `write_regs` registers on the write.
    pub fn new(units: usize, drain: usize, write_regs: usize) -> Self {
        OutStage {
            clock: Default::default(),
            reset: Default::default(),
            cap: Default::default(),
            co_base: Default::default(),
            obase: Default::default(),
            dv: Default::default(),
            cj: Default::default(),
            ocap: Default::default(),
            req_wa: Default::default(),
            req_wd: Default::default(),
            req_we: Default::default(),
            is_max: Default::default(),
            max_wv: Default::default(),
            max_wa: Default::default(),
            max_wd: Default::default(),
            busy_next: Default::default(),
            bus_idx: Default::default(),
            wpa: Default::default(),
            wr_a: Default::default(),
            wr_d: Default::default(),
            wr_e: Default::default(),
            ustep: Constant::new((units as u64).into()),
            dlast: Constant::new(((drain - 1) as u64).into()),
            dact: Default::default(),
            dj: Default::default(),
            cj_r: Default::default(),
            ocap_r: Default::default(),
            wa_eng: Default::default(),
            wd_eng: Default::default(),
            we_eng: Default::default(),
            ew_a: Delay::new(write_regs),
            ew_d: Delay::new(write_regs),
            ew_e: Delay::new(write_regs),
            wpa_r: Default::default(),
        }
    }

    /// Registers on the engine's write (tests: the wrong parity for a shared port).
    pub fn set_write_regs(&mut self, n: usize) {
        self.ew_a = Delay::new(n);
        self.ew_d = Delay::new(n);
        self.ew_e = Delay::new(n);
    }
}

impl Logic for OutStage {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, dact, dj, cj_r, ocap_r, wpa_r);
        // Drain U rows per cycle for D cycles.
        if self.dact.q.val() {
            self.dj.d.next = self.dj.q.val() + 1;
            self.cj_r.d.next = self.cj_r.q.val() + self.ustep.val();
            if self.dj.q.val() == self.dlast.val() {
                self.dact.d.next = false;
            }
        }
        if self.cap.val() {
            self.dact.d.next = true;
            self.dj.d.next = 0.into();
            self.cj_r.d.next = self.co_base.val();
            self.ocap_r.d.next = self.obase.val();
        }
        self.dv.next = self.dact.q.val();
        self.cj.next = self.cj_r.q.val();
        self.ocap.next = self.ocap_r.q.val();
        // The write: the requantizers', or in a max-pool step the max-pool unit's.
        self.wa_eng.next = self.req_wa.val();
        self.wd_eng.next = self.req_wd.val();
        self.we_eng.next = self.req_we.val();
        if self.is_max.val() {
            self.wa_eng.next = self.max_wa.val();
            self.wd_eng.next = self.max_wd.val();
            self.we_eng.next = 0.into();
            if self.max_wv.val() {
                self.we_eng.next = 255.into();
            }
        }
        self.ew_a.clock.next = self.clock.val();
        self.ew_d.clock.next = self.clock.val();
        self.ew_e.clock.next = self.clock.val();
        self.ew_a.reset.next = false;
        self.ew_d.reset.next = false;
        self.ew_e.reset.next = self.reset.val();
        self.ew_a.en.next = true;
        self.ew_d.en.next = true;
        self.ew_e.en.next = true;
        self.ew_a.d.next = self.wa_eng.val();
        self.ew_d.d.next = self.wd_eng.val();
        self.ew_e.d.next = self.we_eng.val();
        self.wr_a.next = self.ew_a.q.val();
        self.wr_d.next = self.ew_d.q.val();
        self.wr_e.next = self.ew_e.q.val();
        self.wpa_r.d.next = self.bus_idx.val();
        if self.busy_next.val() {
            self.wpa_r.d.next = self.wa_eng.val();
        }
        self.wpa.next = self.wpa_r.q.val();
        if self.reset.val() {
            self.dact.d.next = false;
            self.dj.d.next = 0.into();
        }
    }
}
