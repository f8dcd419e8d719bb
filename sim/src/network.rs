//! Whole-network runs: the compiled jobs of a [`QNet`] on a [`Backend`] (the Verilated RTL
//! or the functional model), every layer compared byte for byte with the int8 reference,
//! and the per-layer report (MACs, cycles, utilization, bytes moved).

use std::time::{Duration, Instant};

use common::DeviceConfig;
use common::backend::Backend;
use common::compile::{Executor, LayerStats, Plan};
use common::mismatch::{Mismatch, first_mismatch as first_mismatch_of};
use common::qnet::QNet;
use common::reference::LayerOutput;
use common::tensor::Tensor;
use serde::Serialize;

/// One layer's line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct LayerReport {
    pub name: String,
    pub macs: u64,
    pub cycles: u64,
    /// `macs / (multipliers * cycles)`.
    pub mac_utilization: f64,
    pub jobs: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bit_exact: bool,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct NetReport {
    pub network: String,
    pub config: String,
    pub multipliers: usize,
    pub clock_hz: u32,
    pub bit_exact: bool,
    pub first_mismatch: Option<Mismatch>,
    pub total_cycles: u64,
    pub ideal_cycles: u64,
    pub mac_utilization: f64,
    pub total_macs: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Inferences per second at the configuration's clock, link time excluded.
    pub inferences_per_second: f64,
    pub sim_seconds: f64,
    pub simulated_cycles_per_second: f64,
    pub layers: Vec<LayerReport>,
    /// The network's output bytes (the last layer's channels).
    #[serde(skip)]
    pub output: Vec<u8>,
}

/// The device's side of a run: every layer's output and what it took.
pub struct DeviceRun {
    pub plan: Plan,
    pub outputs: Vec<(Tensor, LayerStats)>,
    pub sim_time: Duration,
}

/// Run `net` on `dev` layer by layer. `on_job` is called after every job with the layer index.
pub fn simulate(
    net: &QNet,
    input: &[i8],
    cfg: &DeviceConfig,
    dev: &mut impl Backend,
    on_job: impl FnMut(usize),
) -> Result<DeviceRun, Box<dyn std::error::Error + Send + Sync>> {
    let plan = Plan::compile(net, cfg)?;
    let t = Instant::now();
    let outputs = Executor::new(&plan, dev).run(net, input, on_job)?;
    let sim_time = t.elapsed();
    Ok(DeviceRun {
        plan,
        outputs,
        sim_time,
    })
}

/// Compare a device run with the golden model's outputs (one per layer) and build the report.
pub fn compare(net: &QNet, run: &DeviceRun, reference: &[LayerOutput]) -> NetReport {
    let cfg = &run.plan.cfg;
    let mults = cfg.multipliers();
    let mut layers = Vec::new();
    let mut first_mismatch = None;
    for (li, (lp, (y, st))) in run.plan.layers.iter().zip(&run.outputs).enumerate() {
        let want = &reference[li].out.data;
        let got = y.to_chw();
        let bad = first_mismatch_of(lp, &got, want);
        layers.push(LayerReport {
            name: lp.name.clone(),
            macs: lp.macs,
            cycles: st.cycles,
            mac_utilization: utilization(lp.macs, mults, st.cycles),
            jobs: st.jobs,
            bytes_in: st.bytes_in,
            bytes_out: st.bytes_out,
            bit_exact: bad.is_none(),
        });
        if first_mismatch.is_none() {
            first_mismatch = bad;
        }
    }
    let total_cycles: u64 = layers.iter().map(|l| l.cycles).sum();
    let total_macs: u64 = layers.iter().map(|l| l.macs).sum();
    NetReport {
        network: net.name.clone(),
        config: cfg.name.clone(),
        multipliers: mults,
        clock_hz: cfg.clock_hz,
        bit_exact: first_mismatch.is_none(),
        first_mismatch,
        total_cycles,
        ideal_cycles: total_macs.div_ceil(mults as u64),
        mac_utilization: utilization(total_macs, mults, total_cycles),
        total_macs,
        bytes_in: layers.iter().map(|l| l.bytes_in).sum(),
        bytes_out: layers.iter().map(|l| l.bytes_out).sum(),
        inferences_per_second: if total_cycles > 0 {
            cfg.clock_hz as f64 / total_cycles as f64
        } else {
            0.0
        },
        sim_seconds: run.sim_time.as_secs_f64(),
        simulated_cycles_per_second: total_cycles as f64 / run.sim_time.as_secs_f64().max(1e-9),
        layers,
        output: run.outputs.last().map(|o| o.0.to_chw()).unwrap_or_default(),
    }
}

