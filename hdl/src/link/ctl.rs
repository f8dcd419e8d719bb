//! The link controller: frame decoder (sync hunt, CRC-16 check, length bound, inactivity
//! timeout), command dispatcher onto the engine's bus and start ports, and the answer
//! encoder. One FSM, so exactly one frame is in flight: bytes that arrive while an answer
//! is being sent are refused (`in_ready` low; lost UART bytes are counted as overruns).
//! The frame format and semantics are `common::protocol`'s. The Status counters live in a
//! small RAM (`stats`): an event marks its counter pending, a sequencer adds one a byte at a
//! time a few cycles later, and a Status answer reads its bytes from the RAM once nothing is
//! pending (so it counts every event before it, itself included). The same RAM holds the
//! constant Info answer. Payload words are written as byte pairs, and answer bytes are picked
//! from words that hold still while they are sent, so no word-wide shift registers are needed.

use crate::bram::Bram;
use common::DeviceConfig;
use common::protocol::{self, Info, MAX_PAYLOAD, NAK, NakReason, kind};
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

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum S {
    Hunt0,
    Hunt1,
    Kind,
    Seq,
    Len0,
    Len1,
    Payload,
    Crc0,
    Crc1,
    Exec,
    WrRead,
    WrBus,
    TxHdr,
    TxPay,
    TxFetch,
    TxWait,
    TxCrc0,
    TxCrc1,
}

#[derive(LogicBlock)]
pub struct LinkCtl {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Received bytes (valid/ready).
    pub in_data: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    /// A source that cannot wait (the UART) offers a byte: lost, and counted as an
    /// overrun, if `in_ready` is low.
    pub in_unstoppable: Signal<In, Bit>,
    // Bytes to send (valid/ready).
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    // The engine (`sqz_core` ports).
    pub bus_addr: Signal<Out, Bits<24>>,
    pub bus_wdata: Signal<Out, Bits<64>>,
    pub bus_write: Signal<Out, Bit>,
    pub bus_read: Signal<Out, Bit>,
    pub bus_rdata: Signal<In, Bits<64>>,
    pub bus_rvalid: Signal<In, Bit>,
    pub start: Signal<Out, Bit>,
    /// Reset the engine: a registered pulse after the `Reset` command, and while `reset`.
    pub core_reset: Signal<Out, Bit>,
    pub done: Signal<In, Bit>,
    pub job_cycles: Signal<In, Bits<32>>,
    /// A job is running (or its answer is not sent yet), or a received frame is being
    /// executed or answered: the device is not waiting for the host (busy LED).
    pub running: Signal<Out, Bit>,
    /// Some error flag is set.
    pub error: Signal<Out, Bit>,

    timeout: Constant<Bits<24>>,
    max_payload: Constant<Bits<16>>,
    /// The lean (iCE40) build: the engine registers the write data itself, so it comes
    /// straight from the word RAM here (it holds the word the cycle after `WrBus`).
    lean: Constant<Bit>,

