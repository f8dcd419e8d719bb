//! `host`: classify, evaluate, quantize and benchmark SqueezeNet models.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use common::qnet::QNet;
use host::classes;
use host::golden::{Golden, quantize_input};
use host::link::{Client, ClientOptions};
use host::model::{Engine, is_q8, quantize_from_dir};
use host::net::Net;
use host::preprocess::{Preprocess, parse_triple};
use host::quant::{Options, RangeRule};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

#[derive(Parser)]
#[command(
    name = "host",
    version,
    about = "SqueezeNet host tool: golden models, quantizer, evaluation"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Classify one image.
    Classify {
        image: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Number of classes to print.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        device: DeviceArgs,
    },
    /// Top-1/top-5 accuracy over a folder with labels.csv (file,class_index).
    Eval {
        dir: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Evaluate only the first N labelled images.
        #[arg(long)]
        limit: Option<usize>,
        /// End with a JSON line of the results.
        #[arg(long)]
        json: bool,
    },
    /// Calibrate and quantize an ONNX model to a .q8 file.
    Quantize {
        #[arg(long)]
        model: PathBuf,
        /// Folder of calibration images.
        #[arg(long)]
        calib: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        q: QuantArgs,
        #[command(flatten)]
        pre: PreArgs,
    },
    /// Median per-image inference time of the float golden, int8 golden (and tract).
    Bench {
        /// ONNX model.
        #[arg(long)]
        model: PathBuf,
        /// Image to run (preprocessing excluded from the times).
        #[arg(long)]
        image: PathBuf,
        /// Calibration folder for the int8 model (default: the image itself).
        #[arg(long)]
        calib: Option<PathBuf>,
        /// Timed runs per engine.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        pre: PreArgs,
    },
}

/// Running on a device: a board's serial port, `xdma:DIR`, or `functional:CONFIG`.
#[derive(Args)]
struct DeviceArgs {
    /// Run on this device: a serial port (e.g. /dev/ttyUSB0, or the pty `sim serve`
    /// prints), `xdma:DIR` (DIR/h2c and DIR/c2h streams), or `functional:CONFIG`.
    #[arg(long)]
    device: Option<String>,
    /// Serial baud rate.
    #[arg(long, default_value_t = host::link::DEFAULT_BAUD)]
    baud: u32,
    /// Wait this long for each answer before resending (ms).
    #[arg(long, default_value_t = 500)]
    timeout_ms: u64,
    /// Resends of one command before giving up.
    #[arg(long, default_value_t = 8)]
    retries: u32,
    /// Compare every layer the device returns with the int8 golden model; stop at the
    /// first differing byte.
    #[arg(long, requires = "device")]
    verify: bool,
}

#[derive(Args)]
struct ModelArgs {
    /// Model: .onnx (float, or quantized with --calib) or .q8.
    #[arg(long)]
    model: PathBuf,
    /// Run the int8 golden model (default for .q8).
    #[arg(long, conflicts_with = "float")]
    golden: bool,
    /// Run the float golden model (default for .onnx).
    #[arg(long)]
    float: bool,
    /// Calibration folder, to quantize an .onnx model for --golden.
    #[arg(long)]
    calib: Option<PathBuf>,
    #[command(flatten)]
    q: QuantArgs,
    #[command(flatten)]
    pre: PreArgs,
}

#[derive(Args)]
struct QuantArgs {
    /// Activation range rule: `max` or a percentile such as `99.999`.
    #[arg(long, default_value = "99.999")]
    range: String,
    /// Calibrate on at most N images, spread evenly over the folder.
    #[arg(long)]
    calib_limit: Option<usize>,
}

impl QuantArgs {
    fn options(&self) -> Result<Options> {
        let rule = if self.range == "max" {
            RangeRule::Max
        } else {
            let p: f64 = self
                .range
                .parse()
                .ok()
                .filter(|p| *p > 50.0 && *p <= 100.0)
                .ok_or_else(|| {
                    anyhow!(
                        "--range must be 'max' or a percentile in (50, 100], not '{}'",
                        self.range
                    )
                })?;
            RangeRule::Percentile(p)
        };
        Ok(Options {
            rule,
            ..Options::default()
        })
    }
}

