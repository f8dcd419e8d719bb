//! `Delay`: a line of `n` registers, the engine's one way to delay a value by a pipeline's
//! depth (the depths come from `common::Schedule`). `n = 0` is a wire, so a stage one
//! variant of the engine has and the other has not is a length, not a branch.
//!
//! `en` low holds every stage (the lean engine's lines move on issue cycles only); `reset`
//! clears every stage (valid flags). Tie `en` high and `reset` low for a plain line: Yosys
//! removes both after flattening, leaving the same flip-flops as hand-written registers.

use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Delay<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub d: Signal<In, T>,
    /// `d` of `n` enabled clock edges ago.
    pub q: Signal<Out, T>,
    /// The stages, first (newest) to last.
    _line: Vec<T>,
}

impl<T: Synth> Delay<T> {
    pub fn new(n: usize) -> Self {
        Delay {
            clock: Default::default(),
            reset: Default::default(),
            en: Default::default(),
            d: Default::default(),
            q: Default::default(),
            _line: vec![T::default(); n],
        }
    }

    /// Stages of the line.
    pub fn len(&self) -> usize {
        self._line.len()
    }

    pub fn is_empty(&self) -> bool {
        self._line.is_empty()
    }
}

impl<T: Synth> Default for Delay<T> {
    fn default() -> Self {
        Self::new(1)
    }
}

impl<T: Synth> Logic for Delay<T> {
    fn update(&mut self) {
        if self._line.is_empty() {
            self.q.next = self.d.val();
            return;
        }
        if self.clock.pos_edge() {
            if self.reset.val() {
                self._line.fill(T::default());
            } else if self.en.val() {
                self._line.rotate_right(1);
                self._line[0] = self.d.val();
            }
            self.q.next = *self._line.last().unwrap();
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        let n = self._line.len();
        if n == 0 {
            return Verilog::Custom("always @(*) q = d;".into());
        }
        let w = T::BITS;
        let decl = if w == 1 {
            String::new()
        } else {
            format!("[{}:0] ", w - 1)
        };
        let zero = format!("{w}'d0");
        let mut v = String::new();
        for i in 0..n {
            v += &format!("reg {decl}s{i};\ninitial s{i} = {zero};\n");
        }
        v += "always @(posedge clock) begin\n   if (reset) begin\n";
        for i in 0..n {
            v += &format!("      s{i} <= {zero};\n");
        }
        v += "   end else if (en) begin\n      s0 <= d;\n";
        for i in 1..n {
            v += &format!("      s{i} <= s{};\n", i - 1);
        }
        v += &format!("   end\nend\nalways @(*) q = s{};", n - 1);
        Verilog::Custom(v)
    }
}