    state: DFF<S>,
    kind: DFF<Bits<8>>,
    seq: DFF<Bits<8>>,
    len: DFF<Bits<16>>,
    /// The payload length minus 1 (so the last-byte test is a compare, not an add and a compare).
    len_m1: DFF<Bits<16>>,
    /// The low length byte is above the payload bound's low byte (half of the bound check).
    len_lo_gt: DFF<Bit>,
    /// `known` and `len_ok` registered: the frame is complete and stable when they are used.
    known_r: DFF<Bit>,
    len_ok_r: DFF<Bit>,
    pcount: DFF<Bits<16>>,
    crc: DFF<Bits<16>>,
    /// An answer byte sent last cycle still to go into `crc` (`tx_b`): the CRC step runs a
    /// cycle after the send, off the answer byte's select (the routed ULX3S build's critical
    /// path, 10.82 ns); the CRC bytes wait for it.
    tx_pend: DFF<Bit>,
    tx_b: DFF<Bits<8>>,
    crc_lo: DFF<Bits<8>>,
    timer: DFF<Bits<24>>,
    /// First 6 payload bytes, little-endian: address (23:0), read count (47:32).
    arg: DFF<Bits<48>>,
    /// The even payload byte of a pair, until its odd byte comes.
    wlo: DFF<Bits<8>>,
    lane: DFF<Bits<3>>,
    widx: DFF<Bits<9>>,
    wi: DFF<Bits<9>>,
    /// A Write's words, as four RAMs of byte pairs (bits 16k..16k+15 in `words[k]`): a pair
    /// is written when its odd byte comes, so no word-wide shift register is needed.
    words: Vec<Bram<16>>,
    /// The pair write, registered (its enable comes from the whole receive decision, too long
    /// a path into the RAMs at 100 MHz): enable, RAM (`lane / 2`), word index, byte pair. The
    /// words are read after the frame's CRC bytes, long after the last write lands.
    wp_we: DFF<Bit>,
    wp_k: DFF<Bits<2>>,
    wp_a: DFF<Bits<9>>,
    wp_d: DFF<Bits<16>>,
    // Answer being sent.
    rkind: DFF<Bits<8>>,
    rlen: DFF<Bits<16>>,
    /// The word being answered by a Read (the engine's answer; the lean engine holds it itself).
    pay: DFF<Bits<64>>,
    /// A NAK's reason.
    nak: DFF<Bits<3>>,
    bitoff: DFF<Bits<9>>,
    /// The Info/Status payload byte at offset `rom_off` (bits), read from `stats` (`rom_off`
    /// is `0x1FF` until that read is back); when `bitoff` moves on, those answers wait a
    /// cycle for the next byte.
    rom_byte: DFF<Bits<8>>,
    rom_off: DFF<Bits<9>>,
    core_rst: DFF<Bit>,
    bus_addr_r: DFF<Bits<24>>,
    bus_wdata_r: DFF<Bits<64>>,
    bus_write_r: DFF<Bit>,
    bus_read_r: DFF<Bit>,
    start_r: DFF<Bit>,
    // Job and counters.
    run_pending: DFF<Bit>,
    job_done: DFF<Bit>,
    last_run_valid: DFF<Bit>,
    run_seq: DFF<Bits<8>>,
    flags: DFF<Bits<8>>,
    /// The Status payload's counters, little-endian at their payload offsets 2..29 (counter k
    /// at 2 + 4k: 0 the last job's cycles, 1 jobs, 2 frames, 3 CRC errors, 4 timeouts, 5 bad
    /// frames, 6 overruns), in a RAM rather than in 224 flip-flops and a 30-way byte mux; and
    /// the Info payload, constant, from address 64 (rather than a 400-bit constant's byte mux).
    stats: Bram<8>,
    /// Counter k has an event to count (bit 0: the last job's cycles are to be stored).
    pend: DFF<Bits<7>>,
    /// Some counter is pending: `pend.q.any()`, registered from `pend`'s next value so the
    /// counters' RAM address does not wait for the 7-input OR.
    pend_any: DFF<Bit>,
    /// The counter being updated (`sv_on`), its byte, and how far that byte's read is (0: the
    /// address is chosen, 1: it is in `st_raddr`, 2: the byte is in `stats.rdata`).
    sv_on: DFF<Bit>,
    sv_k: DFF<Bits<3>>,
    sv_i: DFF<Bits<2>>,
    sv_ph: DFF<Bits<2>>,
    /// Zeroing the counters (after reset or a Reset command): the next byte to clear.
    clr_on: DFF<Bit>,
    clr_a: DFF<Bits<5>>,
    /// `stats`' read address, registered: its select (clearing, counting or answering, and
    /// which answer) was the routed ULX3S build's critical path in front of the LUT RAM.
    st_raddr: DFF<Bits<7>>,
    /// An Info or Status byte's address went into `st_raddr` last cycle (`st_v1`), or the byte
    /// was read from `stats` last cycle (`st_v`); at payload offset `st_off1` / `st_off` (bits).
    st_v1: DFF<Bit>,
    st_off1: DFF<Bits<9>>,
    st_v: DFF<Bit>,
    st_off: DFF<Bits<9>>,
    sv_base: Signal<Local, Bits<5>>,
    /// The address of byte `sv_i` of counter `sv_k`.
    sv_addr: Signal<Local, Bits<5>>,
    /// The bit offset of byte `sv_i` in a 32-bit counter.
    sv_off: Signal<Local, Bits<5>>,
    /// This cycle's events: the job's cycles to store, a job done, a good frame, a CRC error,
    /// a timeout, a bad frame, an overrun (bit k of `ev` for counter k, as `pend`).
    ev_run: Signal<Local, Bit>,
    ev_job: Signal<Local, Bit>,
    ev_frame: Signal<Local, Bit>,
    ev_crc: Signal<Local, Bit>,
    ev_to: Signal<Local, Bit>,
    ev_bad: Signal<Local, Bit>,
    ev_ovr: Signal<Local, Bit>,
    ev: Signal<Local, Bits<7>>,
    /// The lowest pending counter, whose update starts.
    pend_low: Signal<Local, Bits<7>>,

