//! The command dispatcher: checks a received frame's type and length, executes it on the
//! engine's bus and start ports (a Write's words from the receiver's word RAM, a Read's
//! words as the answer sender asks for them), keeps the job state and the `Run` answer
//! cache, and tells the answer sender what to answer.

use common::protocol::{ANSWER, INFO_LEN, MAX_WORDS, NAK, NakReason, STATUS_LEN, kind};
use rust_hdl::prelude::*;

use super::hold::WordHold;

// The kernel's literals: known types are `INFO..=STATUS`, a Write's payload is a 4-byte
// address and whole words (`len % 8 == 4`), a Read's a 4-byte address and a 2-byte count.
const _: () = {
    assert!(kind::INFO == 1 && kind::STATUS == 6);
    assert!(kind::RESET > kind::INFO && kind::WRITE > kind::INFO && kind::READ > kind::INFO);
    assert!(kind::RUN > kind::INFO && kind::RUN < kind::STATUS);
    assert!(kind::READ < kind::STATUS && kind::WRITE < kind::STATUS);
};

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum DispS {
    Idle,
    Exec,
    /// A Write's words onto the bus: read one from the word RAM, then write it.
    WrRead,
    WrBus,
}

#[derive(LogicBlock)]
pub struct Dispatcher {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // The frame receiver.
    /// The receiver is hunting for a frame (an answer may start).
    pub rx_idle: Signal<In, Bit>,
    pub rx_frame: Signal<In, Bit>,
    pub rx_crc_err: Signal<In, Bit>,
    pub rx_len_err: Signal<In, Bit>,
    pub rx_timeout: Signal<In, Bit>,
    pub rx_kind: Signal<In, Bits<8>>,
    pub rx_seq: Signal<In, Bits<8>>,
    pub rx_len: Signal<In, Bits<16>>,
    pub rx_arg: Signal<In, Bits<48>>,
    pub rx_word: Signal<In, Bits<64>>,
    /// The word index of a Write (the receiver's word RAM) or a Read (the bus address).
    pub widx: Signal<Out, Bits<9>>,
    /// An answer is due: the receiver takes no new frame.
    pub hold: Signal<Out, Bit>,
    /// Done with the received frame.
    pub resume: Signal<Out, Bit>,
    // The answer sender.
    pub go: Signal<Out, Bit>,
    pub go_kind: Signal<Out, Bits<8>>,
    pub go_len: Signal<Out, Bits<16>>,
    pub go_nak: Signal<Out, Bits<3>>,
    pub ans_seq: Signal<Out, Bits<8>>,
    pub tx_fetch: Signal<In, Bit>,
    pub tx_fetched: Signal<In, Bit>,
    pub tx_finished: Signal<In, Bit>,
    // The engine (`sqz_core` ports).
    pub bus_addr: Signal<Out, Bits<24>>,
    pub bus_wdata: Signal<Out, Bits<64>>,
    pub bus_write: Signal<Out, Bit>,
    pub bus_read: Signal<Out, Bit>,
    pub start: Signal<Out, Bit>,
    /// Reset the engine: a registered pulse after the `Reset` command, and while `reset`.
    pub core_reset: Signal<Out, Bit>,
    pub done: Signal<In, Bit>,
    /// A job is running, or its answer is not sent yet.
    pub busy: Signal<Out, Bit>,
    // The status counters' events, and the `Reset` command's clear.
    pub ev_run: Signal<Out, Bit>,
    pub ev_job: Signal<Out, Bit>,
    pub ev_frame: Signal<Out, Bit>,
    pub ev_bad: Signal<Out, Bit>,
    pub clear: Signal<Out, Bit>,

