//! Where a device's layer output first differs from the golden model's: the layer, the
//! byte (channel, row, column) and the job that wrote it. Used by `sim` (whole-network RTL
//! runs) and by `host classify --verify`.

use serde::Serialize;

use crate::LANES;
use crate::compile::LayerPlan;

/// The first byte where the device and the reference disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub layer: String,
    pub tile: usize,
    pub job: usize,
    pub channel: usize,
    pub y: usize,
    pub x: usize,
    /// Offset of the byte in the layer's CHW output.
    pub byte: usize,
    pub device: u8,
    pub reference: u8,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "layer {} tile {} (job {}): byte {} (channel {} at y {}, x {}) is {} on the device, {} in the golden model",
            self.layer,
            self.tile,
            self.job,
            self.byte,
            self.channel,
            self.y,
            self.x,
            self.device,
            self.reference
        )
    }
}

/// The first byte of `got` (layer `lp`'s output, CHW) that differs from `want`, located to
/// the job that wrote it. A length difference counts at the shorter's end.
pub fn first_mismatch(lp: &LayerPlan, got: &[u8], want: &[u8]) -> Option<Mismatch> {
    let (_, h, w) = lp.out_shape;
    let n = got.len().min(want.len());
    let i = (0..n)
        .find(|&i| got[i] != want[i])
        .or((got.len() != want.len()).then_some(n))?;
    let (channel, y, x) = (i / (h * w).max(1), i / w.max(1) % h.max(1), i % w.max(1));
    // The job that wrote this row and channel word.
    let (job, tile) = lp
        .jobs
        .iter()
        .enumerate()
        .find(|(_, j)| {
            j.output.as_ref().is_some_and(|t| {
                (t.r0..t.r1).contains(&y) && (t.c0..t.c1).contains(&(channel / LANES))
            })
        })
        .map(|(n, j)| (n, j.tile))
        .unwrap_or((0, 0));
    Some(Mismatch {
        layer: lp.name.clone(),
        tile,
        job,
        channel,
        y,
        x,
        byte: i,
        device: got.get(i).copied().unwrap_or(0),
        reference: want.get(i).copied().unwrap_or(0),
    })
}
