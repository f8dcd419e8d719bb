//! Where the multipliers and the weight RAMs sit on the ECP5 LFE5U-85F (the ULX3S builds).
//!
//! The 85F has 156 MULT18X18D in three rows of DSP tiles (grid rows 10, 34 and 58), 13 blocks
//! of 4 per row. Left to itself, nextpnr treats them as interchangeable: on the full array it
//! scattered each MAC row's 8 multipliers over all three DSP rows and across the chip, so every
//! row's adder tree and weight words crossed the die, and the router never converged. Here each
//! MAC row gets two adjacent blocks of one DSP row and each requantizer half a block, as
//! `BEL` attributes on the instances (`SQZ_ECP5_DSP` builds only; nextpnr places the cell there).
//! Rows fill the middle DSP row (34) first, then rows 58 and 10, in neighbouring pairs: the
//! two blocks either side of the centre, then the left pair, then the right pair. The centre
//! block of each DSP row holds two requantizers. A row's weight RAMs sit in the block
//! RAM row 12 tiles below its DSP row (22, 46, 70 for DSP rows 10, 34, 58), in the same
//! columns: otherwise the shared write and read addresses pull all 16 rows' RAMs to the
//! middle of the chip and each row's weight words cross it to reach the multipliers.

/// First column of each 4-multiplier DSP block (the centre clock spine shifts the right half).
const BLOCK_X: [usize; 13] = [4, 13, 22, 31, 40, 49, 58, 69, 78, 87, 96, 105, 114];
/// Grid rows of the DSP tiles, in fill order (the middle one first).
const DSP_Y: [usize; 3] = [34, 58, 10];
/// Block pairs for MAC rows within a DSP row: either side of the centre, then the left and
/// the right pair of neighbours; block 6 is for requantizers.
/// Rows 2k and 2k + 1 are neighbours (they share a weight read-back register, `MacRow`).
const ROW_BLOCKS: [(usize, usize); 6] = [(4, 5), (7, 8), (2, 3), (0, 1), (9, 10), (11, 12)];
const REQ_BLOCK: usize = 6;
/// The block RAM row (4 DP16KD per block, at columns +0, +2, +4, +6) below each DSP row.
fn ebr_y(dsp_y: usize) -> usize {
    dsp_y + 12
}

/// The nextpnr BEL names of one block's 4 multipliers.
fn block(y: usize, b: usize) -> [String; 4] {
    let x = BLOCK_X[b];
    [(0, 0), (1, 1), (4, 4), (5, 5)].map(|(dx, z)| format!("X{}/Y{y}/MULT18_{z}", x + dx))
}

/// The sites: MULT18X18D, 8 per MAC row (lane order) and 2 per requantizer (low, high
/// half), and DP16KD next to each MAC row.
#[derive(Clone, Debug, PartialEq)]
pub struct Floorplan {
    pub rows: Vec<[String; 8]>,
    pub requant: Vec<[String; 2]>,
    /// Per MAC row: the 8 DP16KD sites next to its multipliers, 4 by lanes 0-3 then 4 by
    /// lanes 4-7 (see `weight_sites`).
    pub rams: Vec<[String; 8]>,
}

impl Floorplan {
    /// Sites for MAC row `r`'s weight RAM built of `n` DP16KDs (4 or 8; DP16KD `i` holds
    /// lanes from `8 i / n`), each by the multipliers of its lanes.
    pub fn weight_sites(&self, r: usize, n: usize) -> Vec<String> {
        assert!(n == 4 || n == 8, "{n} DP16KDs per weight RAM");
        (0..n)
            .map(|i| self.rams[r][(i / (n / 2)) * 4 + i % (n / 2)].clone())
            .collect()
    }
}

