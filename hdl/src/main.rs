//! `hdl emit --config NAME --out DIR`: write `DIR/sqz_core.v` for a named configuration.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Emit the SqueezeNet accelerator engine as Verilog")]
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
}

fn main() -> ExitCode {
    let Cli {
        cmd: Cmd::Emit { config, out },
    } = Cli::parse();
    let Some(cfg) = common::DeviceConfig::by_name(&config) else {
        let names: Vec<String> = common::DeviceConfig::all()
            .into_iter()
            .map(|c| c.name)
            .collect();
        eprintln!(
            "error: unknown configuration `{config}` (known: {})",
            names.join(", ")
        );
        return ExitCode::FAILURE;
    };
    let verilog = match hdl::try_emit_core(&cfg) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = out.join("sqz_core.v");
    if let Err(e) = std::fs::create_dir_all(&out).and_then(|_| std::fs::write(&path, verilog)) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", path.display());
    ExitCode::SUCCESS
}
