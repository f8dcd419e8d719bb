//! Client tests against the functional device (in-process and through FIFOs), with
//! injected faults, and against devices that fail: silent, garbage, other version.

use std::io;
use std::time::{Duration, Instant};

use common::DeviceConfig;
use common::backend::Backend;
use common::bus::Region;
use common::protocol::{Frame, Info, Server, kind};

use super::*;

fn fast() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_millis(5),
        retries: 8,
        run_timeout: Duration::from_millis(5),
    }
}

fn pattern(n: usize, salt: u64) -> Vec<u64> {
    let mut r = Rng::new(salt);
    (0..n).map(|_| r.next_u64()).collect()
}

#[test]
fn handshake_reports_the_configuration() {
    let c = Client::connect(LocalLink::new(DeviceConfig::ulx3s()), fast()).unwrap();
    assert_eq!(c.info().config, DeviceConfig::ulx3s());
    assert_eq!(c.stats.retries, 0);
}

#[test]
fn backend_over_link_moves_words_exactly() {
    let mut c = Client::connect(LocalLink::new(DeviceConfig::small()), fast()).unwrap();
    let words = pattern(1000, 1);
    Backend::write(&mut c, Region::B, 17, &words).unwrap();
    assert_eq!(Backend::read(&mut c, Region::B, 17, 1000).unwrap(), words);
    assert_eq!(c.link().server.device.b[17..1017], words[..]);
    // 1000 words = 4 frames each way.
    // Info and Reset, then 1000 words = 4 frames each way.
    assert_eq!(c.stats.commands, 2 + 4 + 4);
}

/// A one-step job (a 3x3 max pool to one pixel) for the `small` configuration.
fn maxpool_job() -> Vec<u64> {
    let step = common::job::Step {
        op: common::Op::MaxPool,
        kernel: 3,
        cout: 8,
        in_h: 3,
        in_w: 3,
        out_h: 1,
        out_w: 1,
        ..common::synthetic::tiny_step()
    };
    common::job::encode_job(&[step], &DeviceConfig::small()).unwrap()
}

/// A new session never gets an earlier session's cached `Run` answer: whatever sequence
/// number its first `Run` carries, the job runs (connect starts the session with a Reset).
#[test]
fn a_new_session_runs_its_first_job() {
    let mut link = LocalLink::new(DeviceConfig::small());
    let job = maxpool_job();
    let desc = common::protocol::Command::Write {
        addr: Region::Desc.addr(0),
        words: job,
    };
    let run = common::protocol::Command::Run.frame(77).encode();
    // An earlier session: its job ran as Run 77 and its answer is cached.
    link.server.push(&desc.frame(76).encode());
    link.server.push(&run);
    assert_eq!(link.server.status().jobs, 1);
    let mut c = Client::connect(link, fast()).unwrap();
    // The new session's first Run happens to be 77 too.
    let jobs = c.link().server.status().jobs;
    c.link_mut().server.push(&run);
    assert_eq!(
        c.link().server.status().jobs,
        jobs + 1,
        "the new session's Run 77 was answered from the old session's cache"
    );
}

/// A session that ran the one-step job twice, with `meddle` done to the device before the
/// audit; the audit's error, if any.
fn audit_after(meddle: impl FnOnce(&mut Server)) -> Result<(), String> {
    let mut c = Client::connect(LocalLink::new(DeviceConfig::small()), fast()).unwrap();
    Backend::write(&mut c, Region::Desc, 0, &maxpool_job()).unwrap();
    Backend::run(&mut c).unwrap();
    Backend::run(&mut c).unwrap();
    meddle(&mut c.link_mut().server);
    c.audit().map(|_| ()).map_err(|e| e.to_string())
}

