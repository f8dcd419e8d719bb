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
    /// Differential fuzzing of the host link: the Verilated `sqz_top` against the Rust
    /// protocol model (needs Verilator). Exits 1 on any divergence, hang or slow recovery.
    FuzzLink {
        #[arg(long, default_value_t = 10_000)]
        cases: u64,
        /// Seed of the first case (case i has seed + i); default: from the clock, printed.
        #[arg(long)]
        seed: Option<u64>,
        /// One case in N goes through the UART pins (0: none).
        #[arg(long, default_value_t = 10)]
        uart_every: u64,
    },
}

fn fuzz_link(cases: u64, seed: Option<u64>, uart_every: u64) -> Result<(), String> {
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    println!("link fuzz: {cases} cases from seed {seed}, one in {uart_every} through the UART");
    let dir = std::env::temp_dir().join(format!("sqz-link-fuzz-{}", std::process::id()));
    let opts = hdl::link_fuzz::Options {
        cases,
        seed,
        uart_every,
    };
    let rep = hdl::link_fuzz::fuzz("fuzz-link", &dir, &opts)
        .ok_or("Verilator is needed for fuzz-link")?;
    let _ = std::fs::remove_dir_all(&dir);
    println!("link fuzz (seed {seed}): {rep}");
    if rep.ok() {
        Ok(())
    } else {
        Err(format!(
            "{} failing cases (first ones above)",
            rep.divergences + rep.hangs + rep.slow
        ))
    }
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
        Cmd::FuzzLink {
            cases,
            seed,
            uart_every,
        } => fuzz_link(cases, seed, uart_every),
    };
    if let Err(e) = r {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
