//! The engine's timing schedule: every pipeline depth the hardware is built from and the
//! tests, the simulator and the docs rely on, computed in one place from the configuration.
//!
//! Cycles are counted from the feeder's issue, t0 (the cycle the sequencer presents the read
//! addresses). The full pipeline (`Pipeline::Full`) registers every memory and multiplier on
//! both sides for 100 MHz; the lean one (`Pipeline::Lean`) answers from the memories without
//! output registers, does not copy the activation word per row and sums the products in one
//! stage, and issues on every other cycle (its A/B/S memory is one single port).

use crate::config::{DeviceConfig, Pipeline};

/// Pipeline depths of one engine variant (see the module comment for t0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Cycles from one feeder issue to the next.
    pub issue_every: usize,
    /// Registers on the bus inputs (address, data, write, read, start) before the decode.
    pub bus_in: usize,
    /// The memories (activation buffers, parameters, weights) deliver the word read at t0:
    /// the activation stage (source select and padding).
    pub act: usize,
    /// The descriptor RAM (read latency 1) is delayed to `act` by registers on its read
    /// address (`desc_addr`) and on its word (`desc_data`).
    pub desc_addr: usize,
    pub desc_data: usize,
    /// The max-pool unit takes the source word.
    pub pool: usize,
    /// Cycles from the max-pool unit's input to its buffer write.
    pub pool_write: usize,
    /// The activation word reaches the multipliers' inputs (`MacRow::slot`).
    pub slot: usize,
    /// The MAC rows take their valid/first/last flags (each registers its own copy when
    /// this is before `mac`).
    pub row_flags: usize,
    /// The row's accumulator adds the pixel's sum; on the last tap the output stage
    /// captures the pixel.
    pub mac: usize,
    /// Requantizer stages: inputs taken in the drain cycle, the byte this many cycles later.
    pub requant: usize,
    /// Registers after the memories' answer to a bus read before `bus_rdata`.
    pub bus_answer: usize,
    /// Registers on the engine's buffer write before the bus/engine select (the shared port
    /// of the lean engine registers the write itself, and its write parity needs none).
    pub write_regs: usize,
}

impl Schedule {
    /// The schedule of `cfg`'s engine.
    pub fn of(cfg: &DeviceConfig) -> Self {
        match cfg.pipeline {
            // Memories: address register, RAM register, output register (3 cycles); the
            // activation word registered once (t4), copied per group (t5) and per row (t6),
            // multiplier inputs (t7) and products (t8), pair sums (t9), the sum (t10). The
            // max-pool unit (row walk) meets its line buffer a cycle after its input and
            // writes the cycle after.
            Pipeline::Full => Schedule {
                issue_every: 1,
                bus_in: 2,
                act: 3,
                desc_addr: 0,
                desc_data: 2,
                pool: 4,
                pool_write: 2,
                slot: 6,
                row_flags: 9,
                mac: 10,
                requant: 8,
                bus_answer: 2,
                write_regs: 1,
            },
            // Memories answer at t2; the activation word at t3 is the multipliers' input,
            // products at t5, the sum at t6. The max-pool unit (window walk) writes a cycle
            // later than its maximum is ready, to keep the shared port's write parity.
            Pipeline::Lean => Schedule {
                issue_every: 2,
                bus_in: 1,
                act: 2,
                desc_addr: 1,
                desc_data: 0,
                pool: 3,
                pool_write: 2,
                slot: 3,
                row_flags: 6,
                mac: 6,
                requant: 6,
                bus_answer: 1,
                write_regs: 0,
            },
        }
    }

    /// Cycles from `bus_read` to `bus_rvalid` (docs/architecture.md, "Handshake details"):
    /// the input registers bring the request to t0, the memories answer at `act`, then the
    /// answer's registers.
    pub fn bus_read(&self) -> usize {
        self.bus_in + self.act + self.bus_answer
    }

    /// Stages of the output-address line to the max-pool unit's input: the line moves on
    /// issue cycles only, so a stage holds an address for `issue_every` cycles.
    pub fn pool_addr_stages(&self) -> usize {
        self.pool.div_ceil(self.issue_every)
    }

    /// Stages of the output-address line to the output stage's capture (`mac`).
    pub fn drain_addr_stages(&self) -> usize {
        self.mac.div_ceil(self.issue_every)
    }

    /// Flag-line tap of cycle `t` (the flag lines hold the flag at t(i+1) in bit i).
    pub fn tap(t: usize) -> usize {
        t - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_latency_is_the_contract() {
        assert_eq!(Schedule::of(&DeviceConfig::ulx3s()).bus_read(), 7);
        assert_eq!(Schedule::of(&DeviceConfig::icebreaker()).bus_read(), 4);
    }

    #[test]
    fn stages_fit_the_flag_lines() {
        for cfg in [DeviceConfig::ulx3s(), DeviceConfig::icebreaker()] {
            let s = Schedule::of(&cfg);
            // The core's flag lines are 16 bits; the rows take flags no later than the sum.
            assert!(s.mac <= 16 && s.row_flags <= s.mac && s.act < s.pool);
            assert!(s.slot >= s.act && s.pool_addr_stages() <= s.drain_addr_stages());
        }
    }
}
