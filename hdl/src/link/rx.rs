//! The frame receiver: sync hunt, header, CRC-16 check, length bound and inactivity timeout
//! (`common::protocol::Decoder`'s state machine), and a Write's words into a word RAM.
//! One frame is in flight: after a frame ends the receiver holds it (and takes no bytes)
//! until the dispatcher and the answer sender are done with it (`resume`).

use crate::bram::Bram;
use common::protocol::{MAX_PAYLOAD, SYNC};
use rust_hdl::prelude::*;

// The kernel's literals: the sync bytes, and a Write's words after its 4 address bytes.
const _: () = assert!(SYNC[0] == 0xA5 && SYNC[1] == 0x5A);

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum RxS {
    Hunt0,
    Hunt1,
    Kind,
    Seq,
    Len0,
    Len1,
    Payload,
    Crc0,
    Crc1,
    /// A frame has ended: its fields hold still until `resume`.
    Held,
}

#[derive(LogicBlock)]
pub struct FrameRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Received bytes (valid/ready).
    pub in_data: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    /// A source that cannot wait (the UART) offers a byte: lost if `in_ready` is low.
    pub in_unstoppable: Signal<In, Bit>,
    /// A byte was lost that way.
    pub overrun: Signal<Out, Bit>,
    /// An answer is due: take no byte while hunting, and hold (`held`) instead.
    pub hold: Signal<In, Bit>,
    /// Done with the held frame: hunt for the next one.
    pub resume: Signal<In, Bit>,
    /// Hunting for a frame's first sync byte (`idle`), or holding a frame (`held`).
    pub idle: Signal<Out, Bit>,
    pub held: Signal<Out, Bit>,
    /// A frame with a good CRC has ended (its fields below are valid from the next cycle).
    pub frame: Signal<Out, Bit>,
    /// A frame failed its CRC, or announced a length over `MAX_PAYLOAD` (refused at once).
    pub crc_err: Signal<Out, Bit>,
    pub len_err: Signal<Out, Bit>,
    /// A partly received frame was dropped after `timeout` idle cycles (this wins over a byte
    /// accepted in the same cycle).
    pub timeout: Signal<Out, Bit>,
    pub kind: Signal<Out, Bits<8>>,
    pub seq: Signal<Out, Bits<8>>,
    pub len: Signal<Out, Bits<16>>,
    /// The first 6 payload bytes, little-endian: address (23:0), read count (47:32).
    pub arg: Signal<Out, Bits<48>>,
    /// Word `widx` of a Write (read latency 1).
    pub widx_r: Signal<In, Bits<9>>,
    pub word: Signal<Out, Bits<64>>,
    /// The frame CRC (`FrameCrc`, shared with the answer sender): start it (`crc_init`), add
    /// `in_data` (`crc_add`), and its value.
    pub crc_init: Signal<Out, Bit>,
    pub crc_add: Signal<Out, Bit>,
    pub crc: Signal<In, Bits<16>>,

    timeout_cycles: Constant<Bits<24>>,
    max_payload: Constant<Bits<16>>,
    state: DFF<RxS>,
    kind_r: DFF<Bits<8>>,
    seq_r: DFF<Bits<8>>,
    len_r: DFF<Bits<16>>,
    /// The payload length minus 1 (so the last-byte test is a compare, not an add and a compare).
    len_m1: DFF<Bits<16>>,
    /// The low length byte is above the payload bound's low byte (half of the bound check).
    len_lo_gt: DFF<Bit>,
    pcount: DFF<Bits<16>>,
    /// The CRC's low byte matched (checked when it came: the CRC holds still in `Crc0`).
    crc_lo_ok: DFF<Bit>,
    timer: DFF<Bits<24>>,
    arg_r: DFF<Bits<48>>,
    /// The even payload byte of a pair, until its odd byte comes.
    wlo: DFF<Bits<8>>,
    lane: DFF<Bits<3>>,
    widx: DFF<Bits<9>>,
    /// A Write's words, as four RAMs of byte pairs (bits 16k..16k+15 in `words[k]`): a pair
    /// is written when its odd byte comes, so no word-wide shift register is needed.
    words: Vec<Bram<16>>,
    /// The pair write, registered (its enable comes from the whole receive decision, too long
    /// a path into the RAMs): enable, RAM (`lane / 2`), word index, byte pair. The words are
    /// read after the frame's CRC bytes, long after the last write lands.
    wp_we: DFF<Bit>,
    wp_k: DFF<Bits<2>>,
    wp_a: DFF<Bits<9>>,
    wp_d: DFF<Bits<16>>,
    /// A byte pair is complete: write it into `words[lane / 2]`.
    wpair: Signal<Local, Bit>,
    len_next: Signal<Local, Bits<16>>,
    len_over: Signal<Local, Bit>,
    /// In a receive state past the first sync byte.
    decoding: Signal<Local, Bit>,
    /// Past the sync bytes: the inactivity timeout applies.
    in_frame: Signal<Local, Bit>,
    to_now: Signal<Local, Bit>,
    crc_ok: Signal<Local, Bit>,
}

