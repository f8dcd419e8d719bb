//! The Status counters, the error flags and the bytes of the Info and Status answers.
//!
//! The counters live in a small RAM (`stats`) rather than in 256 flip-flops and a 34-way
//! byte mux: an event marks its counter pending, a sequencer adds one a byte at a time a few
//! cycles later, and the answer sender's reads of that RAM wait until nothing is pending (so
//! a Status answer counts every event before it, itself included). The same RAM holds the
//! constant Info answer from address 64 (rather than a 400-bit constant's byte mux).

use crate::bram::Bram;
use common::DeviceConfig;
use common::protocol::{INFO_LEN, Info, STATUS_LEN, flag};
use rust_hdl::prelude::*;

/// Where the Info answer starts in `stats`.
const INFO_BASE: usize = 64;

// The kernel's literals: the Status payload is busy, flags, then counter k (0 the last job's
// cycles, 1 jobs, 2 frames, 3 CRC errors, 4 timeouts, 5 bad frames, 6 overruns, 7 UART
// framing errors) at 2 + 4k; flag bit k is event k + 3's (CRC, timeout, bad frame, overrun)
// for k < 4, and bit 5 event 7's.
const _: () = {
    assert!(STATUS_LEN == 2 + 8 * 4 && INFO_LEN <= INFO_BASE && INFO_BASE == 64);
    assert!(flag::CRC == 1 && flag::TIMEOUT == 2 && flag::BAD == 4 && flag::OVERRUN == 8);
    assert!(flag::FRAMING == 32);
};

/// The counters' RAM and sequencer, the flags, and the answer-byte reads.
#[derive(LogicBlock)]
pub struct StatusCounters {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The `Reset` command: zero the counters and the flags.
    pub clear: Signal<In, Bit>,
    /// This cycle's events, one per counter: the job's cycles to store (a Run answered),
    /// a job done, a good frame, a CRC error, a timeout, a bad frame, an overrun, a UART
    /// byte with a low stop bit.
    pub ev_run: Signal<In, Bit>,
    pub ev_job: Signal<In, Bit>,
    pub ev_frame: Signal<In, Bit>,
    pub ev_crc: Signal<In, Bit>,
    pub ev_to: Signal<In, Bit>,
    pub ev_bad: Signal<In, Bit>,
    pub ev_ovr: Signal<In, Bit>,
    pub ev_frm: Signal<In, Bit>,
    /// The engine's cycle count of the last job (stored on `ev_run`).
    pub job_cycles: Signal<In, Bits<32>>,
    /// Status byte 0: a job is running.
    pub busy: Signal<In, Bit>,
    /// The answer being sent is Info (`rom_info`) or Status (`rom_status`); its next payload
    /// byte is at bit offset `bitoff`.
    pub rom_info: Signal<In, Bit>,
    pub rom_status: Signal<In, Bit>,
    pub bitoff: Signal<In, Bits<9>>,
    /// The payload byte at bit offset `rom_off` (`0x1FF` until a read is back).
    pub rom_byte: Signal<Out, Bits<8>>,
    pub rom_off: Signal<Out, Bits<9>>,
    /// The Status flags (`common::protocol::flag`).
    pub flags: Signal<Out, Bits<8>>,

    stats: Bram<8>,
    flags_r: DFF<Bits<8>>,
    rom_byte_r: DFF<Bits<8>>,
    rom_off_r: DFF<Bits<9>>,
    /// Counter k has an event to count (bit 0: the last job's cycles are to be stored).
    pend: DFF<Bits<8>>,
    /// Counter k has a second event to count: on the stream port two events of a kind can
    /// come while the counters are being zeroed.
    pend2: DFF<Bits<8>>,
    /// Some counter is pending: `pend.q.any()`, registered from `pend`'s next value so the
    /// counters' RAM address does not wait for the 8-input OR.
    pend_any: DFF<Bit>,
    /// The counter being updated (`sv_on`), its byte, and how far that byte's read is (0: the
    /// address is chosen, 1: it is in `st_raddr`, 2: the byte is in `stats.rdata`).
    sv_on: DFF<Bit>,
    sv_k: DFF<Bits<3>>,
    sv_i: DFF<Bits<2>>,
    sv_ph: DFF<Bits<2>>,
    /// Zeroing the counters (after reset or a Reset command): the next byte to clear.
    clr_on: DFF<Bit>,
    clr_a: DFF<Bits<6>>,
    /// `stats`' read address, registered: its select (clearing, counting or answering, and
    /// which answer) is a critical path in front of the LUT RAM.
    st_raddr: DFF<Bits<7>>,
    /// An Info or Status byte's address went into `st_raddr` last cycle (`st_v1`), or the byte
    /// was read from `stats` last cycle (`st_v`); at payload offset `st_off1` / `st_off` (bits).
    st_v1: DFF<Bit>,
    st_off1: DFF<Bits<9>>,
    st_v: DFF<Bit>,
    st_off: DFF<Bits<9>>,
    sv_base: Signal<Local, Bits<6>>,
    /// The address of byte `sv_i` of counter `sv_k`.
    sv_addr: Signal<Local, Bits<6>>,
    /// The bit offset of byte `sv_i` in a 32-bit counter.
    sv_off: Signal<Local, Bits<5>>,
    ev: Signal<Local, Bits<8>>,
    /// The lowest pending counter, whose update starts.
    pend_low: Signal<Local, Bits<8>>,
    /// `pend` without the update that starts, with the second events moved up.
    pend_left: Signal<Local, Bits<8>>,
    zero: Signal<Local, Bit>,
}

