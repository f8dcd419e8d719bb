//! Inference on a device — a board, or the simulated one behind a pseudo-terminal — over a
//! link: the jobs are compiled for the configuration the device reports in the handshake,
//! run through the protocol client, and the output turned into probabilities exactly as the
//! int8 golden model does, so a correct device gives the golden model's answer bit for bit.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use common::compile::{Executor, Plan};
use common::mismatch::first_mismatch;
use common::qnet::QNet;
use common::reference::LayerOutput;
use serde::Serialize;

use crate::golden::output_probabilities;
use crate::link::{Client, Link, LinkStats};

/// One layer's cost on the device.
#[derive(Clone, Debug, Serialize)]
pub struct LayerCost {
    pub name: String,
    pub jobs: usize,
    pub cycles: u64,
    /// Payload bytes to and from the device (weights, parameters, descriptors, tiles).
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// The result of one inference on a device.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceInference {
    #[serde(skip)]
    pub probs: Vec<f32>,
    pub layers: Vec<LayerCost>,
    /// Device cycles of all jobs.
    pub cycles: u64,
    pub clock_hz: u32,
    /// Bytes on the wire, framing and retries included.
    pub wire_bytes_sent: u64,
    pub wire_bytes_received: u64,
    pub retries: u64,
    pub seconds: f64,
}

/// Link rates for the latency estimate: the ULX3S's FT231X UART (8N1: 10 bits per byte)
/// and a PCIe-class stream link (XDMA on a Gen2 x1 card moves about 400 MB/s).
pub const UART_BYTES_PER_S: f64 = 3_000_000.0 / 10.0;
pub const PCIE_BYTES_PER_S: f64 = 400e6;

impl DeviceInference {
    /// Seconds the transfers take at `bytes_per_s`, plus the compute time at the device clock.
    pub fn seconds_at(&self, bytes_per_s: f64) -> f64 {
        (self.wire_bytes_sent + self.wire_bytes_received) as f64 / bytes_per_s
            + self.cycles as f64 / self.clock_hz as f64
    }

    /// The per-layer transfer report.
    pub fn report(&self) -> String {
        let mut s = format!(
            "{:<10} {:>5} {:>11} {:>11} {:>12} {:>10}\n",
            "layer", "jobs", "bytes in", "bytes out", "s @3 Mbaud", "cycles"
        );
        for l in &self.layers {
            s += &format!(
                "{:<10} {:>5} {:>11} {:>11} {:>12.2} {:>10}\n",
                l.name,
                l.jobs,
                l.bytes_in,
                l.bytes_out,
                (l.bytes_in + l.bytes_out) as f64 / UART_BYTES_PER_S,
                l.cycles
            );
        }
        s += &format!(
            "on the wire: {} bytes sent, {} received ({} retries); compute {:.1} ms at {} MHz\n\
             estimated latency: {:.2} s at 3 Mbaud UART, {:.1} ms at a PCIe-class link; this run took {:.2} s\n",
            self.wire_bytes_sent,
            self.wire_bytes_received,
            self.retries,
            1e3 * self.cycles as f64 / self.clock_hz as f64,
            self.clock_hz / 1_000_000,
            self.seconds_at(UART_BYTES_PER_S),
            1e3 * self.seconds_at(PCIE_BYTES_PER_S),
            self.seconds
        );
        s
    }
}

/// Run `net` on signed input bytes through `client`; `on_job(layer, jobs done)` after each job.
/// With `golden` (the int8 golden model's output of every layer), each layer the device
/// returns is compared with it, and the first differing byte is an error naming the layer,
/// the byte and the job. Afterwards the device's `Status` must agree with what was done
/// ([`Client::audit`]).
pub fn infer<L: Link>(
    client: &mut Client<L>,
    net: &QNet,
    input: &[i8],
    golden: Option<&[LayerOutput]>,
    mut on_job: impl FnMut(&str),
) -> Result<DeviceInference> {
    let cfg = client.info().config.clone();
    crate::limits::check_device(&cfg)?;
    let plan = Plan::compile(net, &cfg).with_context(|| {
        format!(
            "compiling the network for the device's `{}` configuration",
            cfg.name
        )
    })?;
    let t = Instant::now();
    let before: LinkStats = client.stats.clone();
    let mut mismatch = None;
    let run = Executor::new(&plan, client).run_checked(
        net,
        input,
        |li| on_job(&plan.layers[li].name),
        |li, y| {
            let Some(g) = golden else { return Ok(()) };
            let want = g.get(li).map_or(&[][..], |l| &l.out.data[..]);
            mismatch = first_mismatch(&plan.layers[li], &y.to_chw(), want);
            match &mismatch {
                Some(m) => Err(m.to_string().into()),
                None => Ok(()),
            }
        },
    );
    if let Some(m) = mismatch {
        bail!("--verify: the device's output differs from the int8 golden model: {m}");
    }
    let outputs = run.map_err(|e| anyhow::anyhow!("{e}"))?;
    client
        .audit()
        .context("after the inference (its answer is not used)")?;
    let layers: Vec<LayerCost> = plan
        .layers
        .iter()
        .zip(&outputs)
        .map(|(lp, (_, st))| LayerCost {
            name: lp.name.clone(),
            jobs: st.jobs,
            cycles: st.cycles,
            bytes_in: st.bytes_in,
            bytes_out: st.bytes_out,
        })
        .collect();
    let output = outputs.last().map(|(y, _)| y.to_chw()).unwrap_or_default();
    let after = &client.stats;
    Ok(DeviceInference {
        probs: output_probabilities(net, &output),
        cycles: layers.iter().map(|l| l.cycles).sum(),
        layers,
        clock_hz: cfg.clock_hz,
        wire_bytes_sent: after.bytes_sent - before.bytes_sent,
        wire_bytes_received: after.bytes_received - before.bytes_received,
        retries: after.retries - before.retries,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// A bounded default for how long one command may wait for its answer.
pub fn default_timeout() -> Duration {
    Duration::from_millis(500)
}