impl FrameRx {
    /// `timeout_cycles`: how long a partly received frame may stay idle.
    pub fn new(timeout_cycles: u64) -> Self {
        assert!(timeout_cycles > 0 && timeout_cycles < 1 << 24);
        FrameRx {
            clock: Default::default(),
            reset: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_unstoppable: Default::default(),
            overrun: Default::default(),
            hold: Default::default(),
            resume: Default::default(),
            idle: Default::default(),
            held: Default::default(),
            frame: Default::default(),
            crc_err: Default::default(),
            len_err: Default::default(),
            timeout: Default::default(),
            kind: Default::default(),
            seq: Default::default(),
            len: Default::default(),
            arg: Default::default(),
            widx_r: Default::default(),
            word: Default::default(),
            crc_init: Default::default(),
            crc_add: Default::default(),
            crc: Default::default(),
            timeout_cycles: Constant::new(timeout_cycles.to_bits()),
            max_payload: Constant::new((MAX_PAYLOAD as u64).to_bits()),
            state: Default::default(),
            kind_r: Default::default(),
            seq_r: Default::default(),
            len_r: Default::default(),
            len_m1: Default::default(),
            len_lo_gt: Default::default(),
            pcount: Default::default(),
            crc_lo_ok: Default::default(),
            timer: Default::default(),
            arg_r: Default::default(),
            wlo: Default::default(),
            lane: Default::default(),
            widx: Default::default(),
            // Read in range by construction: no gating.
            words: (0..4).map(|_| Bram::new(256).ungated()).collect(),
            wp_we: Default::default(),
            wp_k: Default::default(),
            wp_a: Default::default(),
            wp_d: Default::default(),
            wpair: Default::default(),
            len_next: Default::default(),
            len_over: Default::default(),
            decoding: Default::default(),
            in_frame: Default::default(),
            to_now: Default::default(),
            crc_ok: Default::default(),
        }
    }
}

