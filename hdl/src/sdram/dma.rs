//! DMA between the SDRAM controller's client port and the engine's bus: one transfer
//! (`common::dma::Transfer`) at a time, started by `start`.
//!
//! - ToChip: one read request for the bursts that cover the words; the 16-bit beats are
//!   packed into 64-bit words (first beat in bits 15:0) and written on the bus, one word a
//!   cycle while the FIFO has one.
//! - ToSdram: bus reads are issued back to back while the FIFO has room for their answers
//!   (`bus_rvalid`, in order, after any latency); one write request, whose beats are taken
//!   from the FIFO's words.
//!
//! SDRAM bursts are 8 beats = 2 words. A transfer starting or ending on an odd SDRAM word
//! covers half a burst more: its beats are dropped (ToChip) or written with DQM high
//! (ToSdram, a "pad" entry in the FIFO), so any word range works.
//!
//! The bus side is a request held until granted: `bus_write`/`bus_read` with `bus_addr` and
//! `bus_wdata` take effect in a cycle where `bus_grant` is high (the board's bus interposer
//! gives the host link priority).

use super::lutram::LutRam16;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Dma {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // The transfer, taken on `start` when not busy.
    pub start: Signal<In, Bit>,
    pub to_sdram: Signal<In, Bit>,
    pub sdram_word: Signal<In, Bits<22>>,
    pub bus_base: Signal<In, Bits<24>>,
    pub words: Signal<In, Bits<21>>,
    pub busy: Signal<Out, Bit>,
    /// One-cycle pulse when a transfer has finished (also for a transfer of 0 words).
    pub done: Signal<Out, Bit>,
    // Bus master.
    pub bus_addr: Signal<Out, Bits<24>>,
    pub bus_wdata: Signal<Out, Bits<64>>,
    pub bus_write: Signal<Out, Bit>,
    pub bus_read: Signal<Out, Bit>,
    pub bus_grant: Signal<In, Bit>,
    pub bus_rdata: Signal<In, Bits<64>>,
    pub bus_rvalid: Signal<In, Bit>,
    // SDRAM controller client (`SdramCtrl`).
    pub req_valid: Signal<Out, Bit>,
    pub req_write: Signal<Out, Bit>,
    pub req_addr: Signal<Out, Bits<24>>,
    pub req_bursts: Signal<Out, Bits<20>>,
    pub req_ready: Signal<In, Bit>,
    pub wr_valid: Signal<Out, Bit>,
    pub wr_data: Signal<Out, Bits<16>>,
    pub wr_dqm: Signal<Out, Bits<2>>,
    pub wr_ready: Signal<In, Bit>,
    pub rd_ready: Signal<Out, Bit>,
    pub rd_valid: Signal<In, Bit>,
    pub rd_data: Signal<In, Bits<16>>,

    /// FIFO entries: bit 64 marks a pad (ToSdram: written with DQM high).
    fifo: LutRam16<65>,
    pad: Constant<Bits<65>>,
    run: DFF<Bit>,
    dir: DFF<Bit>,
    req_pend: DFF<Bit>,
    req_a: DFF<Bits<24>>,
    req_n: DFF<Bits<20>>,
    addr: DFF<Bits<24>>,
    /// Bus writes or reads still to issue.
    ops_left: DFF<Bits<21>>,
    /// ToSdram: bus answers still to come; ToChip: words still to assemble.
    in_left: DFF<Bits<21>>,
    /// Bursts whose beats have not all passed.
    bursts_left: DFF<Bits<20>>,
    tail_pad: DFF<Bit>,
    /// ToChip: the beats of the current word are the head pad's (dropped).
    skip: DFF<Bit>,
    wp: DFF<Bits<4>>,
    rp: DFF<Bits<4>>,
    /// Entries in the FIFO.
    count: DFF<Bits<5>>,
    /// ToSdram: entries plus bus reads in flight (the FIFO room they hold).
    resv: DFF<Bits<5>>,
    /// ToSdram: entries not yet promised to a started burst.
    avail: DFF<Bits<5>>,
    wr_valid_r: DFF<Bit>,
    rd_ready_r: DFF<Bit>,
    /// Beat within the burst on the SDRAM side.
    beat: DFF<Bits<3>>,
    /// ToChip: the first three beats of the word being assembled (the first in 15:0).
    asm: DFF<Bits<48>>,
    done_r: DFF<Bit>,
    /// ToSdram: a burst took its first beat in the last cycle.
    go_r: DFF<Bit>,

    last_w: Signal<Local, Bits<22>>,
    avail_n: Signal<Local, Bits<5>>,
    fresh: Signal<Local, Bit>,
    resv0: Signal<Local, Bits<5>>,
    push: Signal<Local, Bit>,
    push_data: Signal<Local, Bits<65>>,
    pop: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    burst_go: Signal<Local, Bit>,
}