#[derive(Args, Clone)]
struct PreArgs {
    /// Preprocessing preset.
    #[arg(long, default_value = "caffe", value_parser = ["caffe", "torchvision"])]
    preprocess: String,
    /// Per-channel mean `a,b,c`, in the model's channel order.
    #[arg(long)]
    mean: Option<String>,
    /// Per-channel std `a,b,c`, in the model's channel order.
    #[arg(long)]
    std: Option<String>,
    /// Crop size (must match the model's input).
    #[arg(long)]
    size: Option<u32>,
    /// Feed RGB channel order (the caffe preset feeds BGR).
    #[arg(long)]
    rgb: bool,
}

impl PreArgs {
    fn build(&self, model_size: (usize, usize, usize)) -> Result<Preprocess> {
        let (c, h, w) = model_size;
        if c != 3 || h != w {
            bail!("model input {c}x{h}x{w} is not a square 3-channel image");
        }
        if let Some(s) = self.size
            && s as usize != h
        {
            bail!("--size {s} does not match the model's input size {h}");
        }
        let mut p = Preprocess::preset(&self.preprocess, h as u32)?;
        if let Some(m) = &self.mean {
            p.mean = parse_triple(m).context("--mean")?;
        }
        if let Some(s) = &self.std {
            p.std = parse_triple(s).context("--std")?;
            if p.std.contains(&0.0) {
                bail!("--std values must be non-zero");
            }
        }
        if self.rgb {
            p.bgr = false;
        }
        Ok(p)
    }
}

fn load_net(path: &Path) -> Result<Net> {
    if is_q8(path) {
        bail!(
            "{} is a quantized model; this command needs the float .onnx",
            path.display()
        );
    }
    Net::load(path)
}

impl ModelArgs {
    /// The int8 network (a .q8 file, or the ONNX model quantized on --calib images).
    fn load_quantized(&self) -> Result<(QNet, Preprocess)> {
        host::model::load_quantized(
            &self.model,
            self.calib.as_deref(),
            self.q.calib_limit,
            self.q.options()?,
            |shape| self.pre.build(shape),
        )
    }

    fn load(&self) -> Result<(Engine, Preprocess)> {
        let q8 = is_q8(&self.model);
        if q8 && self.float {
            bail!(
                "--float needs an .onnx model ({} holds only int8 weights)",
                self.model.display()
            );
        }
        if !q8 && !self.golden {
            let net = Net::load(&self.model)?;
            let p = self.pre.build((net.in_c, net.in_h, net.in_w))?;
            return Ok((Engine::Float(net), p));
        }
        let (q, p) = self.load_quantized()?;
        Ok((Engine::Golden(Box::new(Golden::new(&q))), p))
    }
}

