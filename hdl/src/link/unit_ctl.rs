//! The status counters against `Status::encode` and `Info::encode`, and the dispatcher's
//! answers and engine commands, each alone in rust-hdl's simulator (`unit.rs`'s bench).

use std::collections::VecDeque;

use common::DeviceConfig;
use common::bus::Region;
use common::protocol::{ANSWER, Command, INFO_LEN, Info, NAK, NakReason, STATUS_LEN, Status, kind};
use rust_hdl::prelude::*;

use super::unit::bench;
use super::{Dispatcher, StatusCounters};

#[derive(Clone, Default)]
struct StatsBench {
    /// Event pulses (counter index 0..8, or 8 for a clear), one every 20 cycles.
    events: VecDeque<usize>,
    /// Answers to read (0 Status, 1 Info) and the bytes read.
    reads: VecDeque<u8>,
    bitoff: u64,
    bytes: Vec<u8>,
    answers: Vec<Vec<u8>>,
}

/// Events counted in the counters' RAM (carrying past 255), then Status and Info read a
/// byte at a time, against `Status::encode` and `Info::encode`; and the clear.
#[test]
fn status_counters_match_the_status_encoding() {
    let cfg = DeviceConfig::small();
    let mut events = vec![0];
    events.extend([2; 300]);
    events.extend([1, 1, 1, 3, 3, 4, 5, 6, 7, 7]);
    let st = StatsBench {
        events: events.into(),
        reads: vec![0, 1, 0].into(),
        ..Default::default()
    };
    const CYCLES: u64 = 0xA1B2_C3D4;
    let got = bench(
        StatusCounters::new(&cfg),
        |x| &mut x.clock,
        50_000,
        st,
        |s, x, n| {
            x.reset.next = n < 2;
            x.busy.next = true;
            x.job_cycles.next = CYCLES.to_bits();
            let ev = if n >= 40 && n.is_multiple_of(20) {
                s.events.pop_front()
            } else {
                None
            };
            x.ev_run.next = ev == Some(0);
            x.ev_job.next = ev == Some(1);
            x.ev_frame.next = ev == Some(2);
            x.ev_crc.next = ev == Some(3);
            x.ev_to.next = ev == Some(4);
            x.ev_bad.next = ev == Some(5);
            x.ev_ovr.next = ev == Some(6);
            x.ev_frm.next = ev == Some(7);
            x.clear.next = ev == Some(8);
            let reading = s.events.is_empty();
            x.rom_status.next = reading && s.reads.front() == Some(&0);
            x.rom_info.next = reading && s.reads.front() == Some(&1);
            x.bitoff.next = s.bitoff.to_bits();
        },
        |s, x, _| {
            let want = if s.reads.front() == Some(&1) {
                INFO_LEN
            } else {
                STATUS_LEN
            };
            if (x.rom_status.val() || x.rom_info.val())
                && x.rom_off.val().index() as u64 == s.bitoff
            {
                s.bytes.push(x.rom_byte.val().index() as u8);
                s.bitoff += 8;
                if s.bytes.len() == want {
                    s.answers.push(std::mem::take(&mut s.bytes));
                    s.bitoff = 0;
                    s.reads.pop_front();
                    if s.answers.len() == 2 {
                        // Clear, then read Status again.
                        s.events.push_back(8);
                    }
                }
            }
            !s.reads.is_empty()
        },
    )
    .answers;
    use common::protocol::flag;
    let status = Status {
        busy: true,
        flags: flag::CRC | flag::TIMEOUT | flag::BAD | flag::OVERRUN | flag::FRAMING,
        job_cycles: CYCLES as u32,
        jobs: 3,
        frames: 300,
        crc_errors: 2,
        timeouts: 1,
        bad_frames: 1,
        overruns: 1,
        framing_errors: 2,
    };
    let cleared = Status {
        busy: true,
        ..Default::default()
    };
    assert_eq!(
        got,
        vec![status.encode(), Info::new(cfg).encode(), cleared.encode()]
    );
}

/// A received frame (or, with `crc`, a CRC error) for the dispatcher.
#[derive(Clone, Debug)]
struct RxFrame {
    cmd: Option<Command>,
    seq: u8,
    crc: bool,
    /// Sent while a job runs (else only once its answer is out).
    busy_ok: bool,
}

#[derive(Clone, Default)]
struct DispBench {
    frames: VecDeque<RxFrame>,
    /// The frame being presented: cycles since it was put on the fields.
    cur: Option<(RxFrame, u32)>,
    /// The receiver holds a frame (or an answer is due).
    held: bool,
    /// The answer sender: cycles left of the answer being sent.
    tx_left: u32,
    /// Answers asked for: type, length, NAK reason, seq.
    answers: Vec<(u8, u16, u8, u8)>,
    /// The engine: the cycle the job ends, starts, core resets, bus writes (address, word).
    job_end: Option<u64>,
    starts: usize,
    resets: usize,
    writes: Vec<(u64, u64)>,
    /// The word RAM's read (one cycle latency).
    word: u64,
}

fn rx_fields(x: &mut Dispatcher, f: &RxFrame) {
    let (k, p) = match &f.cmd {
        Some(c) => (c.kind(), c.payload()),
        None => (0x42, vec![]),
    };
    let mut arg = [0u8; 8];
    arg[..p.len().min(6)].copy_from_slice(&p[..p.len().min(6)]);
    x.rx_kind.next = (k as u64).to_bits();
    x.rx_seq.next = (f.seq as u64).to_bits();
    x.rx_len.next = (p.len() as u64).to_bits();
    x.rx_arg.next = u64::from_le_bytes(arg).to_bits();
}