    k_info: Constant<Bits<8>>,
    k_reset: Constant<Bits<8>>,
    k_write: Constant<Bits<8>>,
    k_read: Constant<Bits<8>>,
    k_run: Constant<Bits<8>>,
    k_status: Constant<Bits<8>>,
    answer: Constant<Bits<8>>,
    nak: Constant<Bits<8>>,
    nak_crc: Constant<Bits<3>>,
    nak_unknown: Constant<Bits<3>>,
    nak_length: Constant<Bits<3>>,
    nak_busy: Constant<Bits<3>>,
    info_len: Constant<Bits<16>>,
    status_len: Constant<Bits<16>>,
    max_words: Constant<Bits<16>>,
    state: DFF<DispS>,
    /// `known` and `len_ok` registered: the frame is complete and stable when they are used.
    known_r: DFF<Bit>,
    len_ok_r: DFF<Bit>,
    run_pending: DFF<Bit>,
    job_done: DFF<Bit>,
    /// The `Run` cache: the last job's sequence number (`run_seq`) and whether its answer
    /// can be sent again (`last_run_valid`: no Write or Reset since; the engine still holds
    /// its cycle count).
    last_run_valid: DFF<Bit>,
    run_seq: DFF<Bits<8>>,
    /// The answer being sent is a finished job's (its sequence number is `run_seq`).
    ans_run: DFF<Bit>,
    wi: DFF<Bits<9>>,
    core_rst: DFF<Bit>,
    bus_addr_r: DFF<Bits<24>>,
    bus_write_r: DFF<Bit>,
    bus_read_r: DFF<Bit>,
    start_r: DFF<Bit>,
    /// The write data: registered (the word RAM's read data has a long clock-to-out and the
    /// engine sits across the chip), or (lean) straight from the word RAM, which holds the
    /// word the cycle after `WrBus` while the engine registers it.
    wdata: WordHold,
    known: Signal<Local, Bit>,
    len_ok: Signal<Local, Bit>,
    nwords: Signal<Local, Bits<9>>,
}

impl Dispatcher {
    pub fn new(lean: bool) -> Self {
        let k = |v: u8| Constant::new((v as u64).to_bits());
        let r = |v: NakReason| Constant::new((v as u64).to_bits());
        let n = |v: usize| Constant::new((v as u64).to_bits());
        Dispatcher {
            clock: Default::default(),
            reset: Default::default(),
            rx_idle: Default::default(),
            rx_frame: Default::default(),
            rx_crc_err: Default::default(),
            rx_len_err: Default::default(),
            rx_timeout: Default::default(),
            rx_kind: Default::default(),
            rx_seq: Default::default(),
            rx_len: Default::default(),
            rx_arg: Default::default(),
            rx_word: Default::default(),
            widx: Default::default(),
            hold: Default::default(),
            resume: Default::default(),
            go: Default::default(),
            go_kind: Default::default(),
            go_len: Default::default(),
            go_nak: Default::default(),
            ans_seq: Default::default(),
            tx_fetch: Default::default(),
            tx_fetched: Default::default(),
            tx_finished: Default::default(),
            bus_addr: Default::default(),
            bus_wdata: Default::default(),
            bus_write: Default::default(),
            bus_read: Default::default(),
            start: Default::default(),
            core_reset: Default::default(),
            done: Default::default(),
            busy: Default::default(),
            ev_run: Default::default(),
            ev_job: Default::default(),
            ev_frame: Default::default(),
            ev_bad: Default::default(),
            clear: Default::default(),
            k_info: k(kind::INFO),
            k_reset: k(kind::RESET),
            k_write: k(kind::WRITE),
            k_read: k(kind::READ),
            k_run: k(kind::RUN),
            k_status: k(kind::STATUS),
            answer: k(ANSWER),
            nak: k(NAK),
            nak_crc: r(NakReason::Crc),
            nak_unknown: r(NakReason::Unknown),
            nak_length: r(NakReason::Length),
            nak_busy: r(NakReason::Busy),
            info_len: n(INFO_LEN),
            status_len: n(STATUS_LEN),
            max_words: n(MAX_WORDS),
            state: Default::default(),
            known_r: Default::default(),
            len_ok_r: Default::default(),
            run_pending: Default::default(),
            job_done: Default::default(),
            last_run_valid: Default::default(),
            run_seq: Default::default(),
            ans_run: Default::default(),
            wi: Default::default(),
            core_rst: Default::default(),
            bus_addr_r: Default::default(),
            bus_write_r: Default::default(),
            bus_read_r: Default::default(),
            start_r: Default::default(),
            wdata: if lean {
                WordHold::wire()
            } else {
                WordHold::reg()
            },
            known: Default::default(),
            len_ok: Default::default(),
            nwords: Default::default(),
        }
    }
}

