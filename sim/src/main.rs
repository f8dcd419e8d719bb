//! `cargo run -p sim`: a complete SqueezeNet inference simulated cycle by cycle on the
//! Verilated RTL, every layer compared byte for byte with the int8 golden model, and the
//! per-layer cycle/utilization report.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use common::DeviceConfig;
use common::qnet::QNet;
use common::reference::LayerOutput;
use common::synthetic::{self, Version};
use host::golden::{Golden, output_probabilities};
use host::preprocess::Preprocess;
use indicatif::{ProgressBar, ProgressStyle};
use sim::network;
use sim::verilated::Core;

#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Simulate a whole inference (the default).
    Run(RunArgs),
    /// Compile the network program (one start, SDRAM-resident), run it on the functional
    /// model against the golden model, and report SDRAM traffic and stalls per layer.
    Program(RunArgs),
    /// Stand in for the board behind a pseudo-terminal or XDMA-style stream files
    /// (`sim serve --help` for its options).
    #[command(disable_help_flag = true)]
    Serve {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(clap::Args, Debug, Clone)]
struct RunArgs {
    /// SqueezeNet release (synthetic weights unless --model is given).
    #[arg(long, default_value = "v1.1")]
    net: Version,
    /// Device configuration (`ulx3s`, `small`, `icebreaker`).
    #[arg(long, default_value = "ulx3s")]
    config: String,
    /// Input size of the synthetic network.
    #[arg(long, default_value_t = 227)]
    size: usize,
    /// Seed of the synthetic weights and image.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run on the functional model instead of the RTL (no cycles; checks the compiler).
    #[arg(long)]
    functional: bool,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a waveform (VCD) of the whole simulation to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// A real model: SqueezeNet ONNX (quantized with --calib) or a quantized `.q8` file.
    #[arg(long, requires = "image")]
    model: Option<PathBuf>,
    /// The image to classify with --model (Caffe preprocessing: BGR, mean-subtracted).
    #[arg(long, requires = "model")]
    image: Option<PathBuf>,
    /// Calibration images for an ONNX --model.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Classes to print with --model.
    #[arg(long, default_value_t = 5)]
    top: usize,
}

/// The network and input to simulate, and the golden model's per-layer outputs.
struct Workload {
    net: QNet,
    input: Vec<i8>,
    golden: std::thread::JoinHandle<Vec<LayerOutput>>,
}

/// The synthetic network, or a real model and image through the host's import, quantizer
/// and preprocessing; the golden model starts on the other core.
fn workload(a: &RunArgs) -> Result<Workload> {
    let Some(model) = &a.model else {
        let net = synthetic::squeezenet(a.net, a.size, a.seed);
        let input = synthetic::input(a.size, a.seed);
        let (n, x) = (net.clone(), input.clone());
        let golden = std::thread::spawn(move || common::reference::run(&n, &x));
        return Ok(Workload { net, input, golden });
    };
    let image = a
        .image
        .as_ref()
        .expect("clap requires --image with --model");
    if let (false, Some(calib)) = (host::model::is_q8(model), &a.calib) {
        eprintln!("sim: quantizing {} on {}", model.display(), calib.display());
    }
    let (net, pre) = host::model::load_quantized(
        model,
        a.calib.as_deref(),
        None,
        Default::default(),
        |(_, h, _)| Ok(Preprocess::caffe(h as u32)),
    )?;
    let input = pre.load_int8(image, net.in_scale)?;
    let (n, x) = (net.clone(), input.clone());
    let golden = std::thread::spawn(move || Golden::new(&n).run_layers(&x));
    Ok(Workload { net, input, golden })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.cmd {
        Some(Cmd::Run(a)) => a,
        Some(Cmd::Program(a)) => {
            return match program(&a) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("sim: error: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Some(Cmd::Serve { args }) => return sim::serve::main(&args),
        None => cli.run,
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sim: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn program(a: &RunArgs) -> Result<()> {
    use sim::program_report as pr;
    let cfg = DeviceConfig::by_name(&a.config)
        .with_context(|| format!("unknown configuration `{}`", a.config))?;
    let Workload { net, input, golden } = workload(a)?;
    let golden = golden.join().expect("golden model thread");
    println!(
        "{} on `{}`: the network program, every layer bit-exact with the golden model",
        net.name, cfg.name
    );
    for (overlap, what) in [
        (
            false,
            "no overlap (each transfer waits for the job before it)",
        ),
        (true, "prefetch and write-back overlapped with compute"),
    ] {
        let r = pr::run(&net, &input, &cfg, &golden, overlap)?;
        println!("\n{what}:");
        print!("{}", pr::table(&net, &cfg, &r));
        if overlap {
            println!("\nSDRAM memory map:");
            print!("{}", pr::memory_map(&r.program));
        }
    }
    println!("\nlower bound (every tensor and weight moved once, perfect overlap, full bands):");
    print!("{}", pr::bound(&net, &cfg)?);
    let f = pr::formula_cycles(&net, &cfg)?;
    println!(
        "\nengine cycles by formula, host-mode plan: {} (compare `cargo run -p sim`)",
        f.iter().map(|x| x.1).sum::<u64>()
    );
    for (name, c) in f {
        print!("{name} {c}; ");
    }
    println!();
    Ok(())
}

fn run(a: &RunArgs) -> Result<bool> {
    let cfg = DeviceConfig::by_name(&a.config)
        .with_context(|| format!("unknown configuration `{}`", a.config))?;
    let Workload { net, input, golden } = workload(a)?;
    let plan = common::compile::Plan::compile(&net, &cfg)?;
    let jobs: usize = plan.layers.iter().map(|l| l.jobs.len()).sum();
    let bar = ProgressBar::new(jobs as u64).with_style(
        ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} jobs {elapsed}")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let names: Vec<String> = plan.layers.iter().map(|l| l.name.clone()).collect();
    let progress = |li: usize| {
        bar.set_message(names[li].clone());
        bar.inc(1);
    };
    let sim = if a.functional {
        let mut dev = common::device::Device::new(cfg.clone());
        network::simulate(&net, &input, &cfg, &mut dev, progress)
    } else {
        let mut core = Core::for_config(&cfg)?;
        if let Some(t) = &a.trace {
            core.set_trace(t)?;
        }
        network::simulate(&net, &input, &cfg, &mut core, progress)
    }
    .map_err(|e| anyhow::anyhow!(e))?;
    bar.set_message("golden");
    let reference = golden.join().expect("golden model thread");
    let report = network::compare(&net, &sim, &reference);
    bar.finish_and_clear();
    print!("{}", report.table());
    if a.model.is_some() {
        let p = output_probabilities(&net, &report.output);
        println!("top-{} from the simulated device:", a.top);
        for i in host::classes::top_n(&p, a.top) {
            println!("  {i:4}  {:<30} {:.4}", host::classes::name(i), p[i]);
        }
    }
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !report.bit_exact {
        bail!("not bit-exact: {}", report.first_mismatch.as_ref().unwrap());
    }
    Ok(true)
}
