//! The engine's bus port: input registers, the address decode (`common::bus`), the write
//! enables and the read requests' tags up to the memories' answer (`BusPort`), and the read
//! answer (`BusAnswer`).
//!
//! A bus request is at t0 once it leaves the input registers (`Schedule::bus_in`: the link
//! drives `bus_wdata` from a block RAM output, and the word fans out to every RAM bank and
//! weight row). A read is registered at t1 with its tags; the memories answer at
//! `Schedule::act`, and `BusAnswer` returns the word `Schedule::bus_answer` registers later.

use crate::delay::Delay;
use common::bus::{ADDR_BITS, REGION_SHIFT, Region};
use rust_hdl::prelude::*;

// The decode below spells the memory map's regions and address layout as literals.
const _: () = assert!(
    Region::Desc as u32 == 0
        && Region::A as u32 == 1
        && Region::B as u32 == 2
        && Region::S as u32 == 3
        && Region::Weights as u32 == 4
        && Region::Params as u32 == 5
        && REGION_SHIFT == 20
        && ADDR_BITS == 24
);

#[derive(LogicBlock)]
pub struct BusPort {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub bus_addr: Signal<In, Bits<24>>,
    pub bus_wdata: Signal<In, Bits<64>>,
    pub bus_write: Signal<In, Bit>,
    pub bus_read: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    /// The engine runs: the bus may not write (and does not read).
    pub busy: Signal<In, Bit>,
    /// `start` at t0.
    pub start_q: Signal<Out, Bit>,
    /// The request at t0: data, word index (low 16 bits), weight word and row, region.
    pub wdata: Signal<Out, Bits<64>>,
    pub idx16: Signal<Out, Bits<16>>,
    pub wword: Signal<Out, Bits<16>>,
    pub wrow: Signal<Out, Bits<8>>,
    /// Writes to the descriptors, parameters and weights (t0).
    pub we_desc: Signal<Out, Bit>,
    pub we_par: Signal<Out, Bit>,
    pub we_w: Signal<Out, Bit>,
    /// Writes to A, B, S (bits 0-2), decoded from the request's next address and registered
    /// with it, so the decode stays out of every bank's write enable (the routed ULX3S
    /// build's critical path was that decode).
    pub bwr: Signal<Out, Bits<3>>,
    /// The request's next index (the A/B/S banks register their write address from it).
    pub next_idx: Signal<Out, Bits<16>>,
    /// The shared A/B/S port: the region as a buffer select (`common::job::Buf`), and a
    /// read of it at t0 (the collision check).
    pub ab_sel: Signal<Out, Bits<2>>,
    pub ab_re: Signal<Out, Bit>,
    /// The descriptor RAM's bus read address, and its word at `act`.
    pub desc_raddr: Signal<Out, Bits<16>>,
    pub desc_rdata: Signal<In, Bits<64>>,
    pub desc_word: Signal<Out, Bits<64>>,
    /// The read's tags at `act`: valid, region, weight row, in range.
    pub rq_v: Signal<Out, Bit>,
    pub rq_reg: Signal<Out, Bits<4>>,
    pub rq_row: Signal<Out, Bits<8>>,
    pub rq_ok: Signal<Out, Bit>,
    /// The read is of A, B, S (bits 0-2) at `act`.
    pub rq_buf: Signal<Out, Bits<3>>,
    logr: Constant<Bits<5>>,
    rmask: Constant<Bits<8>>,
    desc_words: Constant<Bits<16>>,
    param_words: Constant<Bits<16>>,
    weight_words: Constant<Bits<16>>,
    // Input registers: all but the last (`Schedule::bus_in - 1`), then the last.
    in_a1: Delay<Bits<24>>,
    in_d1: Delay<Bits<64>>,
    in_w1: Delay<Bit>,
    in_r1: Delay<Bit>,
    in_st1: Delay<Bit>,
    in_a2: DFF<Bits<24>>,
    in_d2: DFF<Bits<64>>,
    in_w2: DFF<Bit>,
    in_r2: DFF<Bit>,
    in_st2: DFF<Bit>,
    region: Signal<Local, Bits<4>>,
    index: Signal<Local, Bits<20>>,
    idx_ok: Signal<Local, Bit>,
    /// A read's index is inside its memory (descriptors, parameters, weights; the activation
    /// buffers gate their own reads).
    in_depth: Signal<Local, Bit>,
    wword20: Signal<Local, Bits<20>>,
    bus_ab: Signal<Local, Bit>,
    bus_sel: Signal<Local, Bits<4>>,
    nregion: Signal<Local, Bits<4>>,
    nidx_ok: Signal<Local, Bit>,
    bwr_r: DFF<Bits<3>>,
    // The read at t1, and its tags delayed to `act`.
    rd_v: DFF<Bit>,
    rd_reg: DFF<Bits<4>>,
    rd_row: DFF<Bits<8>>,
    rd_ok: DFF<Bit>,
    tag_v: Delay<Bit>,
    tag_reg: Delay<Bits<4>>,
    tag_row: Delay<Bits<8>>,
    tag_ok: Delay<Bit>,
    desc_a: Delay<Bits<16>>,
    desc_q: Delay<Bits<64>>,
}

