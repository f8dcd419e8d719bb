//! The answer sender: header, payload and CRC-16 of one answer frame, byte by byte onto a
//! valid/ready sink. Payload bytes are picked from words that hold still while they are
//! sent (a Read's engine word, the job's cycle count, the NAK reason, or the Info/Status
//! byte the status counters read), so no word-wide shift register is needed.

use common::protocol::{ANSWER, NAK, SYNC, kind};
use rust_hdl::prelude::*;

use super::hold::WordHold;

// The kernel's literals: the sync bytes.
const _: () = assert!(SYNC[0] == 0xA5 && SYNC[1] == 0x5A);

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum TxS {
    Idle,
    Hdr,
    Pay,
    /// A Read's next word: ask the engine (`fetch`), then wait for it.
    Fetch,
    Wait,
    Crc0,
    Crc1,
}

#[derive(LogicBlock)]
pub struct AnswerTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Send an answer of type `go_kind`, payload length `go_len` (a NAK: reason `go_nak`).
    pub go: Signal<In, Bit>,
    pub go_kind: Signal<In, Bits<8>>,
    pub go_len: Signal<In, Bits<16>>,
    pub go_nak: Signal<In, Bits<3>>,
    /// The answer's sequence number (held while it is sent).
    pub seq: Signal<In, Bits<8>>,
    // Bytes to send (valid/ready).
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    /// A Run answer's payload (the engine's count holds still: no job starts meanwhile).
    pub job_cycles: Signal<In, Bits<32>>,
    /// A Read's words: `fetch` asks for the next one, `fetched` takes it from `rdata`.
    pub fetch: Signal<Out, Bit>,
    pub fetched: Signal<Out, Bit>,
    pub rdata: Signal<In, Bits<64>>,
    pub rvalid: Signal<In, Bit>,
    /// The last byte was sent.
    pub finished: Signal<Out, Bit>,
    /// An Info or Status answer: its payload byte at bit offset `bitoff` comes as `rom_byte`
    /// once `rom_off` equals `bitoff`.
    pub rom_info: Signal<Out, Bit>,
    pub rom_status: Signal<Out, Bit>,
    pub bitoff: Signal<Out, Bits<9>>,
    pub rom_byte: Signal<In, Bits<8>>,
    pub rom_off: Signal<In, Bits<9>>,
    /// The frame CRC (`FrameCrc`, shared with the receiver): start it (`crc_init`), add
    /// `crc_data` (`crc_add`), and its value.
    pub crc_init: Signal<Out, Bit>,
    pub crc_add: Signal<Out, Bit>,
    pub crc_data: Signal<Out, Bits<8>>,
    pub crc: Signal<In, Bits<16>>,

    a_info: Constant<Bits<8>>,
    a_status: Constant<Bits<8>>,
    a_read: Constant<Bits<8>>,
    a_run: Constant<Bits<8>>,
    a_nak: Constant<Bits<8>>,
    state: DFF<TxS>,
    rkind: DFF<Bits<8>>,
    /// The payload length, then (while the payload is sent) the bytes left.
    rlen: DFF<Bits<16>>,
    nak: DFF<Bits<3>>,
    /// Header byte index.
    hcount: DFF<Bits<3>>,
    /// The payload byte's offset in bits (its low bits pick the byte of a word).
    bitoff_r: DFF<Bits<9>>,
    /// An answer byte sent last cycle still to go into the CRC (`tx_b`): the CRC step runs a
    /// cycle after the send, off the answer byte's select (a critical path otherwise); the
    /// CRC bytes wait for it.
    tx_pend: DFF<Bit>,
    tx_b: DFF<Bits<8>>,
    /// The Read's word being sent: a register, or (lean) the engine's held answer itself.
    pay: WordHold,
    hdr_byte: Signal<Local, Bits<8>>,
    /// The answer's payload word (a Read's word, a Run's cycles, a NAK's reason).
    pay_word: Signal<Local, Bits<64>>,
    lane_off: Signal<Local, Bits<6>>,
    pay_byte: Signal<Local, Bits<8>>,
    out_byte: Signal<Local, Bits<8>>,
    is_rom: Signal<Local, Bit>,
    send: Signal<Local, Bit>,
}

