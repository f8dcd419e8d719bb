//! Failure modes of the device path (issue 23, item 6), each against `sim serve` (the
//! Verilated `sqz_top`, link RTL and engine) and the real `host` binary; every answer that
//! is given must be the golden model's, layer by layer (`--verify`):
//! - the host killed (SIGKILL) at random points of an inference, then run again;
//! - the board restarted (`sim serve` killed and started again on the same XDMA folder)
//!   during an inference, with the real v1.1 model: that host fails with one error line or
//!   gives the right answer, and the next host gives the right answer;
//! - a second host on one XDMA device is refused while the first one works on;
//! - a slow device (bytes held back, shorter and longer than the host's timeout);
//! - the host's UART baud rate off the device's by ±1..6 %: the right answer or one error.
//!
//! Most cases use a short synthetic network (`synthetic::short_squeezenet`, every layer kind,
//! 87 kB on the wire): what they test does not depend on the model's size. Needs the shared
//! data (images, and the v1.1 model for the restart) and the `board_ulx3s` model; skips
//! loudly without them (fails under `SQZ_REQUIRE_DATA=1`). Measured numbers: docs/limits.md.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::synthetic;
use host::link::Rng;
use serde_json::Value;
use support::{Classified, classified, classify, classify_cmd, golden, host_binary, serve};

/// The host binary, the short network as a .q8 and its golden top-5 on the sample image.
struct Fixture {
    host: PathBuf,
    data: PathBuf,
    small: PathBuf,
    image: PathBuf,
    want: Value,
    tmp: PathBuf,
}

fn fixture(test: &str) -> Option<&'static Fixture> {
    let data = support::data_and_board_or_skip(test)?;
    static F: OnceLock<Fixture> = OnceLock::new();
    Some(F.get_or_init(|| {
        let tmp = support::scratch("failmodes");
        let small = tmp.join("short.q8");
        host::q8::save(&synthetic::short_squeezenet(23, 3), &small).unwrap();
        let host = host_binary();
        let image = data.join("reference/sample_input.jpg");
        let want = golden(&host, &small, &image);
        Fixture {
            host,
            data,
            small,
            image,
            want,
            tmp,
        }
    }))
}

/// Uniform in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn seed() -> u64 {
    std::env::var("SQZ_FAILMODES_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(23)
}

/// `host classify` of `model` on `device` with `--verify` and `args`.
fn on_device(f: &Fixture, model: &Path, device: &str, args: &[&str]) -> Classified {
    let mut a = vec!["--device", device, "--verify"];
    a.extend(args);
    classify(&f.host, model, &f.image, &a)
}

/// The run gave the golden top-5 (and `--verify` passed every layer).
fn assert_correct(c: &Classified, want: &Value, what: &str) {
    assert!(c.ok, "{what}: failed:\n{}", c.stderr);
    let json = c.json.as_ref().expect("a JSON line");
    assert_eq!(&json["top5"], want, "{what}: a wrong answer");
}

/// The run failed cleanly: exit 1 and exactly one `error:` line.
fn assert_one_error(c: &Classified, what: &str) {
    assert_eq!(c.code, Some(1), "{what}: {}", c.stderr);
    assert_eq!(c.errors().len(), 1, "{what}: one error line:\n{}", c.stderr);
}

/// Either of the above; returns whether it gave the answer.
fn correct_or_one_error(c: &Classified, want: &Value, what: &str) -> bool {
    if c.ok {
        assert_correct(c, want, what);
    } else {
        assert_one_error(c, what);
    }
    c.ok
}

fn spawn_on_device(f: &Fixture, model: &Path, device: &str, args: &[&str]) -> Child {
    let mut c = classify_cmd(&f.host, model, &f.image, &["--device", device]);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().unwrap()
}

/// Wait for `child` at most `limit` (then kill it and fail).
fn finish(mut child: Child, limit: Duration, what: &str) -> Classified {
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: the host did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    classified(child.wait_with_output().unwrap())
}

