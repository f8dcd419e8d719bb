//! `hdl` command line: emit Verilog for the accelerator and the board tops.

use clap::{Parser, Subcommand};
use hdl::board::cli;

#[derive(Parser)]
#[command(about = "Emit the SqueezeNet accelerator as Verilog")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write a board top (PLL, reset, LEDs, design on the board pins).
    EmitBoard(cli::EmitBoardArgs),
    /// Summarise a nextpnr report into report.json; fails if timing is not met.
    BoardReport(cli::BoardReportArgs),
    /// Print a board configuration's design clock in MHz.
    BoardFreq(cli::BoardFreqArgs),
}

fn main() {
    let r = match Cli::parse().cmd {
        Cmd::EmitBoard(a) => cli::emit_board_cmd(&a),
        Cmd::BoardReport(a) => cli::board_report_cmd(&a),
        Cmd::BoardFreq(a) => cli::board_freq_cmd(&a),
    };
    if let Err(e) = r {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