impl AnswerTx {
    /// `lean`: the engine holds its read answer until the next read, so the link keeps no
    /// copy.
    pub fn new(lean: bool) -> Self {
        let a = |k: u8| Constant::new(((k | ANSWER) as u64).to_bits());
        AnswerTx {
            clock: Default::default(),
            reset: Default::default(),
            go: Default::default(),
            go_kind: Default::default(),
            go_len: Default::default(),
            go_nak: Default::default(),
            seq: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            job_cycles: Default::default(),
            fetch: Default::default(),
            fetched: Default::default(),
            rdata: Default::default(),
            rvalid: Default::default(),
            finished: Default::default(),
            rom_info: Default::default(),
            rom_status: Default::default(),
            bitoff: Default::default(),
            rom_byte: Default::default(),
            rom_off: Default::default(),
            crc_init: Default::default(),
            crc_add: Default::default(),
            crc_data: Default::default(),
            crc: Default::default(),
            a_info: a(kind::INFO),
            a_status: a(kind::STATUS),
            a_read: a(kind::READ),
            a_run: a(kind::RUN),
            a_nak: Constant::new((NAK as u64).to_bits()),
            state: Default::default(),
            rkind: Default::default(),
            rlen: Default::default(),
            nak: Default::default(),
            hcount: Default::default(),
            bitoff_r: Default::default(),
            tx_pend: Default::default(),
            tx_b: Default::default(),
            pay: if lean {
                WordHold::wire()
            } else {
                WordHold::reg()
            },
            hdr_byte: Default::default(),
            pay_word: Default::default(),
            lane_off: Default::default(),
            pay_byte: Default::default(),
            out_byte: Default::default(),
            is_rom: Default::default(),
            send: Default::default(),
        }
    }
}