/// Sites on the LFE5U-85F for `rows` MAC rows and `units` requantizers, or `None` when the
/// array does not fit this plan (then no placement is imposed).
pub fn ecp5_85f(rows: usize, units: usize) -> Option<Floorplan> {
    if rows > DSP_Y.len() * ROW_BLOCKS.len() || units > 2 * DSP_Y.len() {
        return None;
    }
    let place = |r: usize| {
        (
            DSP_Y[r / ROW_BLOCKS.len()],
            ROW_BLOCKS[r % ROW_BLOCKS.len()],
        )
    };
    let rams = (0..rows)
        .map(|r| {
            let (y, (b0, b1)) = place(r);
            std::array::from_fn(|i| {
                let x = BLOCK_X[if i < 4 { b0 } else { b1 }] + 2 * (i % 4);
                format!("X{x}/Y{}/EBR{}", ebr_y(y), i % 4)
            })
        })
        .collect();
    let rows = (0..rows)
        .map(|r| {
            let (y, (b0, b1)) = place(r);
            let mut s = block(y, b0).into_iter().chain(block(y, b1));
            std::array::from_fn(|_| s.next().unwrap())
        })
        .collect();
    let requant = (0..units)
        .map(|u| {
            let b = block(DSP_Y[u / 2], REQ_BLOCK);
            [b[2 * (u % 2)].clone(), b[2 * (u % 2) + 1].clone()]
        })
        .collect();
    Some(Floorplan {
        rows,
        requant,
        rams,
    })
}

/// The Verilog attribute that places an instance at `site` (empty without a site).
pub fn bel_attr(site: Option<&str>) -> String {
    site.map(|s| format!("(* BEL = \"{s}\" *)\n"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::DeviceConfig;
    use std::collections::HashSet;

    #[test]
    fn every_config_gets_distinct_sites_with_rows_in_two_adjacent_blocks() {
        for cfg in DeviceConfig::all() {
            let s = ecp5_85f(cfg.rows, cfg.requant_units).expect(&cfg.name);
            assert_eq!(s.rows.len(), cfg.rows);
            assert_eq!(s.requant.len(), cfg.requant_units);
            let all: Vec<&String> = s
                .rows
                .iter()
                .flatten()
                .chain(s.requant.iter().flatten())
                .collect();
            let set: HashSet<&&String> = all.iter().collect();
            assert_eq!(set.len(), all.len(), "{}: a site is used twice", cfg.name);
            assert!(all.len() <= 156);
            for row in &s.rows {
                // One DSP row, and at most 2 blocks (18 tile columns) wide.
                let xy: Vec<(usize, usize)> = row
                    .iter()
                    .map(|b| {
                        let mut f = b.split('/');
                        let x = f.next().unwrap()[1..].parse().unwrap();
                        let y = f.next().unwrap()[1..].parse().unwrap();
                        (x, y)
                    })
                    .collect();
                assert!(xy.iter().all(|p| p.1 == xy[0].1), "{row:?}");
                let (lo, hi) = (xy.iter().map(|p| p.0).min(), xy.iter().map(|p| p.0).max());
                assert!(hi.unwrap() - lo.unwrap() <= 16, "{row:?}");
            }
        }
        assert_eq!(
            ecp5_85f(16, 4).unwrap().rows[0][0],
            "X40/Y34/MULT18_0",
            "row 0 sits next to the middle DSP row's centre"
        );
        assert!(ecp5_85f(19, 4).is_none() && ecp5_85f(16, 7).is_none());
        // Weight RAMs: distinct sites in the block RAM row below, by their lanes' DSP block.
        let s = ecp5_85f(18, 6).unwrap();
        let rams: HashSet<&String> = s.rams.iter().flatten().collect();
        assert_eq!(rams.len(), 18 * 8);
        assert_eq!(s.rams[0][0], "X40/Y46/EBR0");
        assert_eq!(
            s.weight_sites(0, 4),
            [
                "X40/Y46/EBR0",
                "X42/Y46/EBR1",
                "X49/Y46/EBR0",
                "X51/Y46/EBR1"
            ]
        );
        assert_eq!(s.weight_sites(0, 8)[7], "X55/Y46/EBR3");
    }

    #[test]
    fn sites_match_the_85f_dsp_grid() {
        // nextpnr's names for the 85F's multipliers: 3 rows x 13 blocks x 4.
        let s = ecp5_85f(18, 6).unwrap();
        let n = s
            .rows
            .iter()
            .flatten()
            .chain(s.requant.iter().flatten())
            .count();
        assert_eq!(n, 156, "the full plan covers every multiplier of the chip");
        assert_eq!(block(58, 12)[3], "X119/Y58/MULT18_5");
        assert_eq!(block(10, 0)[0], "X4/Y10/MULT18_0");
    }
}
