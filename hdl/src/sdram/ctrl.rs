//! SDR SDRAM controller for 16-bit parts (ULX3S): BL8 bursts, rows left open, the next burst's
//! bank opened while the current one streams, so a long sequential stream issues a READ or
//! WRITE every 8 cycles without gaps except for refresh. Every pin is driven from a register
//! (the board top puts them in the I/O cells) and DQ is captured in a register.
//!
//! Client side (docs/sdram.md, "Client interface"): a request (`req_write`, `req_addr` a word
//! address whose low 3 bits are ignored, `req_bursts` 8-word bursts) is taken when `req_valid`
//! and `req_ready`; one at a time, in order. Write data is pulled: `wr_valid` says a whole
//! burst can be given on demand, and each cycle `wr_ready` is high the word on `wr_data` is
//! taken (first-word-fall-through FIFO). Read data is pushed: a read burst is issued only while
//! `rd_ready` says the client can take 8 more words; they come with `rd_valid`.
//!
//! Address map: word address = row (13) : bank (2) : column (9), so a sequential stream moves
//! to the next bank at each 512-word page and the new row opens behind the current burst.

use common::sdram::SdramTiming;
use rust_hdl::prelude::*;

/// Words per burst (mode register burst length).
pub const BURST: u64 = 8;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum CtrlState {
    /// NOPs for the power-up time.
    PowerUp,
    InitRefresh1,
    InitRefresh2,
    LoadMode,
    /// Serving requests.
    Run,
    /// PRECHARGE ALL issued for a refresh; AUTO REFRESH next.
    Refresh,
}

// Commands as CS#, RAS#, CAS#, WE# (literals: `#[hdl_gen]` emits a Rust const's name):
// NOP 0111, ACTIVE 0011, READ 0101, WRITE 0100, PRECHARGE 0010, AUTO REFRESH 0001,
// LOAD MODE REGISTER 0000.

#[derive(LogicBlock)]
pub struct SdramCtrl {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Requests.
    pub req_valid: Signal<In, Bit>,
    pub req_write: Signal<In, Bit>,
    pub req_addr: Signal<In, Bits<24>>,
    pub req_bursts: Signal<In, Bits<20>>,
    pub req_ready: Signal<Out, Bit>,
    // Write data (pulled).
    pub wr_valid: Signal<In, Bit>,
    pub wr_data: Signal<In, Bits<16>>,
    /// Byte mask of the word on `wr_data` (DQM: 1 = not written), taken with it.
    pub wr_dqm: Signal<In, Bits<2>>,
    pub wr_ready: Signal<Out, Bit>,
    // Read data (pushed).
    pub rd_ready: Signal<In, Bit>,
    pub rd_valid: Signal<Out, Bit>,
    pub rd_data: Signal<Out, Bits<16>>,
    // SDRAM pins.
    pub sd_cke: Signal<Out, Bit>,
    pub sd_cs_n: Signal<Out, Bit>,
    pub sd_ras_n: Signal<Out, Bit>,
    pub sd_cas_n: Signal<Out, Bit>,
    pub sd_we_n: Signal<Out, Bit>,
    pub sd_ba: Signal<Out, Bits<2>>,
    pub sd_a: Signal<Out, Bits<13>>,
    pub sd_dqm: Signal<Out, Bits<2>>,
    pub sd_dq_out: Signal<Out, Bits<16>>,
    pub sd_dq_oe: Signal<Out, Bit>,
    pub sd_dq_in: Signal<In, Bits<16>>,

    // Wait counts, each "cycles to skip" = gap in cycles - 1.
    power_up: Constant<Bits<16>>,
    refi: Constant<Bits<16>>,
    w_rp: Constant<Bits<5>>,
    w_rfc: Constant<Bits<5>>,
    w_mrd: Constant<Bits<5>>,
    w_rcd: Constant<Bits<5>>,
    w_ras: Constant<Bits<5>>,
    w_rc: Constant<Bits<5>>,
    w_rrd: Constant<Bits<5>>,
    /// READ to PRECHARGE, WRITE to PRECHARGE (last data + tWR).
    w_rd_pre: Constant<Bits<5>>,
    w_wr_pre: Constant<Bits<5>>,
    /// Column command to the next one; READ to WRITE (the read data and a turnaround cycle).
    w_col: Constant<Bits<5>>,
    w_rd_wr: Constant<Bits<5>>,
    mode: Constant<Bits<13>>,
    /// One-hot: the bit of `rd_pipe` that starts a burst's `rd_valid` (CAS latency + pin
    /// registers + extra capture delay).
    rd_tap: Constant<Bits<8>>,