fn main() -> ExitCode {
    // One line, even for a bug.
    std::panic::set_hook(Box::new(|info| eprintln!("error: internal error: {info}")));
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Classify {
            image,
            model,
            top,
            json,
            device,
        } => classify(&image, &model, top, json, &device),
        Cmd::Eval {
            dir,
            model,
            limit,
            json,
        } => eval(&dir, &model, limit, json),
        Cmd::Quantize {
            model,
            calib,
            out,
            q,
            pre,
        } => {
            let net = load_net(&model)?;
            let p = pre.build((net.in_c, net.in_h, net.in_w))?;
            let t = Instant::now();
            let qn = quantize_from_dir(&net, &calib, q.calib_limit, &p, q.options()?)?;
            host::q8::save(&qn, &out)?;
            eprintln!(
                "wrote {} ({:.1} s)",
                out.display(),
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Cmd::Bench {
            model,
            image,
            calib,
            runs,
            json,
            pre,
        } => bench(&model, &image, calib.as_deref(), runs, json, &pre),
    }
}

fn classify(image: &Path, m: &ModelArgs, top: usize, json: bool, d: &DeviceArgs) -> Result<()> {
    let (p, mode, link) = match &d.device {
        None => {
            let (engine, pre) = m.load()?;
            let x = pre.load(image)?;
            (engine.classify(&x), engine.mode(), None)
        }
        Some(dev) => {
            if m.float {
                bail!("--float cannot run on a device: the device computes the int8 network");
            }
            let (q, pre) = m.load_quantized()?;
            let input = pre.load_int8(image, q.in_scale)?;
            let r = classify_on_device(&q, &input, dev, d)?;
            // What the transfer cost and which faults the link recovered from.
            let link = serde_json::json!({
                "bytes_sent": r.wire_bytes_sent,
                "bytes_received": r.wire_bytes_received,
                "retries": r.retries,
                "device_cycles": r.cycles,
                "seconds": r.seconds,
            });
            (r.probs, "device", Some(link))
        }
    };
    let best = classes::top_n(&p, top.max(1));
    if json {
        let top: Vec<_> = best
            .iter()
            .map(|&i| serde_json::json!({"index": i, "label": classes::name(i), "prob": p[i]}))
            .collect();
        let mut out =
            serde_json::json!({"image": image.display().to_string(), "mode": mode, "top5": top});
        if let Some(link) = link {
            out["link"] = link;
        }
        println!("{out}");
    } else {
        for &i in &best {
            println!("{i:4} {:.4} {}", p[i], classes::name(i));
        }
    }
    Ok(())
}

/// Run the quantized network on a device; the transfer report goes to stderr.
fn classify_on_device(
    q: &QNet,
    input: &[i8],
    dev: &str,
    d: &DeviceArgs,
) -> Result<host::device::DeviceInference> {
    let timeout = Duration::from_millis(d.timeout_ms.max(1));
    let link = host::link::open(dev, d.baud, timeout)?;
    let opts = ClientOptions {
        timeout,
        retries: d.retries,
        ..ClientOptions::default()
    };
    let mut client = Client::connect(link, opts)?;
    let cfg = client.info().config.clone();
    host::limits::check_device(&cfg)?;
    let plan_jobs = common::compile::Plan::compile(q, &cfg)
        .map(|p| p.layers.iter().map(|l| l.jobs.len()).sum::<usize>())
        .unwrap_or(0);
    let bar = ProgressBar::new(plan_jobs as u64).with_style(
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} jobs {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    let golden = d.verify.then(|| Golden::new(q).run_layers(input));
    let r = host::device::infer(&mut client, q, input, golden.as_deref(), |name| {
        bar.set_message(name.to_string());
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    eprintln!(
        "device `{}` ({} multipliers at {} MHz) on {}",
        cfg.name,
        cfg.multipliers(),
        cfg.clock_hz / 1_000_000,
        client.link().describe()
    );
    eprint!("{}", r.report());
    Ok(r)
}

/// `labels.csv`: `file,class_index` rows, an optional header.
fn read_labels(dir: &Path) -> Result<Vec<(PathBuf, usize)>> {
    let path = dir.join("labels.csv");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("file,")) {
            continue;
        }
        let bad = || {
            anyhow!(
                "{} line {}: expected `file,class_index`, got '{line}'",
                path.display(),
                i + 1
            )
        };
        let (f, c) = line.split_once(',').ok_or_else(bad)?;
        let c: usize = c.trim().parse().map_err(|_| bad())?;
        if f.trim().is_empty() {
            return Err(bad());
        }
        rows.push((dir.join(f.trim()), c));
    }
    if rows.is_empty() {
        bail!("{} has no labelled images", path.display());
    }
    Ok(rows)
}

fn eval(dir: &Path, m: &ModelArgs, limit: Option<usize>, json: bool) -> Result<()> {
    let mut rows = read_labels(dir)?;
    if let Some(n) = limit {
        rows.truncate(n);
    }
    let (engine, pre) = m.load()?;
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise}").expect("template"),
    );
    let t = Instant::now();
    let ranks: Vec<usize> = rows
        .par_iter()
        .map(|(f, c)| {
            let x = pre.load(f)?;
            let p = engine.classify(&x);
            if *c >= p.len() {
                bail!(
                    "{}: label {c} is not a class of this model ({} classes)",
                    f.display(),
                    p.len()
                );
            }
            bar.inc(1);
            Ok(p.iter().filter(|&&v| v > p[*c]).count())
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    let n = ranks.len();
    let top1 = 100.0 * ranks.iter().filter(|&&r| r == 0).count() as f64 / n as f64;
    let top5 = 100.0 * ranks.iter().filter(|&&r| r < 5).count() as f64 / n as f64;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} {}: n={n} top1={top1:.1}% top5={top5:.1}% ({secs:.1} s)",
        m.model.display(),
        engine.mode()
    );
    if json {
        println!(
            "{}",
            serde_json::json!({"model": m.model.display().to_string(), "mode": engine.mode(), "n": n, "top1": top1 / 100.0, "top5": top5 / 100.0, "seconds": secs})
        );
    }
    Ok(())
}