/// The device's Status against what the host did: a clean session passes; a device reset
/// or restarted under the host, a second host's frames or job, a UART framing error, or a
/// link error the host never saw, each fail with one line that says which.
#[test]
fn audit_catches_what_the_host_did_not_do() {
    use common::protocol::Command;
    assert_eq!(audit_after(|_| {}), Ok(()));
    type Meddle = Box<dyn FnOnce(&mut Server)>;
    let cases: [(&str, Meddle, &str); 6] = [
        (
            "restarted",
            Box::new(|s: &mut Server| *s = Server::new(s.device.clone())),
            "ran 0 jobs since this host's reset, the host ran 2",
        ),
        (
            "reset by another host",
            Box::new(|s: &mut Server| {
                s.push(&Command::Reset.frame(200).encode());
            }),
            "reset or restarted",
        ),
        (
            "another host's job",
            Box::new(|s: &mut Server| {
                s.push(&Command::Run.frame(201).encode());
            }),
            "ran 3 jobs",
        ),
        (
            "another host's frames",
            Box::new(|s: &mut Server| {
                for seq in 0..10 {
                    s.push(&Command::Info.frame(seq).encode());
                }
            }),
            "another host is using the device",
        ),
        (
            "framing error",
            Box::new(|s: &mut Server| s.framing_error()),
            "1 UART framing errors",
        ),
        (
            "unseen link error",
            Box::new(|s: &mut Server| {
                s.push(&[0xA5, 0x5A, 1]);
                s.timeout();
            }),
            "link errors (CRC 0, timeouts 1",
        ),
    ];
    for (what, meddle, want) in cases {
        let e = audit_after(meddle).expect_err(what);
        assert!(e.contains(want), "{what}: {e}");
        assert!(!e.contains('\n'), "{what}: {e}");
    }
}

fn faulty_transfer(rates: FaultRates, words: usize, seed: u64) -> (LinkStats, u64) {
    let link = Faulty::new(LocalLink::new(DeviceConfig::small()), rates, seed);
    let mut c = Client::connect(link, fast()).unwrap();
    let data = pattern(words, seed);
    c.write_words(Region::A.addr(0), &data).unwrap();
    assert_eq!(c.read_words(Region::A.addr(0), words).unwrap(), data);
    (c.stats.clone(), c.link().injected)
}

#[test]
fn recovers_from_flipped_and_dropped_bytes() {
    // 4096 words each way ≈ 66 kB: at 1e-4 about 7 corrupted bytes.
    let flip = FaultRates {
        flip: 1e-4,
        ..Default::default()
    };
    let (s, injected) = faulty_transfer(flip, 4096, 7);
    assert!(injected > 0 && s.retries > 0, "{s} / {injected}");
    let drop = FaultRates {
        drop: 1e-4,
        ..Default::default()
    };
    let (s, injected) = faulty_transfer(drop, 4096, 8);
    assert!(injected > 0 && s.retries > 0, "{s} / {injected}");
    // Heavy but survivable: a 2 kB frame gets through about half the time.
    let heavy = FaultRates {
        flip: 2e-4,
        drop: 2e-4,
        ..Default::default()
    };
    let (s, _) = faulty_transfer(heavy, 4096, 9);
    assert!(s.retries > 5, "{s}");
}

