//! `sim serve`: a simulated board behind a pseudo-terminal (or an XDMA-style pair of
//! FIFOs), so `host ... --device <path>` runs exactly as against a real board.
//!
//! Device models:
//! - default: the Verilated `sqz_top` ([`Board`]): link RTL and engine, cycle-accurate. On a
//!   pty the bytes cross its UART pins bit by bit (at the model's fast simulated baud rate);
//!   with `--stream`, and always behind `--xdma`, they go through its byte-stream port.
//! - `--functional`: `common::protocol::Server` over the functional device model (the same
//!   frame handling, caching and counters as the RTL dispatcher), much faster.
//!
//! Fault injection (`--flip`, `--drop`, `--delay` per-byte rates, both directions) tests
//! the host's retries; `--baud-error PCT` runs the host's side of the simulated UART that
//! many percent fast (negative: slow) against the device's, both directions.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::DeviceConfig;
use common::device::Device;
use common::protocol::Server;

use crate::board::{Board, LinkMode};

/// A device that answers bytes with bytes.
pub trait ByteDevice {
    /// Bytes received from the host; returns the bytes the device sends back.
    fn push(&mut self, bytes: &[u8]) -> Vec<u8>;
    /// The line has been quiet for the inactivity timeout; returns any late answer bytes.
    fn idle(&mut self) -> Vec<u8>;
    fn describe(&self) -> String;
    /// A line on what the device has done so far, printed when the host goes quiet.
    fn report(&self) -> Option<String> {
        None
    }
}

impl ByteDevice for Server {
    fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        Server::push(self, bytes)
    }
    fn idle(&mut self) -> Vec<u8> {
        self.timeout();
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("functional {} device", self.device.cfg.name)
    }
}

impl ByteDevice for Board {
    fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.exchange(bytes)
    }
    fn idle(&mut self) -> Vec<u8> {
        self.settle()
    }
    fn describe(&self) -> String {
        match self.mode() {
            LinkMode::Uart => format!(
                "Verilated sqz_top ({}), bytes through its UART pins at {} cycles per bit",
                self.name(),
                Board::bit_cycles()
            ),
            LinkMode::Stream => format!(
                "Verilated sqz_top ({}), bytes through its byte-stream port",
                self.name()
            ),
        }
    }
    fn report(&self) -> Option<String> {
        let s = self.stats();
        let t = self.sim_time().as_secs_f64();
        Some(format!(
            "{} cycles simulated ({} engine/dispatcher busy), {} B in, {} B out, \
             {} UART framing errors, {:.1} s at {:.2} M cycles/s",
            s.cycles,
            s.busy_cycles,
            s.bytes_in,
            s.bytes_out,
            s.framing_errors,
            t,
            s.cycles as f64 / t.max(1e-9) / 1e6
        ))
    }
}

/// Small deterministic generator (xorshift64*) for reproducible faults.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Per-byte fault rates, applied to both directions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    pub flip: f64,
    pub drop: f64,
    pub delay: f64,
    pub delay_by: Duration,
}

struct Injector {
    rates: Faults,
    rng: Rng,
    injected: u64,
}

impl Injector {
    fn apply(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if self.rng.chance(self.rates.drop) {
                self.injected += 1;
                continue;
            }
            if self.rng.chance(self.rates.delay) {
                self.injected += 1;
                std::thread::sleep(self.rates.delay_by);
            }
            if self.rng.chance(self.rates.flip) {
                self.injected += 1;
                out.push(b ^ 1 << (self.rng.next() % 8));
            } else {
                out.push(b);
            }
        }
        out
    }
}

#[derive(Debug)]
pub struct Options {
    pub config: DeviceConfig,
    /// Serve the functional model instead of the Verilated `sqz_top`.
    pub functional: bool,
    /// Bytes through the RTL's stream port instead of its UART (always so with `xdma`).
    pub stream: bool,
    pub xdma: Option<PathBuf>,
    pub faults: Faults,
    pub seed: u64,
    /// Inactivity timeout that drops a partly received frame.
    pub idle: Duration,
    /// How far the host's UART baud rate is off the device's, in percent (UART mode only).
    pub baud_error: f64,
}

