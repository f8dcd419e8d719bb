//! The device side of the host link: UART (or a byte-stream port) → frame decoder →
//! command dispatcher → the engine's bus and start ports, and the answers back.
//! [`SqzLink`] is everything in `sqz_top` except the engine itself.

mod ctl;
mod top;
mod uart;

pub use ctl::{Crc16Step, LinkCtl, frame_timeout_cycles};
pub use top::top_verilog;
pub use uart::{UartRx, UartTx, baud_increment};

use common::DeviceConfig;
use rust_hdl::prelude::*;

/// UART and stream port, frame decoder and dispatcher, with the engine-side ports exposed.
#[derive(LogicBlock)]
pub struct SqzLink {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    /// High: bytes come and go through the stream port instead of the UART.
    pub stream_select: Signal<In, Bit>,
    pub stream_in_data: Signal<In, Bits<8>>,
    pub stream_in_valid: Signal<In, Bit>,
    pub stream_in_ready: Signal<Out, Bit>,
    pub stream_out_data: Signal<Out, Bits<8>>,
    pub stream_out_valid: Signal<Out, Bit>,
    pub stream_out_ready: Signal<In, Bit>,
    pub bus_addr: Signal<Out, Bits<24>>,
    pub bus_wdata: Signal<Out, Bits<64>>,
    pub bus_write: Signal<Out, Bit>,
    pub bus_read: Signal<Out, Bit>,
    pub bus_rdata: Signal<In, Bits<64>>,
    pub bus_rvalid: Signal<In, Bit>,
    pub start: Signal<Out, Bit>,
    /// Engine reset: the top reset or the `Reset` command.
    pub core_reset: Signal<Out, Bit>,
    pub done: Signal<In, Bit>,
    pub job_cycles: Signal<In, Bits<32>>,
    pub running: Signal<Out, Bit>,
    pub error: Signal<Out, Bit>,
    pub urx: UartRx,
    pub utx: UartTx,
    pub ctl: LinkCtl,
}

impl SqzLink {
    pub fn new(cfg: &DeviceConfig) -> Self {
        Self::with_timeout(cfg, frame_timeout_cycles(cfg))
    }

    /// With a given inactivity timeout (cycles) for partly received frames.
    pub fn with_timeout(cfg: &DeviceConfig, timeout_cycles: u64) -> Self {
        SqzLink {
            clock: Default::default(),
            reset: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            stream_select: Default::default(),
            stream_in_data: Default::default(),
            stream_in_valid: Default::default(),
            stream_in_ready: Default::default(),
            stream_out_data: Default::default(),
            stream_out_valid: Default::default(),
            stream_out_ready: Default::default(),
            bus_addr: Default::default(),
            bus_wdata: Default::default(),
            bus_write: Default::default(),
            bus_read: Default::default(),
            bus_rdata: Default::default(),
            bus_rvalid: Default::default(),
            start: Default::default(),
            core_reset: Default::default(),
            done: Default::default(),
            job_cycles: Default::default(),
            running: Default::default(),
            error: Default::default(),
            urx: UartRx::new(cfg.clock_hz, cfg.baud),
            utx: UartTx::new(cfg.clock_hz, cfg.baud),
            ctl: LinkCtl::new(cfg, timeout_cycles),
        }
    }
}

impl Logic for SqzLink {
    #[hdl_gen]
    fn update(&mut self) {
        self.urx.clock.next = self.clock.val();
        self.utx.clock.next = self.clock.val();
        self.ctl.clock.next = self.clock.val();
        self.urx.reset.next = self.reset.val();
        self.utx.reset.next = self.reset.val();
        self.ctl.reset.next = self.reset.val();
        self.urx.rx.next = self.uart_rx.val();
        self.uart_tx.next = self.utx.tx.val();

        // Byte source: UART receiver or stream port.
        self.ctl.in_data.next = self.urx.data.val();
        self.ctl.in_valid.next = self.urx.valid.val();
        self.stream_in_ready.next = false;
        self.ctl.in_unstoppable.next = self.urx.valid.val();
        if self.stream_select.val() {
            self.ctl.in_data.next = self.stream_in_data.val();
            self.ctl.in_valid.next = self.stream_in_valid.val();
            self.stream_in_ready.next = self.ctl.in_ready.val();
            self.ctl.in_unstoppable.next = false;
        }
        // Byte sink: UART transmitter or stream port.
        self.utx.data.next = self.ctl.out_data.val();
        self.stream_out_data.next = self.ctl.out_data.val();
        self.utx.start.next = self.ctl.out_valid.val() & !self.stream_select.val();
        self.stream_out_valid.next = self.ctl.out_valid.val() & self.stream_select.val();
        self.ctl.out_ready.next = self.utx.ready.val();
        if self.stream_select.val() {
            self.ctl.out_ready.next = self.stream_out_ready.val();
        }

        self.bus_addr.next = self.ctl.bus_addr.val();
        self.bus_wdata.next = self.ctl.bus_wdata.val();
        self.bus_write.next = self.ctl.bus_write.val();
        self.bus_read.next = self.ctl.bus_read.val();
        self.ctl.bus_rdata.next = self.bus_rdata.val();
        self.ctl.bus_rvalid.next = self.bus_rvalid.val();
        self.start.next = self.ctl.start.val();
        self.core_reset.next = self.ctl.core_reset.val();
        self.ctl.done.next = self.done.val();
        self.ctl.job_cycles.next = self.job_cycles.val();
        self.running.next = self.ctl.running.val();
        self.error.next = self.ctl.error.val();
    }
}

/// Verilog of [`SqzLink`] as module `name`.
pub fn link_verilog(cfg: &DeviceConfig, name: &str) -> String {
    let mut uut = SqzLink::new(cfg);
    uut.connect_all();
    let mut defs = ModuleDefines::default();
    uut.accept(name, &mut defs);
    defs.defines()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod vltest;
