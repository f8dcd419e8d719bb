//! A 64-bit word the link holds for the engine or for an answer: a register (`WordHold::reg`)
//! or, where the other side already holds it (the lean iCE40 engine registers its bus write
//! data and holds its last read answer), a wire (`WordHold::wire`).

use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct WordHold {
    pub clock: Signal<In, Clock>,
    pub d: Signal<In, Bits<64>>,
    /// Load `d` (the register only).
    pub en: Signal<In, Bit>,
    pub q: Signal<Out, Bits<64>>,
    _wire: bool,
}

impl WordHold {
    /// `q` is `d` loaded at a clock edge with `en` high.
    pub fn reg() -> Self {
        Self::default()
    }

    /// `q = d`, no register.
    pub fn wire() -> Self {
        WordHold {
            _wire: true,
            ..Default::default()
        }
    }
}

impl Logic for WordHold {
    fn update(&mut self) {
        if self._wire || (self.clock.pos_edge() && self.en.val()) {
            self.q.next = self.d.val();
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        if self._wire {
            return Verilog::Custom("always @(*) q = d;".into());
        }
        Verilog::Custom("always @(posedge clock) if (en) q <= d;".into())
    }
}
