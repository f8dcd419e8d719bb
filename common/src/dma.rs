//! One DMA transfer between the SDRAM and the engine's bus (`hdl::sdram::dma`): the one
//! definition the hardware, the network program (`program.rs`) and the simulator share.
//!
//! The SDRAM is addressed in 64-bit words (4 consecutive 16-bit columns, the first in bits
//! 15:0), the bus in its own 64-bit words (`common::bus`). A transfer moves `words` words in
//! ascending order on both sides. The DMA is also a set of registers on the bus (region
//! [`DMA_REGION`]) through which the host starts a transfer and reads its state.

use crate::bus::{ADDR_BITS, REGION_SHIFT};

/// Width of `Transfer::sdram_word`: 2^22 64-bit words = 32 MB, what every ULX3S has.
pub const SDRAM_WORD_BITS: u32 = 22;
/// Width of `Transfer::bus_addr` (`common::bus::ADDR_BITS`).
pub const BUS_ADDR_BITS: u32 = ADDR_BITS;
/// Width of `Transfer::words`: up to 2^20 words, a whole bus region.
pub const WORDS_BITS: u32 = 21;

/// Direction of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Dir {
    /// SDRAM → engine memory (bus writes).
    ToChip = 0,
    /// Engine memory → SDRAM (bus reads).
    ToSdram = 1,
}

/// One transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Transfer {
    pub dir: Dir,
    /// Index of the first 64-bit word in SDRAM.
    pub sdram_word: u32,
    /// Bus address of the first word, `region << 20 | index` (`common::bus`).
    pub bus_addr: u32,
    /// Number of 64-bit words (0 is a transfer that does nothing).
    pub words: u32,
}

impl Transfer {
    /// Whether the hardware can execute it: fields within their widths, the SDRAM range
    /// inside the 32 MB, the bus range inside one region.
    pub fn check(&self) -> Result<(), String> {
        let index = self.bus_addr & ((1 << REGION_SHIFT) - 1);
        if self.bus_addr >> BUS_ADDR_BITS != 0 {
            Err(format!(
                "bus address {:#x} wider than {BUS_ADDR_BITS} bits",
                self.bus_addr
            ))
        } else if self.words > 1 << REGION_SHIFT {
            Err(format!("{} words: at most a region (2^20)", self.words))
        } else if self.sdram_word as u64 + self.words as u64 > 1 << SDRAM_WORD_BITS {
            Err(format!(
                "SDRAM words {:#x} + {} beyond 32 MB",
                self.sdram_word, self.words
            ))
        } else if index as u64 + self.words as u64 > 1 << REGION_SHIFT {
            Err(format!(
                "bus words {:#x} + {} cross a region's end",
                self.bus_addr, self.words
            ))
        } else {
            Ok(())
        }
    }

    /// The two bus words that start it through the DMA registers ([`DMA_REGION`]):
    /// word 0 = `sdram_word` (bits 21:0), `words` (52:32), `dir` (63);
    /// word 1 = `bus_addr` (23:0). Writing word 1 starts the transfer.
    pub fn to_regs(&self) -> [u64; 2] {
        [
            self.sdram_word as u64 | (self.words as u64) << 32 | (self.dir as u64) << 63,
            self.bus_addr as u64,
        ]
    }

    /// Inverse of [`Transfer::to_regs`] (bits outside the fields are ignored, as the
    /// hardware does).
    pub fn from_regs(r: [u64; 2]) -> Self {
        Transfer {
            dir: if r[0] >> 63 != 0 {
                Dir::ToSdram
            } else {
                Dir::ToChip
            },
            sdram_word: (r[0] & ((1 << SDRAM_WORD_BITS) - 1)) as u32,
            bus_addr: (r[1] & ((1 << BUS_ADDR_BITS) - 1)) as u32,
            words: ((r[0] >> 32) & ((1 << WORDS_BITS) - 1)) as u32,
        }
    }
}

/// Bus region of the DMA registers (not a memory of the engine: the engine ignores writes
/// to it and answers reads with some word, which the DMA's bus interposer replaces).
/// Index 0: transfer word 0 (write); index 1: bus address, a write starts the transfer.
/// A read of any index answers [`status`]'s word.
pub const DMA_REGION: u32 = 7;

/// The DMA status word: bit 0 busy; bits 63:32 transfers finished since reset.
pub fn status(busy: bool, finished: u32) -> u64 {
    busy as u64 | (finished as u64) << 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Region;

    #[test]
    fn regs_round_trip_and_limits() {
        let t = Transfer {
            dir: Dir::ToSdram,
            sdram_word: (1 << 22) - 5,
            bus_addr: Region::Weights.addr(12),
            words: 5,
        };
        assert_eq!(t.check(), Ok(()));
        assert_eq!(Transfer::from_regs(t.to_regs()), t);
        assert!(Transfer { words: 6, ..t }.check().is_err());
        let r = Transfer {
            dir: Dir::ToChip,
            sdram_word: 0,
            bus_addr: Region::A.addr((1 << 20) - 3),
            words: 3,
        };
        assert_eq!(r.check(), Ok(()));
        assert_eq!(Transfer::from_regs(r.to_regs()), r);
        assert!(Transfer { words: 4, ..r }.check().is_err());
        assert!(
            Transfer {
                bus_addr: 1 << 24,
                ..r
            }
            .check()
            .is_err()
        );
    }
}