    state: DFF<CtrlState>,
    hold: DFF<Bits<16>>,
    ref_timer: DFF<Bits<16>>,
    ref_due: DFF<Bit>,
    // Per bank: open, its row, cycles until PRECHARGE / ACTIVE / READ-WRITE are allowed.
    open: [DFF<Bit>; 4],
    row: [DFF<Bits<13>>; 4],
    pre_wait: [DFF<Bits<5>>; 4],
    act_wait: [DFF<Bits<5>>; 4],
    rcd_wait: [DFF<Bits<5>>; 4],
    rrd_wait: DFF<Bits<5>>,
    rd_wait: DFF<Bits<5>>,
    wr_wait: DFF<Bits<5>>,
    // The request: burst addresses (word address / 8) of this burst and the next.
    active: DFF<Bit>,
    write: DFF<Bit>,
    cur: DFF<Bits<21>>,
    nxt: DFF<Bits<21>>,
    left: DFF<Bits<20>>,
    // Row hits of this burst and the next, registered to keep the row compares out of the
    // command decision; `settle` blocks the decision for the cycle after a change to the
    // request or the banks, when they are stale.
    hit_c: DFF<Bit>,
    open_c: DFF<Bit>,
    hit_n: DFF<Bit>,
    open_n: DFF<Bit>,
    settle: DFF<Bit>,
    // Data: beats of the write burst still to take, read bursts in flight, beats to deliver.
    wr_cnt: DFF<Bits<3>>,
    rd_pipe: DFF<Bits<8>>,
    rd_cnt: DFF<Bits<4>>,
    // Pin registers.
    cmd: DFF<Bits<4>>,
    a: DFF<Bits<13>>,
    ba: DFF<Bits<2>>,
    dq_out: DFF<Bits<16>>,
    dqm: DFF<Bits<2>>,
    dq_oe: DFF<Bit>,
    cke: DFF<Bit>,
    dq_in: DFF<Bits<16>>,

    cur_bank: Signal<Local, Bits<2>>,
    cur_row: Signal<Local, Bits<13>>,
    nxt_bank: Signal<Local, Bits<2>>,
    nxt_row: Signal<Local, Bits<13>>,
    cur_rcd: Signal<Local, Bit>,
    tgt_any: Signal<Local, Bit>,
    tgt_bank: Signal<Local, Bits<2>>,
    tgt_row: Signal<Local, Bits<13>>,
    tgt_open: Signal<Local, Bit>,
    tgt_hit: Signal<Local, Bit>,
    tgt_pre_ok: Signal<Local, Bit>,
    tgt_act_ok: Signal<Local, Bit>,
    all_pre_ok: Signal<Local, Bit>,
    do_col: Signal<Local, Bit>,
    do_pre: Signal<Local, Bit>,
    do_act: Signal<Local, Bit>,
}