const USAGE: &str = "usage: sim serve [--functional | --stream] [--config NAME] [--xdma DIR] \
[--flip RATE] [--drop RATE] [--delay RATE] [--delay-ms N] [--seed N] [--baud-error PCT]";

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        config: DeviceConfig::ulx3s(),
        functional: false,
        stream: false,
        xdma: None,
        faults: Faults {
            delay_by: Duration::from_millis(20),
            ..Default::default()
        },
        seed: 1,
        idle: Duration::from_millis(50),
        baud_error: 0.0,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let rate = |v: String, name: &str| -> Result<f64, String> {
            v.parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("{name}: {v:?} is not a rate in [0, 1]"))
        };
        match a.as_str() {
            "--functional" => o.functional = true,
            "--stream" => o.stream = true,
            "--config" => {
                let v = val(a)?;
                o.config = DeviceConfig::by_name(&v)
                    .ok_or_else(|| format!("unknown configuration {v:?}"))?;
            }
            "--xdma" => o.xdma = Some(PathBuf::from(val(a)?)),
            "--flip" => o.faults.flip = rate(val(a)?, a)?,
            "--drop" => o.faults.drop = rate(val(a)?, a)?,
            "--delay" => o.faults.delay = rate(val(a)?, a)?,
            "--delay-ms" => {
                let v = val(a)?;
                o.faults.delay_by = Duration::from_millis(
                    v.parse()
                        .map_err(|_| format!("--delay-ms: {v:?} is not a number"))?,
                );
            }
            "--baud-error" => {
                let v = val(a)?;
                o.baud_error = v
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.abs() < 50.0)
                    .ok_or_else(|| {
                        format!("--baud-error: {v:?} is not a percentage in (-50, 50)")
                    })?;
            }
            "--seed" => {
                let v = val(a)?;
                o.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: {v:?} is not a number"))?;
            }
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    if o.functional && o.stream {
        return Err(format!(
            "--stream selects the RTL's stream port; the functional model has none\n{USAGE}"
        ));
    }
    // A PCIe-style DMA bridge drives the stream port.
    o.stream |= o.xdma.is_some();
    if o.baud_error != 0.0 && (o.functional || o.stream) {
        return Err(format!(
            "--baud-error needs the RTL's UART (not --functional, --stream or --xdma)\n{USAGE}"
        ));
    }
    if !o.functional && !Board::models().contains(&o.config.name.as_str()) {
        return Err(format!(
            "no Verilated board {:?} in this build (built: {}); rebuild with \
             SQZ_SIM_BOARDS={}, or use --functional",
            o.config.name,
            Board::models().join(", "),
            o.config.name
        ));
    }
    Ok(o)
}