impl Logic for Dispatcher {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            known_r,
            len_ok_r,
            run_pending,
            job_done,
            last_run_valid,
            run_seq,
            ans_run,
            wi,
            core_rst,
            bus_addr_r,
            bus_write_r,
            bus_read_r,
            start_r
        );
        // Known type and a payload length that fits it.
        self.known.next =
            (self.rx_kind.val() >= self.k_info.val()) & (self.rx_kind.val() <= self.k_status.val());
        self.len_ok.next = self.rx_len.val() == 0;
        if self.rx_kind.val() == self.k_write.val() {
            self.len_ok.next =
                (self.rx_len.val() >= 12) & (self.rx_len.val().get_bits::<3>(0) == 4);
        }
        if self.rx_kind.val() == self.k_read.val() {
            self.len_ok.next = (self.rx_len.val() == 6)
                & (self.rx_arg.val().get_bits::<16>(32) >= 1)
                & (self.rx_arg.val().get_bits::<16>(32) <= self.max_words.val());
        }
        self.known_r.d.next = self.known.val();
        self.len_ok_r.d.next = self.len_ok.val();
        self.nwords.next = self.rx_len.val().get_bits::<9>(3);
        self.widx.next = self.wi.q.val();

        // The engine's ports are registered: the engine sits across the chip.
        self.bus_addr_r.d.next =
            self.rx_arg.val().get_bits::<24>(0) + bit_cast::<24, 9>(self.wi.q.val());
        self.wdata.clock.next = self.clock.val();
        self.wdata.d.next = self.rx_word.val();
        self.wdata.en.next = true;
        self.bus_addr.next = self.bus_addr_r.q.val();
        self.bus_wdata.next = self.wdata.q.val();
        self.bus_write.next = self.bus_write_r.q.val();
        self.bus_read.next = self.bus_read_r.q.val();
        self.start.next = self.start_r.q.val();
        self.core_reset.next = self.core_rst.q.val();
        self.busy.next = self.run_pending.q.val();
        self.hold.next = self.run_pending.q.val() & self.job_done.q.val();
        self.ans_seq.next = self.rx_seq.val();
        if self.ans_run.q.val() {
            self.ans_seq.next = self.run_seq.q.val();
        }
        self.bus_write_r.d.next = false;
        self.bus_read_r.d.next = self.tx_fetch.val();
        self.start_r.d.next = false;
        self.core_rst.d.next = false;
        if self.tx_fetched.val() {
            self.wi.d.next = self.wi.q.val() + 1;
        }

        self.ev_run.next = false;
        self.ev_job.next = false;
        self.ev_frame.next = false;
        self.ev_bad.next = self.rx_len_err.val();
        self.clear.next = false;
        // Back to hunting once the answer is sent, or at once after a Run that starts a job
        // or repeats the running one's (no answer now). On its own, from registers and
        // inputs only: Verilator orders an always block's statements that share a variable
        // as one, and `rx_frame` -> `resume` would close a loop through the receiver.
        self.resume.next = self.tx_finished.val()
            | ((self.state.q.val() == DispS::Exec)
                & self.known_r.q.val()
                & self.len_ok_r.q.val()
                & (self.rx_kind.val() == self.k_run.val())
                & ((self.run_pending.q.val() & (self.rx_seq.val() == self.run_seq.q.val()))
                    | (!self.run_pending.q.val()
                        & !(self.last_run_valid.q.val()
                            & (self.rx_seq.val() == self.run_seq.q.val())))));
        // The answer: by default the command's, empty; a NAK is 1 byte.
        self.go.next = false;
        self.go_kind.next = self.rx_kind.val() | self.answer.val();
        self.go_len.next = 0.into();
        self.go_nak.next = self.nak_length.val();
        if self.done.val() {
            self.job_done.d.next = true;
            self.ev_job.next = true;
        }
        match self.state.q.val() {
            DispS::Idle => {
                if self.rx_idle.val() & self.run_pending.q.val() & self.job_done.q.val() {
                    // The job finished: answer its Run (the answer is cached for retries).
                    self.run_pending.d.next = false;
                    self.ev_run.next = true;
                    self.go.next = true;
                    self.go_kind.next = self.k_run.val() | self.answer.val();
                    self.go_len.next = 4.into();
                    self.ans_run.d.next = true;
                }
                if (self.rx_crc_err.val() | self.rx_len_err.val()) & !self.rx_timeout.val() {
                    self.go.next = true;
                    self.go_kind.next = self.nak.val();
                    self.go_len.next = 1.into();
                    if self.rx_crc_err.val() {
                        self.go_nak.next = self.nak_crc.val();
                    }
                    self.ans_run.d.next = false;
                }
                if self.rx_frame.val() {
                    self.state.d.next = DispS::Exec;
                }
            }
            DispS::Exec => {
                self.wi.d.next = 0.into();
                self.state.d.next = DispS::Idle;
                self.go.next = true;
                self.ans_run.d.next = false;
                if !self.known_r.q.val() | !self.len_ok_r.q.val() {
                    self.ev_bad.next = true;
                    self.go_kind.next = self.nak.val();
                    self.go_len.next = 1.into();
                    if !self.known_r.q.val() {
                        self.go_nak.next = self.nak_unknown.val();
                    }
                } else {
                    self.ev_frame.next = true;
                    if self.rx_kind.val() == self.k_info.val() {
                        self.go_len.next = self.info_len.val();
                    }
                    if self.rx_kind.val() == self.k_status.val() {
                        self.go_len.next = self.status_len.val();
                    }
                    if self.rx_kind.val() == self.k_reset.val() {
                        self.core_rst.d.next = true;
                        self.run_pending.d.next = false;
                        self.job_done.d.next = false;
                        self.last_run_valid.d.next = false;
                        // Zero the counters (this frame is not counted).
                        self.ev_frame.next = false;
                        self.clear.next = true;
                    }
                    if (self.rx_kind.val() == self.k_write.val())
                        | (self.rx_kind.val() == self.k_read.val())
                    {
                        if self.run_pending.q.val() {
                            self.go_kind.next = self.nak.val();
                            self.go_len.next = 1.into();
                            self.go_nak.next = self.nak_busy.val();
                        } else if self.rx_kind.val() == self.k_write.val() {
                            // New data for the next job: a Run, whatever its sequence
                            // number, runs it (no cached answer from before the Write).
                            self.last_run_valid.d.next = false;
                            self.go.next = false;
                            self.state.d.next = DispS::WrRead;
                        } else {
                            self.go_len.next =
                                bit_cast::<16, 16>(self.rx_arg.val().get_bits::<16>(32)) << 3;
                        }
                    }
                    if self.rx_kind.val() == self.k_run.val() {
                        if self.run_pending.q.val() {
                            if self.rx_seq.val() == self.run_seq.q.val() {
                                // A retry of the running job: its answer comes when done.
                                self.go.next = false;
                            } else {
                                self.go_kind.next = self.nak.val();
                                self.go_len.next = 1.into();
                                self.go_nak.next = self.nak_busy.val();
                            }
                        } else if self.last_run_valid.q.val()
                            & (self.rx_seq.val() == self.run_seq.q.val())
                        {
                            // A retry of the last job: answer from the cache, do not rerun
                            // (no job started since: the engine still holds its cycle count).
                            self.go_len.next = 4.into();
                        } else {
                            self.go.next = false;
                            self.start_r.d.next = true;
                            self.run_pending.d.next = true;
                            self.job_done.d.next = false;
                            self.last_run_valid.d.next = true;
                            self.run_seq.d.next = self.rx_seq.val();
                        }
                    }
                }
            }
            DispS::WrRead => {
                // The word RAM's read data is there the next cycle.
                self.state.d.next = DispS::WrBus;
            }
            DispS::WrBus => {
                self.bus_write_r.d.next = true;
                self.wi.d.next = self.wi.q.val() + 1;
                self.state.d.next = DispS::WrRead;
                if self.wi.q.val() + 1 == self.nwords.val() {
                    self.go.next = true;
                    self.ans_run.d.next = false;
                    self.state.d.next = DispS::Idle;
                }
            }
            _ => {
                self.state.d.next = DispS::Idle;
            }
        }
        if self.reset.val() {
            self.core_rst.d.next = true;
            self.bus_write_r.d.next = false;
            self.bus_read_r.d.next = false;
            self.start_r.d.next = false;
            self.state.d.next = DispS::Idle;
            self.run_pending.d.next = false;
            self.job_done.d.next = false;
            self.last_run_valid.d.next = false;
        }
    }
}