impl Default for Dma {
    fn default() -> Self {
        Dma {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            to_sdram: Default::default(),
            sdram_word: Default::default(),
            bus_base: Default::default(),
            words: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            bus_addr: Default::default(),
            bus_wdata: Default::default(),
            bus_write: Default::default(),
            bus_read: Default::default(),
            bus_grant: Default::default(),
            bus_rdata: Default::default(),
            bus_rvalid: Default::default(),
            req_valid: Default::default(),
            req_write: Default::default(),
            req_addr: Default::default(),
            req_bursts: Default::default(),
            req_ready: Default::default(),
            wr_valid: Default::default(),
            wr_data: Default::default(),
            wr_dqm: Default::default(),
            wr_ready: Default::default(),
            rd_ready: Default::default(),
            rd_valid: Default::default(),
            rd_data: Default::default(),
            fifo: Default::default(),
            pad: Constant::new(Bits::<65>::from(1u64) << 64),
            run: Default::default(),
            dir: Default::default(),
            req_pend: Default::default(),
            req_a: Default::default(),
            req_n: Default::default(),
            addr: Default::default(),
            ops_left: Default::default(),
            in_left: Default::default(),
            bursts_left: Default::default(),
            tail_pad: Default::default(),
            skip: Default::default(),
            wp: Default::default(),
            rp: Default::default(),
            count: Default::default(),
            resv: Default::default(),
            avail: Default::default(),
            wr_valid_r: Default::default(),
            rd_ready_r: Default::default(),
            beat: Default::default(),
            asm: Default::default(),
            done_r: Default::default(),
            go_r: Default::default(),
            last_w: Default::default(),
            avail_n: Default::default(),
            fresh: Default::default(),
            resv0: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            pop: Default::default(),
            issue: Default::default(),
            burst_go: Default::default(),
        }
    }
}