impl StatusCounters {
    pub fn new(cfg: &DeviceConfig) -> Self {
        let info = Info::new(cfg.clone()).encode();
        let mut init = vec![Bits::<8>::default(); INFO_BASE];
        init.extend(info.iter().map(|&b| Bits::<8>::from(b as u64)));
        StatusCounters {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            ev_run: Default::default(),
            ev_job: Default::default(),
            ev_frame: Default::default(),
            ev_crc: Default::default(),
            ev_to: Default::default(),
            ev_bad: Default::default(),
            ev_ovr: Default::default(),
            ev_frm: Default::default(),
            job_cycles: Default::default(),
            busy: Default::default(),
            rom_info: Default::default(),
            rom_status: Default::default(),
            bitoff: Default::default(),
            rom_byte: Default::default(),
            rom_off: Default::default(),
            flags: Default::default(),
            // In range by construction: no read gating.
            stats: Bram::new(2 * INFO_BASE).ungated().with_init(&init),
            flags_r: Default::default(),
            rom_byte_r: Default::default(),
            rom_off_r: Default::default(),
            pend: Default::default(),
            pend2: Default::default(),
            pend_any: Default::default(),
            sv_on: Default::default(),
            sv_k: Default::default(),
            sv_i: Default::default(),
            sv_ph: Default::default(),
            clr_on: Default::default(),
            clr_a: Default::default(),
            st_raddr: Default::default(),
            st_v1: Default::default(),
            st_off1: Default::default(),
            st_v: Default::default(),
            st_off: Default::default(),
            sv_base: Default::default(),
            sv_addr: Default::default(),
            sv_off: Default::default(),
            ev: Default::default(),
            pend_low: Default::default(),
            pend_left: Default::default(),
            zero: Default::default(),
        }
    }
}

