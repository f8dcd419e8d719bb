//! Blocks with one kernel per engine variant (`common::Pipeline`): the variant is chosen when
//! the block is built, and each kernel is straight-line hardware for its variant, with no
//! `if` on the variant inside.
//!
//! A block implements `Kernel<Full>` and `Kernel<Lean>` (each an `#[hdl_gen] fn update`,
//! which also writes that kernel's `connect` and `hdl`), holds a `_lean: bool`, and
//! `variant_logic!(Block)` dispatches `Logic` to the chosen kernel.

use rust_hdl::prelude::*;

/// The full (ECP5) pipeline's kernel.
pub struct Full;
/// The lean (iCE40) pipeline's kernel.
pub struct Lean;

/// One variant's kernel of a block.
pub trait Kernel<V> {
    fn update(&mut self);
    fn connect(&mut self);
    fn hdl(&self) -> Verilog;
}

/// `impl Logic` for a block with a `_lean: bool` field and both kernels.
#[macro_export]
macro_rules! variant_logic {
    ($t:ty) => {
        impl Logic for $t {
            fn update(&mut self) {
                if self._lean {
                    $crate::variant::Kernel::<$crate::variant::Lean>::update(self)
                } else {
                    $crate::variant::Kernel::<$crate::variant::Full>::update(self)
                }
            }
            fn connect(&mut self) {
                if self._lean {
                    $crate::variant::Kernel::<$crate::variant::Lean>::connect(self)
                } else {
                    $crate::variant::Kernel::<$crate::variant::Full>::connect(self)
                }
            }
            fn hdl(&self) -> Verilog {
                if self._lean {
                    $crate::variant::Kernel::<$crate::variant::Lean>::hdl(self)
                } else {
                    $crate::variant::Kernel::<$crate::variant::Full>::hdl(self)
                }
            }
        }
    };
}

/// The full or the lean engine's value of a signal, chosen at construction (`Pick::new`):
/// a wire from `full` or from `lean`. For values (not hardware) the variants differ in.
#[derive(LogicBlock)]
pub struct Pick<T: Synth> {
    pub full: Signal<In, T>,
    pub lean: Signal<In, T>,
    pub q: Signal<Out, T>,
    _lean: bool,
}

impl<T: Synth> Pick<T> {
    pub fn new(lean: bool) -> Self {
        Pick {
            full: Default::default(),
            lean: Default::default(),
            q: Default::default(),
            _lean: lean,
        }
    }
}

impl<T: Synth> Logic for Pick<T> {
    fn update(&mut self) {
        self.q.next = if self._lean {
            self.lean.val()
        } else {
            self.full.val()
        };
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        let from = if self._lean { "lean" } else { "full" };
        Verilog::Custom(format!("always @(*) q = {from};"))
    }
}
