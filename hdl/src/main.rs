//! `hdl` command line: emit Verilog for the engine and the board tops, summarise reports.

use std::path::PathBuf;

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
    /// Write DIR/sqz_core.v for configuration NAME (ulx3s, small, icebreaker).
    Emit {
        #[arg(long)]
        config: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a board top (PLL, reset, LEDs, design on the board pins).
    EmitBoard(cli::EmitBoardArgs),
    /// Summarise a nextpnr report into report.json; fails if timing is not met.
    BoardReport(cli::BoardReportArgs),
    /// Print a board configuration's design clock in MHz.
    BoardFreq(cli::BoardFreqArgs),
}

fn emit(config: &str, out: &std::path::Path) -> Result<(), String> {
    let Some(cfg) = common::DeviceConfig::by_name(config) else {
        let names: Vec<String> = common::DeviceConfig::all()
            .into_iter()
            .map(|c| c.name)
            .collect();
        return Err(format!(
            "unknown configuration `{config}` (known: {})",
            names.join(", ")
        ));
    };
    let verilog = hdl::try_emit_core(&cfg).map_err(|e| e.to_string())?;
    let path = out.join("sqz_core.v");
    std::fs::create_dir_all(out)
        .and_then(|_| std::fs::write(&path, verilog))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn main() {
    let r = match Cli::parse().cmd {
        Cmd::Emit { config, out } => emit(&config, &out),
        Cmd::EmitBoard(a) => cli::emit_board_cmd(&a),
        Cmd::BoardReport(a) => cli::board_report_cmd(&a),
        Cmd::BoardFreq(a) => cli::board_freq_cmd(&a),
    };
    if let Err(e) = r {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