impl Logic for StatusCounters {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, flags_r, rom_byte_r, rom_off_r, pend, pend2, pend_any, sv_on, sv_k, sv_i,
            sv_ph, clr_on, clr_a, st_raddr, st_v1, st_off1, st_v, st_off
        );
        self.flags.next = self.flags_r.q.val();
        self.rom_byte.next = self.rom_byte_r.q.val();
        self.rom_off.next = self.rom_off_r.q.val();
        self.zero.next = self.reset.val() | self.clear.val();
        self.ev.next = bit_cast::<8, 1>(self.ev_run.val().into())
            | (bit_cast::<8, 1>(self.ev_job.val().into()) << 1)
            | (bit_cast::<8, 1>(self.ev_frame.val().into()) << 2)
            | (bit_cast::<8, 1>(self.ev_crc.val().into()) << 3)
            | (bit_cast::<8, 1>(self.ev_to.val().into()) << 4)
            | (bit_cast::<8, 1>(self.ev_bad.val().into()) << 5)
            | (bit_cast::<8, 1>(self.ev_ovr.val().into()) << 6)
            | (bit_cast::<8, 1>(self.ev_frm.val().into()) << 7);
        // Flag bits 0..3 are the events of counters 3..6, bit 5 counter 7's.
        self.flags_r.d.next = self.flags_r.q.val()
            | bit_cast::<8, 4>(self.ev.val().get_bits::<4>(3))
            | (bit_cast::<8, 1>(self.ev_frm.val().into()) << 5);

        // The counters' RAM: zeroing, else one counter update at a time (read a byte, write it
        // plus one, and on to the next byte while it carries), else the answer's reads.
        // Events are at least a frame or a UART byte apart, and a Status answer waits until
        // every counted event is in the RAM, so it is exact.
        self.stats.clock.next = self.clock.val();
        self.stats.we.next = false;
        self.stats.wdata.next = self.stats.rdata.val() + 1;
        self.sv_base.next = (bit_cast::<6, 3>(self.sv_k.q.val()) << 2) + 2;
        self.sv_off.next = bit_cast::<5, 2>(self.sv_i.q.val()) << 3;
        self.sv_addr.next = self.sv_base.val() + bit_cast::<6, 2>(self.sv_i.q.val());
        self.stats.raddr.next = bit_cast::<16, 7>(self.st_raddr.q.val());
        self.st_raddr.d.next = bit_cast::<7, 6>(self.sv_addr.val());
        self.stats.waddr.next = bit_cast::<16, 6>(self.sv_addr.val());
        self.st_v1.d.next = false;
        self.st_v.d.next = self.st_v1.q.val();
        self.st_off.d.next = self.st_off1.q.val();
        self.sv_ph.d.next = 0.into();
        self.pend_low.next = 0.into();
        if self.clr_on.q.val() {
            self.stats.waddr.next = bit_cast::<16, 6>(self.clr_a.q.val());
            self.stats.wdata.next = 0.into();
            self.stats.we.next = true;
            self.clr_a.d.next = self.clr_a.q.val() + 1;
            if self.clr_a.q.val() == 33 {
                self.clr_on.d.next = false;
            }
        } else if self.sv_on.q.val() {
            if self.sv_k.q.val() == 0 {
                // The last job's cycles, byte by byte.
                self.stats.wdata.next = self
                    .job_cycles
                    .val()
                    .get_bits::<8>(self.sv_off.val().index());
                self.stats.we.next = true;
                self.sv_i.d.next = self.sv_i.q.val() + 1;
                if self.sv_i.q.val() == 3 {
                    self.sv_on.d.next = false;
                }
            } else if self.sv_ph.q.val() == 2 {
                // The byte read two cycles ago (`sv_i` and so the address held still since).
                self.stats.we.next = true;
                self.sv_i.d.next = self.sv_i.q.val() + 1;
                if (self.stats.rdata.val() != 0xFF) | (self.sv_i.q.val() == 3) {
                    self.sv_on.d.next = false;
                }
            } else {
                self.sv_ph.d.next = self.sv_ph.q.val() + 1;
            }
        } else if self.pend_any.q.val() {
            // The lowest pending counter.
            self.sv_on.d.next = true;
            self.sv_i.d.next = 0.into();
            self.sv_k.d.next = 7.into();
            if self.pend.q.val().get_bit(6) {
                self.sv_k.d.next = 6.into();
            }
            if self.pend.q.val().get_bit(5) {
                self.sv_k.d.next = 5.into();
            }
            if self.pend.q.val().get_bit(4) {
                self.sv_k.d.next = 4.into();
            }
            if self.pend.q.val().get_bit(3) {
                self.sv_k.d.next = 3.into();
            }
            if self.pend.q.val().get_bit(2) {
                self.sv_k.d.next = 2.into();
            }
            if self.pend.q.val().get_bit(1) {
                self.sv_k.d.next = 1.into();
            }
            if self.pend.q.val().get_bit(0) {
                self.sv_k.d.next = 0.into();
            }
            self.pend_low.next = self.pend.q.val() & (!self.pend.q.val() + 1);
        } else if self.rom_info.val() | self.rom_status.val() {
            // Status from address 0, Info from 64.
            self.st_raddr.d.next = bit_cast::<7, 6>(self.bitoff.val().get_bits::<6>(3));
            if self.rom_info.val() {
                self.st_raddr.d.next = bit_cast::<7, 6>(self.bitoff.val().get_bits::<6>(3)) + 64;
            }
            self.st_v1.d.next = true;
            self.st_off1.d.next = self.bitoff.val();
        }
        // Info and Status bytes come from `stats` (read last cycle), but for Status bytes 0
        // and 1, which are flip-flops; until that read is done `rom_off` names no byte.
        self.rom_off_r.d.next = 0x1FF.into();
        if self.st_v.q.val() {
            self.rom_off_r.d.next = self.st_off.q.val();
            self.rom_byte_r.d.next = self.stats.rdata.val();
            if self.rom_status.val() {
                if self.st_off.q.val() == 0 {
                    self.rom_byte_r.d.next = bit_cast::<8, 1>(self.busy.val().into());
                }
                if self.st_off.q.val() == 8 {
                    self.rom_byte_r.d.next = self.flags_r.q.val();
                }
            }
        }
        if self.zero.val() {
            self.flags_r.d.next = 0.into();
            self.clr_on.d.next = true;
        }
        // Pending counter updates: this cycle's events in, the update that starts out. Zeroing
        // drops what was pending when it starts (events during it are counted after it); a
        // reset or Reset command while a zeroing runs starts it again.
        self.pend_left.next =
            (self.pend.q.val() & !self.pend_low.val()) | (self.pend2.q.val() & self.pend_low.val());
        self.pend.d.next = self.pend_left.val() | self.ev.val();
        self.pend2.d.next =
            (self.pend2.q.val() & !self.pend_low.val()) | (self.pend_left.val() & self.ev.val());
        if self.zero.val() {
            self.pend.d.next = 0.into();
            self.pend2.d.next = 0.into();
            self.sv_on.d.next = false;
            self.clr_a.d.next = 2.into();
        }
        self.pend_any.d.next = self.pend.d.val().any();
    }
}
