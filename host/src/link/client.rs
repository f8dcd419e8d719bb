//! The protocol client: framing, timeouts, bounded retries, the version handshake, and
//! [`Backend`] so the job executor runs jobs over a link exactly as on the model.

use std::fmt;
use std::time::{Duration, Instant};

use common::backend::{Backend, BackendError};
use common::bus::Region;
use common::protocol::{
    Command, Decoder, Info, MAX_WORDS, NakReason, OVERHEAD, Response, Status, VERSION, flag,
};

use super::Link;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot open {0}: {1}")]
    Open(String, String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{link}: no valid answer to {cmd} after {attempts} attempts ({last})")]
    GaveUp {
        link: String,
        cmd: &'static str,
        attempts: u32,
        last: String,
    },
    #[error("{link}: device speaks protocol version {device}, this host speaks {VERSION}")]
    Version { link: String, device: u16 },
    #[error("{link}: device rejected {cmd}: {why}")]
    Rejected {
        link: String,
        cmd: &'static str,
        why: String,
    },
    /// The device's `Status` disagrees with what this host did since its `Reset`.
    #[error("{link}: device status check failed: {why}")]
    Audit { link: String, why: String },
}

/// Timeouts and retry limits.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Wait for an answer before resending; doubled after each timeout of the same command,
    /// up to [`MAX_BACKOFF`] times, so a device slower than this catches up instead of
    /// drowning in resends it must answer first.
    pub timeout: Duration,
    /// Resends after a timeout, NAK or corrupt answer before giving up.
    pub retries: u32,
    /// Longest a job may run; a `Run` is resent every `timeout` meanwhile (the device
    /// ignores a repeat while busy and answers it from its cache once done).
    pub run_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_millis(500),
            retries: 8,
            run_timeout: Duration::from_secs(120),
        }
    }
}

/// Most a command's wait for its answer grows by (a power of two).
pub const MAX_BACKOFF: u32 = 8;

/// What the link did: the cost of a transfer and the faults it recovered from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub commands: u64,
    /// Frames put on the wire, resends included.
    pub frames_sent: u64,
    /// `Run` commands answered (each a job the device ran once).
    pub runs: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Resends after a fault (timeout, NAK, corrupt or malformed answer).
    pub retries: u64,
    pub timeouts: u64,
    pub naks: u64,
    /// Received frames that failed their CRC or were malformed.
    pub bad_answers: u64,
    /// Resends of a `Run` while the job was still running (not faults).
    pub run_polls: u64,
}

impl fmt::Display for LinkStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} commands, {} B sent, {} B received, {} retries ({} timeouts, {} NAKs, {} bad answers)",
            self.commands,
            self.bytes_sent,
            self.bytes_received,
            self.retries,
            self.timeouts,
            self.naks,
            self.bad_answers
        )
    }
}

fn name(cmd: &Command) -> &'static str {
    match cmd {
        Command::Info => "info",
        Command::Reset => "reset",
        Command::Write { .. } => "write",
        Command::Read { .. } => "read",
        Command::Run => "run",
        Command::Status => "status",
    }
}

/// How one attempt of a command ended.
enum Attempt {
    Answer(Response),
    TimedOut,
    /// A corrupt or malformed answer (resent at once rather than waiting for the timeout).
    Bad(String),
}

pub struct Client<L: Link> {
    link: L,
    opts: ClientOptions,
    seq: u8,
    decoder: Decoder,
    info: Info,
    pub stats: LinkStats,
    /// `stats` just before the session's last `Reset`: the device's counters start there.
    at_reset: LinkStats,
}

