//! The case generator: what a host, a noisy line or an adversary can put on the link, as a
//! list of timed events that both runners replay the same way.

use std::fmt;

use common::DeviceConfig;
use common::bus::{REGION_SHIFT, Region};
use common::job::encode_job;
use common::protocol::{Command, Frame, MAX_PAYLOAD, MAX_WORDS, SYNC, kind};
use common::synthetic::tiny_step;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// One event of a case, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    /// A byte, offered `gap` idle cycles after the previous byte the link took.
    Byte { gap: u32, b: u8 },
    /// The link's reset input high for `cycles`, once the device is done answering.
    Reset { cycles: u32 },
    /// From here on the answer sink is ready in `pct` % of the cycles (stream port only).
    Ready { pct: u8 },
    /// Start of the recovery check: the next byte starts the final `Status` request.
    Mark,
}

/// A case: a seed names it, the events are what it does.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    /// Through the UART pins instead of the byte-stream port.
    pub uart: bool,
    pub evs: Vec<Ev>,
}

impl fmt::Display for Case {
    /// Hex bytes, with gaps, resets and back-pressure changes in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = if self.uart { "uart" } else { "stream" };
        write!(f, "case seed {:#018x} ({port}):", self.seed)?;
        for e in &self.evs {
            match e {
                Ev::Byte { gap: 0, b } => write!(f, " {b:02x}")?,
                Ev::Byte { gap, b } => write!(f, " [+{gap}] {b:02x}")?,
                Ev::Reset { cycles } => write!(f, " [reset {cycles}]")?,
                Ev::Ready { pct } => write!(f, " [ready {pct}%]")?,
                Ev::Mark => write!(f, " [recovery]")?,
            }
        }
        Ok(())
    }
}

/// What the generator needs to know about the device under test.
pub struct Target {
    pub cfg: DeviceConfig,
    /// Inactivity timeout of the receiver, in cycles.
    pub timeout: u64,
    /// UART bit period in cycles (UART cases keep their gaps clear of the timeout by more
    /// than a byte time, since a UART byte's arrival is not cycle-exact).
    pub bit_cycles: u64,
}

/// The case of `seed`; `uart` selects the port.
pub fn generate(t: &Target, seed: u64, uart: bool) -> Case {
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        t,
        uart,
        evs: Vec::new(),
        gap: 0,
    };
    // A valid job first, on a fresh receiver, so every Run of the case runs it (the model
    // refuses an invalid job; the engine would run whatever the descriptors say).
    let job = g.rng.random_bool(0.6);
    if job {
        let words = encode_job(&[tiny_step()], &t.cfg).expect("the tiny step fits every config");
        let seq = g.rng.random();
        g.frame(
            &Command::Write {
                addr: Region::Desc.addr(0),
                words,
            }
            .frame(seq),
        );
    }
    let items = g.rng.random_range(1..=12);
    let mut last_run_seq = None;
    for _ in 0..items {
        match g.rng.random_range(0..100) {
            0..=9 => g.junk(),
            10..=44 => {
                let (cmd, seq) = g.command(job, &mut last_run_seq);
                g.frame(&cmd.frame(seq));
            }
            45..=69 => {
                let (cmd, seq) = g.command(job, &mut last_run_seq);
                let bytes = cmd.frame(seq).encode();
                let bytes = g.mutate(bytes);
                g.bytes(&bytes);
            }
            70..=76 => g.sync_inside(),
            77..=82 => {
                // An unknown type, or a known one with a payload it cannot have. Not Run or
                // Write: by chance a valid one, it could run without a job or overwrite it.
                let mut kind = kind::RUN;
                while kind == kind::RUN || kind == kind::WRITE {
                    kind = g.rng.random();
                }
                let n = g.rng.random_range(0..16);
                let p = (0..n).map(|_| g.rng.random()).collect();
                let seq = g.rng.random();
                g.frame(&Frame::new(kind, seq, p));
            }
            83..=92 => {
                // The inactivity timeout's edge: -1, exactly, +1 cycle, or far.
                let t = t.timeout as u32;
                g.gap = if uart {
                    let far = t + 12 * g.t.bit_cycles as u32;
                    *pick(&mut g.rng, &[1, t / 2, far, far + 1])
                } else {
                    *pick(&mut g.rng, &[t - 1, t, t + 1, 1, t - 2, t + 2, 2 * t])
                };
            }
            93..=95 => {
                let cycles = g.rng.random_range(1..=6);
                g.evs.push(Ev::Reset { cycles });
            }
            _ => {
                let pct = *pick(&mut g.rng, &[100, 75, 50, 10]);
                g.evs.push(Ev::Ready { pct });
            }
        }
    }
    // Recovery: after more than the timeout any partial frame is gone; a Status must then be
    // answered within the bound.
    g.evs.push(Ev::Ready { pct: 100 });
    g.evs.push(Ev::Mark);
    let seq = g.rng.random();
    for (i, &b) in Command::Status.frame(seq).encode().iter().enumerate() {
        let gap = if i == 0 { t.timeout as u32 + 1 } else { 0 };
        g.evs.push(Ev::Byte { gap, b });
    }
    Case {
        seed,
        uart,
        evs: g.evs,
    }
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