    crc_rx: Crc16Step,
    crc_tx: Crc16Step,
    accept: Signal<Local, Bit>,
    /// In a receive state past the first sync byte.
    decoding: Signal<Local, Bit>,
    len_next: Signal<Local, Bits<16>>,
    len_ok: Signal<Local, Bit>,
    known: Signal<Local, Bit>,
    len_over: Signal<Local, Bit>,
    is_rom: Signal<Local, Bit>,
    /// A byte pair is complete: write it into `words[lane / 2]`.
    wpair: Signal<Local, Bit>,
    /// The word read from `words`.
    word: Signal<Local, Bits<64>>,
    nwords: Signal<Local, Bits<9>>,
    hdr_byte: Signal<Local, Bits<8>>,
    /// The answer's payload word (a Read's word, a Run's cycles, a NAK's reason), and the
    /// bit offset of its byte being sent.
    pay_word: Signal<Local, Bits<64>>,
    lane_off: Signal<Local, Bits<6>>,
    pay_byte: Signal<Local, Bits<8>>,
    out_byte: Signal<Local, Bits<8>>,
    send: Signal<Local, Bit>,
}

/// Timeout for a partly received frame: 1 ms, and at least 64 bit times at the UART rate.
pub fn frame_timeout_cycles(cfg: &DeviceConfig) -> u64 {
    let ms = cfg.clock_hz as u64 / 1000;
    let bits = 64 * (cfg.clock_hz as u64).div_ceil(cfg.baud as u64);
    ms.max(bits).min((1 << 24) - 1)
}

impl LinkCtl {
    pub fn new(cfg: &DeviceConfig, timeout_cycles: u64) -> Self {
        let info = Info::new(cfg.clone()).encode();
        assert!(info.len() <= 64);
        let mut stats_init = vec![Bits::<8>::default(); 64];
        stats_init.extend(info.iter().map(|&b| Bits::<8>::from(b as u64)));
        // In range by construction: neither RAM needs its read gated.
        let stats = Bram::new(128).ungated().with_init(&stats_init);
        assert!(timeout_cycles > 0 && timeout_cycles < 1 << 24);
        LinkCtl {
            clock: Default::default(),
            reset: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_unstoppable: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
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
            timeout: Constant::new(timeout_cycles.to_bits()),
            max_payload: Constant::new((MAX_PAYLOAD as u64).to_bits()),
            lean: Constant::new(cfg.lean()),
            state: Default::default(),
            kind: Default::default(),
            seq: Default::default(),
            len: Default::default(),
            len_m1: Default::default(),
            len_lo_gt: Default::default(),
            known_r: Default::default(),
            len_ok_r: Default::default(),
            pcount: Default::default(),
            crc: Default::default(),
            tx_pend: Default::default(),
            tx_b: Default::default(),
            crc_lo: Default::default(),
            timer: Default::default(),
            arg: Default::default(),
            wlo: Default::default(),
            wp_we: Default::default(),
            wp_k: Default::default(),
            wp_a: Default::default(),
            wp_d: Default::default(),
            lane: Default::default(),
            widx: Default::default(),
            wi: Default::default(),
            words: (0..4).map(|_| Bram::new(256).ungated()).collect(),
            rkind: Default::default(),
            rlen: Default::default(),
            pay: Default::default(),
            nak: Default::default(),
            bitoff: Default::default(),
            rom_byte: Default::default(),
            rom_off: Default::default(),
            core_rst: Default::default(),
            bus_addr_r: Default::default(),
            bus_wdata_r: Default::default(),
            bus_write_r: Default::default(),
            bus_read_r: Default::default(),
            start_r: Default::default(),
            run_pending: Default::default(),
            job_done: Default::default(),
            last_run_valid: Default::default(),
            run_seq: Default::default(),
            flags: Default::default(),
            stats,
            pend: Default::default(),
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
            ev_run: Default::default(),
            ev_job: Default::default(),
            ev_frame: Default::default(),
            ev_crc: Default::default(),
            ev_to: Default::default(),
            ev_bad: Default::default(),
            ev_ovr: Default::default(),
            ev: Default::default(),
            pend_low: Default::default(),
            crc_rx: Default::default(),
            crc_tx: Default::default(),
            accept: Default::default(),
            decoding: Default::default(),
            len_next: Default::default(),
            len_ok: Default::default(),
            known: Default::default(),
            len_over: Default::default(),
            is_rom: Default::default(),
            word: Default::default(),
            wpair: Default::default(),
            nwords: Default::default(),
            hdr_byte: Default::default(),
            pay_word: Default::default(),
            lane_off: Default::default(),
            pay_byte: Default::default(),
            out_byte: Default::default(),
            send: Default::default(),
        }
    }
}

// Literals used in the kernel below (the kernel cannot name Rust constants).
const _: () = {
    assert!(kind::INFO == 1 && kind::RESET == 2 && kind::WRITE == 3);
    assert!(kind::READ == 4 && kind::RUN == 5 && kind::STATUS == 6);
    assert!(NAK == 0xFF && protocol::ANSWER == 0x80);
    assert!(NakReason::Crc as u8 == 1 && NakReason::Unknown as u8 == 2);
    assert!(NakReason::Length as u8 == 3 && NakReason::Busy as u8 == 5);
    assert!(protocol::SYNC[0] == 0xA5 && protocol::SYNC[1] == 0x5A);
    assert!(protocol::INFO_LEN == 50 && protocol::STATUS_LEN == 30);
    assert!(protocol::flag::CRC == 1 && protocol::flag::TIMEOUT == 2);
    assert!(protocol::flag::BAD == 4 && protocol::flag::OVERRUN == 8);
};

