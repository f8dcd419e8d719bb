//! `cargo run -p sim`: the whole-network cycle-accurate simulation (issue 4).
//!
//! The RTL and the Verilator harness are not written yet. Until they are, this says so
//! and fails, rather than pretending to simulate anything.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "serve") {
        return sim::serve::main(&args[1..]);
    }
    eprintln!(
        "sim: the Verilator simulation is not implemented yet (issues 3 and 4); \
         the device's functional model and job format live in the `common` crate"
    );
    ExitCode::FAILURE
}
