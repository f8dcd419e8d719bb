//! The wire protocol between the host and the device (UART, byte-stream port or XDMA
//! streams): one definition used by the RTL tests (`hdl`), the host client (`host`) and
//! the simulated board (`sim`).
//!
//! Frame (both directions), multi-byte fields little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 2 | sync `A5 5A` |
//! | 1 | type (command, `command | 0x80` for its answer, `0xFF` NAK) |
//! | 1 | sequence number (an answer carries the command's) |
//! | 2 | payload length in bytes, at most [`MAX_PAYLOAD`] |
//! | n | payload |
//! | 2 | CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over type, seq, length and payload |
//!
//! The device answers every complete frame: with the command's answer, or a NAK (CRC error,
//! unknown type, bad length). A truncated frame is dropped after an inactivity timeout and
//! not answered; the host times out and retries. Retries reuse the sequence number, and a
//! repeated `Run` with the last sequence number is answered from a cache without running
//! the job again. Writes, reads, info and status are naturally idempotent.
//!
//! The `Run` cache only ever answers a retry: any command that changes the device's state
//! drops it (`Write`: the next job's data; `Reset`), and a host starts every session with
//! `Info` then `Reset` (`host::link::Client::connect`), so a new session's first `Run` is
//! never answered with an earlier session's job, whatever its sequence number. (Until this
//! was so, a `Write` kept the cache, and a new host process, starting from a pseudo-random
//! sequence number without a `Reset`, got a stale answer for its first `Run` about once in
//! 256 sessions.) The frame format did not change: `VERSION` stays 1.

use crate::bus::{ADDR_BITS, Region};
use crate::config::{DeviceConfig, LANES};
use crate::device::Device;

/// Protocol version reported by `Info`; the host refuses a device with another one.
pub const VERSION: u16 = 1;
/// Frame start marker.
pub const SYNC: [u8; 2] = [0xA5, 0x5A];
/// Bytes before the payload: sync, type, seq, length.
pub const HEADER_LEN: usize = 6;
/// Bytes of framing per frame (header + CRC).
pub const OVERHEAD: usize = HEADER_LEN + 2;
/// Most 64-bit words in one `Write` or `Read`, so device buffering stays one block RAM.
pub const MAX_WORDS: usize = 256;
/// Largest payload of any frame (a full `Write`: address + words).
pub const MAX_PAYLOAD: usize = 4 + MAX_WORDS * 8;
/// Type of a NAK frame (payload: the [`NakReason`]).
pub const NAK: u8 = 0xFF;
/// Answer type bit.
pub const ANSWER: u8 = 0x80;

/// Inactivity timeout for a partly received frame, in device clock cycles: 1 ms, and at
/// least 64 bit times at the UART rate. One definition for the RTL receiver and the model.
///
/// The rule both follow: a byte taken in the middle of a frame restarts the count; after
/// `t` cycles with no byte taken the frame is dropped at the next cycle, so a byte that
/// comes `t` idle cycles after the previous one is swallowed by the drop, and one that
/// comes after `t + 1` or more starts a new hunt ([`Server::push_after`]).
pub fn frame_timeout_cycles(cfg: &DeviceConfig) -> u64 {
    let ms = cfg.clock_hz as u64 / 1000;
    let bits = 64 * (cfg.clock_hz as u64).div_ceil(cfg.baud as u64);
    ms.max(bits).min((1 << 24) - 1)
}

/// The frame CRC.
pub const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// One CRC-16/CCITT-FALSE byte step, exactly as the RTL computes it (checked against [`CRC16`]).
pub fn crc16_step(crc: u16, byte: u8) -> u16 {
    let mut x = (crc >> 8) as u8 ^ byte;
    x ^= x >> 4;
    let x = x as u16;
    (crc << 8) ^ (x << 12) ^ (x << 5) ^ x
}

/// Command types.
pub mod kind {
    pub const INFO: u8 = 0x01;
    pub const RESET: u8 = 0x02;
    pub const WRITE: u8 = 0x03;
    pub const READ: u8 = 0x04;
    pub const RUN: u8 = 0x05;
    pub const STATUS: u8 = 0x06;
}

/// Why the device rejected a frame (NAK payload byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NakReason {
    /// The CRC did not match (the seq in the NAK is the one received, maybe corrupt).
    Crc = 1,
    /// Unknown frame type.
    Unknown = 2,
    /// Payload length wrong for the type (or over [`MAX_PAYLOAD`]).
    Length = 3,
    /// The job in descriptor memory is invalid (functional model only: the RTL runs it).
    Job = 4,
    /// A job is running: only info, status, reset and a repeat of its `Run` are served.
    Busy = 5,
}