impl Logic for Dma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            run,
            dir,
            req_pend,
            req_a,
            req_n,
            addr,
            ops_left,
            in_left,
            bursts_left,
            tail_pad,
            skip,
            wp,
            rp,
            count,
            resv,
            avail,
            wr_valid_r,
            rd_ready_r,
            beat,
            asm,
            done_r,
            go_r
        );
        self.fifo.clock.next = self.clock.val();

        self.busy.next = self.run.q.val();
        self.done.next = self.done_r.q.val();
        self.done_r.d.next = false;
        self.req_valid.next = self.req_pend.q.val();
        self.req_write.next = self.dir.q.val();
        self.req_addr.next = self.req_a.q.val();
        self.req_bursts.next = self.req_n.q.val();
        if self.req_pend.q.val() && self.req_ready.val() {
            self.req_pend.d.next = false;
        }

        // FIFO head, to both consumers.
        self.fifo.raddr.next = self.rp.q.val();
        self.bus_addr.next = self.addr.q.val();
        self.bus_wdata.next = self.fifo.rdata.val().get_bits::<64>(0);
        self.wr_dqm.next = 0.into();
        if self.fifo.rdata.val().get_bit(64) {
            self.wr_dqm.next = 3.into();
        }
        self.wr_data.next = self.fifo.rdata.val().get_bits::<16>(0);
        if self.beat.q.val().get_bits::<2>(0) == 1 {
            self.wr_data.next = self.fifo.rdata.val().get_bits::<16>(16);
        }
        if self.beat.q.val().get_bits::<2>(0) == 2 {
            self.wr_data.next = self.fifo.rdata.val().get_bits::<16>(32);
        }
        if self.beat.q.val().get_bits::<2>(0) == 3 {
            self.wr_data.next = self.fifo.rdata.val().get_bits::<16>(48);
        }
        self.wr_valid.next = self.wr_valid_r.q.val();
        self.rd_ready.next = self.rd_ready_r.q.val();

        self.push.next = false;
        self.push_data.next = bit_cast::<65, 64>(self.bus_rdata.val());
        self.pop.next = false;
        self.issue.next = false;
        self.burst_go.next = self.go_r.q.val();
        self.go_r.d.next = false;
        self.fresh.next = false;
        self.resv0.next = 0.into();
        self.bus_write.next = false;
        self.bus_read.next = false;

        if self.run.q.val() {
            if self.dir.q.val() {
                // ToSdram. Bus reads while their answers have room.
                self.bus_read.next = (self.ops_left.q.val() != 0) && (self.resv.q.val() != 16);
                self.issue.next = (self.ops_left.q.val() != 0)
                    && (self.resv.q.val() != 16)
                    && self.bus_grant.val();
                if self.bus_rvalid.val() && (self.in_left.q.val() != 0) {
                    self.push.next = true;
                    self.in_left.d.next = self.in_left.q.val() - 1;
                } else if self.tail_pad.q.val() && (self.in_left.q.val() == 0) {
                    self.push.next = true;
                    self.push_data.next = self.pad.val();
                    self.tail_pad.d.next = false;
                }
                // Beats to the controller: a burst starts only with 2 entries promised to it.
                // Once it has taken a burst's first beat the controller takes the other 7 on
                // the next cycles, so only the first depends on `wr_ready` (combinational in
                // the controller), and the FIFO's counts see the start a cycle later
                // (`go_r`): the next burst's `wr_valid` is not needed for 8 cycles.
                if (self.beat.q.val() != 0) || self.wr_ready.val() {
                    self.beat.d.next = self.beat.q.val() + 1;
                }
                self.go_r.d.next = (self.beat.q.val() == 0) && self.wr_ready.val();
                self.pop.next = self.beat.q.val().get_bits::<2>(0) == 3;
                if self.beat.q.val() == 7 {
                    self.bursts_left.d.next = self.bursts_left.q.val() - 1;
                }
            } else {
                // ToChip. Beats from the controller, packed into words.
                if self.rd_valid.val() {
                    self.beat.d.next = self.beat.q.val() + 1;
                    self.asm.d.next =
                        bit_cast::<48, 16>(self.rd_data.val()) << 32 | self.asm.q.val() >> 16;
                    if self.beat.q.val().get_bits::<2>(0) == 3 {
                        self.skip.d.next = false;
                        if !self.skip.q.val() && (self.in_left.q.val() != 0) {
                            self.push.next = true;
                            self.in_left.d.next = self.in_left.q.val() - 1;
                        }
                    }
                    if self.beat.q.val() == 7 {
                        self.bursts_left.d.next = self.bursts_left.q.val() - 1;
                    }
                }
                self.push_data.next = bit_cast::<65, 64>(
                    bit_cast::<64, 16>(self.rd_data.val()) << 48
                        | bit_cast::<64, 48>(self.asm.q.val()),
                );
                // Bus writes while the FIFO has a word.
                self.bus_write.next = self.count.q.val() != 0;
                self.issue.next = (self.count.q.val() != 0) && self.bus_grant.val();
                self.pop.next = self.issue.val();
            }
            if self.issue.val() {
                self.addr.d.next = self.addr.q.val() + 1;
                self.ops_left.d.next = self.ops_left.q.val() - 1;
            }
            if (self.ops_left.q.val() == 0)
                && (self.bursts_left.q.val() == 0)
                && (self.count.q.val() == 0)
                && !self.req_pend.q.val()
            {
                self.run.d.next = false;
                self.done_r.d.next = true;
            }
        }

        // A new transfer.
        self.last_w.next = self.sdram_word.val() + bit_cast::<22, 21>(self.words.val()) - 1;
        if self.start.val() && !self.run.q.val() {
            self.dir.d.next = self.to_sdram.val();
            self.addr.d.next = self.bus_base.val();
            self.ops_left.d.next = self.words.val();
            self.in_left.d.next = self.words.val();
            self.req_a.d.next = bit_cast::<24, 22>(self.sdram_word.val()) << 2;
            self.req_n.d.next = bit_cast::<20, 21>(
                self.last_w.val().get_bits::<21>(1) - self.sdram_word.val().get_bits::<21>(1) + 1,
            );
            self.bursts_left.d.next = bit_cast::<20, 21>(
                self.last_w.val().get_bits::<21>(1) - self.sdram_word.val().get_bits::<21>(1) + 1,
            );
            self.skip.d.next = self.sdram_word.val().get_bit(0);
            self.tail_pad.d.next = !self.last_w.val().get_bit(0);
            self.beat.d.next = 0.into();
            if self.words.val() == 0 {
                self.done_r.d.next = true;
            } else {
                self.run.d.next = true;
                self.req_pend.d.next = true;
                // ToSdram: the head pad goes in first; the tail pad's room is held from the
                // start.
                self.fresh.next = true;
                if self.to_sdram.val() {
                    if self.sdram_word.val().get_bit(0) {
                        self.push.next = true;
                        self.push_data.next = self.pad.val();
                        self.resv0.next = 1.into();
                        if !self.last_w.val().get_bit(0) {
                            self.resv0.next = 2.into();
                        }
                    } else if !self.last_w.val().get_bit(0) {
                        self.resv0.next = 1.into();
                    }
                }
            }
        }

        // FIFO pointers and counts.
        self.fifo.we.next = self.push.val();
        self.fifo.waddr.next = self.wp.q.val();
        self.fifo.wdata.next = self.push_data.val();
        if self.push.val() {
            self.wp.d.next = self.wp.q.val() + 1;
        }
        if self.pop.val() {
            self.rp.d.next = self.rp.q.val() + 1;
        }
        if self.push.val() && !self.pop.val() {
            self.count.d.next = self.count.q.val() + 1;
        }
        if !self.push.val() && self.pop.val() {
            self.count.d.next = self.count.q.val() - 1;
        }
        if self.issue.val() && !self.pop.val() {
            self.resv.d.next = self.resv.q.val() + 1;
        }
        if !self.issue.val() && self.pop.val() {
            self.resv.d.next = self.resv.q.val() - 1;
        }
        self.avail_n.next = self.avail.q.val();
        if self.burst_go.val() {
            if self.push.val() {
                self.avail_n.next = self.avail.q.val() - 1;
            } else {
                self.avail_n.next = self.avail.q.val() - 2;
            }
        } else if self.push.val() {
            self.avail_n.next = self.avail.q.val() + 1;
        }
        // A new transfer starts from an empty FIFO (pointers where the last one left them).
        if self.fresh.val() {
            self.count.d.next = 0.into();
            self.avail_n.next = 0.into();
            if self.push.val() {
                self.count.d.next = 1.into();
                self.avail_n.next = 1.into();
            }
            self.resv.d.next = self.resv0.val();
        }
        self.avail.d.next = self.avail_n.val();
        // Registered flow control. wr_valid: the next burst's 2 entries are in the FIFO (it
        // lags a push by a cycle; a burst takes 8). rd_ready: room for the burst asked for
        // and all in flight (READ to last beat is under 16 cycles, bursts 8 apart: at most 3
        // bursts, 6 words, beyond the count).
        self.wr_valid_r.d.next =
            self.run.q.val() && self.dir.q.val() && (self.avail_n.val().get_bits::<4>(1) != 0);
        self.rd_ready_r.d.next = self.count.q.val() < 8;

        if self.reset.val() {
            self.run.d.next = false;
            self.req_pend.d.next = false;
            self.done_r.d.next = false;
            self.count.d.next = 0.into();
            self.resv.d.next = 0.into();
            self.avail.d.next = 0.into();
            self.wp.d.next = 0.into();
            self.rp.d.next = 0.into();
            self.beat.d.next = 0.into();
            self.ops_left.d.next = 0.into();
            self.in_left.d.next = 0.into();
            self.bursts_left.d.next = 0.into();
            self.tail_pad.d.next = false;
            self.go_r.d.next = false;
            self.wr_valid_r.d.next = false;
            self.rd_ready_r.d.next = false;
        }
    }
}