/// The dispatcher's answers and engine commands: writes, a job and its cached answer (a
/// Write drops it), busy NAKs and the retry of the running job, reads, bad frames, Reset.
#[test]
fn dispatcher_answers_and_drives_the_engine() {
    let desc = Command::Write {
        addr: Region::Desc.addr(0),
        words: vec![11, 22],
    };
    let f = |cmd: Command, seq: u8| RxFrame {
        cmd: Some(cmd),
        seq,
        crc: false,
        busy_ok: false,
    };
    let busy = |cmd: Command, seq: u8| RxFrame {
        busy_ok: true,
        ..f(cmd, seq)
    };
    let frames = vec![
        f(desc.clone(), 1),
        f(Command::Run, 5),
        f(Command::Run, 5),
        f(desc.clone(), 2),
        f(Command::Run, 5),
        f(Command::Status, 3),
        f(Command::Read { addr: 0, n: 3 }, 4),
        f(Command::Read { addr: 0, n: 0 }, 6),
        RxFrame {
            cmd: None,
            ..f(Command::Info, 7)
        },
        f(Command::Run, 8),
        busy(desc.clone(), 9),
        busy(Command::Run, 10),
        busy(Command::Run, 8),
        f(Command::Info, 11),
        f(Command::Reset, 12),
        RxFrame {
            cmd: None,
            crc: true,
            ..f(Command::Info, 13)
        },
    ];
    for lean in [false, true] {
        let st = DispBench {
            frames: frames.clone().into(),
            ..Default::default()
        };
        let s = bench(
            Dispatcher::new(lean),
            |x| &mut x.clock,
            20_000,
            st,
            |s, x, n| {
                x.reset.next = n < 2;
                x.rx_frame.next = false;
                x.rx_crc_err.next = false;
                x.rx_len_err.next = false;
                x.rx_timeout.next = false;
                x.tx_fetch.next = false;
                x.tx_fetched.next = false;
                x.tx_finished.next = s.tx_left == 1;
                x.done.next = s.job_end == Some(n);
                x.rx_idle.next = !s.held && s.cur.is_none();
                x.rx_word.next = s.word.to_bits();
                if n < 4 {
                    return;
                }
                let next_ok = s
                    .frames
                    .front()
                    .is_some_and(|fr| fr.busy_ok || !x.busy.val());
                if s.cur.is_none() && !s.held && s.tx_left == 0 && !x.hold.val() && next_ok {
                    s.cur = s.frames.pop_front().map(|fr| (fr, 0));
                }
                if let Some((fr, age)) = &mut s.cur {
                    rx_fields(x, fr);
                    // Fields one cycle before the frame's end, as the receiver's are.
                    if *age == 1 {
                        x.rx_frame.next = !fr.crc;
                        x.rx_crc_err.next = fr.crc;
                    }
                    *age += 1;
                }
            },
            |s, x, n| {
                if s.tx_left > 0 {
                    s.tx_left -= 1;
                }
                if s.cur.as_ref().is_some_and(|c| c.1 == 2) {
                    s.cur = None;
                    s.held = true;
                }
                if x.hold.val() && x.rx_idle.val() {
                    s.held = true;
                }
                // The sender reads the answer's seq while it sends the header.
                if s.tx_left == 5 {
                    s.answers.last_mut().unwrap().3 = x.ans_seq.val().to_u64() as u8;
                }
                if x.go.val() {
                    let v = |b: u64| b as u8;
                    s.answers.push((
                        v(x.go_kind.val().to_u64()),
                        x.go_len.val().to_u64() as u16,
                        v(x.go_nak.val().to_u64()),
                        0,
                    ));
                    s.tx_left = 6;
                }
                if x.resume.val() {
                    s.held = false;
                }
                if x.start.val() {
                    s.starts += 1;
                    s.job_end = Some(n + 30);
                }
                if x.done.val() {
                    s.job_end = None;
                }
                if x.core_reset.val() && n > 4 {
                    s.resets += 1;
                }
                if x.bus_write.val() {
                    s.writes
                        .push((x.bus_addr.val().to_u64(), x.bus_wdata.val().to_u64()));
                }
                s.word = [11, 22][x.widx.val().index() % 2];
                !(s.frames.is_empty() && s.cur.is_none() && !s.held && s.tx_left == 0)
            },
        );
        let ans = |k: u8, len: u16, seq: u8| (k | ANSWER, len, NakReason::Length as u8, seq);
        let nak = |why: NakReason, seq: u8| (NAK, 1, why as u8, seq);
        let run = |seq: u8| ans(kind::RUN, 4, seq);
        let want = vec![
            ans(kind::WRITE, 0, 1),
            run(5),
            run(5),
            ans(kind::WRITE, 0, 2),
            run(5),
            ans(kind::STATUS, STATUS_LEN as u16, 3),
            ans(kind::READ, 24, 4),
            nak(NakReason::Length, 6),
            nak(NakReason::Unknown, 7),
            nak(NakReason::Busy, 9),
            nak(NakReason::Busy, 10),
            run(8),
            ans(kind::INFO, 50, 11),
            ans(kind::RESET, 0, 12),
            nak(NakReason::Crc, 13),
        ];
        assert_eq!(s.answers, want, "lean {lean}");
        assert_eq!(
            s.starts, 3,
            "lean {lean}: Run 5, Run 5 after a Write, Run 8"
        );
        assert_eq!(s.resets, 1, "lean {lean}");
        let a = Region::Desc.addr(0) as u64;
        let w = vec![(a, 11), (a + 1, 22)];
        assert_eq!(s.writes, [w.clone(), w].concat(), "lean {lean}");
    }
}