impl Logic for AnswerTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, rkind, rlen, nak, hcount, bitoff_r, tx_pend, tx_b
        );
        self.pay.clock.next = self.clock.val();
        self.pay.d.next = self.rdata.val();
        self.pay.en.next = (self.state.q.val() == TxS::Wait) & self.rvalid.val();
        self.fetched.next = (self.state.q.val() == TxS::Wait) & self.rvalid.val();
        self.fetch.next = self.state.q.val() == TxS::Fetch;
        self.bitoff.next = self.bitoff_r.q.val();
        self.rom_info.next = self.rkind.q.val() == self.a_info.val();
        self.rom_status.next = self.rkind.q.val() == self.a_status.val();
        self.is_rom.next =
            (self.rkind.q.val() == self.a_info.val()) | (self.rkind.q.val() == self.a_status.val());

        self.hdr_byte.next = 0xA5.into();
        if self.hcount.q.val() == 1 {
            self.hdr_byte.next = 0x5A.into();
        }
        if self.hcount.q.val() == 2 {
            self.hdr_byte.next = self.rkind.q.val();
        }
        if self.hcount.q.val() == 3 {
            self.hdr_byte.next = self.seq.val();
        }
        if self.hcount.q.val() == 4 {
            self.hdr_byte.next = self.rlen.q.val().get_bits::<8>(0);
        }
        if self.hcount.q.val() == 5 {
            self.hdr_byte.next = self.rlen.q.val().get_bits::<8>(8);
        }
        self.pay_word.next = self.pay.q.val();
        if self.rkind.q.val() == self.a_run.val() {
            self.pay_word.next = bit_cast::<64, 32>(self.job_cycles.val());
        }
        if self.rkind.q.val() == self.a_nak.val() {
            self.pay_word.next = bit_cast::<64, 3>(self.nak.q.val());
        }
        self.lane_off.next = bit_cast::<6, 3>(self.bitoff_r.q.val().get_bits::<3>(3)) << 3;
        self.pay_byte.next = self
            .pay_word
            .val()
            .get_bits::<8>(self.lane_off.val().index());
        // `is_rom`, spelled out: reading that local here as well makes Verilator see a
        // combinational loop through the CRC step (UNOPTFLAT).
        if (self.rkind.q.val() == self.a_info.val()) | (self.rkind.q.val() == self.a_status.val()) {
            self.pay_byte.next = self.rom_byte.val();
        }
        self.out_byte.next = self.hdr_byte.val();
        if self.state.q.val() == TxS::Pay {
            self.out_byte.next = self.pay_byte.val();
        }
        if self.state.q.val() == TxS::Crc0 {
            self.out_byte.next = self.crc.val().get_bits::<8>(0);
        }
        if self.state.q.val() == TxS::Crc1 {
            self.out_byte.next = self.crc.val().get_bits::<8>(8);
        }
        self.out_data.next = self.out_byte.val();
        self.crc_add.next = self.tx_pend.q.val();
        self.crc_data.next = self.tx_b.q.val();
        self.out_valid.next = (self.state.q.val() == TxS::Hdr)
            | ((self.state.q.val() == TxS::Pay)
                & ((self.rom_off.val() == self.bitoff_r.q.val()) | !self.is_rom.val()))
            | ((self.state.q.val() == TxS::Crc0) & !self.tx_pend.q.val())
            | (self.state.q.val() == TxS::Crc1);
        self.send.next = self.out_valid.val() & self.out_ready.val();
        // Spelled out (`out_valid` is high in `Crc1`), apart from `send`, which the state
        // machine reads: Verilator orders an always block's statements that share a variable
        // as one, and `go` -> `finished` would close a loop through the dispatcher.
        self.finished.next = (self.state.q.val() == TxS::Crc1) & self.out_ready.val();

        // The CRC step of the byte sent last cycle (`crc_add` above); the CRC starts with
        // the first header byte's send, which no byte is pending for.
        self.tx_pend.d.next = false;
        self.tx_b.d.next = self.out_byte.val();
        self.crc_init.next = false;
        match self.state.q.val() {
            TxS::Idle => {
                if self.go.val() {
                    self.rkind.d.next = self.go_kind.val();
                    self.rlen.d.next = self.go_len.val();
                    self.nak.d.next = self.go_nak.val();
                    self.hcount.d.next = 0.into();
                    self.bitoff_r.d.next = 0.into();
                    self.state.d.next = TxS::Hdr;
                }
            }
            TxS::Hdr => {
                if self.send.val() {
                    self.hcount.d.next = self.hcount.q.val() + 1;
                    if self.hcount.q.val() == 0 {
                        self.crc_init.next = true;
                    }
                    // The CRC covers the header from the type byte.
                    if self.hcount.q.val() >= 2 {
                        self.tx_pend.d.next = true;
                    }
                    if self.hcount.q.val() == 5 {
                        if self.rlen.q.val() == 0 {
                            self.state.d.next = TxS::Crc0;
                        } else if self.rkind.q.val() == self.a_read.val() {
                            self.state.d.next = TxS::Fetch;
                        } else {
                            self.state.d.next = TxS::Pay;
                        }
                    }
                }
            }
            TxS::Pay => {
                if self.send.val() {
                    self.tx_pend.d.next = true;
                    self.rlen.d.next = self.rlen.q.val() - 1;
                    self.bitoff_r.d.next = self.bitoff_r.q.val() + 8;
                    if self.rlen.q.val() == 1 {
                        self.state.d.next = TxS::Crc0;
                    } else if (self.rkind.q.val() == self.a_read.val())
                        & (self.bitoff_r.q.val().get_bits::<3>(3) == 7)
                    {
                        self.state.d.next = TxS::Fetch;
                    }
                }
            }
            TxS::Fetch => {
                self.state.d.next = TxS::Wait;
            }
            TxS::Wait => {
                if self.rvalid.val() {
                    self.state.d.next = TxS::Pay;
                }
            }
            TxS::Crc0 => {
                if self.send.val() {
                    self.state.d.next = TxS::Crc1;
                }
            }
            TxS::Crc1 => {
                if self.send.val() {
                    self.state.d.next = TxS::Idle;
                }
            }
            _ => {
                self.state.d.next = TxS::Idle;
            }
        }
        if self.reset.val() {
            self.state.d.next = TxS::Idle;
        }
    }
}
