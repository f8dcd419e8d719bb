//! A 16-word RAM with one synchronous write port and an asynchronous read port: the DMA's
//! FIFO storage. Yosys maps it to distributed RAM (ECP5 TRELLIS_DPR16X4), not block RAM.

use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct LutRam16<const W: usize> {
    pub clock: Signal<In, Clock>,
    pub we: Signal<In, Bit>,
    pub waddr: Signal<In, Bits<4>>,
    pub wdata: Signal<In, Bits<W>>,
    pub raddr: Signal<In, Bits<4>>,
    pub rdata: Signal<Out, Bits<W>>,
    _mem: [Bits<W>; 16],
}

impl<const W: usize> Default for LutRam16<W> {
    fn default() -> Self {
        LutRam16 {
            clock: Default::default(),
            we: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            _mem: [Bits::<W>::default(); 16],
        }
    }
}

impl<const W: usize> Logic for LutRam16<W> {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.we.val() {
            self._mem[self.waddr.val().index()] = self.wdata.val();
        }
        self.rdata.next = self._mem[self.raddr.val().index()];
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "reg [{w1}:0] mem[0:15];
always @(posedge clock) if (we) mem[waddr] <= wdata;
always @(*) rdata = mem[raddr];",
            w1 = W - 1
        ))
    }
}
