//! Each link block alone in rust-hdl's simulator, against `common::protocol`: the CRC
//! register against `crc16_step`, the frame receiver against its `Decoder`, the answer
//! sender's bytes through that `Decoder` (the receiver and the sender each with the CRC
//! register the link shares between them; the status counters and the dispatcher:
//! `unit_ctl.rs`).

use std::collections::VecDeque;
use std::panic::RefUnwindSafe;
use std::sync::{Arc, Mutex};

use common::DeviceConfig;
use common::bus::Region;
use common::protocol::{
    ANSWER, Command, Decoder, Frame, FrameError, Info, MAX_PAYLOAD, NAK, NakReason, crc16_step,
    kind,
};
use rust_hdl::prelude::*;

use super::{AnswerTx, FrameCrc, FrameRx};

/// Clock `uut` until `sample` returns false (or `max` cycles): each cycle `drive` sets the
/// inputs, `sample` reads the outputs once they settle (what the clock edge then samples).
pub(super) fn bench<T, S>(
    mut uut: T,
    clock: fn(&mut T) -> &mut Signal<In, Clock>,
    max: u64,
    state: S,
    drive: fn(&mut S, &mut T, u64),
    sample: fn(&mut S, &T, u64) -> bool,
) -> S
where
    T: Block + Send + 'static,
    S: Clone + Send + RefUnwindSafe + 'static,
{
    uut.connect_all();
    let out = Arc::new(Mutex::new(None));
    let res = out.clone();
    let mut sim = Simulation::new();
    sim.add_testbench(move |mut sim: Sim<T>| {
        let mut x = sim.init()?;
        let mut s = state.clone();
        for n in 0..max {
            drive(&mut s, &mut x, n);
            x = sim.wait(2, x)?;
            if !sample(&mut s, &x, n) {
                break;
            }
            clock(&mut x).next = true.into();
            x = sim.wait(5, x)?;
            clock(&mut x).next = false.into();
            x = sim.wait(3, x)?;
        }
        *res.lock().unwrap() = Some(s);
        sim.done(x)
    });
    sim.run(Box::new(uut), 1 << 40).unwrap();
    let s = out.lock().unwrap().take();
    s.expect("the bench did not finish")
}

/// The receiver with its CRC register, wired as in `SqzLink`.
#[derive(LogicBlock)]
struct RxWithCrc {
    clock: Signal<In, Clock>,
    rx: FrameRx,
    frame_crc: FrameCrc,
}

impl RxWithCrc {
    fn new(timeout_cycles: u64) -> Self {
        let mut rx = FrameRx::new(timeout_cycles);
        // The bench drives the receiver's other inputs.
        rx.reset.connect();
        rx.in_data.connect();
        rx.in_valid.connect();
        rx.in_unstoppable.connect();
        rx.hold.connect();
        rx.resume.connect();
        rx.widx_r.connect();
        RxWithCrc {
            clock: Default::default(),
            rx,
            frame_crc: Default::default(),
        }
    }
}

impl Logic for RxWithCrc {
    #[hdl_gen]
    fn update(&mut self) {
        self.rx.clock.next = self.clock.val();
        self.frame_crc.clock.next = self.clock.val();
        self.frame_crc.init.next = self.rx.crc_init.val();
        self.frame_crc.add.next = self.rx.crc_add.val();
        self.frame_crc.data.next = self.rx.in_data.val();
        self.rx.crc.next = self.frame_crc.crc.val();
    }
}

/// The answer sender with its CRC register, wired as in `SqzLink`.
#[derive(LogicBlock)]
struct TxWithCrc {
    clock: Signal<In, Clock>,
    tx: AnswerTx,
    frame_crc: FrameCrc,
}

impl TxWithCrc {
    fn new(lean: bool) -> Self {
        let mut tx = AnswerTx::new(lean);
        // The bench drives the sender's other inputs.
        tx.reset.connect();
        tx.go.connect();
        tx.go_kind.connect();
        tx.go_len.connect();
        tx.go_nak.connect();
        tx.seq.connect();
        tx.out_ready.connect();
        tx.job_cycles.connect();
        tx.rdata.connect();
        tx.rvalid.connect();
        tx.rom_byte.connect();
        tx.rom_off.connect();
        TxWithCrc {
            clock: Default::default(),
            tx,
            frame_crc: Default::default(),
        }
    }
}

