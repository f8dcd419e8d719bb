//! The frame CRC's byte step, shared by the frame receiver and the answer sender.

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
