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
    /// The SDRAM on the board, if the accelerator uses it.
    pub sdram: Option<BoardSdram>,
}

/// How a board's SDRAM is run (docs/sdram.md, "Board").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardSdram {
    /// CAS latency.
    pub cl: u32,
    /// Cycles from the pins to the controller's capture beyond the chip model's
    /// (`SdramCtrl::new`): the I/O-cell registers and the board's delays.
    pub extra_read_delay: u64,
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
            // CAS 3 for the read window's margin; the read delay: docs/sdram.md, "Board".
            sdram: Some(BoardSdram {
                cl: 3,
                extra_read_delay: 3,
            }),
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
            sdram: None,
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
            let Some(sd) = &board.sdram else {
                let accel = crate::link::top_verilog(cfg, "sqz_core");
                return top::emit_board_top(board, cfg, &format!("{accel}\n{core}"), "sqz_top");
            };
            let t = common::sdram::SdramTiming::ulx3s(cfg.clock_hz, sd.cl);
            let sys = crate::sdram::emit_sys(&t, sd.extra_read_delay);
            let accel = crate::link::top_verilog_with(cfg, "sqz_core", Some(crate::sdram::SYS_TOP));
            top::emit_board_top(board, cfg, &format!("{accel}\n{sys}\n{core}"), "sqz_top")
        }
    }
}
