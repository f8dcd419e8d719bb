//! The engine's bus shared by two masters: the host link (first) and the DMA (when the link
//! is idle and the engine not busy). The link's accesses pass unchanged and without delay;
//! the DMA's registers are on the same bus (`common::dma::DMA_REGION`).
//!
//! Read answers come back from the engine in order (after a fixed latency the mux does not
//! depend on): a tag per read says whose it is and whether it reads the DMA status, which
//! replaces the engine's answer. The engine's `start` waits while the DMA runs, and the DMA
//! is held off the bus for a few cycles after a start, until the engine's `busy` is up (the
//! engine drops reads while busy).

use super::lutram::LutRam16;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BusMux {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Link (master 1).
    pub l_addr: Signal<In, Bits<24>>,
    pub l_wdata: Signal<In, Bits<64>>,
    pub l_write: Signal<In, Bit>,
    pub l_read: Signal<In, Bit>,
    pub l_rdata: Signal<Out, Bits<64>>,
    pub l_rvalid: Signal<Out, Bit>,
    pub l_start: Signal<In, Bit>,
    // DMA (master 2).
    pub d_addr: Signal<In, Bits<24>>,
    pub d_wdata: Signal<In, Bits<64>>,
    pub d_write: Signal<In, Bit>,
    pub d_read: Signal<In, Bit>,
    pub d_grant: Signal<Out, Bit>,
    pub d_rdata: Signal<Out, Bits<64>>,
    pub d_rvalid: Signal<Out, Bit>,
    // The DMA's registers.
    pub d_busy: Signal<In, Bit>,
    pub d_done: Signal<In, Bit>,
    pub d_start: Signal<Out, Bit>,
    pub d_reg0: Signal<Out, Bits<64>>,
    pub d_bus_base: Signal<Out, Bits<24>>,
    // Engine (slave).
    pub c_addr: Signal<Out, Bits<24>>,
    pub c_wdata: Signal<Out, Bits<64>>,
    pub c_write: Signal<Out, Bit>,
    pub c_read: Signal<Out, Bit>,
    pub c_rdata: Signal<In, Bits<64>>,
    pub c_rvalid: Signal<In, Bit>,
    pub c_start: Signal<Out, Bit>,
    pub c_busy: Signal<In, Bit>,

    dma_region: Constant<Bits<4>>,
    one: Constant<Bits<64>>,
    /// Tags of the reads in flight: bit 0 the DMA's, bit 1 a DMA status read.
    tags: LutRam16<2>,
    tw: DFF<Bits<4>>,
    tr: DFF<Bits<4>>,
    reg0: DFF<Bits<64>>,
    finished: DFF<Bits<32>>,
    start_pend: DFF<Bit>,
    hold: DFF<Bits<3>>,
    l_req: Signal<Local, Bit>,
    l_dma: Signal<Local, Bit>,
    grant: Signal<Local, Bit>,
    go: Signal<Local, Bit>,
}

impl Default for BusMux {
    fn default() -> Self {
        BusMux {
            clock: Default::default(),
            reset: Default::default(),
            l_addr: Default::default(),
            l_wdata: Default::default(),
            l_write: Default::default(),
            l_read: Default::default(),
            l_rdata: Default::default(),
            l_rvalid: Default::default(),
            l_start: Default::default(),
            d_addr: Default::default(),
            d_wdata: Default::default(),
            d_write: Default::default(),
            d_read: Default::default(),
            d_grant: Default::default(),
            d_rdata: Default::default(),
            d_rvalid: Default::default(),
            d_busy: Default::default(),
            d_done: Default::default(),
            d_start: Default::default(),
            d_reg0: Default::default(),
            d_bus_base: Default::default(),
            c_addr: Default::default(),
            c_wdata: Default::default(),
            c_write: Default::default(),
            c_read: Default::default(),
            c_rdata: Default::default(),
            c_rvalid: Default::default(),
            c_start: Default::default(),
            c_busy: Default::default(),
            dma_region: Constant::new((common::dma::DMA_REGION as u64).to_bits()),
            one: Constant::new(1u64.to_bits()),
            tags: Default::default(),
            tw: Default::default(),
            tr: Default::default(),
            reg0: Default::default(),
            finished: Default::default(),
            start_pend: Default::default(),
            hold: Default::default(),
            l_req: Default::default(),
            l_dma: Default::default(),
            grant: Default::default(),
            go: Default::default(),
        }
    }
}