impl NakReason {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => NakReason::Crc,
            2 => NakReason::Unknown,
            3 => NakReason::Length,
            4 => NakReason::Job,
            5 => NakReason::Busy,
            _ => return None,
        })
    }
}

/// A raw frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub seq: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn new(kind: u8, seq: u8, payload: Vec<u8>) -> Self {
        debug_assert!(payload.len() <= MAX_PAYLOAD);
        Frame { kind, seq, payload }
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.payload.len() as u16;
        let mut out = Vec::with_capacity(OVERHEAD + self.payload.len());
        out.extend_from_slice(&SYNC);
        out.push(self.kind);
        out.push(self.seq);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&self.payload);
        let crc = CRC16.checksum(&out[2..]);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }
}

/// What the frame decoder reports besides good frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame CRC mismatch (type {kind:#04x}, seq {seq})")]
    Crc { kind: u8, seq: u8 },
    #[error("frame length {len} over the maximum {MAX_PAYLOAD}")]
    Length { kind: u8, seq: u8, len: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecState {
    Sync0,
    Sync1,
    Kind,
    Seq,
    Len0,
    Len1,
    Payload,
    Crc0,
    Crc1,
}

/// Byte-at-a-time frame decoder: the same state machine as the RTL frame decoder.
/// Garbage between frames is skipped; after an error it hunts for the next sync.
#[derive(Clone, Debug)]
pub struct Decoder {
    state: DecState,
    kind: u8,
    seq: u8,
    len: usize,
    crc: u16,
    rx_crc: u16,
    payload: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            state: DecState::Sync0,
            kind: 0,
            seq: 0,
            len: 0,
            crc: 0xFFFF,
            rx_crc: 0,
            payload: Vec::new(),
        }
    }
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// True while a frame is partly received (an inactivity timeout then drops it).
    pub fn in_frame(&self) -> bool {
        !matches!(self.state, DecState::Sync0 | DecState::Sync1)
    }

    /// Drop a partly received frame (inactivity timeout). Returns whether one was dropped.
    /// A lone first sync byte is not a frame yet: it stays, as in the RTL receiver.
    pub fn timeout(&mut self) -> bool {
        let was = self.in_frame();
        if was {
            self.state = DecState::Sync0;
        }
        was
    }

    /// Feed one byte; returns a complete frame or a rejected one.
    pub fn push(&mut self, b: u8) -> Option<Result<Frame, FrameError>> {
        use DecState::*;
        if !matches!(self.state, Sync0 | Sync1 | Crc0 | Crc1) {
            self.crc = crc16_step(self.crc, b);
        }
        match self.state {
            Sync0 => {
                if b == SYNC[0] {
                    self.state = Sync1;
                }
            }
            Sync1 => {
                self.state = if b == SYNC[1] {
                    self.crc = 0xFFFF;
                    Kind
                } else if b == SYNC[0] {
                    Sync1
                } else {
                    Sync0
                };
            }
            Kind => {
                self.kind = b;
                self.state = Seq;
            }
            Seq => {
                self.seq = b;
                self.state = Len0;
            }
            Len0 => {
                self.len = b as usize;
                self.state = Len1;
            }
            Len1 => {
                self.len |= (b as usize) << 8;
                self.payload.clear();
                if self.len > MAX_PAYLOAD {
                    self.state = Sync0;
                    return Some(Err(FrameError::Length {
                        kind: self.kind,
                        seq: self.seq,
                        len: self.len,
                    }));
                }
                self.state = if self.len == 0 { Crc0 } else { Payload };
            }
            Payload => {
                self.payload.push(b);
                if self.payload.len() == self.len {
                    self.state = Crc0;
                }
            }
            Crc0 => {
                self.rx_crc = b as u16;
                self.state = Crc1;
            }
            Crc1 => {
                self.rx_crc |= (b as u16) << 8;
                self.state = Sync0;
                if self.rx_crc != self.crc {
                    return Some(Err(FrameError::Crc {
                        kind: self.kind,
                        seq: self.seq,
                    }));
                }
                return Some(Ok(Frame {
                    kind: self.kind,
                    seq: self.seq,
                    payload: std::mem::take(&mut self.payload),
                }));
            }
        }
        None
    }
}

