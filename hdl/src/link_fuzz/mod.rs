//! Differential fuzzing of the host link (issue 23): random byte streams go into the
//! Verilated `sqz_top` ([`bench`]) and into the Rust protocol model ([`model`]); both must
//! give the same answers, byte for byte, and so the same `Status` counters (every case ends
//! with a `Status` request), and that last request must be answered within
//! [`recovery_bound`] cycles. Cases ([`case`]) are seeded: a failing one is replayed alone
//! with its printed seed (`hdl fuzz-link --seed S --cases 1`).

pub mod bench;
pub mod case;
pub mod model;

use std::path::Path;
use std::time::{Duration, Instant};

use common::DeviceConfig;
use common::protocol::{MAX_PAYLOAD, OVERHEAD, STATUS_LEN, frame_timeout_cycles};

use bench::Bench;
use case::{Case, Ev, Target};

/// The fuzzed device: the `small` engine (the link of the ECP5 boards: not lean) with a
/// 1 MHz clock and a 4-cycle UART bit, so the inactivity timeout is 1000 cycles and a case
/// that probes it stays cheap. The timeout is `frame_timeout_cycles` of this configuration,
/// for the RTL and the model alike.
pub fn fuzz_config() -> DeviceConfig {
    let mut c = DeviceConfig::small();
    c.clock_hz = 1_000_000;
    c.baud = 250_000;
    c
}

/// Cycles within which the recovery `Status` is answered, counted from its first byte. The
/// case has then been idle for more than the frame timeout, so no frame is partly received;
/// what can still be on its way is the answer to the case's last frame (at most a full
/// frame), then the `Status` request and its answer. Every byte costs one cycle on the
/// stream port and ten bit times on the UART; doubled for the bus reads behind an answer,
/// plus a turnaround allowance.
pub fn recovery_bound(cfg: &DeviceConfig, uart: bool) -> u64 {
    let bytes = 2 * (OVERHEAD + MAX_PAYLOAD) + OVERHEAD + OVERHEAD + STATUS_LEN;
    let per_byte = if uart {
        10 * (cfg.clock_hz as u64).div_ceil(cfg.baud as u64)
    } else {
        1
    };
    bytes as u64 * per_byte + 64
}

/// How a run is set up.
pub struct Options {
    pub cases: u64,
    /// Case `i` has seed `seed + i`.
    pub seed: u64,
    /// One case in `uart_every` goes through the UART pins (0: none).
    pub uart_every: u64,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    pub uart_cases: u64,
    pub divergences: u64,
    pub hangs: u64,
    /// Recovery bound exceeded.
    pub slow: u64,
    pub cycles: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Largest recovery (cycles) seen, stream and UART.
    pub max_recovery: [u64; 2],
    /// The cycles of the fuzz job, as the engine reports them.
    pub job_cycles: Option<u32>,
    pub wall: Duration,
    /// The first failures, printed in full.
    pub failures: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.divergences == 0 && self.hangs == 0 && self.slow == 0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cases ({} UART): {} divergences, {} hangs, {} over the recovery bound; \
             {} bytes in, {} out, {} cycles; slowest recovery {} cycles (stream), {} (UART); \
             fuzz job {} cycles; {:.1} s",
            self.cases,
            self.uart_cases,
            self.divergences,
            self.hangs,
            self.slow,
            self.bytes_in,
            self.bytes_out,
            self.cycles,
            self.max_recovery[0],
            self.max_recovery[1],
            self.job_cycles.map_or("-".into(), |c| c.to_string()),
            self.wall.as_secs_f64()
        )
    }
}

