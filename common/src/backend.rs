//! What runs jobs: the functional model, the Verilated RTL, or a board over a link all
//! implement [`Backend`], so one job executor (the compiler's) drives them all alike.

use crate::bus::Region;

/// Errors of a backend (link failures, simulation faults, device-reported errors).
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// A device that stores words in its memory map and runs the job in its descriptor memory.
pub trait Backend {
    /// Write consecutive words starting at `index` of `region`.
    fn write(&mut self, region: Region, index: usize, words: &[u64]) -> Result<(), BackendError>;
    /// Read `n` consecutive words starting at `index` of `region`.
    fn read(&mut self, region: Region, index: usize, n: usize) -> Result<Vec<u64>, BackendError>;
    /// Run the job in the descriptor memory to completion; returns the device cycles it took
    /// (0 where the backend has no clock, like the functional model).
    fn run(&mut self) -> Result<u64, BackendError>;
}