impl Logic for TxWithCrc {
    #[hdl_gen]
    fn update(&mut self) {
        self.tx.clock.next = self.clock.val();
        self.frame_crc.clock.next = self.clock.val();
        self.frame_crc.init.next = self.tx.crc_init.val();
        self.frame_crc.add.next = self.tx.crc_add.val();
        self.frame_crc.data.next = self.tx.crc_data.val();
        self.tx.crc.next = self.frame_crc.crc.val();
    }
}

#[derive(Clone, Default)]
struct CrcBench {
    /// Per cycle: init, add, byte.
    input: VecDeque<(bool, bool, u8)>,
    /// The model's value, and the values seen.
    want: u16,
    got: Vec<(u16, u16)>,
}

/// The CRC register against `crc16_step`: starts, adds only when asked, and a start wins
/// over an add in the same cycle.
#[test]
fn frame_crc_steps_like_the_protocol() {
    let mut input = VecDeque::new();
    for (i, b) in (0..40u8).map(|i| (i, i.wrapping_mul(97) ^ 0x5A)) {
        input.push_back((i % 13 == 0, i % 3 != 1, b));
    }
    let st = CrcBench {
        input,
        ..Default::default()
    };
    let got = bench(
        FrameCrc::default(),
        |x| &mut x.clock,
        100,
        st,
        |s, x, _| {
            let (init, add, b) = s.input.front().copied().unwrap_or_default();
            x.init.next = init;
            x.add.next = add;
            x.data.next = (b as u64).to_bits();
        },
        |s, x, n| {
            let Some((init, add, b)) = s.input.pop_front() else {
                return false;
            };
            // Before the first start the register's value is undefined.
            if n > 0 {
                s.got.push((x.crc.val().index() as u16, s.want));
            }
            if init {
                s.want = 0xFFFF;
            } else if add {
                s.want = crc16_step(s.want, b);
            }
            true
        },
    )
    .got;
    assert_eq!(got.len(), 39);
    for (i, (g, w)) in got.iter().enumerate() {
        assert_eq!(g, w, "cycle {}", i + 1);
    }
}

/// What the receiver reported: a frame (type, seq, payload length, first 6 payload bytes,
/// a Write's words), or an error.
#[derive(Clone, Debug, PartialEq)]
enum Got {
    Frame(u8, u8, usize, u64, Vec<u64>),
    Crc(u8),
    Length(u8),
    Timeout,
}

#[derive(Clone, Default)]
struct RxBench {
    /// Bytes to send, `None` an idle cycle.
    input: VecDeque<Option<u8>>,
    got: Vec<Got>,
    /// Reading a held frame's words: the next index to ask for, the words so far.
    reading: Option<(usize, Vec<u64>)>,
}