impl SdramCtrl {
    /// A controller for timing `t` (its CAS latency), with `extra_read_delay` cycles between
    /// the pins and the capture register beyond the ideal (board I/O timing; 0 in simulation).
    pub fn new(t: &SdramTiming, extra_read_delay: u64) -> Self {
        assert!(
            t.banks == 4 && t.rows == 8192 && t.cols >= 512,
            "needs 4 x 8192 x 512"
        );
        assert!(t.cl == 2 || t.cl == 3, "CAS latency 2 or 3");
        // AUTO REFRESH follows PRECHARGE ALL by tRP, which PRECHARGE (after tRAS) makes tRC
        // after the last ACTIVE only if tRAS + tRP covers tRC (as on every part in use).
        assert!(t.t_ras + t.t_rp >= t.t_rc, "tRAS + tRP < tRC");
        let w = |cycles: u64| -> Constant<Bits<5>> {
            assert!((1..=32).contains(&cycles), "wait of {cycles} cycles");
            Constant::new((cycles - 1).to_bits())
        };
        let tap = t.cl + extra_read_delay;
        assert!(tap < 8, "read delay too long");
        SdramCtrl {
            clock: Default::default(),
            reset: Default::default(),
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
            sd_cke: Default::default(),
            sd_cs_n: Default::default(),
            sd_ras_n: Default::default(),
            sd_cas_n: Default::default(),
            sd_we_n: Default::default(),
            sd_ba: Default::default(),
            sd_a: Default::default(),
            sd_dqm: Default::default(),
            sd_dq_out: Default::default(),
            sd_dq_oe: Default::default(),
            sd_dq_in: Default::default(),
            power_up: Constant::new((t.power_up + 1).min(65535).to_bits()),
            refi: Constant::new(t.refresh_interval().to_bits()),
            w_rp: w(t.t_rp),
            w_rfc: w(t.t_rfc),
            w_mrd: w(t.t_mrd),
            w_rcd: w(t.t_rcd),
            w_ras: w(t.t_ras),
            w_rc: w(t.t_rc),
            w_rrd: w(t.t_rrd),
            w_rd_pre: w(BURST),
            w_wr_pre: w(BURST - 1 + t.t_wr),
            w_col: w(BURST),
            // The read data on the pins moves with the capture delay: so does the turnaround.
            w_rd_wr: w(t.cl + BURST + 1 + extra_read_delay),
            // Burst length 8, sequential, CAS latency, burst writes.
            mode: Constant::new((3 | (t.cl << 4)).to_bits()),
            rd_tap: Constant::new((1u64 << tap).to_bits()),
            state: Default::default(),
            hold: Default::default(),
            ref_timer: Default::default(),
            ref_due: Default::default(),
            open: Default::default(),
            row: Default::default(),
            pre_wait: Default::default(),
            act_wait: Default::default(),
            rcd_wait: Default::default(),
            rrd_wait: Default::default(),
            rd_wait: Default::default(),
            wr_wait: Default::default(),
            active: Default::default(),
            write: Default::default(),
            cur: Default::default(),
            nxt: Default::default(),
            left: Default::default(),
            hit_c: Default::default(),
            open_c: Default::default(),
            hit_n: Default::default(),
            open_n: Default::default(),
            settle: Default::default(),
            wr_cnt: Default::default(),
            rd_pipe: Default::default(),
            rd_cnt: Default::default(),
            cmd: Default::default(),
            a: Default::default(),
            ba: Default::default(),
            dq_out: Default::default(),
            dqm: Default::default(),
            dq_oe: Default::default(),
            cke: Default::default(),
            dq_in: Default::default(),
            cur_bank: Default::default(),
            cur_row: Default::default(),
            nxt_bank: Default::default(),
            nxt_row: Default::default(),
            cur_rcd: Default::default(),
            tgt_any: Default::default(),
            tgt_bank: Default::default(),
            tgt_row: Default::default(),
            tgt_open: Default::default(),
            tgt_hit: Default::default(),
            tgt_pre_ok: Default::default(),
            tgt_act_ok: Default::default(),
            all_pre_ok: Default::default(),
            do_col: Default::default(),
            do_pre: Default::default(),
            do_act: Default::default(),
        }
    }
}

