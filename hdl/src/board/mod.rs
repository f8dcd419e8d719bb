//! Board tops: the accelerator between a board's pins, its oscillator PLL, a reset synchronizer
//! and status LEDs. Emitted as plain Verilog text around an inner design's module.

pub mod bringup;
pub mod cli;
pub mod pll;
pub mod top;
pub mod uart_sim;

use common::DeviceConfig;

/// FPGA families with a board here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Ecp5,
    Ice40,
}

/// A supported board: its FPGA, oscillator, top module name and default configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Board {
    pub name: &'static str,
    pub part: &'static str,
    pub family: Family,
    pub osc_hz: u64,
    /// Name of the emitted board top module.
    pub top: &'static str,
    /// `common::DeviceConfig` built for this board by default.
    pub config: &'static str,
}

impl Board {
    pub fn ulx3s() -> Self {
        Board {
            name: "ulx3s",
            part: "ECP5 LFE5U-85F-6BG381C",
            family: Family::Ecp5,
            osc_hz: 25_000_000,
            top: "ulx3s_top",
            config: "ulx3s",
        }
    }

    pub fn icebreaker() -> Self {
        Board {
            name: "icebreaker",
            part: "iCE40 UP5K-SG48",
            family: Family::Ice40,
            osc_hz: 12_000_000,
            top: "icebreaker_top",
            config: "icebreaker",
        }
    }

    pub fn all() -> Vec<Self> {
        vec![Self::ulx3s(), Self::icebreaker()]
    }

    pub fn by_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|b| b.name == name)
    }
}

/// What the board top wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// The accelerator top `sqz_top` (engine + UART link) for the configuration.
    Accel,
    /// The UART loopback bring-up design.
    Echo,
}

/// Verilog of the board top around `design`, for configuration `cfg`.
pub fn emit_board(board: &Board, cfg: &DeviceConfig, design: Design) -> Result<String, String> {
    match design {
        Design::Echo => top::emit_board_top(board, cfg, &bringup::uart_echo(), "sqz_echo"),
        Design::Accel => {
            let core = crate::try_emit_core(cfg).map_err(|e| e.to_string())?;
            let accel = crate::link::top_verilog(cfg, "sqz_core");
            top::emit_board_top(board, cfg, &format!("{accel}\n{core}"), "sqz_top")
        }
    }
}
