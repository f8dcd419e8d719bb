//! The link in rust-hdl's simulator: frames through the stream port and bit by bit through
//! the UART (with the sender's baud rate off by ±2 %), against a testbench that plays the
//! engine (a word memory on the bus, and a job that takes a fixed number of cycles).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use common::DeviceConfig;
use common::bus::Region;
use common::protocol::{
    Command, Decoder, Frame, Info, MAX_PAYLOAD, NAK, NakReason, Response, Status, kind,
};
use rust_hdl::prelude::*;

use super::*;

/// What the testbench does, in order.
#[derive(Clone, Debug)]
enum Ev {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Let cycles pass.
    Idle(u64),
    /// Wait until this many answer frames have been received in all.
    Answers(usize),
    /// Hold the UART line low this many bit periods (a break: its stop bit is low).
    Break(f64),
}

/// How bytes reach the device.
#[derive(Clone, Copy, Debug)]
enum Port {
    Stream,
    /// UART; the sender's bit period is the device's times this factor.
    Uart(f64),
}

#[derive(Default)]
struct Outcome {
    answers: Vec<Result<Frame, String>>,
    mem: HashMap<u32, u64>,
    starts: usize,
    cycles: u64,
}

const JOB_CYCLES: u64 = 300;

/// Run `script` against the link of configuration `cfg`.
fn run(cfg: &DeviceConfig, timeout: u64, port: Port, script: Vec<Ev>) -> Outcome {
    let lean = cfg.lean();
    let mut uut = SqzLink::with_timeout(cfg, timeout);
    uut.connect_all();
    let period = cfg.clock_hz as f64 / cfg.baud as f64;
    let max_cycles: u64 = std::env::var("LINK_TEST_MAX_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let out = Arc::new(Mutex::new(Outcome::default()));
    let result = out.clone();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<SqzLink>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: Sim<SqzLink>| {
        let mut x = sim.init()?;
        let mut script: VecDeque<Ev> = script.clone().into();
        let mut tx_bytes: VecDeque<u8> = VecDeque::new();
        let mut decoder = Decoder::new();
        let mut answers = Vec::new();
        let mut mem: HashMap<u32, u64> = HashMap::new();
        let mut reads: VecDeque<(u64, u32)> = VecDeque::new();
        let mut job_end: Option<u64> = None;
        let mut starts = 0;
        let mut idle_until = 0u64;
        // UART sender: current byte's bits and the start time (in cycles, fractional).
        let mut bits: Vec<bool> = Vec::new();
        let mut bit_start = 0f64;
        // UART receiver on the device's tx line (sampled at the device's exact rate).
        let mut rx_from: Option<u64> = None;
        let mut rx_byte = 0u8;
        let mut rx_prev = true;
        let mut last_activity = 0u64;
        let mut low_until = 0f64;
        x.reset.next = true;
        x.uart_rx.next = true;
        x.stream_select.next = matches!(port, Port::Stream);
        wait_clock_cycle!(sim, clock, x);
        wait_clock_cycle!(sim, clock, x);
        x.reset.next = false;
        let mut cycle = 0u64;
        loop {
            wait_clock_cycle!(sim, clock, x);
            cycle += 1;
            if cycle > max_cycles {
                break;
            }
            // The engine. Its read answer is valid with `bus_rvalid` only, except on the lean
            // build, whose engine holds it until the next read.
            x.bus_rvalid.next = false;
            if !lean {
                x.bus_rdata.next = (cycle.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_bits();
            }
            x.done.next = false;
            if x.bus_write.val() {
                mem.insert(x.bus_addr.val().index() as u32, x.bus_wdata.val().to_u64());
            }
            if x.bus_read.val() {
                reads.push_back((cycle + 2, x.bus_addr.val().index() as u32));
            }
            if let Some(&(due, addr)) = reads.front()
                && due == cycle
            {
                reads.pop_front();
                x.bus_rvalid.next = true;
                x.bus_rdata.next = mem.get(&addr).copied().unwrap_or(0).to_bits();
            }
            if x.start.val() {
                starts += 1;
                job_end = Some(cycle + JOB_CYCLES);
            }
            if x.core_reset.val() {
                job_end = None;
            }
            if job_end == Some(cycle) {
                job_end = None;
                x.done.next = true;
                x.job_cycles.next = JOB_CYCLES.to_bits();
            }
            // Answers out.
            let mut got = None;
            match port {
                Port::Stream => {
                    // Not always ready: exercise the back-pressure.
                    // A transfer happens at the next edge if both are high now.
                    let ready = !cycle.is_multiple_of(3);
                    x.stream_out_ready.next = ready;
                    if x.stream_out_valid.val() && ready {
                        got = Some(x.stream_out_data.val().index() as u8);
                    }
                }
                Port::Uart(_) => {
                    let line = x.uart_tx.val();
                    match rx_from {
                        None => {
                            if rx_prev && !line {
                                rx_from = Some(cycle);
                                rx_byte = 0;
                            }
                        }
                        Some(t0) => {
                            let at = |k: f64| (t0 as f64 + k * period).floor() as u64;
                            for b in 0..8 {
                                if cycle == at(1.5 + b as f64) && line {
                                    rx_byte |= 1 << b;
                                }
                            }
                            if cycle == at(9.5) {
                                rx_from = None;
                                if line {
                                    got = Some(rx_byte);
                                } else {
                                    answers.push(Err("framing error on tx".into()));
                                }
                            }
                        }
                    }
                    rx_prev = line;
                }
            }
            if let Some(b) = got {
                last_activity = cycle;
                if let Some(r) = decoder.push(b) {
                    answers.push(r.map_err(|e| e.to_string()));
                }
            }
            // Bytes in.
            match port {
                Port::Stream => {
                    x.stream_in_valid.next = !tx_bytes.is_empty();
                    x.stream_in_data.next = (*tx_bytes.front().unwrap_or(&0) as u64).to_bits();
                    if !tx_bytes.is_empty() && x.stream_in_ready.val() {
                        tx_bytes.pop_front();
                    }
                }
                Port::Uart(factor) => {
                    let p = period * factor;
                    let now = cycle as f64;
                    let mut line = true;
                    loop {
                        if bits.is_empty() {
                            let Some(b) = tx_bytes.pop_front() else { break };
                            bits = (0..10)
                                .map(|i| match i {
                                    0 => false,
                                    9 => true,
                                    _ => b >> (i - 1) & 1 == 1,
                                })
                                .collect();
                            // Back to back after the previous byte, or from now after a pause.
                            if now - bit_start >= 1.0 {
                                bit_start = now;
                            }
                        }
                        let i = ((now - bit_start) / p).floor() as usize;
                        if i < 10 {
                            line = bits[i];
                            break;
                        }
                        bits.clear();
                        bit_start += 10.0 * p;
                    }
                    x.uart_rx.next = line && now >= low_until;
                }
            }
            // The script.
            if cycle < idle_until {
                continue;
            }
            match script.front() {
                None => {
                    if tx_bytes.is_empty() && bits.is_empty() && cycle > last_activity + 2000 {
                        break;
                    }
                }
                Some(Ev::Send(b)) => {
                    tx_bytes.extend(b.iter().copied());
                    script.pop_front();
                }
                Some(Ev::Idle(n)) => {
                    idle_until = cycle + n;
                    script.pop_front();
                }
                Some(Ev::Break(n)) => {
                    low_until = cycle as f64 + n * period;
                    idle_until = low_until.ceil() as u64;
                    script.pop_front();
                }
                Some(Ev::Answers(n)) => {
                    if answers.len() >= *n {
                        script.pop_front();
                    }
                }
            }
        }
        if std::env::var("LINK_TEST_TRACE").is_ok() {
            eprintln!("{cycle} cycles, script left {script:?}, answers {answers:?}");
        }
        let mut o = result.lock().unwrap();
        o.answers = answers;
        o.mem = mem;
        o.starts = starts;
        o.cycles = cycle;
        sim.done(x)
    });
    sim.run(Box::new(uut), 100_000_000_000).unwrap();
    Arc::try_unwrap(out).ok().unwrap().into_inner().unwrap()
}

fn frame(cmd: &Command, seq: u8) -> Ev {
    Ev::Send(cmd.frame(seq).encode())
}

/// The `i`th answer, checked to carry `seq`, decoded as the answer to `cmd`.
fn answer(o: &Outcome, i: usize, cmd: &Command, seq: u8) -> Response {
    let f = o.answers[i]
        .clone()
        .unwrap_or_else(|e| panic!("answer {i}: {e}"));
    assert_eq!(f.seq, seq, "answer {i}: {f:?}");
    Response::parse(&f, cmd).unwrap()
}

fn status(r: Response) -> Status {
    match r {
        Response::Status(s) => s,
        r => panic!("not a status: {r:?}"),
    }
}

fn words(n: usize, salt: u64) -> Vec<u64> {
    (0..n as u64)
        .map(|i| (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)
        .collect()
}

/// On `small`, and on the lean `icebreaker`, whose link sends a Read's bytes straight from
/// the engine's held answer and writes its words straight from the word RAM.
#[test]
fn stream_commands_jobs_and_retries() {
    stream_session(&DeviceConfig::small());
    stream_session(&DeviceConfig::icebreaker());
}

fn stream_session(cfg: &DeviceConfig) {
    let cfg = cfg.clone();
    let data = words(5, 1);
    let a10 = Region::A.addr(10);
    let wr = Command::Write {
        addr: a10,
        words: data.clone(),
    };
    let rd = Command::Read { addr: a10, n: 5 };
    let script = vec![
        frame(&Command::Info, 1),
        Ev::Answers(1),
        frame(&wr, 2),
        Ev::Answers(2),
        frame(&rd, 3),
        Ev::Answers(3),
        // A job, and while it runs: status, a retry of its Run, a write.
        frame(&Command::Run, 4),
        frame(&Command::Status, 5),
        Ev::Answers(4),
        frame(&Command::Run, 4),
        frame(&wr, 6),
        Ev::Answers(6),
        // The Run answer was "lost": its retry is answered from the cache.
        frame(&Command::Run, 4),
        Ev::Answers(7),
        frame(&Command::Run, 7),
        Ev::Answers(8),
        frame(&Command::Status, 8),
        Ev::Answers(9),
        frame(&Command::Reset, 9),
        frame(&Command::Status, 10),
    ];
    let o = run(&cfg, 500, Port::Stream, script);
    assert_eq!(o.answers.len(), 11, "{:?}", o.answers);
    assert_eq!(
        answer(&o, 0, &Command::Info, 1),
        Response::Info(Info::new(cfg.clone()))
    );
    assert_eq!(answer(&o, 1, &wr, 2), Response::Write);
    for (i, w) in data.iter().enumerate() {
        assert_eq!(o.mem.get(&(a10 + i as u32)), Some(w));
    }
    assert_eq!(answer(&o, 2, &rd, 3), Response::Read(data.clone()));
    let s = status(answer(&o, 3, &Command::Status, 5));
    assert!(s.busy);
    assert_eq!(s.frames, 5);
    assert_eq!(answer(&o, 4, &wr, 6), Response::Nak(Some(NakReason::Busy)));
    let done = Response::Run {
        cycles: JOB_CYCLES as u32,
    };
    assert_eq!(answer(&o, 5, &Command::Run, 4), done);
    assert_eq!(answer(&o, 6, &Command::Run, 4), done);
    assert_eq!(answer(&o, 7, &Command::Run, 7), done);
    assert_eq!(o.starts, 2, "a retried Run must not start the job again");
    let s = status(answer(&o, 8, &Command::Status, 8));
    assert_eq!(
        s,
        Status {
            busy: false,
            flags: 0,
            job_cycles: JOB_CYCLES as u32,
            jobs: 2,
            frames: 10,
            ..Default::default()
        }
    );
    assert_eq!(answer(&o, 9, &Command::Reset, 9), Response::Reset);
    let s = status(answer(&o, 10, &Command::Status, 10));
    assert_eq!(
        s,
        Status {
            frames: 1,
            ..Default::default()
        }
    );
}

/// A Write changes what the next job computes, so it drops the Run cache: a Run after it
/// that reuses the last Run's sequence number (as a new host session's first Run may) runs
/// the job instead of getting the old job's answer; a retry of that Run is still cached.
#[test]
fn write_invalidates_the_run_cache() {
    let cfg = DeviceConfig::small();
    let desc = Command::Write {
        addr: Region::Desc.addr(0),
        words: words(2, 4),
    };
    let script = vec![
        frame(&desc, 1),
        Ev::Answers(1),
        frame(&Command::Run, 2),
        Ev::Answers(2),
        frame(&desc, 3),
        Ev::Answers(3),
        frame(&Command::Run, 2),
        Ev::Answers(4),
        frame(&Command::Run, 2),
        Ev::Answers(5),
    ];
    let o = run(&cfg, 500, Port::Stream, script);
    assert_eq!(o.answers.len(), 5, "{:?}", o.answers);
    let done = Response::Run {
        cycles: JOB_CYCLES as u32,
    };
    for i in [1, 3, 4] {
        assert_eq!(answer(&o, i, &Command::Run, 2), done);
    }
    assert_eq!(
        o.starts, 2,
        "the Run after a Write must run the job, not answer from the cache"
    );
}

#[test]
fn rejects_corrupt_unknown_malformed_and_truncated_frames() {
    let cfg = DeviceConfig::small();
    let mut corrupt = Command::Status.frame(20).encode();
    *corrupt.last_mut().unwrap() ^= 0x10;
    let mut oversize = vec![0xA5, 0x5A, kind::WRITE, 0x24];
    oversize.extend(((MAX_PAYLOAD + 1) as u16).to_le_bytes());
    let write = Command::Write {
        addr: 0,
        words: words(3, 2),
    }
    .frame(26)
    .encode();
    let script = vec![
        Ev::Send(corrupt),
        Ev::Answers(1),
        Ev::Send(Frame::new(0x42, 21, vec![]).encode()),
        Ev::Answers(2),
        Ev::Send(Frame::new(kind::INFO, 22, vec![0]).encode()),
        Ev::Answers(3),
        Ev::Send(Frame::new(kind::READ, 23, vec![0, 0, 0, 0, 0, 0]).encode()),
        Ev::Answers(4),
        Ev::Send(Frame::new(kind::WRITE, 24, vec![0; 13]).encode()),
        Ev::Answers(5),
        Ev::Send(oversize),
        Ev::Answers(6),
        // Truncated: the device drops it after the inactivity timeout.
        Ev::Send(write[..10].to_vec()),
        Ev::Idle(600),
        // Garbage (with sync-like bytes) before a good frame.
        Ev::Send(vec![0x00, 0x11, 0xA5, 0x00, 0xA5, 0xA5, 0x22]),
        frame(&Command::Status, 25),
        Ev::Answers(7),
        Ev::Send(write.clone()),
        Ev::Answers(8),
    ];
    let o = run(&cfg, 200, Port::Stream, script);
    assert_eq!(o.answers.len(), 8, "{:?}", o.answers);
    let nak = |i: usize, seq: u8, why: NakReason| {
        assert_eq!(
            o.answers[i],
            Ok(Frame::new(NAK, seq, vec![why as u8])),
            "answer {i}"
        );
    };
    nak(0, 20, NakReason::Crc);
    nak(1, 21, NakReason::Unknown);
    nak(2, 22, NakReason::Length);
    nak(3, 23, NakReason::Length);
    nak(4, 24, NakReason::Length);
    nak(5, 0x24, NakReason::Length);
    let s = status(answer(&o, 6, &Command::Status, 25));
    assert_eq!(
        (s.crc_errors, s.bad_frames, s.timeouts, s.frames),
        (1, 5, 1, 1)
    );
    use common::protocol::flag;
    assert_eq!(s.flags, flag::CRC | flag::BAD | flag::TIMEOUT);
    // And the device keeps serving.
    let w = Command::Write {
        addr: 0,
        words: words(3, 2),
    };
    assert_eq!(answer(&o, 7, &w, 26), Response::Write);
}

/// The Status counters carry across bytes (they live in a RAM, a byte at a time): 300 CRC
/// errors, then a good frame.
#[test]
fn counters_carry_past_255() {
    let cfg = DeviceConfig::icebreaker();
    let mut script = Vec::new();
    for i in 0..300usize {
        let mut f = Command::Status.frame(i as u8).encode();
        let n = f.len();
        f[n - 1] ^= 0x5a;
        script.push(Ev::Send(f));
        script.push(Ev::Answers(i + 1));
    }
    script.push(frame(&Command::Status, 7));
    let o = run(&cfg, 500, Port::Stream, script);
    assert_eq!(o.answers.len(), 301);
    let s = status(answer(&o, 300, &Command::Status, 7));
    assert_eq!((s.crc_errors, s.frames, s.bad_frames), (300, 1, 0));
}

fn uart_session(cfg: &DeviceConfig, factor: f64) {
    let data = words(4, 3);
    let addr = Region::Params.addr(7);
    let wr = Command::Write {
        addr,
        words: data.clone(),
    };
    let rd = Command::Read { addr, n: 4 };
    let script = vec![
        frame(&Command::Info, 1),
        Ev::Answers(1),
        frame(&wr, 2),
        Ev::Answers(2),
        frame(&rd, 3),
        Ev::Answers(3),
        frame(&Command::Status, 4),
        Ev::Answers(4),
    ];
    let timeout = frame_timeout_cycles(cfg);
    let o = run(cfg, timeout, Port::Uart(factor), script);
    assert_eq!(o.answers.len(), 4, "factor {factor}: {:?}", o.answers);
    assert_eq!(
        answer(&o, 0, &Command::Info, 1),
        Response::Info(Info::new(cfg.clone()))
    );
    assert_eq!(answer(&o, 1, &wr, 2), Response::Write);
    assert_eq!(answer(&o, 2, &rd, 3), Response::Read(data));
    let s = status(answer(&o, 3, &Command::Status, 4));
    assert_eq!(
        (s.frames, s.flags, s.overruns),
        (4, 0, 0),
        "factor {factor}"
    );
}

/// 23 MHz / 3 Mbaud = 7.67 cycles per bit (a fractional divisor, like ULX3S's 100 MHz /
/// 3 Mbaud = 33.3, but fewer cycles for this slow simulator), host ±2 %.
#[test]
fn uart_at_plus_minus_two_percent() {
    let cfg = DeviceConfig {
        clock_hz: 23_000_000,
        ..DeviceConfig::small()
    };
    for factor in [1.0, 1.02, 0.98] {
        uart_session(&cfg, factor);
    }
}

/// A break on the line (low for 10 bit periods: a byte of zeros whose stop bit is low) is
/// a UART framing error: dropped, counted in Status, flagged; the next frame is served.
#[test]
fn uart_break_is_a_counted_framing_error() {
    let cfg = DeviceConfig {
        clock_hz: 23_000_000,
        ..DeviceConfig::small()
    };
    let script = vec![
        Ev::Break(10.0),
        Ev::Idle(100),
        frame(&Command::Status, 1),
        Ev::Answers(1),
    ];
    let o = run(&cfg, frame_timeout_cycles(&cfg), Port::Uart(1.0), script);
    let s = status(answer(&o, 0, &Command::Status, 1));
    use common::protocol::flag;
    assert_eq!((s.framing_errors, s.frames, s.flags), (1, 1, flag::FRAMING));
}

/// The emitted Verilog lints clean under Verilator (skipped loudly without it).
#[test]
fn verilog_lints() {
    let v = link_verilog(&DeviceConfig::ulx3s(), "sqz_link");
    assert!(v.contains("module sqz_link"));
    let dir = std::env::temp_dir().join(format!("sqz-link-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("sqz_link.v");
    std::fs::write(&f, &v).unwrap();
    if crate::verilator::available_or_skip("verilog_lints") {
        crate::verilator::lint("sqz_link", &[&f], &[] as &[&str]).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