/// Process CPU time (user + system) from /proc, Linux only: a load-independent measure
/// on a shared machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Median wall time per run and mean CPU time per run, in ms.
fn median_ms(runs: usize, mut f: impl FnMut()) -> (f64, Option<f64>) {
    f(); // warm-up
    let c0 = cpu_seconds();
    let mut t: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let cpu = c0
        .zip(cpu_seconds())
        .map(|(a, b)| (b - a) * 1e3 / runs.max(1) as f64);
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], cpu)
}

fn fmt_ms((wall, cpu): (f64, Option<f64>)) -> String {
    match cpu {
        Some(c) => format!("{wall:.1} ms (cpu {c:.1} ms)"),
        None => format!("{wall:.1} ms"),
    }
}

fn bench(
    model: &Path,
    image: &Path,
    calib: Option<&Path>,
    runs: usize,
    json: bool,
    pre: &PreArgs,
) -> Result<()> {
    let net = load_net(model)?;
    let p = pre.build((net.in_c, net.in_h, net.in_w))?;
    let x = p.load(image)?;
    let q = match calib {
        Some(d) => quantize_from_dir(&net, d, None, &p, Options::default())?,
        None => {
            let mut cal = host::quant::Calibration::default();
            cal.observe(&net, &x);
            host::quant::quantize(&net, &cal, Options::default())?
        }
    };
    let g = Golden::new(&q);
    let float_ms = median_ms(runs, || {
        std::hint::black_box(host::float::classify(&net, &x));
    });
    let golden_ms = median_ms(runs, || {
        let qi = quantize_input(x.as_slice().expect("contiguous"), q.in_scale);
        std::hint::black_box(g.classify(&qi));
    });
    let tract_ms = tract_ms(model, &x, runs)?;
    let threads = rayon::current_num_threads();
    println!(
        "{}: float {}, int8 golden {} ({:?} kernel), tract {} (median of {runs}, {threads} threads)",
        model.display(),
        fmt_ms(float_ms),
        fmt_ms(golden_ms),
        g.kernel(),
        tract_ms.map_or("not built (feature `tract`)".into(), fmt_ms),
    );
    if json {
        let j = serde_json::json!({
            "model": model.display().to_string(), "runs": runs, "threads": threads,
            "float_ms": float_ms.0, "golden_ms": golden_ms.0, "tract_ms": tract_ms.map(|t| t.0),
            "float_cpu_ms": float_ms.1, "golden_cpu_ms": golden_ms.1, "tract_cpu_ms": tract_ms.and_then(|t| t.1),
        });
        println!("{j}");
    }
    Ok(())
}

#[cfg(feature = "tract")]
fn tract_ms(
    model: &Path,
    x: &ndarray::Array3<f32>,
    runs: usize,
) -> Result<Option<(f64, Option<f64>)>> {
    use tract_onnx::prelude::*;
    let m = tract_onnx::onnx()
        .model_for_path(model)
        .map_err(|e| anyhow!("tract: {e}"))?
        .into_optimized()
        .map_err(|e| anyhow!("tract: {e}"))?
        .into_runnable()
        .map_err(|e| anyhow!("tract: {e}"))?;
    let (c, h, w) = x.dim();
    let t: Tensor =
        tract_ndarray::Array4::from_shape_vec((1, c, h, w), x.iter().copied().collect())
            .map_err(|e| anyhow!("tract: {e}"))?
            .into();
    let mut err = None;
    let ms = median_ms(runs, || {
        if let Err(e) = m.run(tvec!(t.clone().into())) {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        bail!("tract: {e}");
    }
    Ok(Some(ms))
}

#[cfg(not(feature = "tract"))]
fn tract_ms(_: &Path, _: &ndarray::Array3<f32>, _: usize) -> Result<Option<(f64, Option<f64>)>> {
    Ok(None)
}
