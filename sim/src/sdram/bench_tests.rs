//! The Verilated controller on the chip model: random traffic against a plain memory, and
//! the sustained bandwidth of long sequential streams (refresh included).

use super::bench::{Bench, Client, Request, Run};
use common::sdram::{SdramPart, SdramTiming};

/// xorshift64: the same traffic on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The chip of each ULX3S part at 100 MHz with the controller's CAS latency.
fn parts(cl: u32) -> [SdramTiming; 2] {
    [
        SdramPart::mt48lc16m16a2().at(100_000_000, cl),
        SdramPart::as4c32m16sb().at(100_000_000, cl),
    ]
}

/// Bursts in a row across the 4 banks (4 pages of 64 bursts).
const ROW_BURSTS: u64 = 256;

/// `n` requests over a few rows at the bottom and the top of memory: random lengths, reads
/// only of what was written, so row hits, misses and bank changes all occur.
fn random_requests(rng: &mut Rng, n: usize) -> Vec<Request> {
    let mut written = std::collections::BTreeSet::new();
    let mut reqs = Vec::new();
    while reqs.len() < n {
        let bursts = 1 + rng.below(40);
        let rows = 6 * ROW_BURSTS;
        let mut start = rng.below(rows - bursts);
        if rng.next() & 1 == 1 {
            start += 8192 * ROW_BURSTS - rows;
        }
        let write = written.len() < 64 || rng.below(2) == 0;
        if write {
            written.extend(start..start + bursts);
        } else {
            // A run of written bursts from a random written one.
            let from = *written
                .iter()
                .nth(rng.below(written.len() as u64) as usize)
                .unwrap();
            let len = (from..from + bursts)
                .take_while(|b| written.contains(b))
                .count() as u64;
            start = from;
            reqs.push(Request {
                write,
                addr: (start * 8) as u32,
                bursts: len as u16,
            });
            continue;
        }
        reqs.push(Request {
            write,
            addr: (start * 8) as u32 | rng.below(8) as u32,
            bursts: bursts as u16,
        });
    }
    reqs
}

fn random_traffic(cl: u32, chip: SdramTiming, n: usize, seed: u64) -> Run {
    let mut rng = Rng(seed);
    let reqs = random_requests(&mut rng, n);
    let mut b = Bench::new(cl, chip);
    let mut client = Client::default();
    let mut stalls = Rng(seed ^ 0x5555);
    client
        .run(&mut b, &reqs, |_| {
            let r = stalls.below(8);
            (r == 0, r == 1)
        })
        .unwrap_or_else(|e| panic!("CAS latency {cl}: {e}"))
}

#[test]
fn random_traffic_matches_memory() {
    for cl in [2, 3] {
        for chip in parts(cl) {
            let name = format!("{cl}");
            let run = random_traffic(cl, chip, 300, 0x1234_5678 + cl as u64);
            eprintln!(
                "random traffic, CAS {name}: {} words written, {} read in {} cycles: {:.3} words/cycle",
                run.words_written,
                run.words_read,
                run.cycles,
                run.words_per_cycle()
            );
            assert!(run.words_read > 10_000 && run.words_written > 10_000);
        }
    }
}

/// Bursts of the sequential streams: 4 rows of every bank, 32 refreshes.
const STREAM_BURSTS: u16 = 3072;

/// Write then read `bursts` bursts sequentially from `addr`, one request each, the client
/// never stalling. Returns the two runs.
fn stream(cl: u32, chip: SdramTiming, addr: u32, bursts: u16) -> (Run, Run) {
    let mut b = Bench::new(cl, chip);
    let mut client = Client::default();
    let w = Request {
        write: true,
        addr,
        bursts,
    };
    let r = Request { write: false, ..w };
    let wr = client.run(&mut b, &[w], |_| (false, false)).unwrap();
    let rd = client.run(&mut b, &[r], |_| (false, false)).unwrap();
    let refreshes = b.chip.stats.refreshes;
    eprintln!(
        "CAS {cl}, {} bursts from {addr:#x}: write {:.4} words/cycle ({} cycles), read {:.4} ({} cycles), {refreshes} refreshes",
        bursts,
        wr.words_per_cycle(),
        wr.cycles,
        rd.words_per_cycle(),
        rd.cycles
    );
    (wr, rd)
}

