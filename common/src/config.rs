//! Named device configurations: array shape and buffer sizes. The hardware is
//! generated from one of these, the host compiles jobs for the one the device reports.

use serde::{Deserialize, Serialize};

/// Bytes (= int8 lanes) in one activation or weight word: the MAC array consumes one
/// word of 8 input channels per row per cycle.
pub const LANES: usize = 8;

/// How the engine's memories and pipeline are built. It changes no size the host sees, so
/// the host compiles the same jobs either way; `Info` reports it (byte 7) so a host can
/// tell which board it is talking to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pipeline {
    /// Dual-port banked activation buffers, every memory and multiplier registered on both
    /// sides (ECP5 block RAMs and DSPs, 100 MHz).
    #[default]
    Full,
    /// A, B and S share one single-port memory (the iCE40 UP5K's SPRAMs) and the engine
    /// time-shares its port (reads on one clock parity, writes on the other), with the
    /// shorter pipeline of a slow, flip-flop-poor part.
    Lean,
}

impl Pipeline {
    /// The value `Info` carries (byte 7).
    pub fn code(self) -> u8 {
        match self {
            Pipeline::Full => 0,
            Pipeline::Lean => 1,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Pipeline::Full),
            1 => Some(Pipeline::Lean),
            _ => None,
        }
    }
}

/// Shape and sizes of one accelerator build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// Configuration name (`ulx3s`, `small`, `icebreaker`).
    pub name: String,
    /// Output channels computed in parallel (rows of the MAC array). Multipliers = rows * LANES.
    pub rows: usize,
    /// Requantizer units in the output stage (divides LANES).
    pub requant_units: usize,
    /// Words (of LANES bytes) in each of the activation buffers A and B.
    pub act_words: usize,
    /// Words in the on-chip squeeze buffer S.
    pub sq_words: usize,
    /// Words per row in the weight buffer (each row holds the weights of one output channel of a group).
    pub weight_words: usize,
    /// Entries in the per-channel parameter buffer (bias, multiplier, shift).
    pub param_words: usize,
    /// Steps in the job descriptor memory (a Fire module needs 3, or 4 with its pool).
    pub max_steps: usize,
    /// Design clock in Hz.
    pub clock_hz: u32,
    /// UART baud rate the design is built for.
    pub baud: u32,
    /// Memory organisation and pipeline depth of the engine.
    #[serde(default)]
    pub pipeline: Pipeline,
}

impl DeviceConfig {
    /// The main board: ULX3S, ECP5 LFE5U-85F (156 multipliers, 208 DP16KD).
    pub fn ulx3s() -> Self {
        DeviceConfig {
            name: "ulx3s".into(),
            rows: 16,
            requant_units: 4,
            act_words: 12 * 1024,
            sq_words: 4 * 1024,
            weight_words: 1024,
            param_words: 1024,
            max_steps: 4,
            clock_hz: 100_000_000,
            baud: 3_000_000,
            pipeline: Pipeline::Full,
        }
    }

    /// A small configuration for fast simulation and CI (32 multipliers).
    pub fn small() -> Self {
        DeviceConfig {
            name: "small".into(),
            rows: 4,
            requant_units: 2,
            act_words: 4 * 1024,
            sq_words: 1024,
            weight_words: 512,
            param_words: 512,
            max_steps: 4,
            clock_hz: 50_000_000,
            baud: 3_000_000,
            pipeline: Pipeline::Full,
        }
    }

    /// The tiny board: iCEBreaker, iCE40 UP5K (8 DSPs, 30 EBR, 4 SPRAM). A, B and S share
    /// the four SPRAMs (16K x 64 bit, see `Pipeline::Lean`): 6K + 6K + 4K words. That
    /// leaves the EBRs for 1K weight words (fire8/9's expand3x3 needs 576 per row for its
    /// smallest chunk of 8 channels), the parameters, descriptors and the link.
    pub fn icebreaker() -> Self {
        DeviceConfig {
            name: "icebreaker".into(),
            rows: 1,
            requant_units: 1,
            act_words: 6 * 1024,
            sq_words: 4 * 1024,
            weight_words: 1024,
            param_words: 256,
            max_steps: 4,
            clock_hz: 24_000_000,
            baud: 3_000_000,
            pipeline: Pipeline::Lean,
        }
    }

    /// All named configurations.
    pub fn all() -> Vec<Self> {
        vec![Self::ulx3s(), Self::small(), Self::icebreaker()]
    }

    /// Look a configuration up by name.
    pub fn by_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|c| c.name == name)
    }

    /// A, B and S share one single-port memory and the short pipeline (`Pipeline::Lean`).
    pub fn lean(&self) -> bool {
        self.pipeline == Pipeline::Lean
    }

    /// Multipliers in the MAC array.
    pub fn multipliers(&self) -> usize {
        self.rows * LANES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_consistent() {
        for c in DeviceConfig::all() {
            assert_eq!(LANES % c.requant_units, 0, "{}", c.name);
            assert!(c.rows >= 1 && c.max_steps >= 3, "{}", c.name);
            assert_eq!(DeviceConfig::by_name(&c.name), Some(c.clone()));
        }
        assert!(DeviceConfig::ulx3s().multipliers() >= 128);
        // The shared A/B/S memory is 16K words.
        for c in DeviceConfig::all().iter().filter(|c| c.lean()) {
            assert!(2 * c.act_words + c.sq_words <= 16 * 1024);
        }
    }
}