/// Generous limit for one case: every byte, gap and reset ten times over, plus room for
/// jobs and answers; a case that does not go quiet within it is a hang.
fn cycle_limit(case: &Case, bit: u64) -> u64 {
    let per_byte = if case.uart { 12 * bit } else { 1 };
    let mut n = 200_000;
    for e in &case.evs {
        n += match *e {
            Ev::Byte { gap, .. } => gap as u64 + per_byte,
            Ev::Reset { cycles } => cycles as u64,
            _ => 0,
        } * 10;
    }
    n
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Answer bytes as frames (type, seq, length, the payload's first bytes), then in hex when
/// short enough to read.
fn answers(bytes: &[u8]) -> String {
    let mut d = common::protocol::Decoder::new();
    let mut s = format!("{} bytes:", bytes.len());
    for r in bytes.iter().filter_map(|&b| d.push(b)) {
        match r {
            Ok(f) => {
                let n = f.payload.len().min(12);
                let more = if f.payload.len() > n { " .." } else { "" };
                s += &format!(
                    "\n    type {:#04x} seq {:#04x} len {}: {}{more}",
                    f.kind,
                    f.seq,
                    f.payload.len(),
                    hex(&f.payload[..n])
                );
            }
            Err(e) => s += &format!("\n    {e}"),
        }
    }
    if bytes.len() <= 256 {
        s += &format!("\n    {}", hex(bytes));
    }
    s
}

/// The bench and the model side by side, and what they did so far.
pub struct Fuzzer {
    bench: Bench,
    pub target: Target,
    pub report: Report,
    started: Instant,
}

impl Fuzzer {
    /// Build the bench in `dir`; `None` when Verilator is missing (a loud skip in `test`'s
    /// name, a failure under `SQZ_REQUIRE_DATA=1`).
    pub fn new(test: &str, dir: &Path) -> Option<Self> {
        let cfg = fuzz_config();
        let bench = Bench::build(test, dir, &cfg)?;
        Some(Fuzzer {
            bench,
            target: Target {
                timeout: frame_timeout_cycles(&cfg),
                bit_cycles: (cfg.clock_hz as u64).div_ceil(cfg.baud as u64),
                cfg,
            },
            report: Report::default(),
            started: Instant::now(),
        })
    }

    /// Replay `case` on both: the RTL's answer bytes, or the failure, printed in full, if
    /// they differ, the RTL hangs or its recovery `Status` is late.
    pub fn check(&mut self, case: &Case) -> Result<Vec<u8>, String> {
        let t = &self.target;
        let rtl = self.bench.run(case, cycle_limit(case, t.bit_cycles));
        let want = model::run(&t.cfg, t.timeout, case);
        let rep = &mut self.report;
        rep.cases += 1;
        rep.uart_cases += case.uart as u64;
        rep.cycles += rtl.cycles;
        rep.bytes_in += case
            .evs
            .iter()
            .filter(|e| matches!(e, Ev::Byte { .. }))
            .count() as u64;
        rep.bytes_out += rtl.out.len() as u64;
        let bound = recovery_bound(&t.cfg, case.uart);
        let problem = if !rtl.quiet {
            rep.hangs += 1;
            format!("HANG: not quiet after {} cycles", rtl.cycles)
        } else if let Err(e) = model::compare(&rtl.out, &want, &mut rep.job_cycles) {
            rep.divergences += 1;
            format!("DIVERGENCE: {e}")
        } else if rtl.recovery > bound {
            rep.slow += 1;
            format!(
                "SLOW: Status answered after {} cycles, bound {bound}",
                rtl.recovery
            )
        } else {
            let m = &mut rep.max_recovery[case.uart as usize];
            *m = (*m).max(rtl.recovery);
            rep.wall = self.started.elapsed();
            return Ok(rtl.out);
        };
        let msg = format!(
            "{problem}\n{case}\nrtl {}\nmodel {}\nreplay: cargo run --release -p hdl -- fuzz-link --seed {} --cases 1 --uart-every {}",
            answers(&rtl.out),
            answers(&want),
            case.seed,
            case.uart as u8,
        );
        if rep.failures.len() < 5 {
            rep.failures.push(msg.clone());
        }
        rep.wall = self.started.elapsed();
        Err(msg)
    }
}

/// Run `opts.cases` generated cases on the bench built in `dir`; `None` when Verilator is
/// missing (see [`Fuzzer::new`]).
pub fn fuzz(test: &str, dir: &Path, opts: &Options) -> Option<Report> {
    let mut f = Fuzzer::new(test, dir)?;
    for i in 0..opts.cases {
        let seed = opts.seed.wrapping_add(i);
        let uart = opts.uart_every > 0 && i % opts.uart_every == opts.uart_every - 1;
        let case = case::generate(&f.target, seed, uart);
        if let Err(msg) = f.check(&case) {
            eprintln!("{msg}");
        }
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "link fuzz: {} cases, {:.0} s",
                i + 1,
                f.started.elapsed().as_secs_f64()
            );
        }
    }
    Some(f.report)
}
