//! The device side of the host link: UART (or a byte-stream port) → frame receiver →
//! command dispatcher → the engine's bus and start ports, and the answers back through
//! the answer sender; the status counters count what happens. One frame is in flight:
//! bytes that arrive while a frame is executed or answered are refused (`in_ready` low;
//! lost UART bytes are counted as overruns). The frame format and semantics are
//! `common::protocol`'s. [`SqzLink`] is everything in `sqz_top` except the engine itself.

mod crc;
mod dispatch;
mod hold;
mod rx;
mod stats;
mod top;
mod tx;
mod uart;

pub use crc::{Crc16Step, FrameCrc};
pub use dispatch::Dispatcher;
pub use hold::WordHold;
pub use rx::FrameRx;
pub use stats::StatusCounters;
pub use top::{top_verilog, top_verilog_with};
pub use tx::AnswerTx;
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
    pub rx: FrameRx,
    pub disp: Dispatcher,
    pub tx: AnswerTx,
    pub stats: StatusCounters,
    /// The receiver's and the sender's CRC: one frame is in flight, so one register.
    pub frame_crc: FrameCrc,
}

pub use common::protocol::frame_timeout_cycles;

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
            rx: FrameRx::new(timeout_cycles),
            // The lean engine registers its bus write data and holds its read answers: the
            // link keeps no copy of either.
            disp: Dispatcher::new(cfg.lean()),
            tx: AnswerTx::new(cfg.lean()),
            stats: StatusCounters::new(cfg),
            frame_crc: Default::default(),
        }
    }
}

impl Logic for SqzLink {
    #[hdl_gen]
    fn update(&mut self) {
        self.urx.clock.next = self.clock.val();
        self.utx.clock.next = self.clock.val();
        self.rx.clock.next = self.clock.val();
        self.disp.clock.next = self.clock.val();
        self.tx.clock.next = self.clock.val();
        self.stats.clock.next = self.clock.val();
        self.frame_crc.clock.next = self.clock.val();
        self.urx.reset.next = self.reset.val();
        self.utx.reset.next = self.reset.val();
        self.rx.reset.next = self.reset.val();
        self.disp.reset.next = self.reset.val();
        self.tx.reset.next = self.reset.val();
        self.stats.reset.next = self.reset.val();
        self.urx.rx.next = self.uart_rx.val();
        self.uart_tx.next = self.utx.tx.val();

        // Byte source: UART receiver or stream port.
        self.rx.in_data.next = self.urx.data.val();
        self.rx.in_valid.next = self.urx.valid.val();
        self.stream_in_ready.next = false;
        self.rx.in_unstoppable.next = self.urx.valid.val();
        if self.stream_select.val() {
            self.rx.in_data.next = self.stream_in_data.val();
            self.rx.in_valid.next = self.stream_in_valid.val();
            self.stream_in_ready.next = self.rx.in_ready.val();
            self.rx.in_unstoppable.next = false;
        }
        // Byte sink: UART transmitter or stream port.
        self.utx.data.next = self.tx.out_data.val();
        self.stream_out_data.next = self.tx.out_data.val();
        self.utx.start.next = self.tx.out_valid.val() & !self.stream_select.val();
        self.stream_out_valid.next = self.tx.out_valid.val() & self.stream_select.val();
        self.tx.out_ready.next = self.utx.ready.val();
        if self.stream_select.val() {
            self.tx.out_ready.next = self.stream_out_ready.val();
        }

        // The CRC: the sender's byte while one is pending (the receiver holds its frame
        // then), else the received byte.
        self.frame_crc.init.next = self.rx.crc_init.val() | self.tx.crc_init.val();
        self.frame_crc.add.next = self.rx.crc_add.val() | self.tx.crc_add.val();
        self.frame_crc.data.next = self.rx.in_data.val();
        if self.tx.crc_add.val() {
            self.frame_crc.data.next = self.tx.crc_data.val();
        }
        self.rx.crc.next = self.frame_crc.crc.val();
        self.tx.crc.next = self.frame_crc.crc.val();

        // Receiver → dispatcher.
        self.rx.hold.next = self.disp.hold.val();
        self.rx.resume.next = self.disp.resume.val();
        self.rx.widx_r.next = self.disp.widx.val();
        self.disp.rx_idle.next = self.rx.idle.val();
        self.disp.rx_frame.next = self.rx.frame.val();
        self.disp.rx_crc_err.next = self.rx.crc_err.val();
        self.disp.rx_len_err.next = self.rx.len_err.val();
        self.disp.rx_timeout.next = self.rx.timeout.val();
        self.disp.rx_kind.next = self.rx.kind.val();
        self.disp.rx_seq.next = self.rx.seq.val();
        self.disp.rx_len.next = self.rx.len.val();
        self.disp.rx_arg.next = self.rx.arg.val();
        self.disp.rx_word.next = self.rx.word.val();
        // Dispatcher → answer sender.
        self.tx.go.next = self.disp.go.val();
        self.tx.go_kind.next = self.disp.go_kind.val();
        self.tx.go_len.next = self.disp.go_len.val();
        self.tx.go_nak.next = self.disp.go_nak.val();
        self.tx.seq.next = self.disp.ans_seq.val();
        self.tx.job_cycles.next = self.job_cycles.val();
        self.tx.rdata.next = self.bus_rdata.val();
        self.tx.rvalid.next = self.bus_rvalid.val();
        self.disp.tx_fetch.next = self.tx.fetch.val();
        self.disp.tx_fetched.next = self.tx.fetched.val();
        self.disp.tx_finished.next = self.tx.finished.val();
        // Status counters: events in, Info/Status bytes out to the sender.
        self.stats.clear.next = self.disp.clear.val();
        self.stats.ev_run.next = self.disp.ev_run.val();
        self.stats.ev_job.next = self.disp.ev_job.val();
        self.stats.ev_frame.next = self.disp.ev_frame.val();
        self.stats.ev_crc.next = self.rx.crc_err.val();
        self.stats.ev_to.next = self.rx.timeout.val();
        self.stats.ev_bad.next = self.disp.ev_bad.val();
        self.stats.ev_ovr.next = self.rx.overrun.val();
        self.stats.ev_frm.next = self.urx.framing_error.val() & !self.stream_select.val();
        self.stats.job_cycles.next = self.job_cycles.val();
        self.stats.busy.next = self.disp.busy.val();
        self.stats.rom_info.next = self.tx.rom_info.val();
        self.stats.rom_status.next = self.tx.rom_status.val();
        self.stats.bitoff.next = self.tx.bitoff.val();
        self.tx.rom_byte.next = self.stats.rom_byte.val();
        self.tx.rom_off.next = self.stats.rom_off.val();

        // The engine.
        self.bus_addr.next = self.disp.bus_addr.val();
        self.bus_wdata.next = self.disp.bus_wdata.val();
        self.bus_write.next = self.disp.bus_write.val();
        self.bus_read.next = self.disp.bus_read.val();
        self.start.next = self.disp.start.val();
        self.core_reset.next = self.disp.core_reset.val();
        self.disp.done.next = self.done.val();
        // Busy LED: a job runs or its answer is due, or a frame is executed or answered.
        self.running.next = self.disp.busy.val() | self.rx.held.val();
        self.error.next = self.stats.flags.val().any();
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
mod unit;

#[cfg(test)]
mod unit_ctl;

#[cfg(test)]
mod vltest;
