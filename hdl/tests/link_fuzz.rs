//! Differential fuzzing of the host link (issue 23, done-when 2): seeded cases into the
//! Verilated `sqz_top` and the Rust protocol model; the same answers and counters, no hang,
//! every recovery `Status` within the bound. 600 cases here, one in ten through the UART
//! pins; the long run is `cargo run --release -p hdl -- fuzz-link` (docs/limits.md). Also
//! the cases that found the bugs, with the counters they must give. Skips loudly without
//! Verilator, fails under `SQZ_REQUIRE_DATA=1`.

use std::sync::{Mutex, MutexGuard, OnceLock};

use common::protocol::{Command, Decoder, Frame, SYNC, Status};
use hdl::link_fuzz::case::{Case, Ev, generate};
use hdl::link_fuzz::{Fuzzer, fuzz_config};

/// One bench for the tests of this file (building it takes most of a minute).
fn fuzzer(test: &str) -> Option<MutexGuard<'static, Fuzzer>> {
    static F: OnceLock<Option<Mutex<Fuzzer>>> = OnceLock::new();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("link-fuzz");
    match F.get_or_init(|| Fuzzer::new(test, &dir).map(Mutex::new)) {
        Some(m) => Some(m.lock().unwrap_or_else(|e| e.into_inner())),
        None => {
            // The loud skip again, in this test's name.
            hdl::verilator::available_or_skip(test);
            None
        }
    }
}

#[test]
fn link_fuzz_rtl_against_model() {
    let Some(mut f) = fuzzer("link_fuzz_rtl_against_model") else {
        return;
    };
    let (seed, cases) = (0x5EED_2300u64, 600);
    let mut failed = Vec::new();
    for i in 0..cases {
        let case = generate(&f.target, seed + i, i % 10 == 9);
        if let Err(e) = f.check(&case) {
            failed.push(e);
        }
    }
    eprintln!("link fuzz: {}", f.report);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

fn timeout() -> u32 {
    common::protocol::frame_timeout_cycles(&fuzz_config()) as u32
}

/// `bytes`, the first after `gap` idle cycles.
fn after(gap: u32, bytes: &[u8]) -> Vec<Ev> {
    bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| Ev::Byte {
            gap: if i == 0 { gap } else { 0 },
            b,
        })
        .collect()
}

/// Run `evs`, then the recovery Status; both sides must agree. The answers, and the Status.
fn run(f: &mut Fuzzer, mut evs: Vec<Ev>) -> (Vec<Frame>, Status) {
    evs.push(Ev::Mark);
    evs.extend(after(timeout() + 1, &Command::Status.frame(0x77).encode()));
    let case = Case {
        seed: 0,
        uart: false,
        evs,
    };
    let out = f.check(&case).unwrap_or_else(|e| panic!("{e}"));
    let mut d = Decoder::new();
    let mut frames: Vec<Frame> = out
        .iter()
        .filter_map(|&b| d.push(b))
        .map(|r| r.unwrap())
        .collect();
    let st = frames.pop().unwrap();
    assert_eq!(st.seq, 0x77);
    (frames, Status::decode(&st.payload).unwrap())
}

/// Found by the fuzzer: the byte that comes exactly at the timeout is dropped with the
/// frame, but the RTL receiver still reported the length error (or CRC error) that byte
/// made, and a bad frame (or CRC error) was counted with no NAK sent.
#[test]
fn link_fuzz_byte_at_the_timeout_is_only_a_timeout() {
    let Some(mut f) = fuzzer("link_fuzz_byte_at_the_timeout_is_only_a_timeout") else {
        return;
    };
    let t = timeout();
    // The length's high byte makes it over the maximum.
    let mut evs = after(0, &[SYNC[0], SYNC[1], 0x06, 0x07, 0x00]);
    evs.extend(after(t, &[0xA5]));
    let (answers, s) = run(&mut f, evs);
    assert!(answers.is_empty(), "{answers:?}");
    assert_eq!((s.timeouts, s.bad_frames, s.crc_errors), (1, 0, 0));
    // The last CRC byte is wrong.
    let e = Command::Status.frame(7).encode();
    let mut evs = after(0, &e[..7]);
    evs.extend(after(t, &[e[7] ^ 1]));
    let (answers, s) = run(&mut f, evs);
    assert!(answers.is_empty(), "{answers:?}");
    assert_eq!((s.timeouts, s.bad_frames, s.crc_errors), (1, 0, 0));
    // One cycle earlier the byte counts.
    let mut evs = after(0, &e[..7]);
    evs.extend(after(t - 1, &[e[7] ^ 1]));
    let (answers, s) = run(&mut f, evs);
    assert_eq!(answers.len(), 1);
    assert_eq!((s.timeouts, s.bad_frames, s.crc_errors), (0, 0, 1));
}

/// Found by the fuzzer: the model dropped a lone first sync byte at the timeout, the RTL
/// (rightly: no frame has started) keeps it.
#[test]
fn link_fuzz_lone_sync_byte_outlasts_the_timeout() {
    let Some(mut f) = fuzzer("link_fuzz_lone_sync_byte_outlasts_the_timeout") else {
        return;
    };
    let e = Command::Status.frame(3).encode();
    let mut evs = after(0, &e[..1]);
    evs.extend(after(timeout() + 5, &e[1..]));
    let (answers, s) = run(&mut f, evs);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].seq, 3);
    assert_eq!((s.frames, s.timeouts), (2, 0));
}

/// Found by the fuzzer: the counters are zeroed for 28 cycles after a reset; two bad frames
/// in that time were counted once (one pending bit per counter), and a reset during the
/// zeroing did not start it again, so an event from before it was counted after it.
#[test]
fn link_fuzz_counters_while_they_are_zeroed() {
    let Some(mut f) = fuzzer("link_fuzz_counters_while_they_are_zeroed") else {
        return;
    };
    // Right after the power-on reset: two frames whose length is over the maximum.
    let bad = |seq: u8| [SYNC[0], SYNC[1], 0x01, seq, 0x68, 0xA5];
    let mut evs = after(0, &bad(1));
    evs.extend(after(0, &bad(2)));
    let (answers, s) = run(&mut f, evs.clone());
    assert_eq!(answers.len(), 2);
    assert_eq!(s.bad_frames, 2);
    // The same with a reset while the counters are still being zeroed.
    let mut evs2 = vec![Ev::Reset { cycles: 1 }];
    evs2.extend(after(0, &bad(3)));
    evs2.push(Ev::Reset { cycles: 3 });
    let (answers, s) = run(&mut f, evs2);
    assert_eq!(answers.len(), 1);
    assert_eq!((s.bad_frames, s.frames), (0, 1));
}
