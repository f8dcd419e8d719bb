//! The engine's memory map: how descriptor, buffers, weights and parameters are loaded
//! and read back over the engine's 64-bit word bus (driven by the command decoder on the
//! device, by the Verilator harness in `sim`, and modelled by `device.rs`).
//!
//! A bus address is `region << REGION_SHIFT | index`, one 64-bit word per index.

/// Position of the region number in a bus address.
pub const REGION_SHIFT: u32 = 20;
/// Width of the bus address.
pub const ADDR_BITS: u32 = 24;

/// Regions of the memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    /// Job descriptor: index = step * STEP_WORDS + word.
    Desc = 0,
    /// Activation buffer A: index = word.
    A = 1,
    /// Activation buffer B.
    B = 2,
    /// Squeeze buffer S.
    S = 3,
    /// Weights: index = word * rows + row (row = output channel within a group).
    Weights = 4,
    /// Per-channel parameters: index = entry; data = bias (bits 31:0, two's complement),
    /// multiplier m (47:32), shift (53:48).
    Params = 5,
}

impl Region {
    /// The region and word index of bus address `addr`, if the region exists.
    pub fn decode(addr: u32) -> Option<(Region, usize)> {
        let r = match addr >> REGION_SHIFT {
            0 => Region::Desc,
            1 => Region::A,
            2 => Region::B,
            3 => Region::S,
            4 => Region::Weights,
            5 => Region::Params,
            _ => return None,
        };
        Some((r, (addr & ((1 << REGION_SHIFT) - 1)) as usize))
    }

    /// The bus address of word `index` in this region.
    pub fn addr(self, index: usize) -> u32 {
        debug_assert!(index < 1 << REGION_SHIFT);
        (self as u32) << REGION_SHIFT | index as u32
    }
}

/// One entry of the parameter buffer: the output stage's bias and requantization.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Param {
    pub bias: i32,
    pub m: u16,
    pub shift: u8,
}

impl Param {
    /// Pack into a parameter word.
    pub fn to_word(self) -> u64 {
        (self.bias as u32 as u64) | (self.m as u64) << 32 | ((self.shift as u64) & 0x3f) << 48
    }
    /// Unpack a parameter word.
    pub fn from_word(w: u64) -> Self {
        Param {
            bias: w as u32 as i32,
            m: (w >> 32) as u16,
            shift: ((w >> 48) & 0x3f) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_roundtrip() {
        for p in [
            Param {
                bias: -1,
                m: 32767,
                shift: 47,
            },
            Param {
                bias: i32::MIN,
                m: 0,
                shift: 0,
            },
            Param {
                bias: 123456,
                m: 16384,
                shift: 20,
            },
        ] {
            assert_eq!(Param::from_word(p.to_word()), p);
        }
    }
}