struct Gen<'a> {
    rng: StdRng,
    t: &'a Target,
    uart: bool,
    evs: Vec<Ev>,
    /// Gap before the next byte (set by a gap item, used once).
    gap: u32,
}

impl Gen<'_> {
    fn bytes(&mut self, bytes: &[u8]) {
        // A gap item may also land inside the next frame: the timeout is tested mid-frame.
        let split = if self.gap > 0 && self.rng.random_bool(0.5) && !bytes.is_empty() {
            self.rng.random_range(0..bytes.len())
        } else {
            0
        };
        for (i, &b) in bytes.iter().enumerate() {
            let gap = if i == split {
                std::mem::take(&mut self.gap)
            } else {
                0
            };
            self.evs.push(Ev::Byte { gap, b });
        }
    }

    fn frame(&mut self, f: &Frame) {
        self.bytes(&f.encode());
    }

    fn junk(&mut self) {
        let n = self.rng.random_range(1..=40);
        let bytes: Vec<u8> = (0..n)
            .map(|_| match self.rng.random_range(0..8) {
                0 => SYNC[0],
                1 => SYNC[1],
                _ => self.rng.random(),
            })
            .collect();
        self.bytes(&bytes);
    }

    /// A word index in `r`: mostly inside the device's memory, sometimes past its end or
    /// past the region's address space into the next region bits.
    fn addr(&mut self, r: Region, n: usize) -> u32 {
        let c = &self.t.cfg;
        let size = match r {
            Region::Desc => c.max_steps * common::job::STEP_WORDS,
            Region::A | Region::B => c.act_words,
            Region::S => c.sq_words,
            Region::Weights => c.weight_words * c.rows,
            Region::Params => c.param_words,
        };
        match self.rng.random_range(0..20) {
            0 => r.addr(self.rng.random_range(0..1 << REGION_SHIFT)),
            1 => self.rng.random_range(6 << REGION_SHIFT..1 << 24) | self.rng.random::<u32>() << 24,
            _ => r.addr(self.rng.random_range(0..size.saturating_sub(n).max(1))),
        }
    }

    fn words(&mut self) -> usize {
        if self.uart {
            // 40 cycles a byte: long frames are the stream cases' job.
            return self.rng.random_range(1..=16);
        }
        match self.rng.random_range(0..10) {
            0 => MAX_WORDS,
            1 => self.rng.random_range(1..=MAX_WORDS),
            _ => self.rng.random_range(1..=8),
        }
    }

    /// A valid command and its sequence number; a Run only when a job is loaded, sometimes
    /// as a retry (the last Run's sequence number).
    fn command(&mut self, job: bool, last_run: &mut Option<u8>) -> (Command, u8) {
        let mut seq = self.rng.random();
        // Not the descriptor region: a random Write there would make the next Run's job
        // invalid (see `generate`).
        let data = [
            Region::A,
            Region::B,
            Region::S,
            Region::Weights,
            Region::Params,
        ];
        let cmd = match self.rng.random_range(0..10) {
            0 => Command::Info,
            1 => Command::Reset,
            2 | 3 => {
                let r = *pick(&mut self.rng, &data);
                let n = self.words();
                let words = (0..n).map(|_| self.rng.random()).collect();
                Command::Write {
                    addr: self.addr(r, n),
                    words,
                }
            }
            4 | 5 => {
                let r = *pick(&mut self.rng, &[&data[..], &[Region::Desc]].concat());
                let n = self.words();
                Command::Read {
                    addr: self.addr(r, n),
                    n: n as u16,
                }
            }
            6 | 7 if job => {
                if let Some(s) = *last_run
                    && self.rng.random_bool(0.3)
                {
                    seq = s;
                }
                *last_run = Some(seq);
                Command::Run
            }
            _ => Command::Status,
        };
        let cmd = match cmd {
            Command::Write { addr, words } if addr >> REGION_SHIFT == 0 => Command::Write {
                addr: addr | 1 << REGION_SHIFT,
                words,
            },
            c => c,
        };
        (cmd, seq)
    }

    /// A frame damaged the ways a line or a buggy host damages it.
    fn mutate(&mut self, mut e: Vec<u8>) -> Vec<u8> {
        let at = self.rng.random_range(0..e.len());
        match self.rng.random_range(0..7) {
            0 => e[at] ^= 1 << self.rng.random_range(0..8),
            1 => {
                for _ in 0..self.rng.random_range(2..5) {
                    let at = self.rng.random_range(0..e.len());
                    e[at] ^= 1 << self.rng.random_range(0..8);
                }
            }
            2 => {
                let b = if self.rng.random_bool(0.3) {
                    SYNC[0]
                } else {
                    self.rng.random()
                };
                e.insert(at, b);
            }
            3 => {
                e.remove(at);
            }
            4 => {
                // A wrong length: a little off, anything, or over the maximum (a valid CRC,
                // so only the length is wrong).
                let n = u16::from_le_bytes([e[4], e[5]]) as i32;
                let len = match self.rng.random_range(0..3) {
                    0 => (n + self.rng.random_range(-9..=9)).max(0) as u16,
                    1 => self.rng.random(),
                    _ => self.rng.random_range(MAX_PAYLOAD as u16 + 1..=u16::MAX),
                };
                e[4..6].copy_from_slice(&len.to_le_bytes());
                let crc = common::protocol::CRC16.checksum(&e[2..e.len() - 2]);
                let k = e.len();
                e[k - 2..].copy_from_slice(&crc.to_le_bytes());
            }
            5 => e.truncate(at.max(1)),
            _ => {
                // Sync bytes dropped into the frame.
                e.splice(at..at, SYNC);
            }
        }
        e
    }

    /// A valid frame with sync bytes in its header and payload.
    fn sync_inside(&mut self) {
        let n = self.rng.random_range(1..=6);
        let words = (0..n)
            .map(|_| {
                let mut b = [0u8; 8];
                for x in b.iter_mut() {
                    *x = if self.rng.random_bool(0.5) {
                        SYNC[self.rng.random_range(0..2)]
                    } else {
                        self.rng.random()
                    };
                }
                u64::from_le_bytes(b)
            })
            .collect();
        let any = self.rng.random();
        let seq = *pick(&mut self.rng, &[SYNC[0], SYNC[1], any]);
        let addr = self.addr(Region::A, n);
        self.frame(&Command::Write { addr, words }.frame(seq));
    }
}