/// Kill hosts at `n` random points of an inference on `device` (each a SIGKILL after a
/// random delay within a whole run's wall time), and after each kill run again: the golden
/// answer every time. Returns the kill delays in ms.
fn kill_and_rerun(f: &Fixture, device: &str, n: usize, rng: &mut Rng) -> Vec<u64> {
    let t = Instant::now();
    assert_correct(&on_device(f, &f.small, device, &[]), &f.want, "first run");
    let whole = t.elapsed();
    let mut delays = Vec::new();
    while delays.len() < n {
        let delay = whole.mul_f64(unit(rng));
        let mut child = spawn_on_device(f, &f.small, device, &[]);
        std::thread::sleep(delay);
        let killed = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        child.wait().unwrap();
        if !killed {
            // It had ended already: not a kill point.
            continue;
        }
        delays.push(delay.as_millis() as u64);
        let what = format!("rerun after a kill at {delay:?} on {device}");
        assert_correct(&on_device(f, &f.small, device, &[]), &f.want, &what);
    }
    eprintln!(
        "{device}: {n} kills at {delays:?} ms (a whole run {:.0} ms): the golden top-5 after each",
        whole.as_secs_f64() * 1e3
    );
    delays
}

/// At 24 random points through the pty (byte-stream port) and 24 through XDMA streams.
#[test]
fn host_killed_at_random_points_then_rerun() {
    let Some(f) = fixture("host_killed_at_random_points_then_rerun") else {
        return;
    };
    let t = Instant::now();
    let mut rng = Rng::new(seed());
    let board = serve(&["--config", "ulx3s", "--stream"]);
    kill_and_rerun(f, &board.device, 24, &mut rng);
    let dir = f.tmp.join("xdma-kill");
    let board = serve(&["--config", "ulx3s", "--xdma", dir.to_str().unwrap()]);
    kill_and_rerun(f, &format!("xdma:{}", board.device), 24, &mut rng);
    eprintln!("48 kills and reruns in {:.1} s", t.elapsed().as_secs_f64());
}

/// The board restarted during an inference of the real v1.1 model on the same XDMA folder:
/// the host that was running fails with one error line or, had it not yet sent a job,
/// gives the golden answer; the next host gives the golden answer.
#[test]
#[ignore = "known bug (issue 23): a Run that reaches the restarted board before any Write runs the \
            all-zero descriptors, and the board answers nothing until that job ends; run with \
            --ignored once the device refuses a Run with no job loaded"]
