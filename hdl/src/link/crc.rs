//! The frame CRC: its byte step, and the one register the frame receiver and the answer
//! sender share.

use rust_hdl::prelude::*;

/// One CRC-16/CCITT-FALSE byte step (`common::protocol::crc16_step`), combinational.
#[derive(LogicBlock, Default)]
pub struct Crc16Step {
    pub crc: Signal<In, Bits<16>>,
    pub data: Signal<In, Bits<8>>,
    pub out: Signal<Out, Bits<16>>,
    x0: Signal<Local, Bits<8>>,
    x: Signal<Local, Bits<16>>,
}

impl Logic for Crc16Step {
    #[hdl_gen]
    fn update(&mut self) {
        self.x0.next = self.crc.val().get_bits::<8>(8) ^ self.data.val();
        self.x.next = bit_cast::<16, 8>(self.x0.val() ^ (self.x0.val() >> 4));
        self.out.next =
            (self.crc.val() << 8) ^ (self.x.val() << 12) ^ (self.x.val() << 5) ^ self.x.val();
    }
}

/// The CRC register of the frame in flight: the receiver checks a frame with it, the
/// sender then computes its answer's CRC in it. One frame is in flight, so the two never
/// use it in the same cycle (the receiver holds its frame while the answer is sent), and
/// one register and one byte step serve both.
#[derive(LogicBlock, Default)]
pub struct FrameCrc {
    pub clock: Signal<In, Clock>,
    /// Start a CRC (the initial value; wins over `add`).
    pub init: Signal<In, Bit>,
    /// Add the byte `data`.
    pub add: Signal<In, Bit>,
    pub data: Signal<In, Bits<8>>,
    /// The CRC of the bytes added since `init`.
    pub crc: Signal<Out, Bits<16>>,
    value: DFF<Bits<16>>,
    step: Crc16Step,
}

impl Logic for FrameCrc {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, value);
        self.step.crc.next = self.value.q.val();
        self.step.data.next = self.data.val();
        if self.add.val() {
            self.value.d.next = self.step.out.val();
        }
        if self.init.val() {
            self.value.d.next = 0xFFFF.into();
        }
        self.crc.next = self.value.q.val();
    }
}