/// `sim serve ARGS`: serve until killed.
pub fn main(args: &[String]) -> ExitCode {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sim serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut dev: Box<dyn ByteDevice> = if o.functional {
        Box::new(Server::new(Device::new(o.config.clone())))
    } else {
        let mode = if o.stream {
            LinkMode::Stream
        } else {
            LinkMode::Uart
        };
        match Board::new(&o.config.name, mode) {
            Ok(mut b) => {
                b.set_host_baud_error(o.baud_error);
                Box::new(b)
            }
            Err(e) => {
                eprintln!("sim serve: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let r = match &o.xdma {
        Some(dir) => serve_xdma(dev.as_mut(), dir, &o),
        None => serve_pty(dev.as_mut(), &o),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn injector(o: &Options) -> Injector {
    Injector {
        rates: o.faults,
        rng: Rng(o.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        injected: 0,
    }
}

fn os_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Wait until `fd` is readable or `timeout` passes.
fn readable(fd: i32, timeout: Duration) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    match unsafe { libc::poll(&mut p, 1, ms) } {
        -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => Ok(false),
        -1 => Err(os_err("poll")),
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// Write answer bytes; `Ok(false)` if the host has gone (an XDMA host killed mid-session
/// leaves c2h without a reader: the session is over, the device serves the next one).
fn answer(tx: &mut File, bytes: &[u8]) -> io::Result<bool> {
    match tx.write_all(bytes).and_then(|()| tx.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

/// Pump bytes between a reader and a writer through the device until the reader ends.
fn pump(
    dev: &mut dyn ByteDevice,
    rx: &mut File,
    tx: &mut File,
    inj: &mut Injector,
    idle: Duration,
) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    let mut last = Instant::now();
    let mut active = false;
    loop {
        if !readable(rx.as_raw_fd(), idle)? {
            if last.elapsed() >= idle {
                let late = inj.apply(&dev.idle());
                if !late.is_empty() && !answer(tx, &late)? {
                    return Ok(());
                }
                if std::mem::take(&mut active)
                    && let Some(r) = dev.report()
                {
                    eprintln!("sim serve: {r}");
                }
            }
            continue;
        }
        let n = match rx.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A pty master reads EIO when the slave side has no opener.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(()),
            Err(e) => return Err(e),
        };
        last = Instant::now();
        active = true;
        let inb = inj.apply(&buf[..n]);
        let out = inj.apply(&dev.push(&inb));
        if !answer(tx, &out)? {
            return Ok(());
        }
    }
}

fn serve_pty(dev: &mut dyn ByteDevice, o: &Options) -> io::Result<()> {
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    if master < 0 {
        return Err(os_err("posix_openpt"));
    }
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    if unsafe { libc::grantpt(master.as_raw_fd()) } != 0 {
        return Err(os_err("grantpt"));
    }
    if unsafe { libc::unlockpt(master.as_raw_fd()) } != 0 {
        return Err(os_err("unlockpt"));
    }
    let mut name = [0 as libc::c_char; 256];
    if unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) } != 0 {
        return Err(os_err("ptsname_r"));
    }
    let path = unsafe { CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // Hold the slave open ourselves, raw: the line discipline must not touch the bytes,
    // and the master must not see EIO between host sessions.
    let slave = OpenOptions::new().read(true).write(true).open(&path)?;
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    unsafe {
        if libc::tcgetattr(slave.as_raw_fd(), &mut t) != 0 {
            return Err(os_err("tcgetattr"));
        }
        libc::cfmakeraw(&mut t);
        if libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t) != 0 {
            return Err(os_err("tcsetattr"));
        }
    }
    println!("{path}");
    eprintln!(
        "sim serve: {} on {path} (faults {:?})",
        dev.describe(),
        o.faults
    );
    io::stdout().flush()?;
    let mut rx = File::from(master);
    let mut tx = rx.try_clone()?;
    let mut inj = injector(o);
    loop {
        pump(dev, &mut rx, &mut tx, &mut inj, o.idle)?;
    }
}

fn mkfifo(p: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::metadata(p).is_ok_and(|m| m.file_type().is_fifo()) {
        return Ok(());
    }
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(os_err(&format!("mkfifo {}", p.display())));
    }
    Ok(())
}

fn serve_xdma(dev: &mut dyn ByteDevice, dir: &Path, o: &Options) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (h2c, c2h) = (dir.join("h2c"), dir.join("c2h"));
    mkfifo(&h2c)?;
    mkfifo(&c2h)?;
    println!("{}", dir.display());
    eprintln!(
        "sim serve: {} on XDMA streams {} / {} (faults {:?})",
        dev.describe(),
        h2c.display(),
        c2h.display(),
        o.faults
    );
    io::stdout().flush()?;
    let mut inj = injector(o);
    // One host session per open of the pair; serve the next one after it closes.
    loop {
        let mut rx = File::open(&h2c)?;
        let mut tx = OpenOptions::new().write(true).open(&c2h)?;
        pump(dev, &mut rx, &mut tx, &mut inj, o.idle)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let a = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = parse(&a("--functional --config small --flip 1e-4 --seed 3")).unwrap();
        assert_eq!(o.config.name, "small");
        assert_eq!(o.faults.flip, 1e-4);
        assert!(
            parse(&a("--functional --flip 2"))
                .unwrap_err()
                .contains("rate")
        );
        assert!(
            parse(&a("--functional --stream"))
                .unwrap_err()
                .contains("stream port")
        );
        let o = parse(&a("--config ulx3s --xdma x")).unwrap();
        assert!(!o.functional && o.stream);
        assert_eq!(parse(&a("--baud-error -3.5")).unwrap().baud_error, -3.5);
        assert!(
            parse(&a("--stream --baud-error 2"))
                .unwrap_err()
                .contains("UART")
        );
        assert!(
            parse(&a("--config icebreaker"))
                .unwrap_err()
                .contains("SQZ_SIM_BOARDS=icebreaker")
        );
        assert!(
            parse(&a("--functional --bogus"))
                .unwrap_err()
                .contains("--bogus")
        );
    }
}
