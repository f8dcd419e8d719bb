//! The SDRAM side of the device: a controller for the ULX3S's 16-bit SDR SDRAM
//! (docs/sdram.md). Timings come from `common::sdram`.

pub mod ctrl;

pub use ctrl::{BURST, SdramCtrl};

use common::sdram::SdramTiming;
use rust_hdl::prelude::*;

/// Name of the controller's top module in the emitted Verilog.
pub const TOP: &str = "sdram_ctrl";

/// Verilog of the controller for `t`, top module [`TOP`] (see [`SdramCtrl::new`]).
pub fn emit(t: &SdramTiming, extra_read_delay: u64) -> String {
    let mut c = SdramCtrl::new(t, extra_read_delay);
    c.connect_all();
    let mut defs = ModuleDefines::default();
    c.accept(TOP, &mut defs);
    defs.defines()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_a_top_with_registered_pins() {
        let v = emit(&SdramTiming::ulx3s(100_000_000, 2), 0);
        assert!(v.contains("module sdram_ctrl"));
        assert!(v.contains("sd_dq_oe"));
    }
}