#[test]
fn frame_rx_decodes_like_the_protocol_decoder() {
    let timeout = 50;
    let write = Command::Write {
        addr: Region::A.addr(3),
        words: vec![0x0123_4567_89AB_CDEF, 7, u64::MAX],
    };
    let mut corrupt = Command::Status.frame(4).encode();
    corrupt[7] ^= 0x20;
    let mut oversize = vec![0xA5, 0x5A, kind::WRITE, 5];
    oversize.extend(((MAX_PAYLOAD + 1) as u16).to_le_bytes());
    let streams: Vec<Vec<Option<u8>>> = vec![
        write.frame(1).encode().into_iter().map(Some).collect(),
        Command::Read { addr: 9, n: 3 }
            .frame(2)
            .encode()
            .into_iter()
            .map(Some)
            .collect(),
        corrupt.into_iter().map(Some).collect(),
        [0x11, 0xA5, 0xA5]
            .into_iter()
            .chain(Command::Info.frame(3).encode())
            .map(Some)
            .collect(),
        oversize.into_iter().map(Some).collect(),
        write.frame(6).encode()[..9]
            .iter()
            .map(|&b| Some(b))
            .chain(std::iter::repeat_n(None, timeout + 5))
            .collect(),
        Frame::new(0x42, 7, vec![1, 2])
            .encode()
            .into_iter()
            .map(Some)
            .collect(),
    ];
    // The model's verdicts.
    let mut want = Vec::new();
    let mut d = Decoder::new();
    for s in &streams {
        for b in s.iter().flatten() {
            match d.push(*b) {
                Some(Ok(f)) => {
                    let mut arg = [0u8; 8];
                    let n = f.payload.len().min(6);
                    arg[..n].copy_from_slice(&f.payload[..n]);
                    let words = if f.kind == kind::WRITE {
                        f.payload[4..]
                            .chunks(8)
                            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                            .collect()
                    } else {
                        vec![]
                    };
                    let len = f.payload.len();
                    let arg = if len >= 6 { u64::from_le_bytes(arg) } else { 0 };
                    want.push(Got::Frame(f.kind, f.seq, len, arg, words));
                }
                Some(Err(FrameError::Crc { seq, .. })) => want.push(Got::Crc(seq)),
                Some(Err(FrameError::Length { seq, .. })) => want.push(Got::Length(seq)),
                None => {}
            }
        }
        if s.last() == Some(&None) && d.timeout() {
            want.push(Got::Timeout);
        }
    }
    let st = RxBench {
        input: streams.concat().into(),
        ..Default::default()
    };
    let got = bench(
        RxWithCrc::new(timeout as u64),
        |x| &mut x.clock,
        20_000,
        st,
        |s, x, n| {
            x.rx.reset.next = n < 2;
            x.rx.in_unstoppable.next = false;
            x.rx.hold.next = false;
            x.rx.resume.next = x.rx.held.val() && s.reading.is_none();
            x.rx.in_valid.next = matches!(s.input.front(), Some(Some(_)));
            x.rx.in_data.next = s.input.front().copied().flatten().unwrap_or(0).to_bits();
            if let Some((i, _)) = &s.reading {
                x.rx.widx_r.next = (*i as u64).to_bits();
            }
        },
        |s, x, n| {
            if n < 2 {
                return true;
            }
            if x.rx.in_ready.val() || matches!(s.input.front(), Some(None)) {
                s.input.pop_front();
            }
            if x.rx.frame.val() {
                let k = x.rx.kind.val().index() as u8;
                s.reading = Some((0, vec![]));
                if k != kind::WRITE {
                    s.reading = Some((usize::MAX, vec![]));
                }
            }
            if x.rx.crc_err.val() {
                s.got.push(Got::Crc(x.rx.seq.val().index() as u8));
            }
            if x.rx.len_err.val() {
                s.got.push(Got::Length(x.rx.seq.val().index() as u8));
            }
            if x.rx.timeout.val() {
                s.got.push(Got::Timeout);
            }
            if let Some((i, words)) = &mut s.reading {
                let n_words = (x.rx.len.val().index().saturating_sub(4)) / 8;
                // The word asked for last cycle is out now.
                if *i != usize::MAX && *i > 0 && *i <= n_words {
                    words.push(x.rx.word.val().to_u64());
                }
                if *i == usize::MAX || *i >= n_words {
                    let (k, q) = (x.rx.kind.val().index() as u8, x.rx.seq.val().index() as u8);
                    let len = x.rx.len.val().index();
                    // Only a Read's or a Write's payload is long enough to fill it.
                    let arg = if len >= 6 { x.rx.arg.val().to_u64() } else { 0 };
                    s.got.push(Got::Frame(k, q, len, arg, words.clone()));
                    s.reading = None;
                } else {
                    *i += 1;
                }
            }
            !(s.input.is_empty() && s.reading.is_none() && !x.rx.held.val())
        },
    )
    .got;
    assert_eq!(got, want);
}

#[derive(Clone, Default)]
struct TxBench {
    /// Answers to send: type, length, NAK reason, seq.
    todo: VecDeque<(u8, u16, u8, u8)>,
    busy: bool,
    lean: bool,
    out: Vec<u8>,
    /// The engine's read answers: (due cycle, word); the word it holds (lean).
    reads: VecDeque<(u64, u64)>,
    held: u64,
    next_word: u64,
    /// The status counters' reads: bit offsets asked for, newest last.
    asked: Vec<u64>,
}

