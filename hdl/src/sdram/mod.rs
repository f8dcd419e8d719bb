//! The SDRAM side of the device (docs/sdram.md): a controller for the ULX3S's 16-bit SDR
//! SDRAM ([`ctrl`]), a DMA between it and the engine's bus ([`dma`]), and the bus shared
//! by the host link and the DMA ([`bus_mux`]). Timings come from `common::sdram`.

pub mod bus_mux;
pub mod ctrl;
pub mod dma;
pub mod lutram;

pub use bus_mux::BusMux;
pub use ctrl::{BURST, SdramCtrl};
pub use dma::Dma;

use common::sdram::SdramTiming;
use rust_hdl::prelude::*;

/// Name of the controller's top module in the emitted Verilog.
pub const TOP: &str = "sdram_ctrl";
/// Name of [`SdramSys`]' module in the emitted Verilog.
pub const SYS_TOP: &str = "sqz_sdram";

/// Verilog of the controller for `t`, top module [`TOP`] (see [`SdramCtrl::new`]).
pub fn emit(t: &SdramTiming, extra_read_delay: u64) -> String {
    let mut c = SdramCtrl::new(t, extra_read_delay);
    c.connect_all();
    let mut defs = ModuleDefines::default();
    c.accept(TOP, &mut defs);
    defs.defines()
}

/// Verilog of [`SdramSys`] for `t`, top module [`SYS_TOP`].
pub fn emit_sys(t: &SdramTiming, extra_read_delay: u64) -> String {
    let mut c = SdramSys::new(t, extra_read_delay);
    c.connect_all();
    let mut defs = ModuleDefines::default();
    c.accept(SYS_TOP, &mut defs);
    defs.defines()
}

