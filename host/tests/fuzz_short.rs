//! A short run of every fuzz target (`host::fuzz`) on mutated seeds and the regression
//! inputs: a few thousand cases in seconds, so a parser that panics again fails CI. The
//! long coverage-guided runs are `host/fuzz` (see `docs/limits.md`).

use host::fuzz::{mutate, regressions, targets};
use host::link::Rng;

/// Mutated cases per target.
const CASES: usize = 1500;

#[test]
fn every_target_survives_mutated_seeds() {
    for (name, target, seeds) in targets() {
        let mut rng = Rng::new(0x5eed ^ name.len() as u64);
        for s in &seeds {
            target(s);
        }
        for i in 0..CASES {
            let input = mutate(&mut rng, &seeds[i % seeds.len()]);
            target(&input);
        }
    }
}

#[test]
fn every_target_survives_the_regressions() {
    for (_, _, bytes, _) in regressions() {
        for (_, target, _) in targets() {
            target(&bytes);
        }
    }
}