/// A host command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Info,
    /// Reset the engine's FSMs and the link's counters (memories are kept).
    Reset,
    /// Write `words` from bus address `addr` on (one word per address).
    Write {
        addr: u32,
        words: Vec<u64>,
    },
    /// Read `n` words from bus address `addr` on.
    Read {
        addr: u32,
        n: u16,
    },
    /// Run the job in descriptor memory; answered when it is done.
    Run,
    Status,
}

fn get_u16(p: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([p[at], p[at + 1]])
}
fn get_u32(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(p[at..at + 4].try_into().unwrap())
}
fn get_u64(p: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(p[at..at + 8].try_into().unwrap())
}

fn words_from(p: &[u8]) -> Vec<u64> {
    p.chunks_exact(8).map(|c| get_u64(c, 0)).collect()
}

impl Command {
    pub fn kind(&self) -> u8 {
        match self {
            Command::Info => kind::INFO,
            Command::Reset => kind::RESET,
            Command::Write { .. } => kind::WRITE,
            Command::Read { .. } => kind::READ,
            Command::Run => kind::RUN,
            Command::Status => kind::STATUS,
        }
    }

    pub fn payload(&self) -> Vec<u8> {
        match self {
            Command::Write { addr, words } => {
                let mut p = addr.to_le_bytes().to_vec();
                for w in words {
                    p.extend_from_slice(&w.to_le_bytes());
                }
                p
            }
            Command::Read { addr, n } => {
                let mut p = addr.to_le_bytes().to_vec();
                p.extend_from_slice(&n.to_le_bytes());
                p
            }
            _ => Vec::new(),
        }
    }

    pub fn frame(&self, seq: u8) -> Frame {
        Frame::new(self.kind(), seq, self.payload())
    }

    /// Parse a received frame the way the device does.
    pub fn parse(f: &Frame) -> Result<Command, NakReason> {
        let p = &f.payload;
        let empty = |c: Command| {
            if p.is_empty() {
                Ok(c)
            } else {
                Err(NakReason::Length)
            }
        };
        match f.kind {
            kind::INFO => empty(Command::Info),
            kind::RESET => empty(Command::Reset),
            kind::RUN => empty(Command::Run),
            kind::STATUS => empty(Command::Status),
            kind::WRITE => {
                let n = p.len().wrapping_sub(4);
                if p.len() < 12 || !n.is_multiple_of(8) || n / 8 > MAX_WORDS {
                    return Err(NakReason::Length);
                }
                Ok(Command::Write {
                    addr: get_u32(p, 0) & ((1 << ADDR_BITS) - 1),
                    words: words_from(&p[4..]),
                })
            }
            kind::READ => {
                if p.len() != 6 {
                    return Err(NakReason::Length);
                }
                let n = get_u16(p, 4);
                if n == 0 || n as usize > MAX_WORDS {
                    return Err(NakReason::Length);
                }
                Ok(Command::Read {
                    addr: get_u32(p, 0) & ((1 << ADDR_BITS) - 1),
                    n,
                })
            }
            _ => Err(NakReason::Unknown),
        }
    }
}

/// The device's description of itself (answer to `Info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub version: u16,
    pub config: DeviceConfig,
    /// Most words per `Write`/`Read` the device accepts.
    pub max_words: u16,
}

/// Bytes of the `Info` answer's payload.
pub const INFO_LEN: usize = 50;
/// Bytes of the configuration name field in `Info`.
pub const NAME_LEN: usize = 16;