fn utilization(macs: u64, mults: usize, cycles: u64) -> f64 {
    if cycles == 0 {
        0.0
    } else {
        macs as f64 / (mults as f64 * cycles as f64)
    }
}

impl NetReport {
    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} on `{}` ({} multipliers, {} MHz)\n{:<10} {:>13} {:>12} {:>7} {:>5} {:>11} {:>10}  {}\n",
            self.network,
            self.config,
            self.multipliers,
            self.clock_hz / 1_000_000,
            "layer",
            "MACs",
            "cycles",
            "util",
            "jobs",
            "bytes in",
            "bytes out",
            "check"
        );
        for l in &self.layers {
            s += &format!(
                "{:<10} {:>13} {:>12} {:>6.1}% {:>5} {:>11} {:>10}  {}\n",
                l.name,
                l.macs,
                l.cycles,
                100.0 * l.mac_utilization,
                l.jobs,
                l.bytes_in,
                l.bytes_out,
                if l.bit_exact { "bit-exact" } else { "MISMATCH" }
            );
        }
        s += &format!(
            "{:<10} {:>13} {:>12} {:>6.1}% {:>5} {:>11} {:>10}\n",
            "total",
            self.total_macs,
            self.total_cycles,
            100.0 * self.mac_utilization,
            self.layers.iter().map(|l| l.jobs).sum::<usize>(),
            self.bytes_in,
            self.bytes_out
        );
        s += &format!(
            "ideal cycles (MACs / multipliers): {}; {:.1} inferences/s at {} MHz (link time excluded)\n\
             simulated {} cycles in {:.1} s: {:.2} M cycles/s\n",
            self.ideal_cycles,
            self.inferences_per_second,
            self.clock_hz / 1_000_000,
            self.total_cycles,
            self.sim_seconds,
            self.simulated_cycles_per_second / 1e6
        );
        match &self.first_mismatch {
            None => s += "bit-exact: every byte of every layer equals the int8 golden model\n",
            Some(m) => s += &format!("MISMATCH: {m}\n"),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::device::Device;
    use common::synthetic::{Version, input, squeezenet};

    #[test]
    fn functional_model_run_is_bit_exact_and_a_fault_is_located() {
        let cfg = DeviceConfig::small();
        let net = squeezenet(Version::V1_1, 35, 5);
        let x = input(35, 5);
        let reference = common::reference::run(&net, &x);
        let mut dev = Device::new(cfg.clone());
        let sim = simulate(&net, &x, &cfg, &mut dev, |_| {}).unwrap();
        let r = compare(&net, &sim, &reference);
        assert!(r.bit_exact, "{}", r.table());
        assert_eq!(r.layers.len(), net.layers.len());
        assert_eq!(r.output, reference.last().unwrap().out.data);

        // Corrupt the reference of fire3: the run must stop there and name the position.
        let mut bad = reference.clone();
        let fire3 = bad.iter().position(|l| l.name == "fire3").unwrap();
        let t = &mut bad[fire3].out;
        let i = 70 * t.h * t.w + 2 * t.w + 3;
        t.data[i] ^= 1;
        let r = compare(&net, &sim, &bad);
        assert!(!r.bit_exact);
        let m = r.first_mismatch.unwrap();
        assert_eq!((m.layer.as_str(), m.channel, m.y, m.x), ("fire3", 70, 2, 3));
        assert_eq!(
            (m.device, m.reference),
            (bad[fire3].out.data[i] ^ 1, bad[fire3].out.data[i])
        );
        assert!(!r.layers[fire3].bit_exact && r.layers[fire3 - 1].bit_exact);
    }
}