impl Logic for FrameRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, kind_r, seq_r, len_r, len_m1, len_lo_gt, pcount, crc_lo_ok, timer,
            arg_r, wlo, lane, widx, wp_we, wp_k, wp_a, wp_d
        );
        self.kind.next = self.kind_r.q.val();
        self.seq.next = self.seq_r.q.val();
        self.len.next = self.len_r.q.val();
        self.arg.next = self.arg_r.q.val();
        for k in 0..4 {
            self.words[k].clock.next = self.clock.val();
            self.words[k].raddr.next = bit_cast::<16, 9>(self.widx_r.val());
            self.words[k].waddr.next = bit_cast::<16, 9>(self.wp_a.q.val());
            self.words[k].we.next = self.wp_we.q.val() & (self.wp_k.q.val().index() == k);
            self.words[k].wdata.next = self.wp_d.q.val();
        }
        self.wp_k.d.next = self.lane.q.val().get_bits::<2>(1);
        self.wp_a.d.next = self.widx.q.val();
        self.wp_d.d.next =
            (bit_cast::<16, 8>(self.in_data.val()) << 8) | bit_cast::<16, 8>(self.wlo.q.val());
        self.word.next = bit_cast::<64, 16>(self.words[0].rdata.val())
            | (bit_cast::<64, 16>(self.words[1].rdata.val()) << 16)
            | (bit_cast::<64, 16>(self.words[2].rdata.val()) << 32)
            | (bit_cast::<64, 16>(self.words[3].rdata.val()) << 48);

        self.len_next.next = (bit_cast::<16, 8>(self.in_data.val()) << 8)
            | bit_cast::<16, 8>(self.len_r.q.val().get_bits::<8>(0));
        // The bound check of a length being received: high byte now, low byte from `Len0`.
        self.len_over.next = (self.in_data.val() > self.max_payload.val().get_bits::<8>(8))
            | ((self.in_data.val() == self.max_payload.val().get_bits::<8>(8))
                & self.len_lo_gt.q.val());
        self.crc_ok.next =
            self.crc_lo_ok.q.val() & (self.in_data.val() == self.crc.val().get_bits::<8>(8));

        // Bytes are taken only while decoding, or hunting when no answer is due.
        self.in_frame.next = (self.state.q.val() == RxS::Kind)
            | (self.state.q.val() == RxS::Seq)
            | (self.state.q.val() == RxS::Len0)
            | (self.state.q.val() == RxS::Len1)
            | (self.state.q.val() == RxS::Payload)
            | (self.state.q.val() == RxS::Crc0)
            | (self.state.q.val() == RxS::Crc1);
        self.decoding.next = self.in_frame.val() | (self.state.q.val() == RxS::Hunt1);
        self.in_ready.next =
            self.decoding.val() | ((self.state.q.val() == RxS::Hunt0) & !self.hold.val());
        self.idle.next = self.state.q.val() == RxS::Hunt0;
        self.held.next = self.state.q.val() == RxS::Held;
        self.overrun.next = self.in_unstoppable.val() & !self.in_ready.val();
        // A frame that stops part way is dropped: nothing the host sends can hang us.
        self.to_now.next = self.in_frame.val() & (self.timer.q.val() == self.timeout_cycles.val());
        self.timeout.next = self.to_now.val();
        self.frame.next = false;
        self.crc_err.next = false;
        self.len_err.next = false;
        self.wpair.next = false;
        self.crc_init.next = false;
        self.crc_add.next = false;

        // Inactivity timer: restarted by every byte taken.
        if self.in_valid.val() & self.in_ready.val() {
            self.timer.d.next = 0.into();
        } else {
            self.timer.d.next = self.timer.q.val() + 1;
        }
        // In the receive states below `in_ready` is 1 (in Hunt0: once no answer is due, the
        // branch that tests the byte), so a valid byte is an accepted one: testing `in_valid`
        // keeps the state decode of `in_ready` out of every register these states load.
        match self.state.q.val() {
            RxS::Hunt0 => {
                self.timer.d.next = 0.into();
                if self.hold.val() {
                    self.state.d.next = RxS::Held;
                } else if self.in_valid.val() & (self.in_data.val() == 0xA5) {
                    self.state.d.next = RxS::Hunt1;
                }
            }
            RxS::Hunt1 => {
                self.timer.d.next = 0.into();
                if self.in_valid.val() {
                    if self.in_data.val() == 0x5A {
                        self.crc_init.next = true;
                        self.state.d.next = RxS::Kind;
                    } else if self.in_data.val() != 0xA5 {
                        self.state.d.next = RxS::Hunt0;
                    }
                }
            }
            RxS::Kind => {
                if self.in_valid.val() {
                    self.kind_r.d.next = self.in_data.val();
                    self.crc_add.next = true;
                    self.state.d.next = RxS::Seq;
                }
            }
            RxS::Seq => {
                if self.in_valid.val() {
                    self.seq_r.d.next = self.in_data.val();
                    self.crc_add.next = true;
                    self.state.d.next = RxS::Len0;
                }
            }
            RxS::Len0 => {
                if self.in_valid.val() {
                    self.len_r.d.next = bit_cast::<16, 8>(self.in_data.val());
                    self.len_lo_gt.d.next =
                        self.in_data.val() > self.max_payload.val().get_bits::<8>(0);
                    self.crc_add.next = true;
                    self.state.d.next = RxS::Len1;
                }
            }
            RxS::Len1 => {
                if self.in_valid.val() {
                    self.len_r.d.next = self.len_next.val();
                    self.len_m1.d.next = self.len_next.val() - 1;
                    self.crc_add.next = true;
                    self.pcount.d.next = 0.into();
                    self.lane.d.next = 0.into();
                    self.widx.d.next = 0.into();
                    self.arg_r.d.next = 0.into();
                    if self.len_over.val() {
                        // Unbounded lengths are refused at once, not waited for (unless the
                        // timeout drops the frame in this cycle: then that is all).
                        self.len_err.next = !self.to_now.val();
                        self.state.d.next = RxS::Held;
                    } else if self.len_next.val() == 0 {
                        self.state.d.next = RxS::Crc0;
                    } else {
                        self.state.d.next = RxS::Payload;
                    }
                }
            }
            RxS::Payload => {
                if self.in_valid.val() {
                    self.crc_add.next = true;
                    self.pcount.d.next = self.pcount.q.val() + 1;
                    if self.pcount.q.val() < 6 {
                        self.arg_r.d.next = (self.arg_r.q.val() >> 8)
                            | (bit_cast::<48, 8>(self.in_data.val()) << 40);
                    }
                    // A Write's words start after its 4 address bytes.
                    if self.pcount.q.val() >= 4 {
                        self.lane.d.next = self.lane.q.val() + 1;
                        if self.lane.q.val().get_bit(0) {
                            self.wpair.next = true;
                        } else {
                            self.wlo.d.next = self.in_data.val();
                        }
                        if self.lane.q.val() == 7 {
                            self.widx.d.next = self.widx.q.val() + 1;
                        }
                    }
                    if self.pcount.q.val() == self.len_m1.q.val() {
                        self.state.d.next = RxS::Crc0;
                    }
                }
            }
            RxS::Crc0 => {
                if self.in_valid.val() {
                    self.crc_lo_ok.d.next = self.in_data.val() == self.crc.val().get_bits::<8>(0);
                    self.state.d.next = RxS::Crc1;
                }
            }
            RxS::Crc1 => {
                if self.in_valid.val() {
                    self.state.d.next = RxS::Held;
                    if self.crc_ok.val() {
                        self.frame.next = !self.to_now.val();
                    } else {
                        self.crc_err.next = !self.to_now.val();
                    }
                }
            }
            RxS::Held => {
                if self.resume.val() {
                    self.state.d.next = RxS::Hunt0;
                }
            }
            _ => {
                self.state.d.next = RxS::Hunt0;
            }
        }
        if self.to_now.val() | self.reset.val() {
            self.state.d.next = RxS::Hunt0;
        }
        self.wp_we.d.next = self.wpair.val();
    }
}