impl<L: Link> Client<L> {
    /// Handshake: ask the device who it is, refuse another protocol version, and start a
    /// clean session with `Reset` (the engine idle, no cached `Run` answer of an earlier
    /// session's job, the status counters at zero; memories are kept).
    pub fn connect(link: L, opts: ClientOptions) -> Result<Self, LinkError> {
        // A seq an earlier session's answers still on the way are unlikely to carry.
        let seq = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            % 256) as u8;
        let mut c = Client {
            link,
            opts,
            seq,
            decoder: Decoder::new(),
            info: Info::new(common::DeviceConfig::small()),
            stats: LinkStats::default(),
            at_reset: LinkStats::default(),
        };
        let Response::Info(info) = c.transact(&Command::Info)? else {
            unreachable!("transact checks the answer type")
        };
        if info.version != VERSION {
            return Err(LinkError::Version {
                link: c.link.describe(),
                device: info.version,
            });
        }
        c.info = info;
        c.reset()?;
        Ok(c)
    }

    /// What the device reported in the handshake.
    pub fn info(&self) -> &Info {
        &self.info
    }

    pub fn link(&self) -> &L {
        &self.link
    }

    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    fn io(&self, e: std::io::Error) -> LinkError {
        LinkError::Io(self.link.describe(), e)
    }

    /// Send a command and wait for its answer, resending on faults.
    pub fn transact(&mut self, cmd: &Command) -> Result<Response, LinkError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = cmd.frame(seq).encode();
        self.stats.commands += 1;
        let start = Instant::now();
        let mut faults = 0u32;
        let mut wait = self.opts.timeout;
        let mut buf = vec![0u8; 4 * (OVERHEAD + 8 * MAX_WORDS)];
        loop {
            self.link.send(&bytes).map_err(|e| self.io(e))?;
            self.stats.frames_sent += 1;
            self.stats.bytes_sent += bytes.len() as u64;
            let deadline = Instant::now() + wait;
            let outcome = 'attempt: loop {
                let now = Instant::now();
                if now >= deadline {
                    break Attempt::TimedOut;
                }
                let n = self
                    .link
                    .recv(&mut buf, deadline - now)
                    .map_err(|e| self.io(e))?;
                self.stats.bytes_received += n as u64;
                if n == 0 && self.decoder.in_frame() {
                    // A partial answer that stopped: drop it, as the device does.
                    self.decoder.timeout();
                }
                for &b in &buf[..n] {
                    match self.decoder.push(b) {
                        None => {}
                        Some(Err(e)) => {
                            self.stats.bad_answers += 1;
                            break 'attempt Attempt::Bad(e.to_string());
                        }
                        // Stale answers to earlier attempts or commands are skipped.
                        Some(Ok(f)) if f.seq != seq => {}
                        Some(Ok(f)) => match Response::parse(&f, cmd) {
                            Ok(r) => break 'attempt Attempt::Answer(r),
                            Err(e) => {
                                self.stats.bad_answers += 1;
                                break 'attempt Attempt::Bad(e);
                            }
                        },
                    }
                }
            };
            let last = match outcome {
                Attempt::Answer(Response::Nak(Some(NakReason::Job))) => {
                    return Err(LinkError::Rejected {
                        link: self.link.describe(),
                        cmd: name(cmd),
                        why: "invalid job descriptor".into(),
                    });
                }
                Attempt::Answer(Response::Nak(why)) => {
                    self.stats.naks += 1;
                    format!("NAK {why:?}")
                }
                Attempt::Answer(r) => return Ok(r),
                Attempt::TimedOut => {
                    if *cmd == Command::Run && start.elapsed() < self.opts.run_timeout {
                        // Maybe still running: poll without counting a fault.
                        self.stats.run_polls += 1;
                        continue;
                    }
                    self.stats.timeouts += 1;
                    wait = (wait * 2).min(self.opts.timeout * MAX_BACKOFF);
                    "timed out".into()
                }
                Attempt::Bad(e) => e,
            };
            faults += 1;
            if faults > self.opts.retries {
                return Err(LinkError::GaveUp {
                    link: self.link.describe(),
                    cmd: name(cmd),
                    attempts: faults,
                    last,
                });
            }
            self.stats.retries += 1;
        }
    }

    pub fn status(&mut self) -> Result<Status, LinkError> {
        match self.transact(&Command::Status)? {
            Response::Status(s) => Ok(s),
            _ => unreachable!("transact checks the answer type"),
        }
    }

    /// Reset the engine and the device's link counters.
    pub fn reset(&mut self) -> Result<(), LinkError> {
        self.at_reset = self.stats.clone();
        self.transact(&Command::Reset).map(|_| ())
    }

    /// Ask the device's `Status` and check it against what this host did since its `Reset`:
    /// idle, no rejected job, exactly the jobs this host ran (fewer: the device was reset or
    /// restarted under it; more: another host ran some), no more good frames than this host
    /// sent (another host), no UART framing error (a baud mismatch or a bad line: CRC-16 alone
    /// is not trusted to catch every corruption then), and no link error on a session in which
    /// the host had no retry. (One host fault can cost the device two errors, a frame cut
    /// short and then a false start in its rest, so errors are not matched to retries.) Anything else is an [`LinkError::Audit`].
    pub fn audit(&mut self) -> Result<Status, LinkError> {
        let s = self.status()?;
        let runs = self.stats.runs - self.at_reset.runs;
        let sent = self.stats.frames_sent - self.at_reset.frames_sent;
        let retries = self.stats.retries - self.at_reset.retries;
        let link_errors =
            s.crc_errors as u64 + s.timeouts as u64 + s.bad_frames as u64 + s.overruns as u64;
        let why = if s.busy {
            "the device is still running a job".to_string()
        } else if s.flags & flag::JOB != 0 {
            "the device rejected a job".to_string()
        } else if s.jobs as u64 != runs {
            format!(
                "the device ran {} jobs since this host's reset, the host ran {runs}: the device \
                 was reset or restarted during the session, or another host is using it",
                s.jobs
            )
        } else if s.frames as u64 > sent {
            format!(
                "the device received {} good frames since this host's reset, the host sent \
                 {sent}: another host is using the device",
                s.frames
            )
        } else if s.framing_errors > 0 {
            format!(
                "{} UART framing errors: the baud rates differ (--baud, the device reports {}) \
                 or the line is noisy; the answer is not trusted",
                s.framing_errors, self.info.config.baud
            )
        } else if link_errors > 0 && retries == 0 {
            format!(
                "the device counted {link_errors} link errors (CRC {}, timeouts {}, bad frames \
                 {}, overruns {}) on a session the host saw no fault in",
                s.crc_errors, s.timeouts, s.bad_frames, s.overruns
            )
        } else {
            return Ok(s);
        };
        Err(LinkError::Audit {
            link: self.link.describe(),
            why,
        })
    }

    fn chunk(&self) -> usize {
        (self.info.max_words as usize).clamp(1, MAX_WORDS)
    }

    /// Write words from bus address `addr` on, in as many frames as needed.
    pub fn write_words(&mut self, addr: u32, words: &[u64]) -> Result<(), LinkError> {
        let chunk = self.chunk();
        for (i, c) in words.chunks(chunk).enumerate() {
            self.transact(&Command::Write {
                addr: addr + (i * chunk) as u32,
                words: c.to_vec(),
            })?;
        }
        Ok(())
    }

    pub fn read_words(&mut self, addr: u32, n: usize) -> Result<Vec<u64>, LinkError> {
        let chunk = self.chunk();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let k = chunk.min(n - out.len());
            match self.transact(&Command::Read {
                addr: addr + out.len() as u32,
                n: k as u16,
            })? {
                Response::Read(w) => out.extend(w),
                _ => unreachable!("transact checks the answer type"),
            }
        }
        Ok(out)
    }

    /// Run the job in descriptor memory; the device's cycle count.
    pub fn run_job(&mut self) -> Result<u32, LinkError> {
        match self.transact(&Command::Run)? {
            Response::Run { cycles } => {
                self.stats.runs += 1;
                Ok(cycles)
            }
            _ => unreachable!("transact checks the answer type"),
        }
    }
}

impl<L: Link> Backend for Client<L> {
    fn write(&mut self, region: Region, index: usize, words: &[u64]) -> Result<(), BackendError> {
        Ok(self.write_words(region.addr(index), words)?)
    }
    fn read(&mut self, region: Region, index: usize, n: usize) -> Result<Vec<u64>, BackendError> {
        Ok(self.read_words(region.addr(index), n)?)
    }
    fn run(&mut self) -> Result<u64, BackendError> {
        Ok(self.run_job()? as u64)
    }
}