impl Info {
    pub fn new(config: DeviceConfig) -> Self {
        Info {
            version: VERSION,
            config,
            max_words: MAX_WORDS as u16,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let c = &self.config;
        let mut p = Vec::with_capacity(INFO_LEN);
        p.extend_from_slice(&self.version.to_le_bytes());
        p.extend_from_slice(&(c.rows as u16).to_le_bytes());
        p.push(LANES as u8);
        p.push(c.requant_units as u8);
        p.push(c.max_steps as u8);
        p.push(c.pipeline.code());
        for v in [c.act_words, c.sq_words, c.weight_words, c.param_words] {
            p.extend_from_slice(&(v as u32).to_le_bytes());
        }
        p.extend_from_slice(&c.clock_hz.to_le_bytes());
        p.extend_from_slice(&c.baud.to_le_bytes());
        p.extend_from_slice(&self.max_words.to_le_bytes());
        let mut name = [0u8; NAME_LEN];
        let n = c.name.len().min(NAME_LEN);
        name[..n].copy_from_slice(&c.name.as_bytes()[..n]);
        p.extend_from_slice(&name);
        debug_assert_eq!(p.len(), INFO_LEN);
        p
    }

    /// Decode; only the version is read when the length is wrong, so a version mismatch
    /// is reported as such even if the layout changed.
    pub fn decode(p: &[u8]) -> Result<Info, String> {
        if p.len() < 2 {
            return Err(format!("info answer of {} bytes", p.len()));
        }
        let version = get_u16(p, 0);
        if version != VERSION || p.len() != INFO_LEN {
            return Ok(Info {
                version,
                config: DeviceConfig::small(),
                max_words: 0,
            });
        }
        if p[4] as usize != LANES {
            return Err(format!("device has {} lanes, host expects {LANES}", p[4]));
        }
        let pipeline = crate::config::Pipeline::from_code(p[7])
            .ok_or_else(|| format!("device reports an unknown pipeline kind {}", p[7]))?;
        let name_bytes = &p[34..34 + NAME_LEN];
        let end = name_bytes.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        let name = String::from_utf8_lossy(&name_bytes[..end]).into_owned();
        Ok(Info {
            version,
            config: DeviceConfig {
                name,
                rows: get_u16(p, 2) as usize,
                requant_units: p[5] as usize,
                max_steps: p[6] as usize,
                act_words: get_u32(p, 8) as usize,
                sq_words: get_u32(p, 12) as usize,
                weight_words: get_u32(p, 16) as usize,
                param_words: get_u32(p, 20) as usize,
                clock_hz: get_u32(p, 24),
                baud: get_u32(p, 28),
                pipeline,
            },
            max_words: get_u16(p, 32),
        })
    }
}

/// Device status (answer to `Status`). Counters wrap at 32 bits and clear on `Reset`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub busy: bool,
    /// Sticky error flags since reset, bits [`flag`].
    pub flags: u8,
    /// Cycles of the last job.
    pub job_cycles: u32,
    /// Jobs run since reset.
    pub jobs: u32,
    /// Good frames received.
    pub frames: u32,
    pub crc_errors: u32,
    /// Frames dropped part way by the inactivity timeout.
    pub timeouts: u32,
    /// Frames with an unknown type or a bad length.
    pub bad_frames: u32,
    /// Bytes lost because a frame was still being answered (UART only).
    pub overruns: u32,
    /// Bytes dropped by the UART receiver because their stop bit was low (a baud-rate
    /// mismatch or a noisy line; UART only).
    pub framing_errors: u32,
}

/// Bits of [`Status::flags`].
pub mod flag {
    pub const CRC: u8 = 1;
    pub const TIMEOUT: u8 = 2;
    pub const BAD: u8 = 4;
    pub const OVERRUN: u8 = 8;
    pub const JOB: u8 = 16;
    pub const FRAMING: u8 = 32;
}

/// Bytes of the `Status` answer's payload.
pub const STATUS_LEN: usize = 2 + 8 * 4;

impl Status {
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![self.busy as u8, self.flags];
        for v in [
            self.job_cycles,
            self.jobs,
            self.frames,
            self.crc_errors,
            self.timeouts,
            self.bad_frames,
            self.overruns,
            self.framing_errors,
        ] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        p
    }

    pub fn decode(p: &[u8]) -> Option<Status> {
        if p.len() != STATUS_LEN {
            return None;
        }
        let w = |i: usize| get_u32(p, 2 + 4 * i);
        Some(Status {
            busy: p[0] != 0,
            flags: p[1],
            job_cycles: w(0),
            jobs: w(1),
            frames: w(2),
            crc_errors: w(3),
            timeouts: w(4),
            bad_frames: w(5),
            overruns: w(6),
            framing_errors: w(7),
        })
    }
}

/// A decoded device answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Info(Info),
    Reset,
    Write,
    Read(Vec<u64>),
    Run { cycles: u32 },
    Status(Status),
    Nak(Option<NakReason>),
}

impl Response {
    /// Decode an answer frame to `cmd` (the caller has matched the sequence number).
    pub fn parse(f: &Frame, cmd: &Command) -> Result<Response, String> {
        if f.kind == NAK {
            return Ok(Response::Nak(
                f.payload.first().and_then(|&r| NakReason::from_u8(r)),
            ));
        }
        if f.kind != cmd.kind() | ANSWER {
            return Err(format!(
                "answer type {:#04x} to command {:#04x}",
                f.kind,
                cmd.kind()
            ));
        }
        let p = &f.payload;
        let want_empty = |r: Response| {
            if p.is_empty() {
                Ok(r)
            } else {
                Err(format!("unexpected {}-byte payload", p.len()))
            }
        };
        match cmd {
            Command::Info => Info::decode(p).map(Response::Info),
            Command::Reset => want_empty(Response::Reset),
            Command::Write { .. } => want_empty(Response::Write),
            Command::Read { n, .. } => {
                if p.len() != *n as usize * 8 {
                    return Err(format!("read answer of {} bytes for {n} words", p.len()));
                }
                Ok(Response::Read(words_from(p)))
            }
            Command::Run => {
                if p.len() != 4 {
                    return Err(format!("run answer of {} bytes", p.len()));
                }
                Ok(Response::Run {
                    cycles: get_u32(p, 0),
                })
            }
            Command::Status => Status::decode(p)
                .map(Response::Status)
                .ok_or_else(|| format!("status answer of {} bytes", p.len())),
        }
    }
}

