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

/// The long runs of docs/sdram.md: `cargo test -p sim --release -- --ignored sdram`.
#[test]
#[ignore]
fn sdram_soak() {
    for cl in [2, 3] {
        stream(cl, parts(cl)[0].clone(), 0, 65535);
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