impl Logic for LinkCtl {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            kind,
            seq,
            len,
            len_m1,
            len_lo_gt,
            known_r,
            len_ok_r,
            pcount,
            crc,
            tx_pend,
            tx_b,
            crc_lo,
            timer,
            arg,
            wlo,
            wp_we,
            wp_k,
            wp_a,
            wp_d,
            lane,
            widx,
            wi,
            rkind,
            rlen,
            pay,
            nak,
            bitoff,
            rom_byte,
            rom_off,
            core_rst,
            bus_addr_r,
            bus_wdata_r,
            bus_write_r,
            bus_read_r,
            start_r,
            run_pending,
            job_done,
            last_run_valid,
            run_seq,
            flags,
            pend,
            pend_any,
            sv_on,
            sv_k,
            sv_i,
            sv_ph,
            clr_on,
            clr_a,
            st_raddr,
            st_v1,
            st_off1,
            st_v,
            st_off
        );
        for k in 0..4 {
            self.words[k].clock.next = self.clock.val();
            self.words[k].raddr.next = bit_cast::<16, 9>(self.wi.q.val());
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

        // Combinational helpers.
        self.crc_rx.crc.next = self.crc.q.val();
        self.crc_rx.data.next = self.in_data.val();
        self.len_next.next = (bit_cast::<16, 8>(self.in_data.val()) << 8)
            | bit_cast::<16, 8>(self.len.q.val().get_bits::<8>(0));
        self.nwords.next = self.len.q.val().get_bits::<9>(3);
        // The counters' RAM: zeroing, else one counter update at a time (read a byte, write it
        // plus one, and on to the next byte while it carries), else the Status answer's reads.
        // Events are at least a frame or a UART byte apart, and a Status answer waits until
        // every counted event is in the RAM, so it is exact.
        self.stats.clock.next = self.clock.val();
        self.stats.we.next = false;
        self.stats.wdata.next = self.stats.rdata.val() + 1;
        self.sv_base.next = (bit_cast::<5, 3>(self.sv_k.q.val()) << 2) + 2;
        self.sv_off.next = bit_cast::<5, 2>(self.sv_i.q.val()) << 3;
        self.sv_addr.next = self.sv_base.val() + bit_cast::<5, 2>(self.sv_i.q.val());
        self.stats.raddr.next = bit_cast::<16, 7>(self.st_raddr.q.val());
        self.st_raddr.d.next = bit_cast::<7, 5>(self.sv_addr.val());
        self.stats.waddr.next = bit_cast::<16, 5>(self.sv_addr.val());
        self.st_v1.d.next = false;
        self.st_v.d.next = self.st_v1.q.val();
        self.st_off.d.next = self.st_off1.q.val();
        self.sv_ph.d.next = 0.into();
        self.pend_low.next = 0.into();
        self.ev_run.next = false;
        self.ev_job.next = false;
        self.ev_frame.next = false;
        self.ev_crc.next = false;
        self.ev_to.next = false;
        self.ev_bad.next = false;
        self.ev_ovr.next = false;
        self.wpair.next = false;
        if self.clr_on.q.val() {
            self.stats.waddr.next = bit_cast::<16, 5>(self.clr_a.q.val());
            self.stats.wdata.next = 0.into();
            self.stats.we.next = true;
            self.clr_a.d.next = self.clr_a.q.val() + 1;
            if self.clr_a.q.val() == 29 {
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
            self.sv_k.d.next = 6.into();
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
        } else if (self.rkind.q.val() == 0x81) | (self.rkind.q.val() == 0x86) {
            // Status from address 0, Info from 64.
            self.st_raddr.d.next = bit_cast::<7, 6>(self.bitoff.q.val().get_bits::<6>(3));
            if self.rkind.q.val() == 0x81 {
                self.st_raddr.d.next = bit_cast::<7, 6>(self.bitoff.q.val().get_bits::<6>(3)) + 64;
            }
            self.st_v1.d.next = true;
            self.st_off1.d.next = self.bitoff.q.val();
        }
        // Known type and a payload length that fits it.
        self.known.next = (self.kind.q.val() >= 1) & (self.kind.q.val() <= 6);
        self.len_ok.next = self.len.q.val() == 0;
        if self.kind.q.val() == 3 {
            self.len_ok.next = (self.len.q.val() >= 12) & (self.len.q.val().get_bits::<3>(0) == 4);
        }
        if self.kind.q.val() == 4 {
            self.len_ok.next = (self.len.q.val() == 6)
                & (self.arg.q.val().get_bits::<16>(32) >= 1)
                & (self.arg.q.val().get_bits::<16>(32) <= 256);
        }
        self.known_r.d.next = self.known.val();
        self.len_ok_r.d.next = self.len_ok.val();
        // The bound check of a length being received: high byte now, low byte from `Len0`.
        self.len_over.next = (self.in_data.val() > self.max_payload.val().get_bits::<8>(8))
            | ((self.in_data.val() == self.max_payload.val().get_bits::<8>(8))
                & self.len_lo_gt.q.val());

        // Answer bytes.
        self.hdr_byte.next = 0xA5.into();
        if self.pcount.q.val() == 1 {
            self.hdr_byte.next = 0x5A.into();
        }
        if self.pcount.q.val() == 2 {
            self.hdr_byte.next = self.rkind.q.val();
        }
        if self.pcount.q.val() == 3 {
            self.hdr_byte.next = self.seq.q.val();
        }
        if self.pcount.q.val() == 4 {
            self.hdr_byte.next = self.rlen.q.val().get_bits::<8>(0);
        }
        if self.pcount.q.val() == 5 {
            self.hdr_byte.next = self.rlen.q.val().get_bits::<8>(8);
        }
        self.is_rom.next = (self.rkind.q.val() == 0x81) | (self.rkind.q.val() == 0x86);
        // Info and Status bytes come from `stats` (read last cycle), but for Status bytes 0
        // and 1, which are flip-flops; until that read is done `rom_off` names no byte.
        self.rom_off.d.next = 0x1FF.into();
        if self.st_v.q.val() {
            self.rom_off.d.next = self.st_off.q.val();
            self.rom_byte.d.next = self.stats.rdata.val();
            if self.rkind.q.val() == 0x86 {
                if self.st_off.q.val() == 0 {
                    self.rom_byte.d.next = bit_cast::<8, 1>(self.run_pending.q.val().into());
                }
                if self.st_off.q.val() == 8 {
                    self.rom_byte.d.next = self.flags.q.val();
                }
            }
        }
        // Payload bytes are picked from words that hold still while they are sent: the
        // engine's answer, its cycle counter (it stops at Done, and no job starts while an
        // answer is out), or the NAK reason.
        self.pay_word.next = self.pay.q.val();
        if self.lean.val() {
            self.pay_word.next = self.bus_rdata.val();
        }
        if self.rkind.q.val() == 0x85 {
            self.pay_word.next = bit_cast::<64, 32>(self.job_cycles.val());
        }
        if self.rkind.q.val() == 0xFF {
            self.pay_word.next = bit_cast::<64, 3>(self.nak.q.val());
        }
        self.lane_off.next = bit_cast::<6, 3>(self.lane.q.val()) << 3;
        self.pay_byte.next = self
            .pay_word
            .val()
            .get_bits::<8>(self.lane_off.val().index());
        // `is_rom`, spelled out: reading that local here as well makes Verilator see a
        // combinational loop through the CRC step (UNOPTFLAT in `verilog_lints`).
        if (self.rkind.q.val() == 0x81) | (self.rkind.q.val() == 0x86) {
            self.pay_byte.next = self.rom_byte.q.val();
        }
        self.out_byte.next = self.hdr_byte.val();
        if self.state.q.val() == S::TxPay {
            self.out_byte.next = self.pay_byte.val();
        }
        if self.state.q.val() == S::TxCrc0 {
            self.out_byte.next = self.crc.q.val().get_bits::<8>(0);
        }
        if self.state.q.val() == S::TxCrc1 {
            self.out_byte.next = self.crc.q.val().get_bits::<8>(8);
        }
        self.out_data.next = self.out_byte.val();
        self.crc_tx.crc.next = self.crc.q.val();
        self.crc_tx.data.next = self.tx_b.q.val();
        self.out_valid.next = (self.state.q.val() == S::TxHdr)
            | ((self.state.q.val() == S::TxPay)
                & ((self.rom_off.q.val() == self.bitoff.q.val()) | !self.is_rom.val()))
            | ((self.state.q.val() == S::TxCrc0) & !self.tx_pend.q.val())
            | (self.state.q.val() == S::TxCrc1);
        self.send.next = self.out_valid.val() & self.out_ready.val();

        // Receive side: bytes are taken only while decoding (or hunting for a frame).
        self.decoding.next = (self.state.q.val() == S::Hunt1)
            | (self.state.q.val() == S::Kind)
            | (self.state.q.val() == S::Seq)
            | (self.state.q.val() == S::Len0)
            | (self.state.q.val() == S::Len1)
            | (self.state.q.val() == S::Payload)
            | (self.state.q.val() == S::Crc0)
            | (self.state.q.val() == S::Crc1);
        self.in_ready.next = self.decoding.val()
            | ((self.state.q.val() == S::Hunt0)
                & !(self.run_pending.q.val() & self.job_done.q.val()));
        self.accept.next = self.in_valid.val() & self.in_ready.val();

        // The engine's ports are registered here: the word RAM's read data has a long
        // clock-to-out and the engine sits across the chip.
        self.bus_addr_r.d.next =
            self.arg.q.val().get_bits::<24>(0) + bit_cast::<24, 9>(self.wi.q.val());
        self.bus_wdata_r.d.next = self.word.val();
        self.bus_write_r.d.next = false;
        self.bus_read_r.d.next = false;
        self.start_r.d.next = false;
        self.bus_addr.next = self.bus_addr_r.q.val();
        self.bus_wdata.next = self.bus_wdata_r.q.val();
        if self.lean.val() {
            self.bus_wdata.next = self.word.val();
        }
        self.bus_write.next = self.bus_write_r.q.val();
        self.bus_read.next = self.bus_read_r.q.val();
        self.start.next = self.start_r.q.val();
        self.core_rst.d.next = false;
        self.core_reset.next = self.core_rst.q.val();
        // Every state that neither hunts nor decodes executes or answers a frame.
        self.running.next =
            self.run_pending.q.val() | !(self.decoding.val() | (self.state.q.val() == S::Hunt0));
        self.error.next = self.flags.q.val().any();

        // Inactivity timeout inside a frame.
        if self.accept.val() {
            self.timer.d.next = 0.into();
        } else {
            self.timer.d.next = self.timer.q.val() + 1;
        }

        if self.done.val() {
            self.job_done.d.next = true;
            self.ev_job.next = true;
        }
        if self.in_unstoppable.val() & !self.in_ready.val() {
            self.ev_ovr.next = true;
            self.flags.d.next = self.flags.q.val().replace_bit(3, true);
        }

        // The CRC step of the answer byte sent last cycle (`tx_pend`); the states below
        // override it (a new frame's CRC start), and no state both sends and loads `crc`.
        self.tx_pend.d.next = false;
        self.tx_b.d.next = self.out_byte.val();
        if self.tx_pend.q.val() {
            self.crc.d.next = self.crc_tx.out.val();
        }

        // In the receive states below `in_ready` is 1 (in Hunt0: once no Run answer is due, the
        // branch that tests the byte), so a valid byte is an accepted one: testing `in_valid`
        // keeps the state decode of `in_ready` out of every register these states load.
        match self.state.q.val() {
            S::Hunt0 => {
                self.timer.d.next = 0.into();
                if self.run_pending.q.val() & self.job_done.q.val() {
                    // The job finished: answer its Run (the answer is cached for retries).
                    self.run_pending.d.next = false;
                    self.ev_run.next = true;
                    self.seq.d.next = self.run_seq.q.val();
                    self.rkind.d.next = 0x85.into();
                    self.rlen.d.next = 4.into();
                    self.pcount.d.next = 0.into();
                    self.state.d.next = S::TxHdr;
                } else if self.in_valid.val() & (self.in_data.val() == 0xA5) {
                    self.state.d.next = S::Hunt1;
                }
            }
            S::Hunt1 => {
                self.timer.d.next = 0.into();
                if self.in_valid.val() {
                    if self.in_data.val() == 0x5A {
                        self.crc.d.next = 0xFFFF.into();
                        self.state.d.next = S::Kind;
                    } else if self.in_data.val() != 0xA5 {
                        self.state.d.next = S::Hunt0;
                    }
                }
            }
            S::Kind => {
                if self.in_valid.val() {
                    self.kind.d.next = self.in_data.val();
                    self.crc.d.next = self.crc_rx.out.val();
                    self.state.d.next = S::Seq;
                }
            }
            S::Seq => {
                if self.in_valid.val() {
                    self.seq.d.next = self.in_data.val();
                    self.crc.d.next = self.crc_rx.out.val();
                    self.state.d.next = S::Len0;
                }
            }
            S::Len0 => {
                if self.in_valid.val() {
                    self.len.d.next = bit_cast::<16, 8>(self.in_data.val());
                    self.len_lo_gt.d.next =
                        self.in_data.val() > self.max_payload.val().get_bits::<8>(0);
                    self.crc.d.next = self.crc_rx.out.val();
                    self.state.d.next = S::Len1;
                }
            }
            S::Len1 => {
                if self.in_valid.val() {
                    self.len.d.next = self.len_next.val();
                    self.len_m1.d.next = self.len_next.val() - 1;
                    self.crc.d.next = self.crc_rx.out.val();
                    self.pcount.d.next = 0.into();
                    self.lane.d.next = 0.into();
                    self.widx.d.next = 0.into();
                    self.arg.d.next = 0.into();
                    if self.len_over.val() {
                        // Unbounded lengths are refused at once, not waited for.
                        self.ev_bad.next = true;
                        self.flags.d.next = self.flags.q.val().replace_bit(2, true);
                        self.rkind.d.next = 0xFF.into();
                        self.rlen.d.next = 1.into();
                        self.nak.d.next = 3.into();
                        self.state.d.next = S::TxHdr;
                    } else if self.len_next.val() == 0 {
                        self.state.d.next = S::Crc0;
                    } else {
                        self.state.d.next = S::Payload;
                    }
                }
            }
            S::Payload => {
                if self.in_valid.val() {
                    self.crc.d.next = self.crc_rx.out.val();
                    self.pcount.d.next = self.pcount.q.val() + 1;
                    if self.pcount.q.val() < 6 {
                        self.arg.d.next =
                            (self.arg.q.val() >> 8) | (bit_cast::<48, 8>(self.in_data.val()) << 40);
                    }
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
                        self.state.d.next = S::Crc0;
                    }
                }
            }
            S::Crc0 => {
                if self.in_valid.val() {
                    self.crc_lo.d.next = self.in_data.val();
                    self.state.d.next = S::Crc1;
                }
            }
            S::Crc1 => {
                if self.in_valid.val() {
                    self.pcount.d.next = 0.into();
                    if ((bit_cast::<16, 8>(self.in_data.val()) << 8)
                        | bit_cast::<16, 8>(self.crc_lo.q.val()))
                        == self.crc.q.val()
                    {
                        self.state.d.next = S::Exec;
                    } else {
                        self.ev_crc.next = true;
                        self.flags.d.next = self.flags.q.val().replace_bit(0, true);
                        self.rkind.d.next = 0xFF.into();
                        self.rlen.d.next = 1.into();
                        self.nak.d.next = 1.into();
                        self.state.d.next = S::TxHdr;
                    }
                }
            }
            S::Exec => {
                self.wi.d.next = 0.into();
                self.rkind.d.next = self.kind.q.val().replace_bit(7, true);
                self.rlen.d.next = 0.into();
                self.state.d.next = S::TxHdr;
                if !self.known_r.q.val() | !self.len_ok_r.q.val() {
                    self.ev_bad.next = true;
                    self.flags.d.next = self.flags.q.val().replace_bit(2, true);
                    self.rkind.d.next = 0xFF.into();
                    self.rlen.d.next = 1.into();
                    self.nak.d.next = 3.into();
                    if !self.known_r.q.val() {
                        self.nak.d.next = 2.into();
                    }
                } else {
                    self.ev_frame.next = true;
                    if self.kind.q.val() == 1 {
                        self.rlen.d.next = 50.into();
                        self.bitoff.d.next = 0.into();
                    }
                    if self.kind.q.val() == 6 {
                        self.rlen.d.next = 30.into();
                        self.bitoff.d.next = 0.into();
                    }
                    if self.kind.q.val() == 2 {
                        self.core_rst.d.next = true;
                        self.run_pending.d.next = false;
                        self.job_done.d.next = false;
                        self.last_run_valid.d.next = false;
                        // Zero the counters (this frame is not counted).
                        self.ev_frame.next = false;
                        self.clr_on.d.next = true;
                        self.flags.d.next = 0.into();
                    }
                    if (self.kind.q.val() == 3) | (self.kind.q.val() == 4) {
                        if self.run_pending.q.val() {
                            self.rkind.d.next = 0xFF.into();
                            self.rlen.d.next = 1.into();
                            self.nak.d.next = 5.into();
                        } else if self.kind.q.val() == 3 {
                            self.state.d.next = S::WrRead;
                        } else {
                            self.rlen.d.next =
                                bit_cast::<16, 16>(self.arg.q.val().get_bits::<16>(32)) << 3;
                        }
                    }
                    if self.kind.q.val() == 5 {
                        if self.run_pending.q.val() {
                            if self.seq.q.val() == self.run_seq.q.val() {
                                // A retry of the running job: its answer comes when done.
                                self.state.d.next = S::Hunt0;
                            } else {
                                self.rkind.d.next = 0xFF.into();
                                self.rlen.d.next = 1.into();
                                self.nak.d.next = 5.into();
                            }
                        } else if self.last_run_valid.q.val()
                            & (self.seq.q.val() == self.run_seq.q.val())
                        {
                            // A retry of the last job: answer from the cache, do not rerun.
                            self.rlen.d.next = 4.into();
                        // No job started since: the core still holds its cycle count.
                        } else {
                            self.start_r.d.next = true;
                            self.run_pending.d.next = true;
                            self.job_done.d.next = false;
                            self.last_run_valid.d.next = true;
                            self.run_seq.d.next = self.seq.q.val();
                            self.state.d.next = S::Hunt0;
                        }
                    }
                }
            }
            S::WrRead => {
                // The word RAM's read data is there the next cycle.
                self.state.d.next = S::WrBus;
            }
            S::WrBus => {
                self.bus_write_r.d.next = true;
                self.wi.d.next = self.wi.q.val() + 1;
                self.state.d.next = S::WrRead;
                if self.wi.q.val() + 1 == self.nwords.val() {
                    self.pcount.d.next = 0.into();
                    self.state.d.next = S::TxHdr;
                }
            }
            S::TxHdr => {
                if self.send.val() {
                    self.pcount.d.next = self.pcount.q.val() + 1;
                    if self.pcount.q.val() == 0 {
                        self.crc.d.next = 0xFFFF.into();
                    }
                    if self.pcount.q.val() >= 2 {
                        self.tx_pend.d.next = true;
                    }
                    if self.pcount.q.val() == 5 {
                        self.pcount.d.next = 0.into();
                        self.lane.d.next = 0.into();
                        if self.rlen.q.val() == 0 {
                            self.state.d.next = S::TxCrc0;
                        } else if self.rkind.q.val() == 0x84 {
                            self.state.d.next = S::TxFetch;
                        } else {
                            self.state.d.next = S::TxPay;
                        }
                    }
                }
            }
            S::TxPay => {
                if self.send.val() {
                    self.tx_pend.d.next = true;
                    self.pcount.d.next = self.pcount.q.val() + 1;
                    self.bitoff.d.next = self.bitoff.q.val() + 8;
                    self.lane.d.next = self.lane.q.val() + 1;
                    if self.pcount.q.val() + 1 == self.rlen.q.val() {
                        self.state.d.next = S::TxCrc0;
                    } else if (self.rkind.q.val() == 0x84) & (self.lane.q.val() == 7) {
                        self.state.d.next = S::TxFetch;
                    }
                }
            }
            S::TxFetch => {
                self.bus_read_r.d.next = true;
                self.state.d.next = S::TxWait;
            }
            S::TxWait => {
                if self.bus_rvalid.val() {
                    self.pay.d.next = self.bus_rdata.val();
                    self.wi.d.next = self.wi.q.val() + 1;
                    self.state.d.next = S::TxPay;
                }
            }
            S::TxCrc0 => {
                if self.send.val() {
                    self.state.d.next = S::TxCrc1;
                }
            }
            S::TxCrc1 => {
                if self.send.val() {
                    self.state.d.next = S::Hunt0;
                }
            }
            _ => {
                self.state.d.next = S::Hunt0;
            }
        }
        // A frame that stops part way is dropped: nothing the host sends can hang us.
        if ((self.state.q.val() == S::Kind)
            | (self.state.q.val() == S::Seq)
            | (self.state.q.val() == S::Len0)
            | (self.state.q.val() == S::Len1)
            | (self.state.q.val() == S::Payload)
            | (self.state.q.val() == S::Crc0)
            | (self.state.q.val() == S::Crc1))
            & (self.timer.q.val() == self.timeout.val())
        {
            self.ev_to.next = true;
            self.flags.d.next = self.flags.q.val().replace_bit(1, true);
            self.state.d.next = S::Hunt0;
        }
        if self.reset.val() {
            self.core_rst.d.next = true;
            self.bus_write_r.d.next = false;
            self.bus_read_r.d.next = false;
            self.start_r.d.next = false;
            self.state.d.next = S::Hunt0;
            self.run_pending.d.next = false;
            self.job_done.d.next = false;
            self.last_run_valid.d.next = false;
            self.flags.d.next = 0.into();
            self.clr_on.d.next = true;
        }
        self.wp_we.d.next = self.wpair.val();
        // Pending counter updates: this cycle's events in, the update that starts out. Zeroing
        // drops what was pending when it starts (events during it are counted after it).
        self.ev.next = bit_cast::<7, 1>(self.ev_run.val().into())
            | (bit_cast::<7, 1>(self.ev_job.val().into()) << 1)
            | (bit_cast::<7, 1>(self.ev_frame.val().into()) << 2)
            | (bit_cast::<7, 1>(self.ev_crc.val().into()) << 3)
            | (bit_cast::<7, 1>(self.ev_to.val().into()) << 4)
            | (bit_cast::<7, 1>(self.ev_bad.val().into()) << 5)
            | (bit_cast::<7, 1>(self.ev_ovr.val().into()) << 6);
        self.pend.d.next = (self.pend.q.val() & !self.pend_low.val()) | self.ev.val();
        if self.clr_on.d.val() & !self.clr_on.q.val() {
            self.pend.d.next = 0.into();
            self.sv_on.d.next = false;
            self.clr_a.d.next = 2.into();
        }
        self.pend_any.d.next = self.pend.d.val().any();
    }
}
