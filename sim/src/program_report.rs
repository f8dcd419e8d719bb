//! `sim program`: the network program of a network (common::program) run on the functional
//! model, every layer compared with the int8 golden model, and the SDRAM traffic and overlap
//! estimate per layer: what the DMA and network controller must sustain.

use std::fmt::Write;

use anyhow::{Result, bail};
use common::DeviceConfig;
use common::compile::Plan;
use common::program::{self, NetProgram, Schedule, SdramModel, job_cycles};
use common::qnet::QNet;
use common::reference::LayerOutput;

/// One program variant's run: the program and its timing.
pub struct Run {
    pub program: NetProgram,
    pub schedule: Schedule,
}

/// Compile, execute and check the program; `overlap` as in `program::compile`.
pub fn run(
    net: &QNet,
    input: &[i8],
    cfg: &DeviceConfig,
    golden: &[LayerOutput],
    overlap: bool,
) -> Result<Run> {
    let p = program::compile(net, cfg, overlap)?;
    let (trace, outs) = p.run(net, input)?;
    for (name, t) in &outs {
        let Some(r) = golden.iter().find(|r| &r.name == name) else {
            bail!("{name}: no such layer in the golden model");
        };
        if t.to_chw() != r.out.data {
            bail!("{name}: the program's output differs from the golden model");
        }
    }
    let schedule = Schedule::of(&trace, &p.tags, cfg, &SdramModel::ulx3s());
    Ok(Run {
        program: p,
        schedule,
    })
}

fn util(macs: u64, mults: usize, cycles: u64) -> f64 {
    macs as f64 / (mults as f64 * cycles.max(1) as f64)
}

/// The per-layer table of a run and its totals.
pub fn table(net: &QNet, cfg: &DeviceConfig, r: &Run) -> String {
    let mut s = String::new();
    let mults = cfg.multipliers();
    writeln!(
        s,
        "{:<15} {:<8} {:>4} {:>9} {:>9} {:>8} {:>10} {:>10} {:>6}",
        "layer", "variant", "jobs", "compute", "elapsed", "stall", "read B", "written B", "util"
    )
    .unwrap();
    let mut macs = 0;
    for ((lp, v), t) in r.program.layers.iter().zip(&r.schedule.layers) {
        let name = match &lp.pooled {
            Some(p) => format!("{}+{p}", lp.name),
            None => lp.name.clone(),
        };
        macs += lp.macs;
        writeln!(
            s,
            "{name:<15} {:<8} {:>4} {:>9} {:>9} {:>8} {:>10} {:>10} {:>5.1}%",
            format!("{v:?}"),
            t.jobs,
            t.compute,
            t.elapsed,
            t.stall(),
            t.sdram_read,
            t.sdram_written,
            100.0 * util(lp.macs, mults, t.elapsed)
        )
        .unwrap();
    }
    let sch = &r.schedule;
    let (read, written): (u64, u64) = sch
        .layers
        .iter()
        .fold((0, 0), |a, l| (a.0 + l.sdram_read, a.1 + l.sdram_written));
    writeln!(
        s,
        "{:<15} {:<8} {:>4} {:>9} {:>9} {:>8} {:>10} {:>10} {:>5.1}%",
        "total",
        "",
        sch.layers.iter().map(|l| l.jobs).sum::<usize>(),
        sch.compute(),
        sch.total,
        sch.total - sch.compute(),
        read,
        written,
        100.0 * util(macs, mults, sch.total)
    )
    .unwrap();
    writeln!(
        s,
        "MAC utilization counting stalls {:.3} (engine cycles alone {:.3}); {} entries; \
         SDRAM busy {:.0} % of the run",
        util(net.macs(), mults, sch.total),
        util(net.macs(), mults, sch.compute()),
        r.program.entries.len(),
        100.0 * SdramModel::ulx3s().cycles(read + written) as f64 / sch.total as f64
    )
    .unwrap();
    s
}