const TX_CYCLES: u32 = 0x1234_5678;

fn tx_word(i: u64) -> u64 {
    (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn tx_session(lean: bool) {
    let cfg = DeviceConfig::small();
    let info = Info::new(cfg.clone()).encode();
    let answers = vec![
        (NAK, 1, NakReason::Busy as u8, 9),
        (kind::RUN | ANSWER, 4, 0, 10),
        (kind::READ | ANSWER, 24, 0, 11),
        (kind::INFO | ANSWER, info.len() as u16, 0, 12),
        (kind::WRITE | ANSWER, 0, 0, 13),
        (kind::READ | ANSWER, 16, 0, 14),
    ];
    let st = TxBench {
        todo: answers.clone().into(),
        lean,
        ..Default::default()
    };
    let out = bench(
        TxWithCrc::new(lean),
        |x| &mut x.clock,
        20_000,
        st,
        |s, x, n| {
            x.tx.reset.next = n < 2;
            x.tx.go.next = false;
            if n >= 2
                && !s.busy
                && let Some(&(k, len, nak, seq)) = s.todo.front()
            {
                x.tx.go.next = true;
                x.tx.go_kind.next = (k as u64).to_bits();
                x.tx.go_len.next = (len as u64).to_bits();
                x.tx.go_nak.next = (nak as u64).to_bits();
                x.tx.seq.next = (seq as u64).to_bits();
            }
            x.tx.out_ready.next = !n.is_multiple_of(3);
            x.tx.job_cycles.next = (TX_CYCLES as u64).to_bits();
            x.tx.rvalid.next = false;
            x.tx.rdata.next = if s.lean { s.held } else { n.wrapping_mul(77) }.to_bits();
            if let Some(&(due, w)) = s.reads.front()
                && due == n
            {
                s.reads.pop_front();
                s.held = w;
                x.tx.rvalid.next = true;
                x.tx.rdata.next = w.to_bits();
            }
            // The status counters answer a read of `bitoff` two cycles later.
            let info = Info::new(DeviceConfig::small()).encode();
            x.tx.rom_off.next = 0x1FFu64.to_bits();
            if s.asked.len() >= 2 {
                let off = s.asked[s.asked.len() - 2];
                x.tx.rom_off.next = off.to_bits();
                x.tx.rom_byte.next = (*info.get(off as usize / 8).unwrap_or(&0) as u64).to_bits();
            }
        },
        |s, x, n| {
            if x.tx.go.val() {
                s.busy = true;
                s.todo.pop_front();
            }
            if x.tx.out_valid.val() && x.tx.out_ready.val() {
                s.out.push(x.tx.out_data.val().index() as u8);
            }
            if x.tx.fetch.val() {
                s.reads.push_back((n + 3, tx_word(s.next_word)));
                s.next_word += 1;
            }
            s.asked.push(x.tx.bitoff.val().index() as u64);
            if x.tx.finished.val() {
                s.busy = false;
            }
            s.busy || !s.todo.is_empty()
        },
    )
    .out;
    let mut d = Decoder::new();
    let frames: Vec<Frame> = out
        .iter()
        .filter_map(|&b| d.push(b))
        .map(|r| r.unwrap())
        .collect();
    let le = |ws: std::ops::Range<u64>| ws.flat_map(|i| tx_word(i).to_le_bytes()).collect();
    let want = vec![
        Frame::new(NAK, 9, vec![NakReason::Busy as u8]),
        Frame::new(kind::RUN | ANSWER, 10, TX_CYCLES.to_le_bytes().to_vec()),
        Frame::new(kind::READ | ANSWER, 11, le(0..3)),
        Frame::new(kind::INFO | ANSWER, 12, info),
        Frame::new(kind::WRITE | ANSWER, 13, vec![]),
        Frame::new(kind::READ | ANSWER, 14, le(3..5)),
    ];
    assert_eq!(frames, want, "lean {lean}");
}

/// The answer sender's frames, decoded by `common::protocol::Decoder`, with back-pressure;
/// with a registered Read word and (lean) with the engine's held one.
#[test]
fn answer_tx_frames_decode() {
    tx_session(false);
    tx_session(true);
}