impl Logic for BusMux {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, tw, tr, reg0, finished, start_pend, hold);
        self.tags.clock.next = self.clock.val();

        self.l_req.next = self.l_write.val() | self.l_read.val();
        self.l_dma.next = self.l_addr.val().get_bits::<4>(20) == self.dma_region.val();
        self.grant.next = !self.l_req.val() && !self.c_busy.val() && (self.hold.q.val() == 0);
        self.d_grant.next = self.grant.val();

        // The engine's bus: the link's access, else the DMA's when granted. Writes to the DMA
        // registers do not reach the engine; reads do (for the answer's slot).
        self.c_addr.next = self.d_addr.val();
        self.c_wdata.next = self.d_wdata.val();
        self.c_write.next = self.d_write.val() && self.grant.val();
        self.c_read.next = self.d_read.val() && self.grant.val();
        self.tags.wdata.next = 1.into();
        if self.l_req.val() {
            self.c_addr.next = self.l_addr.val();
            self.c_wdata.next = self.l_wdata.val();
            self.c_write.next = self.l_write.val() && !self.l_dma.val();
            self.c_read.next = self.l_read.val();
            self.tags.wdata.next = 0.into();
            if self.l_dma.val() {
                self.tags.wdata.next = 2.into();
            }
        }
        self.tags.we.next = self.c_read.val();
        self.tags.waddr.next = self.tw.q.val();
        if self.c_read.val() {
            self.tw.d.next = self.tw.q.val() + 1;
        }

        // Answers, to their reader.
        self.tags.raddr.next = self.tr.q.val();
        self.l_rdata.next = self.c_rdata.val();
        if self.tags.rdata.val().get_bit(1) {
            // The status word (`common::dma::status`).
            self.l_rdata.next = bit_cast::<64, 32>(self.finished.q.val()) << 32;
            if self.d_busy.val() {
                self.l_rdata.next =
                    (bit_cast::<64, 32>(self.finished.q.val()) << 32) | self.one.val();
            }
        }
        self.d_rdata.next = self.c_rdata.val();
        self.l_rvalid.next = self.c_rvalid.val() && !self.tags.rdata.val().get_bit(0);
        self.d_rvalid.next = self.c_rvalid.val() && self.tags.rdata.val().get_bit(0);
        if self.c_rvalid.val() {
            self.tr.d.next = self.tr.q.val() + 1;
        }

        // DMA registers: word 0, then word 1 (the bus address) starts the transfer.
        self.d_reg0.next = self.reg0.q.val();
        self.d_bus_base.next = self.l_wdata.val().get_bits::<24>(0);
        self.d_start.next = false;
        if self.l_write.val() && self.l_dma.val() {
            if self.l_addr.val().get_bit(0) {
                self.d_start.next = true;
            } else {
                self.reg0.d.next = self.l_wdata.val();
            }
        }
        if self.d_done.val() {
            self.finished.d.next = self.finished.q.val() + 1;
        }

        // The engine's start waits for the DMA, then keeps it off the bus until busy is up.
        self.go.next = (self.l_start.val() | self.start_pend.q.val()) && !self.d_busy.val();
        self.c_start.next = self.go.val();
        self.start_pend.d.next =
            (self.l_start.val() | self.start_pend.q.val()) && self.d_busy.val();
        if self.hold.q.val() != 0 {
            self.hold.d.next = self.hold.q.val() - 1;
        }
        if self.go.val() {
            self.hold.d.next = 7.into();
        }

        if self.reset.val() {
            self.tw.d.next = 0.into();
            self.tr.d.next = 0.into();
            self.finished.d.next = 0.into();
            self.start_pend.d.next = false;
            self.hold.d.next = 0.into();
        }
    }
}