/// The SDRAM memory map, areas of one kind summed.
pub fn memory_map(p: &NetProgram) -> String {
    let mut kinds: Vec<(String, usize, usize, usize)> = Vec::new();
    for (name, at, words) in &p.map {
        let kind = name.split(' ').next().unwrap().to_string();
        match kinds.iter_mut().find(|k| k.0 == kind) {
            Some(k) => {
                k.2 = k.2.max(at + words);
                k.3 += words;
            }
            None => kinds.push((kind, *at, at + words, *words)),
        }
    }
    let mut s = String::new();
    writeln!(
        s,
        "{:<8} {:>9} {:>9} {:>10}",
        "area", "first", "end", "bytes"
    )
    .unwrap();
    for (k, a, e, w) in kinds {
        writeln!(s, "{k:<8} {:>9} {:>9} {:>10}", a, e, 8 * w).unwrap();
    }
    writeln!(
        s,
        "(64-bit word addresses; program at {}, image at {}, output at {}; {} bytes in all)",
        p.program,
        p.image,
        p.output,
        8 * p.sdram.len()
    )
    .unwrap();
    s
}

/// The bound no program on this engine can beat, per layer of the folded plan: its engine
/// cycles with full-size bands, the bytes it must move at least (input and output once,
/// weights and parameters once), and `max` of the two at the SDRAM's sustained rate.
pub fn bound(net: &QNet, cfg: &DeviceConfig) -> Result<String> {
    let plan = Plan::compile_folded(net, cfg)?;
    let m = SdramModel::ulx3s();
    let mut s = String::new();
    writeln!(
        s,
        "{:<15} {:>9} {:>10} {:>9} {:>9}",
        "layer", "compute", "min bytes", "SDRAM", "bound"
    )
    .unwrap();
    let (mut tc, mut tb, mut tt) = (0, 0, 0);
    for (i, lp) in plan.layers.iter().enumerate() {
        let tensor = |(c, h, w): (usize, usize, usize)| (8 * h * w * c.div_ceil(8)) as u64;
        let input = if i == 0 {
            (net.in_c * net.in_h * net.in_w) as u64
        } else {
            tensor(lp.in_shape)
        };
        let weights: usize = lp
            .weight_sets
            .iter()
            .map(|w| w.weights.len() + w.params.len())
            .sum();
        let bytes = input + tensor(lp.out_shape) + 8 * weights as u64;
        let c: u64 = lp.jobs.iter().map(|j| job_cycles(&j.steps, cfg)).sum();
        let b = c.max(m.cycles(bytes));
        let name = match &lp.pooled {
            Some(p) => format!("{}+{p}", lp.name),
            None => lp.name.clone(),
        };
        writeln!(
            s,
            "{name:<15} {c:>9} {bytes:>10} {:>9} {b:>9}",
            m.cycles(bytes)
        )
        .unwrap();
        (tc, tb, tt) = (tc + c, tb + bytes, tt + b);
    }
    writeln!(
        s,
        "{:<15} {tc:>9} {tb:>10} {:>9} {tt:>9}\nbound utilization {:.3} (engine cycles alone {:.3})",
        "total",
        m.cycles(tb),
        util(net.macs(), cfg.multipliers(), tt),
        util(net.macs(), cfg.multipliers(), tc)
    )
    .unwrap();
    Ok(s)
}

/// Engine cycles of the host-mode plan by the formulas, per layer: how far the timing model
/// is from the measured cycles of `cargo run -p sim`.
pub fn formula_cycles(net: &QNet, cfg: &DeviceConfig) -> Result<Vec<(String, u64)>> {
    let plan = Plan::compile(net, cfg)?;
    Ok(plan
        .layers
        .iter()
        .map(|l| {
            let c = l.jobs.iter().map(|j| job_cycles(&j.steps, cfg)).sum();
            (l.name.clone(), c)
        })
        .collect())
}