fn region_of(addr: u32) -> Option<(Region, usize)> {
    let idx = (addr & ((1 << crate::bus::REGION_SHIFT) - 1)) as usize;
    let r = match addr >> crate::bus::REGION_SHIFT {
        0 => Region::Desc,
        1 => Region::A,
        2 => Region::B,
        3 => Region::S,
        4 => Region::Weights,
        5 => Region::Params,
        _ => return None,
    };
    Some((r, idx))
}

/// The device side of the protocol over the functional [`Device`]: the same frame
/// handling, caching and counters as the RTL dispatcher. Used for fast host tests and
/// by `sim serve --functional`.
#[derive(Clone, Debug)]
pub struct Server {
    pub device: Device,
    decoder: Decoder,
    status: Status,
    /// Sequence number of the last `Run` and its answer, to answer a retry without re-running.
    last_run: Option<(u8, u32)>,
    /// The inactivity timeout of [`Server::push_after`] and [`Server::idle`], in cycles.
    timeout_cycles: u64,
}

impl Server {
    pub fn new(device: Device) -> Self {
        let t = frame_timeout_cycles(&device.cfg);
        Self::with_timeout(device, t)
    }

    /// With the inactivity timeout (cycles) of a link built with another one.
    pub fn with_timeout(device: Device, timeout_cycles: u64) -> Self {
        Server {
            device,
            decoder: Decoder::new(),
            status: Status::default(),
            last_run: None,
            timeout_cycles,
        }
    }

    /// The link's reset input: receiver, counters and `Run` cache start afresh; the
    /// device's memories are kept (block RAMs have no reset).
    pub fn reset(&mut self) {
        self.decoder = Decoder::new();
        self.status = Status::default();
        self.last_run = None;
    }

    /// `cycles` pass with no byte taken (counted from the last byte taken): a partly
    /// received frame is dropped once they exceed the timeout ([`frame_timeout_cycles`]).
    pub fn idle(&mut self, cycles: u64) {
        if cycles > self.timeout_cycles {
            self.timeout();
        }
    }