impl Logic for SdramCtrl {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, hold, ref_timer, ref_due, rrd_wait, rd_wait, wr_wait, active,
            write, cur, nxt, left, hit_c, open_c, hit_n, open_n, settle, wr_cnt, rd_pipe, rd_cnt,
            cmd, a, ba, dq_out, dqm, dq_oe, cke, dq_in
        );
        for b in 0..4 {
            self.open[b].clock.next = self.clock.val();
            self.row[b].clock.next = self.clock.val();
            self.pre_wait[b].clock.next = self.clock.val();
            self.act_wait[b].clock.next = self.clock.val();
            self.rcd_wait[b].clock.next = self.clock.val();
            self.open[b].d.next = self.open[b].q.val();
            self.row[b].d.next = self.row[b].q.val();
            self.pre_wait[b].d.next = self.pre_wait[b].q.val();
            self.act_wait[b].d.next = self.act_wait[b].q.val();
            self.rcd_wait[b].d.next = self.rcd_wait[b].q.val();
            if self.pre_wait[b].q.val() != 0 {
                self.pre_wait[b].d.next = self.pre_wait[b].q.val() - 1;
            }
            if self.act_wait[b].q.val() != 0 {
                self.act_wait[b].d.next = self.act_wait[b].q.val() - 1;
            }
            if self.rcd_wait[b].q.val() != 0 {
                self.rcd_wait[b].d.next = self.rcd_wait[b].q.val() - 1;
            }
        }
        if self.hold.q.val() != 0 {
            self.hold.d.next = self.hold.q.val() - 1;
        }
        if self.rrd_wait.q.val() != 0 {
            self.rrd_wait.d.next = self.rrd_wait.q.val() - 1;
        }
        if self.rd_wait.q.val() != 0 {
            self.rd_wait.d.next = self.rd_wait.q.val() - 1;
        }
        if self.wr_wait.q.val() != 0 {
            self.wr_wait.d.next = self.wr_wait.q.val() - 1;
        }
        self.ref_timer.d.next = self.ref_timer.q.val() - 1;
        if self.ref_timer.q.val() == 0 {
            self.ref_timer.d.next = self.refi.val();
            self.ref_due.d.next = true;
        }

        // Pins: registered, NOP unless a command is issued below.
        self.sd_cke.next = self.cke.q.val();
        self.sd_cs_n.next = self.cmd.q.val().get_bit(3);
        self.sd_ras_n.next = self.cmd.q.val().get_bit(2);
        self.sd_cas_n.next = self.cmd.q.val().get_bit(1);
        self.sd_we_n.next = self.cmd.q.val().get_bit(0);
        self.sd_ba.next = self.ba.q.val();
        self.sd_a.next = self.a.q.val();
        self.sd_dqm.next = self.dqm.q.val();
        self.sd_dq_out.next = self.dq_out.q.val();
        self.sd_dq_oe.next = self.dq_oe.q.val();
        self.cke.d.next = true;
        self.cmd.d.next = 7.into(); // NOP
        self.dq_in.d.next = self.sd_dq_in.val();

        // Read data: a burst's 8 beats start when its READ reaches the tap of `rd_pipe`.
        self.rd_pipe.d.next = self.rd_pipe.q.val() << 1;
        self.rd_data.next = self.dq_in.q.val();
        self.rd_valid.next = self.rd_cnt.q.val() != 0;
        if self.rd_cnt.q.val() != 0 {
            self.rd_cnt.d.next = self.rd_cnt.q.val() - 1;
        }
        if (self.rd_pipe.q.val() & self.rd_tap.val()) != 0 {
            self.rd_cnt.d.next = 8.into();
        }

        // Write data: the beats after a WRITE's first.
        self.wr_ready.next = false;
        self.dq_oe.d.next = false;
        self.dq_out.d.next = self.wr_data.val();
        self.dqm.d.next = 0.into();
        if self.wr_cnt.q.val() != 0 {
            self.wr_ready.next = true;
            self.dq_oe.d.next = true;
            self.dqm.d.next = self.wr_dqm.val();
            self.wr_cnt.d.next = self.wr_cnt.q.val() - 1;
        }

        // The current burst and the bank to prepare: the current burst's if its row is not
        // open, else the next burst's (opened while the current streams).
        self.cur_bank.next = self.cur.q.val().get_bits::<2>(6);
        self.cur_row.next = self.cur.q.val().get_bits::<13>(8);
        self.nxt_bank.next = self.nxt.q.val().get_bits::<2>(6);
        self.nxt_row.next = self.nxt.q.val().get_bits::<13>(8);
        self.hit_c.d.next = false;
        self.open_c.d.next = false;
        self.hit_n.d.next = false;
        self.open_n.d.next = false;
        self.cur_rcd.next = false;
        for b in 0..4 {
            if self.cur_bank.val().index() == b {
                self.open_c.d.next = self.open[b].q.val();
                self.hit_c.d.next =
                    self.open[b].q.val() && (self.row[b].q.val() == self.cur_row.val());
                self.cur_rcd.next = self.rcd_wait[b].q.val() == 0;
            }
            if self.nxt_bank.val().index() == b {
                self.open_n.d.next = self.open[b].q.val();
                self.hit_n.d.next =
                    self.open[b].q.val() && (self.row[b].q.val() == self.nxt_row.val());
            }
        }
        self.settle.d.next = false;
        self.tgt_any.next = self.active.q.val();
        self.tgt_bank.next = self.cur_bank.val();
        self.tgt_row.next = self.cur_row.val();
        self.tgt_open.next = self.open_c.q.val();
        self.tgt_hit.next = false;
        if self.hit_c.q.val() {
            self.tgt_any.next = self.active.q.val() && (self.left.q.val() != 1);
            self.tgt_bank.next = self.nxt_bank.val();
            self.tgt_row.next = self.nxt_row.val();
            self.tgt_open.next = self.open_n.q.val();
            self.tgt_hit.next = self.hit_n.q.val();
        }
        self.tgt_pre_ok.next = false;
        self.tgt_act_ok.next = false;
        self.all_pre_ok.next = true;
        for b in 0..4 {
            if self.tgt_bank.val().index() == b {
                self.tgt_pre_ok.next = self.pre_wait[b].q.val() == 0;
                self.tgt_act_ok.next = self.act_wait[b].q.val() == 0;
            }
            if self.pre_wait[b].q.val() != 0 {
                self.all_pre_ok.next = false;
            }
        }

        self.req_ready.next = (self.state.q.val() == CtrlState::Run) && !self.active.q.val();
        self.do_col.next = false;
        self.do_pre.next = false;
        self.do_act.next = false;
        match self.state.q.val() {
            CtrlState::PowerUp => {
                if self.hold.q.val() == 0 {
                    self.cmd.d.next = 2.into(); // PRE
                    self.a.d.next = 1024.into();
                    self.hold.d.next = bit_cast::<16, 5>(self.w_rp.val());
                    self.state.d.next = CtrlState::InitRefresh1;
                }
            }
            CtrlState::InitRefresh1 => {
                if self.hold.q.val() == 0 {
                    self.cmd.d.next = 1.into(); // REF
                    self.hold.d.next = bit_cast::<16, 5>(self.w_rfc.val());
                    self.state.d.next = CtrlState::InitRefresh2;
                }
            }
            CtrlState::InitRefresh2 => {
                if self.hold.q.val() == 0 {
                    self.cmd.d.next = 1.into(); // REF
                    self.hold.d.next = bit_cast::<16, 5>(self.w_rfc.val());
                    self.state.d.next = CtrlState::LoadMode;
                }
            }
            CtrlState::LoadMode => {
                if self.hold.q.val() == 0 {
                    self.cmd.d.next = 0.into(); // LMR
                    self.ba.d.next = 0.into();
                    self.a.d.next = self.mode.val();
                    self.hold.d.next = bit_cast::<16, 5>(self.w_mrd.val());
                    self.ref_timer.d.next = self.refi.val();
                    self.ref_due.d.next = false;
                    self.state.d.next = CtrlState::Run;
                }
            }
            CtrlState::Run => {
                if self.req_valid.val() && !self.active.q.val() {
                    self.active.d.next = self.req_bursts.val() != 0;
                    self.write.d.next = self.req_write.val();
                    self.cur.d.next = self.req_addr.val().get_bits::<21>(3);
                    self.nxt.d.next = self.req_addr.val().get_bits::<21>(3) + 1;
                    self.left.d.next = self.req_bursts.val();
                    self.settle.d.next = true;
                }
                if (self.hold.q.val() == 0) && !self.settle.q.val() {
                    if self.ref_due.q.val() {
                        // Refresh: let the banks' bursts end, close them all.
                        if self.all_pre_ok.val() {
                            self.cmd.d.next = 2.into(); // PRE
                            self.a.d.next = 1024.into();
                            self.hold.d.next = bit_cast::<16, 5>(self.w_rp.val());
                            self.state.d.next = CtrlState::Refresh;
                            for b in 0..4 {
                                self.open[b].d.next = false;
                            }
                        }
                    } else if self.active.q.val()
                        && self.hit_c.q.val()
                        && self.cur_rcd.val()
                        && ((self.write.q.val()
                            && self.wr_valid.val()
                            && (self.wr_wait.q.val() == 0))
                            || (!self.write.q.val()
                                && self.rd_ready.val()
                                && (self.rd_wait.q.val() == 0)))
                    {
                        self.do_col.next = true;
                    } else if self.tgt_any.val() && !self.tgt_hit.val() {
                        if self.tgt_open.val() {
                            self.do_pre.next = self.tgt_pre_ok.val();
                        } else {
                            self.do_act.next =
                                self.tgt_act_ok.val() && (self.rrd_wait.q.val() == 0);
                        }
                    }
                }
            }
            CtrlState::Refresh => {
                if self.hold.q.val() == 0 {
                    self.cmd.d.next = 1.into(); // REF
                    self.hold.d.next = bit_cast::<16, 5>(self.w_rfc.val());
                    self.ref_due.d.next = false;
                    self.state.d.next = CtrlState::Run;
                }
            }
            _ => {
                self.state.d.next = CtrlState::PowerUp;
            }
        }

        if self.do_col.val() || self.do_pre.val() || self.do_act.val() {
            self.settle.d.next = true;
        }
        if self.do_col.val() {
            self.ba.d.next = self.cur_bank.val();
            self.a.d.next = bit_cast::<13, 6>(self.cur.q.val().get_bits::<6>(0)) << 3;
            self.cur.d.next = self.nxt.q.val();
            self.nxt.d.next = self.nxt.q.val() + 1;
            self.left.d.next = self.left.q.val() - 1;
            if self.left.q.val() == 1 {
                self.active.d.next = false;
            }
            self.rd_wait.d.next = self.w_col.val();
            if self.write.q.val() {
                self.cmd.d.next = 4.into(); // WR
                self.wr_ready.next = true;
                self.dq_oe.d.next = true;
                self.dqm.d.next = self.wr_dqm.val();
                self.wr_cnt.d.next = 7.into();
                self.wr_wait.d.next = self.w_col.val();
            } else {
                self.cmd.d.next = 5.into(); // RD
                self.rd_pipe.d.next = (self.rd_pipe.q.val() << 1) | 1;
                self.wr_wait.d.next = self.w_rd_wr.val();
            }
            for b in 0..4 {
                if self.cur_bank.val().index() == b {
                    if self.write.q.val() {
                        if self.pre_wait[b].q.val() < self.w_wr_pre.val() {
                            self.pre_wait[b].d.next = self.w_wr_pre.val();
                        }
                    } else if self.pre_wait[b].q.val() < self.w_rd_pre.val() {
                        self.pre_wait[b].d.next = self.w_rd_pre.val();
                    }
                }
            }
        }
        if self.do_pre.val() {
            self.cmd.d.next = 2.into(); // PRE
            self.ba.d.next = self.tgt_bank.val();
            self.a.d.next = 0.into();
            for b in 0..4 {
                if self.tgt_bank.val().index() == b {
                    self.open[b].d.next = false;
                    if self.act_wait[b].q.val() < self.w_rp.val() {
                        self.act_wait[b].d.next = self.w_rp.val();
                    }
                }
            }
        }
        if self.do_act.val() {
            self.cmd.d.next = 3.into(); // ACT
            self.ba.d.next = self.tgt_bank.val();
            self.a.d.next = self.tgt_row.val();
            self.rrd_wait.d.next = self.w_rrd.val();
            for b in 0..4 {
                if self.tgt_bank.val().index() == b {
                    self.open[b].d.next = true;
                    self.row[b].d.next = self.tgt_row.val();
                    self.rcd_wait[b].d.next = self.w_rcd.val();
                    self.pre_wait[b].d.next = self.w_ras.val();
                    self.act_wait[b].d.next = self.w_rc.val();
                }
            }
        }

        if self.reset.val() {
            self.state.d.next = CtrlState::PowerUp;
            self.hold.d.next = self.power_up.val();
            self.cmd.d.next = 7.into(); // NOP
            self.active.d.next = false;
            self.ref_due.d.next = false;
            self.wr_cnt.d.next = 0.into();
            self.rd_pipe.d.next = 0.into();
            self.rd_cnt.d.next = 0.into();
            self.dq_oe.d.next = false;
            self.rrd_wait.d.next = 0.into();
            self.rd_wait.d.next = 0.into();
            self.wr_wait.d.next = 0.into();
            for b in 0..4 {
                self.open[b].d.next = false;
                self.pre_wait[b].d.next = 0.into();
                self.act_wait[b].d.next = 0.into();
                self.rcd_wait[b].d.next = 0.into();
            }
        }
    }
}
