//! Write the fuzz seeds and regression inputs (`host::fuzz`) as the starting corpus of the
//! long fuzz runs: `cargo run -p host --example fuzz_corpus -- host/fuzz/corpus`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use host::fuzz::{regressions, targets};

fn main() -> Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: fuzz_corpus CORPUS_DIR")?,
    );
    let bad: Vec<Vec<u8>> = regressions().into_iter().map(|r| r.2).collect();
    for (name, _, seeds) in targets() {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        // Every regression goes to every target: a mutated model may become an image.
        for (i, s) in seeds.iter().chain(&bad).enumerate() {
            std::fs::write(d.join(format!("seed{i:02}")), s)?;
        }
        println!("{}: {} inputs", d.display(), seeds.len() + bad.len());
    }
    Ok(())
}