fn board_restarted_mid_inference() {
    let Some(f) = fixture("board_restarted_mid_inference") else {
        return;
    };
    let q8 = f.tmp.join("v1.1.q8");
    support::quantize_v11(&f.host, &f.data, &q8);
    let want = golden(&f.host, &q8, &f.image);
    let dir = f.tmp.join("xdma-restart");
    let dir_s = dir.to_str().unwrap();
    let args = ["--config", "ulx3s", "--xdma", dir_s];
    let board = serve(&args);
    let device = format!("xdma:{}", board.device);
    let t = Instant::now();
    let host = spawn_on_device(f, &q8, &device, &["--timeout-ms", "1000"]);
    std::thread::sleep(Duration::from_secs(5));
    drop(board);
    let board = serve(&args);
    let during = finish(
        host,
        Duration::from_secs(300),
        "the host during the restart",
    );
    let gave = correct_or_one_error(&during, &want, "the host during the restart");
    eprintln!(
        "restart 5 s into a v1.1 inference: the host {} after {:.1} s{}",
        if gave {
            "gave the golden answer"
        } else {
            "failed"
        },
        t.elapsed().as_secs_f64(),
        during
            .errors()
            .first()
            .map_or(String::new(), |e| format!(": {e}"))
    );
    let t = Instant::now();
    let next = on_device(f, &q8, &device, &[]);
    assert_correct(&next, &want, "the next host after the restart");
    eprintln!(
        "the next host: the golden answer, every layer verified, in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    drop(board);
}

/// While a host works on an XDMA device a second one is refused at once, with one error
/// line, and the first one's answer is still right; once it is done the device is free.
#[test]
fn second_host_on_xdma_is_refused() {
    let Some(f) = fixture("second_host_on_xdma_is_refused") else {
        return;
    };
    let dir = f.tmp.join("xdma-two");
    // Slowed down (one byte in 500 held 20 ms) so the first host is surely still at work.
    let board = serve(&[
        "--config",
        "ulx3s",
        "--xdma",
        dir.to_str().unwrap(),
        "--delay",
        "2e-3",
        "--delay-ms",
        "20",
    ]);
    let device = format!("xdma:{}", board.device);
    let first = spawn_on_device(f, &f.small, &device, &["--verify"]);
    std::thread::sleep(Duration::from_millis(1000));
    let t = Instant::now();
    let second = on_device(f, &f.small, &device, &[]);
    let took = t.elapsed();
    assert_one_error(&second, "the second host");
    let e = second.errors()[0];
    assert!(e.contains("another host is using this device"), "{e}");
    assert!(took < Duration::from_secs(5), "refused only after {took:?}");
    let first = finish(first, Duration::from_secs(120), "the first host");
    assert_correct(&first, &f.want, "the first host");
    assert_correct(
        &on_device(f, &f.small, &device, &[]),
        &f.want,
        "a host after the first",
    );
    eprintln!("second host refused in {took:?}: {e}");
}

/// Bytes held back (both directions) for less than the host's timeout, then for twice it
/// (the host resends; late answers to its earlier attempts are skipped): the right answer.
#[test]
fn slow_device_gives_the_right_answer() {
    let Some(f) = fixture("slow_device_gives_the_right_answer") else {
        return;
    };
    for (rate, ms) in [("1e-2", "5"), ("2e-4", "600")] {
        let board = serve(&[
            "--config",
            "ulx3s",
            "--stream",
            "--delay",
            rate,
            "--delay-ms",
            ms,
            "--seed",
            "5",
        ]);
        let t = Instant::now();
        let c = on_device(f, &f.small, &board.device, &["--timeout-ms", "300"]);
        let what = format!("--delay {rate} --delay-ms {ms}");
        assert_correct(&c, &f.want, &what);
        let retries = c.json.as_ref().unwrap()["link"]["retries"]
            .as_u64()
            .unwrap();
        if ms == "600" {
            assert!(
                retries > 0,
                "{what}: answers later than the timeout cost no retry"
            );
        }
        eprintln!(
            "{what}: the golden answer, {retries} retries, {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
}

/// The host's UART baud rate off the device's by ±1..6 % (the simulated board's host-side
/// UART, both directions, bit by bit through the RTL's UART): every point gives the golden
/// answer or one clear error, never a wrong answer; within ±2 % (what the receiver is
/// designed for) the answer.
#[test]
fn baud_mismatch_gives_the_answer_or_one_error() {
    let Some(f) = fixture("baud_mismatch_gives_the_answer_or_one_error") else {
        return;
    };
    // CI runs four points across the range (both signs, inside and beyond the ±2 % the
    // receiver is built for); `SQZ_BAUD_SWEEP=full` runs all twelve (docs/failure-modes.md).
    let points: Vec<i32> = if std::env::var("SQZ_BAUD_SWEEP").as_deref() == Ok("full") {
        (1..=6).flat_map(|p| [p, -p]).collect()
    } else {
        vec![2, -3, 5, -6]
    };
    // Two at a time: a point is a few seconds of Verilated UART at 4 cycles per bit.
    let results: Vec<(i32, bool, String, f64)> = points
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|s| {
                let runs: Vec<_> = pair
                    .iter()
                    .map(|&pct| {
                        s.spawn(move || {
                            let pct_s = pct.to_string();
                            let board = serve(&["--config", "ulx3s", "--baud-error", &pct_s]);
                            let t = Instant::now();
                            let c = on_device(
                                f,
                                &f.small,
                                &board.device,
                                &["--timeout-ms", "300", "--retries", "4"],
                            );
                            let what = format!("baud {pct:+} %");
                            let ok = correct_or_one_error(&c, &f.want, &what);
                            let e = c.errors().first().map_or(String::new(), |e| e.to_string());
                            (pct, ok, e, t.elapsed().as_secs_f64())
                        })
                    })
                    .collect();
                runs.into_iter()
                    .map(|r| r.join().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (pct, ok, e, secs) in &results {
        eprintln!(
            "baud {pct:+} %: {} ({secs:.1} s)",
            if *ok { "the golden answer" } else { e.as_str() }
        );
    }
    for (pct, ok, _, _) in &results {
        assert!(
            *ok || pct.abs() > 2,
            "baud {pct:+} %: no answer within ±2 %"
        );
    }
}