impl BusPort {
    /// `rows` weight rows of `weight_words` each; the other depths in words.
    pub fn new(
        s: &common::Schedule,
        rows: usize,
        desc_words: usize,
        param_words: usize,
        weight_words: usize,
    ) -> Self {
        assert!(s.bus_in >= 1 && s.act >= 2);
        BusPort {
            clock: Default::default(),
            reset: Default::default(),
            bus_addr: Default::default(),
            bus_wdata: Default::default(),
            bus_write: Default::default(),
            bus_read: Default::default(),
            start: Default::default(),
            busy: Default::default(),
            start_q: Default::default(),
            wdata: Default::default(),
            idx16: Default::default(),
            wword: Default::default(),
            wrow: Default::default(),
            we_desc: Default::default(),
            we_par: Default::default(),
            we_w: Default::default(),
            bwr: Default::default(),
            next_idx: Default::default(),
            ab_sel: Default::default(),
            ab_re: Default::default(),
            desc_raddr: Default::default(),
            desc_rdata: Default::default(),
            desc_word: Default::default(),
            rq_v: Default::default(),
            rq_reg: Default::default(),
            rq_row: Default::default(),
            rq_ok: Default::default(),
            rq_buf: Default::default(),
            logr: Constant::new((rows.trailing_zeros() as u64).into()),
            rmask: Constant::new(((rows - 1) as u64).into()),
            desc_words: Constant::new((desc_words as u64).into()),
            param_words: Constant::new((param_words as u64).into()),
            weight_words: Constant::new((weight_words as u64).into()),
            in_a1: Delay::new(s.bus_in - 1),
            in_d1: Delay::new(s.bus_in - 1),
            in_w1: Delay::new(s.bus_in - 1),
            in_r1: Delay::new(s.bus_in - 1),
            in_st1: Delay::new(s.bus_in - 1),
            in_a2: Default::default(),
            in_d2: Default::default(),
            in_w2: Default::default(),
            in_r2: Default::default(),
            in_st2: Default::default(),
            region: Default::default(),
            index: Default::default(),
            idx_ok: Default::default(),
            in_depth: Default::default(),
            wword20: Default::default(),
            bus_ab: Default::default(),
            bus_sel: Default::default(),
            nregion: Default::default(),
            nidx_ok: Default::default(),
            bwr_r: Default::default(),
            rd_v: Default::default(),
            rd_reg: Default::default(),
            rd_row: Default::default(),
            rd_ok: Default::default(),
            tag_v: Delay::new(s.act - 1),
            tag_reg: Delay::new(s.act - 1),
            tag_row: Delay::new(s.act - 1),
            tag_ok: Delay::new(s.act - 1),
            desc_a: Delay::new(s.desc_addr),
            desc_q: Delay::new(s.desc_data),
        }
    }
}

