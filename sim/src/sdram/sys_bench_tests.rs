//! The DMA through the bus mux and the controller on the chip model: random transfers in
//! both directions against plain memories, and the throughput of long transfers.

use super::sys_bench::{Soak, SysBench};
use common::dma::{Dir, Transfer};

/// SDRAM windows the random transfers stay in: the bottom, and the top of the 32 MB (row
/// 8191, bank 3, the last column).
const TOP: u32 = 1 << 22;

/// Fills `[base, base + words)` of the SDRAM with one aligned transfer, reads it back the
/// same way, and returns the (to SDRAM, to chip) cycles.
fn fill(b: &mut SysBench, s: &mut Soak, base: u32, words: u32) -> (u64, u64) {
    let bus = common::bus::Region::A.addr(0);
    let w = Transfer {
        dir: Dir::ToSdram,
        sdram_word: base,
        bus_addr: bus,
        words,
    };
    let cw = s.run(b, &w, 0).unwrap();
    let r = Transfer {
        dir: Dir::ToChip,
        bus_addr: common::bus::Region::B.addr(0),
        ..w
    };
    let cr = s.run(b, &r, 0).unwrap();
    (cw, cr)
}

/// `n` random transfers inside the windows `(base, words)`; lengths up to `max_words`.
fn random(b: &mut SysBench, s: &mut Soak, windows: &[(u32, u32)], n: usize, max_words: u32) {
    for i in 0..n {
        let (base, size) = windows[s.rand() as usize % windows.len()];
        // Mostly short, now and then long.
        let cap = if s.rand().is_multiple_of(8) {
            max_words
        } else {
            40
        };
        let words = (s.rand() % cap.min(size) as u64) as u32 + (i % 3 != 0) as u32;
        let words = words.min(size);
        let sdram_word = base + (s.rand() % (size - words + 1) as u64) as u32;
        let region = 1 + (s.rand() % 5) as usize;
        let index = (s.rand() % (60_000 - words as u64)) as usize;
        let region = [
            common::bus::Region::A,
            common::bus::Region::B,
            common::bus::Region::S,
            common::bus::Region::Weights,
            common::bus::Region::Params,
        ][region - 1];
        let t = Transfer {
            dir: if s.rand().is_multiple_of(2) {
                Dir::ToSdram
            } else {
                Dir::ToChip
            },
            sdram_word,
            bus_addr: region.addr(index),
            words,
        };
        let poll = [0, 3, 17, 64][s.rand() as usize % 4];
        if let Err(e) = s.run(b, &t, poll) {
            panic!("transfer {i} ({t:?}, poll {poll}): {e}");
        }
    }
}

#[test]
fn dma_random_transfers_both_directions() {
    let mut b = SysBench::new();
    let mut s = Soak::new(21);
    let (cw, cr) = fill(&mut b, &mut s, 0, 2048);
    fill(&mut b, &mut s, TOP - 512, 512);
    eprintln!("2048 words: to SDRAM {cw} cycles, to chip {cr} cycles");
    random(&mut b, &mut s, &[(0, 2048), (TOP - 512, 512)], 150, 600);
    // The status word counts every transfer.
    let last = *b.status.last().unwrap();
    assert!(last >> 32 > 150, "{last:#x}");
    assert!(b.dma_bus_ops > 0);
}

/// 0 words: done at once; 1 word at odd and even SDRAM words (half-burst masks).
#[test]
fn dma_single_words_and_empty_transfer() {
    let mut b = SysBench::new();
    let mut s = Soak::new(5);
    fill(&mut b, &mut s, 0, 16);
    for w in 0..8 {
        for dir in [Dir::ToSdram, Dir::ToChip] {
            let t = Transfer {
                dir,
                sdram_word: w,
                bus_addr: common::bus::Region::S.addr(100 + w as usize),
                words: 1,
            };
            s.run(&mut b, &t, 0).unwrap();
        }
    }
    let t = Transfer {
        dir: Dir::ToChip,
        sdram_word: 3,
        bus_addr: common::bus::Region::S.addr(0),
        words: 0,
    };
    s.run(&mut b, &t, 5).unwrap();
}

/// Long transfers: the sustained rate (docs/sdram.md) and a long random soak.
#[test]
#[ignore = "long: about a minute"]
fn dma_soak() {
    let mut b = SysBench::new();
    let mut s = Soak::new(2026);
    let n = 65_536;
    let (cw, cr) = fill(&mut b, &mut s, 0, n);
    let rate = |c: u64| n as f64 / c as f64;
    eprintln!(
        "{n} words: to SDRAM {cw} cycles ({:.4} words/cycle), to chip {cr} cycles ({:.4})",
        rate(cw),
        rate(cr)
    );
    fill(&mut b, &mut s, TOP - 8192, 8192);
    random(&mut b, &mut s, &[(0, n), (TOP - 8192, 8192)], 5000, 4096);
    eprintln!("soak: {} cycles, 0 chip rule violations", b.cycles);
}
