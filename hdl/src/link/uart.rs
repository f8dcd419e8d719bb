//! 8N1 UART receiver and transmitter with a fractional (phase-accumulator) baud generator,
//! so a clock that is not a multiple of the baud rate (100 MHz / 3 Mbaud = 33.3) keeps the
//! exact average bit period. The receiver watches the line every clock cycle, times the
//! bit centres from the start-bit edge and checks the start and stop bits, so it tolerates
//! several percent of baud mismatch.

use rust_hdl::prelude::*;

/// Phase increment per clock cycle: `baud / clock_hz` in 16-bit fixed point.
pub fn baud_increment(clock_hz: u32, baud: u32) -> u64 {
    assert!(
        baud > 0 && (baud as u64) * 4 <= clock_hz as u64,
        "UART needs at least 4 clock cycles per bit ({clock_hz} Hz / {baud} baud)"
    );
    ((baud as u64) << 16).div_ceil(clock_hz as u64).max(1)
}

/// Accumulator value at the start edge: half a bit to the centre of the start bit, less
/// the 1.5 cycles (on average) by which the synchronizer and edge detection see the edge late.
fn half_start(clock_hz: u32, baud: u32) -> u64 {
    0x8000 + baud_increment(clock_hz, baud) * 3 / 2
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum RxState {
    Idle,
    Start,
    Data,
    Stop,
}

#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    /// The received byte, valid while `valid` is high.
    pub data: Signal<Out, Bits<8>>,
    /// One-cycle pulse per received byte.
    pub valid: Signal<Out, Bit>,
    /// One-cycle pulse for a byte dropped because its stop bit was low.
    pub framing_error: Signal<Out, Bit>,
    inc: Constant<Bits<17>>,
    half: Constant<Bits<17>>,
    sync1: DFF<Bit>,
    sync2: DFF<Bit>,
    state: DFF<RxState>,
    acc: DFF<Bits<17>>,
    nbit: DFF<Bits<3>>,
    shift: DFF<Bits<8>>,
    tick: Signal<Local, Bit>,
}

impl UartRx {
    pub fn new(clock_hz: u32, baud: u32) -> Self {
        UartRx {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            framing_error: Default::default(),
            inc: Constant::new(baud_increment(clock_hz, baud).to_bits()),
            half: Constant::new(half_start(clock_hz, baud).to_bits()),
            sync1: Default::default(),
            sync2: Default::default(),
            state: Default::default(),
            acc: Default::default(),
            nbit: Default::default(),
            shift: Default::default(),
            tick: Default::default(),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sync1, sync2, state, acc, nbit, shift);
        // Two flops against metastability on the asynchronous line.
        self.sync1.d.next = self.rx.val();
        self.sync2.d.next = self.sync1.q.val();
        self.tick.next = self.acc.q.val().get_bit(16);
        self.acc.d.next = bit_cast::<17, 16>(self.acc.q.val().get_bits::<16>(0)) + self.inc.val();
        self.valid.next = false;
        self.framing_error.next = false;
        self.data.next = self.shift.q.val();
        match self.state.q.val() {
            RxState::Idle => {
                if !self.sync2.q.val() {
                    // Start edge: the first tick comes half a bit later, mid start bit.
                    self.acc.d.next = self.half.val();
                    self.state.d.next = RxState::Start;
                }
            }
            RxState::Start => {
                if self.tick.val() {
                    self.nbit.d.next = 0.into();
                    if self.sync2.q.val() {
                        // A glitch, not a start bit.
                        self.state.d.next = RxState::Idle;
                    } else {
                        self.state.d.next = RxState::Data;
                    }
                }
            }
            RxState::Data => {
                if self.tick.val() {
                    // LSB first.
                    self.shift.d.next =
                        (self.shift.q.val() >> 1).replace_bit(7, self.sync2.q.val());
                    self.nbit.d.next = self.nbit.q.val() + 1;
                    if self.nbit.q.val() == 7 {
                        self.state.d.next = RxState::Stop;
                    }
                }
            }
            RxState::Stop => {
                if self.tick.val() {
                    if self.sync2.q.val() {
                        self.valid.next = true;
                    } else {
                        self.framing_error.next = true;
                    }
                    // Back to idle mid stop bit: a slightly fast sender's next start edge is seen.
                    self.state.d.next = RxState::Idle;
                }
            }
            _ => {
                self.state.d.next = RxState::Idle;
            }
        }
        if self.reset.val() {
            self.state.d.next = RxState::Idle;
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum TxState {
    Idle,
    Busy,
}

#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Byte to send, taken when `start` and `ready` are both high.
    pub data: Signal<In, Bits<8>>,
    pub start: Signal<In, Bit>,
    pub ready: Signal<Out, Bit>,
    pub tx: Signal<Out, Bit>,
    inc: Constant<Bits<17>>,
    state: DFF<TxState>,
    acc: DFF<Bits<17>>,
    count: DFF<Bits<4>>,
    /// Stop bit, data, start bit; bit 0 is on the line.
    shift: DFF<Bits<10>>,
    line: DFF<Bit>,
}

impl UartTx {
    pub fn new(clock_hz: u32, baud: u32) -> Self {
        UartTx {
            clock: Default::default(),
            reset: Default::default(),
            data: Default::default(),
            start: Default::default(),
            ready: Default::default(),
            tx: Default::default(),
            inc: Constant::new(baud_increment(clock_hz, baud).to_bits()),
            state: Default::default(),
            acc: Default::default(),
            count: Default::default(),
            shift: Default::default(),
            line: Default::default(),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, acc, count, shift, line);
        // Registered output: no glitches on the line.
        self.tx.next = !self.line.q.val();
        self.ready.next = self.state.q.val() == TxState::Idle;
        self.line.d.next = false;
        match self.state.q.val() {
            TxState::Idle => {
                if self.start.val() {
                    self.shift.d.next =
                        (bit_cast::<10, 8>(self.data.val()) << 1).replace_bit(9, true);
                    self.acc.d.next = 0.into();
                    self.count.d.next = 0.into();
                    self.state.d.next = TxState::Busy;
                }
            }
            TxState::Busy => {
                self.line.d.next = !self.shift.q.val().get_bit(0);
                self.acc.d.next =
                    bit_cast::<17, 16>(self.acc.q.val().get_bits::<16>(0)) + self.inc.val();
                if self.acc.q.val().get_bit(16) {
                    self.shift.d.next = self.shift.q.val() >> 1;
                    self.line.d.next = !self.shift.q.val().get_bit(1);
                    self.count.d.next = self.count.q.val() + 1;
                    if self.count.q.val() == 9 {
                        self.line.d.next = false;
                        self.state.d.next = TxState::Idle;
                    }
                }
            }
            _ => {
                self.state.d.next = TxState::Idle;
            }
        }
        if self.reset.val() {
            self.state.d.next = TxState::Idle;
            self.line.d.next = false;
        }
    }
}