impl Logic for BusPort {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, in_a2, in_d2, in_w2, in_r2, in_st2, bwr_r, rd_v, rd_reg, rd_row, rd_ok
        );
        self.in_a1.clock.next = self.clock.val();
        self.in_d1.clock.next = self.clock.val();
        self.in_w1.clock.next = self.clock.val();
        self.in_r1.clock.next = self.clock.val();
        self.in_st1.clock.next = self.clock.val();
        self.in_a1.reset.next = false;
        self.in_d1.reset.next = false;
        self.in_w1.reset.next = self.reset.val();
        self.in_r1.reset.next = self.reset.val();
        self.in_st1.reset.next = self.reset.val();
        self.in_a1.en.next = true;
        self.in_d1.en.next = true;
        self.in_w1.en.next = true;
        self.in_r1.en.next = true;
        self.in_st1.en.next = true;
        self.in_a1.d.next = self.bus_addr.val();
        self.in_d1.d.next = self.bus_wdata.val();
        self.in_w1.d.next = self.bus_write.val();
        self.in_r1.d.next = self.bus_read.val();
        self.in_st1.d.next = self.start.val();
        self.in_a2.d.next = self.in_a1.q.val();
        self.in_d2.d.next = self.in_d1.q.val();
        self.in_w2.d.next = self.in_w1.q.val();
        self.in_r2.d.next = self.in_r1.q.val();
        self.in_st2.d.next = self.in_st1.q.val();
        self.start_q.next = self.in_st2.q.val();
        self.wdata.next = self.in_d2.q.val();
        // Address decode (common::bus).
        self.region.next = self.in_a2.q.val().get_bits::<4>(20);
        self.index.next = self.in_a2.q.val().get_bits::<20>(0);
        self.idx16.next = self.index.val().get_bits::<16>(0);
        self.idx_ok.next = self.index.val().get_bits::<4>(16) == 0;
        self.wword20.next = self.index.val() >> self.logr.val();
        self.wword.next = self.wword20.val().get_bits::<16>(0);
        self.wrow.next = self.index.val().get_bits::<8>(0) & self.rmask.val();
        if self.region.val() == 4 {
            self.idx_ok.next = self.wword20.val().get_bits::<4>(16) == 0;
        }
        self.we_desc.next = false;
        self.we_par.next = false;
        self.we_w.next = false;
        if self.in_w2.q.val() & !self.busy.val() & self.idx_ok.val() {
            self.we_desc.next = self.region.val() == 0;
            self.we_par.next = self.region.val() == 5;
            self.we_w.next = self.region.val() == 4;
        }
        self.bus_ab.next =
            (self.region.val() == 1) | (self.region.val() == 2) | (self.region.val() == 3);
        self.bus_sel.next = self.region.val() - 1;
        self.ab_sel.next = self.bus_sel.val().get_bits::<2>(0);
        self.ab_re.next = self.in_r2.q.val() & self.idx_ok.val() & self.bus_ab.val();
        // `bwr` from the values the last input register takes next (A, B, S: regions 1-3,
        // index below 2^16).
        self.next_idx.next = self.in_a1.q.val().get_bits::<16>(0);
        self.nregion.next = self.in_a1.q.val().get_bits::<4>(20);
        self.nidx_ok.next = self.in_a1.q.val().get_bits::<4>(16) == 0;
        self.bwr_r.d.next = 0.into();
        if self.in_w1.q.val() & self.nidx_ok.val() {
            if self.nregion.val() == 1 {
                self.bwr_r.d.next = 1.into();
            }
            if self.nregion.val() == 2 {
                self.bwr_r.d.next = 2.into();
            }
            if self.nregion.val() == 3 {
                self.bwr_r.d.next = 4.into();
            }
        }
        self.bwr.next = self.bwr_r.q.val();
        // Reads: the request and its tags at t1.
        self.rd_v.d.next = self.in_r2.q.val() & !self.busy.val();
        self.rd_reg.d.next = self.region.val();
        self.rd_row.d.next = self.wrow.val();
        self.in_depth.next = true;
        if self.region.val() == 0 {
            self.in_depth.next = self.idx16.val() < self.desc_words.val();
        }
        if self.region.val() == 4 {
            self.in_depth.next = self.wword.val() < self.weight_words.val();
        }
        if self.region.val() == 5 {
            self.in_depth.next = self.idx16.val() < self.param_words.val();
        }
        self.rd_ok.d.next = self.idx_ok.val() & self.in_depth.val();
        // t1 -> act: the tags, and the descriptor RAM's word, wait for the other memories.
        self.tag_v.clock.next = self.clock.val();
        self.tag_reg.clock.next = self.clock.val();
        self.tag_row.clock.next = self.clock.val();
        self.tag_ok.clock.next = self.clock.val();
        self.desc_a.clock.next = self.clock.val();
        self.desc_q.clock.next = self.clock.val();
        self.tag_v.reset.next = self.reset.val();
        self.tag_reg.reset.next = false;
        self.tag_row.reset.next = false;
        self.tag_ok.reset.next = false;
        self.desc_a.reset.next = false;
        self.desc_q.reset.next = false;
        self.tag_v.en.next = true;
        self.tag_reg.en.next = true;
        self.tag_row.en.next = true;
        self.tag_ok.en.next = true;
        self.desc_a.en.next = true;
        self.desc_q.en.next = true;
        self.tag_v.d.next = self.rd_v.q.val();
        self.tag_reg.d.next = self.rd_reg.q.val();
        self.tag_row.d.next = self.rd_row.q.val();
        self.tag_ok.d.next = self.rd_ok.q.val();
        self.rq_v.next = self.tag_v.q.val();
        self.rq_reg.next = self.tag_reg.q.val();
        self.rq_row.next = self.tag_row.q.val();
        self.rq_ok.next = self.tag_ok.q.val();
        self.rq_buf.next = 0.into();
        if self.tag_v.q.val() & self.tag_ok.q.val() {
            if self.tag_reg.q.val() == 1 {
                self.rq_buf.next = 1.into();
            }
            if self.tag_reg.q.val() == 2 {
                self.rq_buf.next = 2.into();
            }
            if self.tag_reg.q.val() == 3 {
                self.rq_buf.next = 4.into();
            }
        }
        self.desc_a.d.next = self.idx16.val();
        self.desc_raddr.next = self.desc_a.q.val();
        self.desc_q.d.next = self.desc_rdata.val();
        self.desc_word.next = self.desc_q.q.val();
        if self.reset.val() {
            self.in_w2.d.next = false;
            self.in_r2.d.next = false;
            self.in_st2.d.next = false;
            self.rd_v.d.next = false;
        }
    }
}