    /// Feed byte `b` that is taken `gap` idle cycles after the previous byte taken, with the
    /// receiver's timing: at exactly the timeout the drop wins and the byte is lost.
    pub fn push_after(&mut self, gap: u64, b: u8) -> Vec<u8> {
        if gap == self.timeout_cycles && self.in_frame() {
            self.timeout();
            return Vec::new();
        }
        self.idle(gap);
        self.push(&[b])
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Inactivity timeout: drop a partly received frame.
    pub fn timeout(&mut self) {
        if self.decoder.timeout() {
            self.status.timeouts = self.status.timeouts.wrapping_add(1);
            self.status.flags |= flag::TIMEOUT;
        }
    }

    /// True while a frame is partly received.
    pub fn in_frame(&self) -> bool {
        self.decoder.in_frame()
    }

    /// The UART receiver dropped a byte whose stop bit was low (the functional model has no
    /// UART: whoever drives it bit by bit reports these).
    pub fn framing_error(&mut self) {
        self.status.framing_errors = self.status.framing_errors.wrapping_add(1);
        self.status.flags |= flag::FRAMING;
    }

    /// Feed received bytes; returns the bytes to send back.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            match self.decoder.push(b) {
                None => {}
                Some(Err(FrameError::Crc { seq, .. })) => {
                    self.status.crc_errors = self.status.crc_errors.wrapping_add(1);
                    self.status.flags |= flag::CRC;
                    out.extend(Frame::new(NAK, seq, vec![NakReason::Crc as u8]).encode());
                }
                Some(Err(FrameError::Length { seq, .. })) => {
                    self.bad_frame(&mut out, seq, NakReason::Length);
                }
                Some(Ok(f)) => self.handle(&f, &mut out),
            }
        }
        out
    }

    fn bad_frame(&mut self, out: &mut Vec<u8>, seq: u8, why: NakReason) {
        self.status.bad_frames = self.status.bad_frames.wrapping_add(1);
        self.status.flags |= flag::BAD;
        out.extend(Frame::new(NAK, seq, vec![why as u8]).encode());
    }

    fn handle(&mut self, f: &Frame, out: &mut Vec<u8>) {
        let cmd = match Command::parse(f) {
            Ok(c) => c,
            Err(why) => return self.bad_frame(out, f.seq, why),
        };
        self.status.frames = self.status.frames.wrapping_add(1);
        let answer = |p: Vec<u8>| Frame::new(f.kind | ANSWER, f.seq, p).encode();
        match cmd {
            Command::Info => out.extend(answer(Info::new(self.device.cfg.clone()).encode())),
            Command::Reset => {
                self.status = Status::default();
                self.last_run = None;
                out.extend(answer(Vec::new()));
            }
            Command::Write { addr, words } => {
                // New data for the next job: no cached Run answer from before it.
                self.last_run = None;
                for (i, w) in words.iter().enumerate() {
                    if let Some((r, idx)) = region_of(addr + i as u32) {
                        self.device.write(r, idx, *w);
                    }
                }
                out.extend(answer(Vec::new()));
            }
            Command::Read { addr, n } => {
                let mut p = Vec::with_capacity(n as usize * 8);
                for i in 0..n as u32 {
                    let w = region_of(addr + i).map_or(0, |(r, idx)| self.device.read(r, idx));
                    p.extend_from_slice(&w.to_le_bytes());
                }
                out.extend(answer(p));
            }
            Command::Run => {
                if let Some((seq, cycles)) = self.last_run
                    && seq == f.seq
                {
                    out.extend(answer(cycles.to_le_bytes().to_vec()));
                    return;
                }
                match self.device.run() {
                    Ok(()) => {
                        // The functional model has no clock: it reports 0 cycles.
                        self.last_run = Some((f.seq, 0));
                        self.status.jobs = self.status.jobs.wrapping_add(1);
                        self.status.job_cycles = 0;
                        out.extend(answer(0u32.to_le_bytes().to_vec()));
                    }
                    Err(_) => {
                        self.status.flags |= flag::JOB;
                        out.extend(Frame::new(NAK, f.seq, vec![NakReason::Job as u8]).encode());
                    }
                }
            }
            Command::Status => out.extend(answer(self.status.encode())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::tiny_step;
    use proptest::prelude::*;

    fn decode_all(bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        let mut d = Decoder::new();
        bytes.iter().filter_map(|&b| d.push(b)).collect()
    }

    #[test]
    fn crc_matches_catalog_and_bytewise_form() {
        assert_eq!(CRC16.checksum(b"123456789"), 0x29B1);
        let mut c = 0xFFFF;
        for &b in b"123456789" {
            c = crc16_step(c, b);
        }
        assert_eq!(c, 0x29B1);
    }

    #[test]
    fn frame_layout() {
        let f = Command::Read {
            addr: 0x10_0005,
            n: 3,
        }
        .frame(7);
        let e = f.encode();
        assert_eq!(&e[..6], &[0xA5, 0x5A, kind::READ, 7, 6, 0]);
        assert_eq!(e.len(), OVERHEAD + 6);
        assert_eq!(decode_all(&e), vec![Ok(f)]);
    }

    #[test]
    fn length_over_maximum_is_rejected_without_waiting() {
        let mut e = Frame::new(kind::WRITE, 1, vec![]).encode();
        let n = (MAX_PAYLOAD + 1) as u16;
        e[4..6].copy_from_slice(&n.to_le_bytes());
        let r = decode_all(&e[..6]);
        assert!(matches!(r[..], [Err(FrameError::Length { .. })]));
    }

    #[test]
    fn info_roundtrip_and_version_only() {
        for c in DeviceConfig::all() {
            let i = Info::new(c);
            assert_eq!(Info::decode(&i.encode()), Ok(i));
        }
        let mut p = Info::new(DeviceConfig::small()).encode();
        p[0] = 9;
        p.truncate(10);
        assert_eq!(Info::decode(&p).unwrap().version, 9);
    }

    #[test]
    fn command_parse_rejects_bad_lengths_and_types() {
        let bad = |k, p: Vec<u8>| Command::parse(&Frame::new(k, 0, p));
        assert_eq!(bad(kind::WRITE, vec![0; 4]), Err(NakReason::Length));
        assert_eq!(bad(kind::WRITE, vec![0; 13]), Err(NakReason::Length));
        assert_eq!(bad(kind::READ, vec![0; 6]), Err(NakReason::Length));
        assert_eq!(bad(kind::INFO, vec![0]), Err(NakReason::Length));
        assert_eq!(bad(0x42, vec![]), Err(NakReason::Unknown));
        let mut p = vec![0; 4];
        p.extend_from_slice(&257u16.to_le_bytes());
        assert_eq!(bad(kind::READ, p), Err(NakReason::Length));
    }

    fn server() -> Server {
        Server::new(Device::new(DeviceConfig::small()))
    }

    fn ask(s: &mut Server, cmd: &Command, seq: u8) -> Response {
        let out = s.push(&cmd.frame(seq).encode());
        let frames = decode_all(&out);
        assert_eq!(frames.len(), 1, "{frames:?}");
        let f = frames[0].clone().unwrap();
        assert_eq!(f.seq, seq);
        Response::parse(&f, cmd).unwrap()
    }

    #[test]
    fn server_write_read_run_status() {
        let mut s = server();
        let words: Vec<u64> = (0..10).map(|i| i * 0x0101_0101_0101).collect();
        let w = Command::Write {
            addr: Region::A.addr(100),
            words: words.clone(),
        };
        assert_eq!(ask(&mut s, &w, 1), Response::Write);
        let r = Command::Read {
            addr: Region::A.addr(100),
            n: 10,
        };
        assert_eq!(ask(&mut s, &r, 2), Response::Read(words));
        // An empty descriptor has no last step: the model rejects it.
        assert_eq!(
            ask(&mut s, &Command::Run, 3),
            Response::Nak(Some(NakReason::Job))
        );
        let Response::Status(st) = ask(&mut s, &Command::Status, 4) else {
            panic!()
        };
        assert_eq!(st.frames, 4);
        assert_eq!(st.flags, flag::JOB);
    }

    #[test]
    fn run_retry_is_answered_from_cache() {
        let mut s = server();
        let job = crate::job::encode_job(&[crate::synthetic::tiny_step()], &DeviceConfig::small())
            .unwrap();
        ask(
            &mut s,
            &Command::Write {
                addr: Region::Desc.addr(0),
                words: job,
            },
            1,
        );
        assert_eq!(ask(&mut s, &Command::Run, 2), Response::Run { cycles: 0 });
        assert_eq!(ask(&mut s, &Command::Run, 2), Response::Run { cycles: 0 });
        let Response::Status(st) = ask(&mut s, &Command::Status, 3) else {
            panic!()
        };
        assert_eq!(st.jobs, 1, "a retried run must not run again");
        assert_eq!(ask(&mut s, &Command::Run, 4), Response::Run { cycles: 0 });
        let Response::Status(st) = ask(&mut s, &Command::Status, 5) else {
            panic!()
        };
        assert_eq!(st.jobs, 2);
    }

    /// A Write drops the Run cache: a Run after it with the last Run's sequence number (a
    /// new session's may have it) runs the job; a retry of that Run is answered from the cache.
    #[test]
    fn write_invalidates_the_run_cache() {
        let mut s = server();
        let job = crate::job::encode_job(&[tiny_step()], &DeviceConfig::small()).unwrap();
        let desc = Command::Write {
            addr: Region::Desc.addr(0),
            words: job,
        };
        ask(&mut s, &desc, 1);
        assert_eq!(ask(&mut s, &Command::Run, 2), Response::Run { cycles: 0 });
        ask(&mut s, &desc, 3);
        assert_eq!(ask(&mut s, &Command::Run, 2), Response::Run { cycles: 0 });
        assert_eq!(s.status().jobs, 2, "the Run after a Write must run the job");
        assert_eq!(ask(&mut s, &Command::Run, 2), Response::Run { cycles: 0 });
        assert_eq!(s.status().jobs, 2, "a retry must not run it again");
    }

    #[test]
    fn server_naks_crc_unknown_and_counts_timeouts() {
        let mut s = server();
        let mut e = Command::Status.frame(9).encode();
        e[6] ^= 1;
        let out = decode_all(&s.push(&e));
        assert_eq!(
            out,
            vec![Ok(Frame::new(NAK, 9, vec![NakReason::Crc as u8]))]
        );
        let out = decode_all(&s.push(&Frame::new(0x33, 4, vec![]).encode()));
        assert_eq!(
            out,
            vec![Ok(Frame::new(NAK, 4, vec![NakReason::Unknown as u8]))]
        );
        let e = Command::Status.frame(5).encode();
        assert!(s.push(&e[..5]).is_empty());
        s.timeout();
        s.framing_error();
        let Response::Status(st) = ask(&mut s, &Command::Status, 6) else {
            panic!()
        };
        assert_eq!(
            (st.crc_errors, st.bad_frames, st.timeouts, st.framing_errors),
            (1, 1, 1, 1)
        );
        assert_eq!(
            st.flags,
            flag::CRC | flag::BAD | flag::TIMEOUT | flag::FRAMING
        );
        assert_eq!(Status::decode(&st.encode()), Some(st));
    }

    /// The RTL receiver's timing (found by the link fuzzer): a lone first sync byte outlasts
    /// the timeout; a byte at exactly the timeout goes with the dropped frame, one later
    /// starts a new hunt.
    #[test]
    fn timeout_rule_of_the_receiver() {
        let mut s = Server::with_timeout(Device::new(DeviceConfig::small()), 100);
        let e = Command::Status.frame(1).encode();
        assert!(s.push_after(0, e[0]).is_empty());
        s.idle(1000);
        assert!(
            s.push(&e[1..]).len() > OVERHEAD,
            "a lone sync byte was dropped"
        );
        assert_eq!(s.status().timeouts, 0);
        // After a drop the rest of the frame is junk without a sync byte: no answer.
        for (gap, timeouts, answered) in [(99, 0, true), (100, 1, false), (101, 1, false)] {
            s.reset();
            let mut out = s.push(&e[..3]);
            out.extend(s.push_after(gap, e[3]));
            out.extend(s.push(&e[4..]));
            assert_eq!(s.status().timeouts, timeouts, "gap {gap}");
            assert_eq!(!out.is_empty(), answered, "gap {gap}");
        }
    }

    fn arb_command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::Info),
            Just(Command::Reset),
            Just(Command::Run),
            Just(Command::Status),
            (
                0u32..1 << 24,
                prop::collection::vec(any::<u64>(), 1..=MAX_WORDS)
            )
                .prop_map(|(addr, words)| Command::Write { addr, words }),
            (0u32..1 << 24, 1u16..=MAX_WORDS as u16)
                .prop_map(|(addr, n)| Command::Read { addr, n }),
        ]
    }

    proptest! {
        #[test]
        fn roundtrip_with_garbage_between(
            cmds in prop::collection::vec((arb_command(), any::<u8>()), 1..6),
            junk in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 6),
        ) {
            // Garbage without a sync byte never hides the next frame.
            let mut bytes = Vec::new();
            for (i, (c, seq)) in cmds.iter().enumerate() {
                bytes.extend(junk[i].iter().map(|&b| if b == SYNC[0] { 0 } else { b }));
                bytes.extend(c.frame(*seq).encode());
            }
            let got = decode_all(&bytes);
            prop_assert_eq!(got.len(), cmds.len());
            for (g, (c, seq)) in got.iter().zip(&cmds) {
                let f = g.clone().unwrap();
                prop_assert_eq!(f.seq, *seq);
                prop_assert_eq!(&Command::parse(&f).unwrap(), c);
            }
        }

        #[test]
        fn any_single_corruption_is_detected(c in arb_command(), seq: u8, pos: usize, flip in 1u8..) {
            let mut e = c.frame(seq).encode();
            let at = pos % e.len();
            e[at] ^= flip;
            let next = Command::Status.frame(seq.wrapping_add(1));
            e.extend(next.encode());
            let got = decode_all(&e);
            prop_assert!(!got.iter().filter_map(|r| r.as_ref().ok()).any(|f| *f == c.frame(seq)));
            if at >= 6 || (2..4).contains(&at) {
                // Frame boundaries intact: the CRC rejects it, the next frame decodes.
                prop_assert!(matches!(got[0], Err(FrameError::Crc { .. })), "{:?}", got);
                prop_assert_eq!(&got[1..], &[Ok(next)]);
            }
        }

        #[test]
        fn truncation_then_timeout_resyncs(c in arb_command(), seq: u8, cut: usize) {
            let e = c.frame(seq).encode();
            let cut = 3 + cut % (e.len() - 3);
            let mut d = Decoder::new();
            prop_assert!(e[..cut].iter().all(|&b| d.push(b).is_none()));
            prop_assert!(d.timeout());
            let next = Command::Info.frame(1).encode();
            let got: Vec<_> = next.iter().filter_map(|&b| d.push(b)).collect();
            prop_assert_eq!(got, vec![Ok(Command::Info.frame(1))]);
        }
    }
}