/// Between the host link and the engine: the bus mux with the DMA's registers, the DMA and
/// the controller, whose pins (registered) are the block's `sd_*` ports.
#[derive(LogicBlock)]
pub struct SdramSys {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Link side (the engine's ports, docs/architecture.md "Core ports").
    pub l_addr: Signal<In, Bits<24>>,
    pub l_wdata: Signal<In, Bits<64>>,
    pub l_write: Signal<In, Bit>,
    pub l_read: Signal<In, Bit>,
    pub l_rdata: Signal<Out, Bits<64>>,
    pub l_rvalid: Signal<Out, Bit>,
    pub l_start: Signal<In, Bit>,
    // Engine side.
    pub c_addr: Signal<Out, Bits<24>>,
    pub c_wdata: Signal<Out, Bits<64>>,
    pub c_write: Signal<Out, Bit>,
    pub c_read: Signal<Out, Bit>,
    pub c_rdata: Signal<In, Bits<64>>,
    pub c_rvalid: Signal<In, Bit>,
    pub c_start: Signal<Out, Bit>,
    pub c_busy: Signal<In, Bit>,
    /// The DMA is running (a status LED).
    pub dma_busy: Signal<Out, Bit>,
    // SDRAM pins.
    pub sd_cke: Signal<Out, Bit>,
    pub sd_cs_n: Signal<Out, Bit>,
    pub sd_ras_n: Signal<Out, Bit>,
    pub sd_cas_n: Signal<Out, Bit>,
    pub sd_we_n: Signal<Out, Bit>,
    pub sd_ba: Signal<Out, Bits<2>>,
    pub sd_a: Signal<Out, Bits<13>>,
    pub sd_dqm: Signal<Out, Bits<2>>,
    pub sd_dq_out: Signal<Out, Bits<16>>,
    pub sd_dq_oe: Signal<Out, Bit>,
    pub sd_dq_in: Signal<In, Bits<16>>,
    mux: BusMux,
    dma: Dma,
    ctrl: SdramCtrl,
}

impl SdramSys {
    /// For timing `t`; `extra_read_delay` as in [`SdramCtrl::new`].
    pub fn new(t: &SdramTiming, extra_read_delay: u64) -> Self {
        SdramSys {
            clock: Default::default(),
            reset: Default::default(),
            l_addr: Default::default(),
            l_wdata: Default::default(),
            l_write: Default::default(),
            l_read: Default::default(),
            l_rdata: Default::default(),
            l_rvalid: Default::default(),
            l_start: Default::default(),
            c_addr: Default::default(),
            c_wdata: Default::default(),
            c_write: Default::default(),
            c_read: Default::default(),
            c_rdata: Default::default(),
            c_rvalid: Default::default(),
            c_start: Default::default(),
            c_busy: Default::default(),
            dma_busy: Default::default(),
            sd_cke: Default::default(),
            sd_cs_n: Default::default(),
            sd_ras_n: Default::default(),
            sd_cas_n: Default::default(),
            sd_we_n: Default::default(),
            sd_ba: Default::default(),
            sd_a: Default::default(),
            sd_dqm: Default::default(),
            sd_dq_out: Default::default(),
            sd_dq_oe: Default::default(),
            sd_dq_in: Default::default(),
            mux: Default::default(),
            dma: Default::default(),
            ctrl: SdramCtrl::new(t, extra_read_delay),
        }
    }
}

impl Logic for SdramSys {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, mux, dma, ctrl);
        self.mux.reset.next = self.reset.val();
        self.dma.reset.next = self.reset.val();
        self.ctrl.reset.next = self.reset.val();
        // Link and engine through the mux.
        self.mux.l_addr.next = self.l_addr.val();
        self.mux.l_wdata.next = self.l_wdata.val();
        self.mux.l_write.next = self.l_write.val();
        self.mux.l_read.next = self.l_read.val();
        self.mux.l_start.next = self.l_start.val();
        self.l_rdata.next = self.mux.l_rdata.val();
        self.l_rvalid.next = self.mux.l_rvalid.val();
        self.c_addr.next = self.mux.c_addr.val();
        self.c_wdata.next = self.mux.c_wdata.val();
        self.c_write.next = self.mux.c_write.val();
        self.c_read.next = self.mux.c_read.val();
        self.c_start.next = self.mux.c_start.val();
        self.mux.c_rdata.next = self.c_rdata.val();
        self.mux.c_rvalid.next = self.c_rvalid.val();
        self.mux.c_busy.next = self.c_busy.val();
        // The DMA: registers, bus master port.
        self.dma.start.next = self.mux.d_start.val();
        self.dma.to_sdram.next = self.mux.d_reg0.val().get_bit(63);
        self.dma.sdram_word.next = self.mux.d_reg0.val().get_bits::<22>(0);
        self.dma.words.next = self.mux.d_reg0.val().get_bits::<21>(32);
        self.dma.bus_base.next = self.mux.d_bus_base.val();
        self.mux.d_busy.next = self.dma.busy.val();
        self.mux.d_done.next = self.dma.done.val();
        self.dma_busy.next = self.dma.busy.val();
        self.mux.d_addr.next = self.dma.bus_addr.val();
        self.mux.d_wdata.next = self.dma.bus_wdata.val();
        self.mux.d_write.next = self.dma.bus_write.val();
        self.mux.d_read.next = self.dma.bus_read.val();
        self.dma.bus_grant.next = self.mux.d_grant.val();
        self.dma.bus_rdata.next = self.mux.d_rdata.val();
        self.dma.bus_rvalid.next = self.mux.d_rvalid.val();
        // DMA and controller.
        self.ctrl.req_valid.next = self.dma.req_valid.val();
        self.ctrl.req_write.next = self.dma.req_write.val();
        self.ctrl.req_addr.next = self.dma.req_addr.val();
        self.ctrl.req_bursts.next = self.dma.req_bursts.val();
        self.dma.req_ready.next = self.ctrl.req_ready.val();
        self.ctrl.wr_valid.next = self.dma.wr_valid.val();
        self.ctrl.wr_data.next = self.dma.wr_data.val();
        self.ctrl.wr_dqm.next = self.dma.wr_dqm.val();
        self.dma.wr_ready.next = self.ctrl.wr_ready.val();
        self.ctrl.rd_ready.next = self.dma.rd_ready.val();
        self.dma.rd_valid.next = self.ctrl.rd_valid.val();
        self.dma.rd_data.next = self.ctrl.rd_data.val();
        // Pins.
        self.sd_cke.next = self.ctrl.sd_cke.val();
        self.sd_cs_n.next = self.ctrl.sd_cs_n.val();
        self.sd_ras_n.next = self.ctrl.sd_ras_n.val();
        self.sd_cas_n.next = self.ctrl.sd_cas_n.val();
        self.sd_we_n.next = self.ctrl.sd_we_n.val();
        self.sd_ba.next = self.ctrl.sd_ba.val();
        self.sd_a.next = self.ctrl.sd_a.val();
        self.sd_dqm.next = self.ctrl.sd_dqm.val();
        self.sd_dq_out.next = self.ctrl.sd_dq_out.val();
        self.sd_dq_oe.next = self.ctrl.sd_dq_oe.val();
        self.ctrl.sd_dq_in.next = self.sd_dq_in.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_a_top_with_registered_pins() {
        let v = emit(&SdramTiming::ulx3s(100_000_000, 2), 0);
        assert!(v.contains("module sdram_ctrl"));
        assert!(v.contains("sd_dq_oe"));
    }

    #[test]
    fn emits_the_system() {
        let v = emit_sys(&SdramTiming::ulx3s(100_000_000, 3), 0);
        assert!(v.contains("module sqz_sdram"));
    }
}
