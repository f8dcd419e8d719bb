//! Where the shared data (`../shared`: models, Caffe reference blobs, images) lives.
//!
//! `SQZ_DATA` names the folder; without it, `../shared` beside the workspace. Tests that
//! need the data call [`shared_or_skip`]: without the data they skip loudly, unless
//! `SQZ_REQUIRE_DATA=1` (set by `.ci/run`), which turns the skip into a failure. A test
//! missing anything else (a tool, a simulation model) goes through the same [`skip`].

use std::path::PathBuf;

/// The shared data folder, if it exists.
pub fn shared_dir() -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = match std::env::var_os("SQZ_DATA") {
        // A relative path means relative to where the command runs, or (for tests, which
        // cargo runs in each crate's folder) to the workspace root.
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_relative() && !d.join("README.md").exists() {
                workspace.join(d)
            } else {
                d
            }
        }
        None => workspace.join("../shared"),
    };
    dir.join("README.md").exists().then_some(dir)
}

/// The shared data folder for a test, or `None` after a [`skip`].
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    let d = shared_dir();
    if d.is_none() {
        skip(
            test,
            "shared data not found (set SQZ_DATA to the folder holding models/ and reference/)",
        );
    }
    d
}

/// Skip `test` loudly because of `why` (missing data, tool or simulation model), or fail it
/// when `SQZ_REQUIRE_DATA=1` (CI), so nothing a test needs goes missing unnoticed there.
/// Every crate's tests skip through this.
pub fn skip(test: &str, why: &str) {
    let msg = format!("SKIPPED {test}: {why}");
    if std::env::var("SQZ_REQUIRE_DATA").is_ok_and(|v| v == "1") {
        panic!("{msg}, and SQZ_REQUIRE_DATA=1");
    }
    eprintln!("{msg}");
}
