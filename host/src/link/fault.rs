//! Fault injection on any link: corrupt, drop or delay bytes at given rates, to test that
//! the protocol recovers (and gives up cleanly when it cannot).

use std::io;
use std::time::Duration;

use super::Link;

/// Small deterministic generator (xorshift64*): reproducible fault patterns from a seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Per-byte fault probabilities.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultRates {
    /// Flip one random bit.
    pub flip: f64,
    /// Lose the byte.
    pub drop: f64,
    /// Pause before the byte (by `delay`).
    pub delay: f64,
    pub delay_by: Duration,
}

impl FaultRates {
    /// Apply to a byte stream; counts the faults injected.
    pub fn apply(&self, rng: &mut Rng, bytes: &[u8], injected: &mut u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if rng.chance(self.drop) {
                *injected += 1;
                continue;
            }
            if rng.chance(self.delay) {
                *injected += 1;
                std::thread::sleep(self.delay_by);
            }
            if rng.chance(self.flip) {
                *injected += 1;
                out.push(b ^ 1 << (rng.next_u64() % 8));
            } else {
                out.push(b);
            }
        }
        out
    }
}

/// A link with faults injected in both directions.
pub struct Faulty<L> {
    inner: L,
    rates: FaultRates,
    rng: Rng,
    /// Faults injected so far.
    pub injected: u64,
}

impl<L: Link> Faulty<L> {
    pub fn new(inner: L, rates: FaultRates, seed: u64) -> Self {
        Faulty {
            inner,
            rates,
            rng: Rng::new(seed),
            injected: 0,
        }
    }
}

impl<L: Link> Link for Faulty<L> {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let b = self.rates.apply(&mut self.rng, bytes, &mut self.injected);
        self.inner.send(&b)
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let n = self.inner.recv(buf, timeout)?;
        let b = self
            .rates
            .apply(&mut self.rng, &buf[..n], &mut self.injected);
        buf[..b.len()].copy_from_slice(&b);
        Ok(b.len())
    }
    fn describe(&self) -> String {
        format!("{} (with faults {:?})", self.inner.describe(), self.rates)
    }
}