#[test]
fn sequential_streams_sustain_bandwidth() {
    for cl in [2, 3] {
        let [chip, _] = parts(cl);
        let (wr, rd) = stream(cl, chip, 0, STREAM_BURSTS);
        assert_eq!(wr.words_written, STREAM_BURSTS as u64 * 8);
        assert_eq!(rd.words_read, STREAM_BURSTS as u64 * 8);
        // Refresh (about 17 cycles every 742) is the only loss: docs/sdram.md.
        assert!(wr.words_per_cycle() > 0.96, "{wr:?}");
        assert!(rd.words_per_cycle() > 0.96, "{rd:?}");
    }
}

#[test]
fn stream_ends_at_the_top_of_memory() {
    // The last 3 rows of every bank: row 8191, bank 3, column 511 is the last word.
    let bursts = 3 * ROW_BURSTS as u16;
    let addr = ((8192 * ROW_BURSTS - bursts as u64) * 8) as u32;
    let [_, chip] = parts(3);
    stream(3, chip, addr, bursts);
}

/// Sequential requests of `bursts` bursts each, back to back, covering `total` bursts:
/// written, then read. Returns the write and read runs.
fn chopped(cl: u32, bursts: u16, total: u32) -> (Run, Run) {
    let mut b = Bench::new(cl, parts(cl)[0].clone());
    let mut client = Client::default();
    let reqs = |write| -> Vec<Request> {
        (0..total / bursts as u32)
            .map(|i| Request {
                write,
                addr: i * bursts as u32 * 8,
                bursts,
            })
            .collect()
    };
    let wr = client.run(&mut b, &reqs(true), |_| (false, false)).unwrap();
    let rd = client
        .run(&mut b, &reqs(false), |_| (false, false))
        .unwrap();
    (wr, rd)
}

/// Single bursts at random rows anywhere in memory, written then read in another random
/// order, no stalls: every access a row miss.
fn scattered(cl: u32, n: usize) -> (Run, Run) {
    let mut rng = Rng(0xabcd + cl as u64);
    let mut b = Bench::new(cl, parts(cl)[0].clone());
    let mut client = Client::default();
    let mut at: Vec<u32> = (0..n)
        .map(|_| (rng.below(8192 * ROW_BURSTS) * 8) as u32)
        .collect();
    at.sort_unstable();
    at.dedup();
    let reqs = |write, at: &[u32]| -> Vec<Request> {
        at.iter()
            .map(|&addr| Request {
                write,
                addr,
                bursts: 1,
            })
            .collect()
    };
    // Shuffle both orders.
    for i in (1..at.len()).rev() {
        at.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let wr = client
        .run(&mut b, &reqs(true, &at), |_| (false, false))
        .unwrap();
    for i in (1..at.len()).rev() {
        at.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let rd = client
        .run(&mut b, &reqs(false, &at), |_| (false, false))
        .unwrap();
    (wr, rd)
}

#[test]
fn short_and_scattered_requests_complete() {
    let (wr, rd) = chopped(2, 1, 256);
    assert!(wr.words_per_cycle() > 0.5 && rd.words_per_cycle() > 0.5);
    let (wr, rd) = scattered(3, 64);
    assert_eq!(wr.words_written, rd.words_read);
}

/// The long runs of docs/sdram.md: `cargo test -p sim --release -- --ignored sdram`.
#[test]
#[ignore]
fn sdram_soak() {
    for cl in [2, 3] {
        stream(cl, parts(cl)[0].clone(), 0, 65535);
        for bursts in [1, 2, 4, 16, 64] {
            let (wr, rd) = chopped(cl, bursts, 16384);
            eprintln!(
                "soak CAS {cl}, sequential requests of {bursts} bursts: write {:.3}, read {:.3} words/cycle",
                wr.words_per_cycle(),
                rd.words_per_cycle()
            );
        }
        let (wr, rd) = scattered(cl, 20_000);
        eprintln!(
            "soak CAS {cl}, single bursts at random rows: write {:.3}, read {:.3} words/cycle",
            wr.words_per_cycle(),
            rd.words_per_cycle()
        );
        for chip in parts(cl) {
            let run = random_traffic(cl, chip, 20_000, 0xfeed + cl as u64);
            eprintln!(
                "soak random traffic, CAS {cl}: {} words in {} cycles, {:.3} words/cycle",
                run.words_written + run.words_read,
                run.cycles,
                run.words_per_cycle()
            );
        }
    }
}