#[test]
fn gives_up_when_the_link_cannot_make_progress() {
    let t = Instant::now();
    let link = Faulty::new(
        LocalLink::new(DeviceConfig::small()),
        FaultRates {
            flip: 0.05,
            ..Default::default()
        },
        3,
    );
    let e = Client::connect(link, fast())
        .and_then(|mut c| c.write_words(0, &pattern(2000, 1)))
        .expect_err("must give up");
    assert!(matches!(e, LinkError::GaveUp { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn run_is_not_repeated_by_retries() {
    // Lose every answer to the first Run once: the retry must be answered from the cache.
    struct LoseFirstRunAnswer {
        inner: LocalLink,
        lost: bool,
        drop_next: bool,
    }
    impl Link for LoseFirstRunAnswer {
        fn send(&mut self, b: &[u8]) -> io::Result<()> {
            self.drop_next = b[2] == kind::RUN && !self.lost;
            self.inner.send(b)
        }
        fn recv(&mut self, buf: &mut [u8], t: Duration) -> io::Result<usize> {
            let n = self.inner.recv(buf, t)?;
            if self.drop_next && n > 0 {
                self.lost = true;
                self.drop_next = false;
                return Ok(0);
            }
            Ok(n)
        }
        fn describe(&self) -> String {
            "lossy".into()
        }
    }
    let link = LoseFirstRunAnswer {
        inner: LocalLink::new(DeviceConfig::small()),
        lost: false,
        drop_next: false,
    };
    let mut c = Client::connect(link, fast()).unwrap();
    let job = maxpool_job();
    Backend::write(&mut c, Region::Desc, 0, &job).unwrap();
    Backend::run(&mut c).unwrap();
    assert!(c.link().lost);
    assert_eq!(c.status().unwrap().jobs, 1);
}

struct Silent;
impl Link for Silent {
    fn send(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn recv(&mut self, _: &mut [u8], t: Duration) -> io::Result<usize> {
        std::thread::sleep(t);
        Ok(0)
    }
    fn describe(&self) -> String {
        "silent".into()
    }
}

struct Garbage(Rng);
impl Link for Garbage {
    fn send(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn recv(&mut self, buf: &mut [u8], _: Duration) -> io::Result<usize> {
        let n = buf.len().min(64);
        for b in &mut buf[..n] {
            *b = self.0.next_u64() as u8;
        }
        Ok(n)
    }
    fn describe(&self) -> String {
        "garbage".into()
    }
}

/// A device speaking a future protocol version.
struct OtherVersion {
    server: Server,
    out: Vec<u8>,
}
impl Link for OtherVersion {
    fn send(&mut self, b: &[u8]) -> io::Result<()> {
        let mut d = common::protocol::Decoder::new();
        for f in self.server.push(b).iter().filter_map(|&b| d.push(b)) {
            let mut f = f.unwrap();
            if f.kind == kind::INFO | common::protocol::ANSWER {
                f.payload[0..2].copy_from_slice(&2u16.to_le_bytes());
            }
            self.out
                .extend(Frame::new(f.kind, f.seq, f.payload).encode());
        }
        Ok(())
    }
    fn recv(&mut self, buf: &mut [u8], t: Duration) -> io::Result<usize> {
        if self.out.is_empty() {
            std::thread::sleep(t);
            return Ok(0);
        }
        let n = buf.len().min(self.out.len());
        buf[..n].copy_from_slice(&self.out[..n]);
        self.out.drain(..n);
        Ok(n)
    }
    fn describe(&self) -> String {
        "v2 device".into()
    }
}

#[test]
fn failing_devices_give_one_clear_error_in_bounded_time() {
    let t = Instant::now();
    let e = Client::connect(Silent, fast()).err().unwrap().to_string();
    assert!(
        e.contains("no valid answer to info after 9 attempts"),
        "{e}"
    );
    let e = Client::connect(Garbage(Rng::new(1)), fast())
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("garbage: no valid answer to info"), "{e}");
    let v2 = OtherVersion {
        server: Server::new(common::device::Device::new(DeviceConfig::small())),
        out: Vec::new(),
    };
    let e = Client::connect(v2, fast()).err().unwrap().to_string();
    assert_eq!(
        e,
        "v2 device: device speaks protocol version 2, this host speaks 1"
    );
    let e = open(
        "/nonexistent/ttyUSB9",
        DEFAULT_BAUD,
        Duration::from_millis(10),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.starts_with("cannot open /nonexistent/ttyUSB9: "), "{e}");
    assert!(!e.contains('\n'));
    assert!(t.elapsed() < Duration::from_secs(2));
    let _ = Info::new(DeviceConfig::small());
}

/// The functional device served over a pair of FIFOs, as `sim serve --xdma --functional`.
#[test]
fn xdma_fifo_pair() {
    let dir = std::env::temp_dir().join(format!("sqz-xdma-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (h2c, c2h) = (dir.join("h2c"), dir.join("c2h"));
    for p in [&h2c, &c2h] {
        let _ = std::fs::remove_file(p);
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }
    let (h, c) = (h2c.clone(), c2h.clone());
    let dev = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut rx = std::fs::File::open(&h).unwrap();
        let mut tx = std::fs::OpenOptions::new().write(true).open(&c).unwrap();
        let mut server = Server::new(common::device::Device::new(DeviceConfig::small()));
        let mut buf = [0u8; 4096];
        loop {
            let n = rx.read(&mut buf).unwrap();
            if n == 0 {
                return server.status().frames;
            }
            tx.write_all(&server.push(&buf[..n])).unwrap();
        }
    });
    let link = XdmaLink::open(&h2c, &c2h, Duration::from_secs(5)).unwrap();
    // A second host is refused while the first holds the device.
    let e = XdmaLink::open(&h2c, &c2h, Duration::from_secs(5))
        .err()
        .expect("a second host must be refused")
        .to_string();
    assert!(e.contains("another host is using this device"), "{e}");
    let mut c = Client::connect(link, ClientOptions::default()).unwrap();
    let words = pattern(600, 5);
    Backend::write(&mut c, Region::S, 3, &words).unwrap();
    assert_eq!(Backend::read(&mut c, Region::S, 3, 600).unwrap(), words);
    assert_eq!(c.stats.retries, 0);
    drop(c);
    // The connect's Reset zeroed the counters (Info before it, itself not counted).
    assert_eq!(dev.join().unwrap(), 3 + 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
