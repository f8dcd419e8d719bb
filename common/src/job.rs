//! Job descriptors: what the host asks the device to compute.
//!
//! A job is a short list of [`Step`]s (at most `DeviceConfig::max_steps`) that the device's
//! sequencer runs back to back without the host: a Fire module is squeeze -> expand1x1 ->
//! expand3x3 (-> max pool), with the squeeze result kept in the on-chip buffer S.
//! Each step is packed into [`STEP_WORDS`] 64-bit words; the bit layout below is the one
//! definition the RTL decoder, the host and the device model share.
//!
//! Semantics (the device model in `device.rs` is the executable form):
//! - Activations are stored pixel-major in words of 8 channels: the word of channel group
//!   `cw` of pixel `(y, x)` of a tensor with `cw_n` words per pixel at base `b` is
//!   `b + (y * w + x) * cw_n + cw`. Channels past the tensor's count are zero.
//! - `Conv`: for every output channel group `g` (of `rows`), output pixel `(oy, ox)`, row `r`:
//!   `acc = bias[co]`, then for taps `(ky, kx)` with input pixel `(oy + ky + y0, ox + kx + x0)`
//!   inside the `in_h x in_w` tile and every channel word `cw` and lane `l`:
//!   `acc += act * weight`, weight word `weight_base + (g*k*k + ky*k + kx) * cin_words + cw`
//!   of weight row `r`. Outside the tile the input is zero (padding in hardware).
//!   The byte `requantize(acc, m[co], shift[co], relu)` goes to channel `co` of output pixel
//!   `(oy, ox)` at word `dst_base + (oy*out_w + ox) * dst_wpp + dst_off + co / 8`.
//! - `MaxPool`: 3x3 stride 2, windows clipped at the tile edge (Caffe's ceil mode); channel
//!   words `0..cin_words`, output like `Conv` with word offset `dst_off + cw`.
//! - `AvgPool` (global): `acc = bias[c] + sum over the tile`, requantized per channel `c < cout`,
//!   written as output pixel (0, 0).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::arith::OutMode;
use crate::config::{DeviceConfig, LANES};

/// 64-bit words per step in the descriptor memory.
pub const STEP_WORDS: usize = 4;

/// The operation of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Conv = 0,
    MaxPool = 1,
    AvgPool = 2,
}

/// On-chip activation buffers a step reads from and writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Buf {
    A = 0,
    B = 1,
    /// The squeeze buffer: Fire modules keep their squeeze output here.
    S = 2,
}

/// One step of a job. See the module documentation for the exact semantics.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    pub op: Op,
    /// Kernel size: 1 or 3 for `Conv`, 3 for `MaxPool`, ignored for `AvgPool`.
    pub kernel: u8,
    /// Input bytes are signed (the network input) rather than unsigned (after ReLU).
    pub in_signed: bool,
    /// Output mode: ReLU (u8) or linear (i8).
    pub relu: bool,
    pub src: Buf,
    pub dst: Buf,
    /// Words (of 8 channels) per input pixel.
    pub cin_words: u16,
    /// Output channels (`Conv`, `AvgPool`).
    pub cout: u16,
    pub in_h: u16,
    pub in_w: u16,
    pub out_h: u16,
    pub out_w: u16,
    /// Input row/column of output (0, 0)'s first tap: `-pad` normally.
    pub y0: i8,
    pub x0: i8,
    /// Base word of the input tensor in `src`.
    pub src_base: u16,
    /// Base word of the output tensor in `dst`.
    pub dst_base: u16,
    /// Words per output pixel in `dst` (the concatenated tensor's channel words).
    pub dst_wpp: u16,
    /// First word of this step's channels within an output pixel (concat offset).
    pub dst_off: u16,
    /// First weight word of this step (per weight row).
    pub weight_base: u16,
    /// First parameter entry (channel 0's bias, multiplier, shift).
    pub param_base: u16,
}

/// A bit field in the packed step (bit 0 = bit 0 of the step's first word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub lsb: u32,
    pub width: u32,
}

/// The packed layout of a step: `(name, field)`, in order. Widths bound the values.
pub mod fields {
    use super::Field;
    pub const OP: Field = Field { lsb: 0, width: 2 };
    pub const LAST: Field = Field { lsb: 2, width: 1 };
    pub const KERNEL: Field = Field { lsb: 3, width: 2 };
    pub const IN_SIGNED: Field = Field { lsb: 5, width: 1 };
    pub const RELU: Field = Field { lsb: 6, width: 1 };
    pub const SRC: Field = Field { lsb: 7, width: 2 };
    pub const DST: Field = Field { lsb: 9, width: 2 };
    pub const Y0: Field = Field { lsb: 11, width: 4 };
    pub const X0: Field = Field { lsb: 15, width: 4 };
    pub const CIN_WORDS: Field = Field { lsb: 19, width: 8 };
    pub const COUT: Field = Field { lsb: 27, width: 11 };
    pub const IN_H: Field = Field { lsb: 38, width: 9 };
    pub const IN_W: Field = Field { lsb: 47, width: 9 };
    pub const OUT_H: Field = Field { lsb: 64, width: 9 };
    pub const OUT_W: Field = Field { lsb: 73, width: 9 };
    pub const DST_WPP: Field = Field { lsb: 82, width: 8 };
    pub const DST_OFF: Field = Field { lsb: 90, width: 8 };
    pub const PARAM_BASE: Field = Field { lsb: 98, width: 12 };
    pub const SRC_BASE: Field = Field {
        lsb: 128,
        width: 16,
    };
    pub const DST_BASE: Field = Field {
        lsb: 144,
        width: 16,
    };
    pub const WEIGHT_BASE: Field = Field {
        lsb: 160,
        width: 16,
    };
    /// Every field with its name, for decoders and documentation.
    pub const ALL: &[(&str, Field)] = &[
        ("op", OP),
        ("last", LAST),
        ("kernel", KERNEL),
        ("in_signed", IN_SIGNED),
        ("relu", RELU),
        ("src", SRC),
        ("dst", DST),
        ("y0", Y0),
        ("x0", X0),
        ("cin_words", CIN_WORDS),
        ("cout", COUT),
        ("in_h", IN_H),
        ("in_w", IN_W),
        ("out_h", OUT_H),
        ("out_w", OUT_W),
        ("dst_wpp", DST_WPP),
        ("dst_off", DST_OFF),
        ("param_base", PARAM_BASE),
        ("src_base", SRC_BASE),
        ("dst_base", DST_BASE),
        ("weight_base", WEIGHT_BASE),
    ];
}

/// A descriptor that cannot be encoded or does not fit the device.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum JobError {
    #[error("field {field} = {value} does not fit in {width} bits")]
    FieldOverflow {
        field: &'static str,
        value: i64,
        width: u32,
    },
    #[error("invalid step: {0}")]
    Invalid(String),
    #[error("job has {0} steps; the device runs 1 to {1}")]
    StepCount(usize, usize),
}

/// Store `value` into field `f` of a packed word array (also used by the network program).
pub(crate) fn put(
    words: &mut [u64],
    name: &'static str,
    f: Field,
    value: i64,
    signed: bool,
) -> Result<(), JobError> {
    let (lo, hi) = if signed {
        (-(1i64 << (f.width - 1)), (1i64 << (f.width - 1)) - 1)
    } else {
        (0, (1i64 << f.width) - 1)
    };
    if value < lo || value > hi {
        return Err(JobError::FieldOverflow {
            field: name,
            value,
            width: f.width,
        });
    }
    let bits = (value as u64) & ((1u64 << f.width) - 1);
    for i in 0..f.width {
        if bits >> i & 1 == 1 {
            let b = f.lsb + i;
            words[(b / 64) as usize] |= 1 << (b % 64);
        }
    }
    Ok(())
}

/// Read field `f` of a packed word array.
pub(crate) fn get(words: &[u64], f: Field, signed: bool) -> i64 {
    let mut v: u64 = 0;
    for i in 0..f.width {
        let b = f.lsb + i;
        v |= (words[(b / 64) as usize] >> (b % 64) & 1) << i;
    }
    if signed && v >> (f.width - 1) & 1 == 1 {
        v as i64 - (1i64 << f.width)
    } else {
        v as i64
    }
}

impl Step {
    /// The output mode the requantizer uses.
    pub fn out_mode(&self) -> OutMode {
        OutMode::of(self.relu)
    }

    /// Number of output channel groups a `Conv` step runs (rows of the MAC array each).
    pub fn groups(&self, rows: usize) -> usize {
        (self.cout as usize).div_ceil(rows)
    }

    /// MAC operations the network asked for (padding taps included, as usually counted).
    pub fn nominal_macs(&self) -> u64 {
        match self.op {
            Op::Conv => {
                let k = self.kernel as u64;
                self.out_h as u64
                    * self.out_w as u64
                    * self.cout as u64
                    * k
                    * k
                    * self.cin_words as u64
                    * LANES as u64
            }
            _ => 0,
        }
    }

    /// Pack into descriptor words; `last` marks the final step of a job.
    pub fn encode(&self, last: bool) -> Result<[u64; STEP_WORDS], JobError> {
        use fields::*;
        let mut w = [0u64; STEP_WORDS];
        put(&mut w, "op", OP, self.op as i64, false)?;
        put(&mut w, "last", LAST, last as i64, false)?;
        put(&mut w, "kernel", KERNEL, self.kernel as i64, false)?;
        put(&mut w, "in_signed", IN_SIGNED, self.in_signed as i64, false)?;
        put(&mut w, "relu", RELU, self.relu as i64, false)?;
        put(&mut w, "src", SRC, self.src as i64, false)?;
        put(&mut w, "dst", DST, self.dst as i64, false)?;
        put(&mut w, "y0", Y0, self.y0 as i64, true)?;
        put(&mut w, "x0", X0, self.x0 as i64, true)?;
        put(&mut w, "cin_words", CIN_WORDS, self.cin_words as i64, false)?;
        put(&mut w, "cout", COUT, self.cout as i64, false)?;
        put(&mut w, "in_h", IN_H, self.in_h as i64, false)?;
        put(&mut w, "in_w", IN_W, self.in_w as i64, false)?;
        put(&mut w, "out_h", OUT_H, self.out_h as i64, false)?;
        put(&mut w, "out_w", OUT_W, self.out_w as i64, false)?;
        put(&mut w, "dst_wpp", DST_WPP, self.dst_wpp as i64, false)?;
        put(&mut w, "dst_off", DST_OFF, self.dst_off as i64, false)?;
        put(
            &mut w,
            "param_base",
            PARAM_BASE,
            self.param_base as i64,
            false,
        )?;
        put(&mut w, "src_base", SRC_BASE, self.src_base as i64, false)?;
        put(&mut w, "dst_base", DST_BASE, self.dst_base as i64, false)?;
        put(
            &mut w,
            "weight_base",
            WEIGHT_BASE,
            self.weight_base as i64,
            false,
        )?;
        Ok(w)
    }

    /// Unpack descriptor words; returns the step and its `last` flag.
    pub fn decode(w: &[u64; STEP_WORDS]) -> Result<(Step, bool), JobError> {
        use fields::*;
        let buf = |v: i64| match v {
            0 => Ok(Buf::A),
            1 => Ok(Buf::B),
            2 => Ok(Buf::S),
            _ => Err(JobError::Invalid(format!("buffer code {v}"))),
        };
        let op = match get(w, OP, false) {
            0 => Op::Conv,
            1 => Op::MaxPool,
            2 => Op::AvgPool,
            v => return Err(JobError::Invalid(format!("op code {v}"))),
        };
        let step = Step {
            op,
            kernel: get(w, KERNEL, false) as u8,
            in_signed: get(w, IN_SIGNED, false) == 1,
            relu: get(w, RELU, false) == 1,
            src: buf(get(w, SRC, false))?,
            dst: buf(get(w, DST, false))?,
            cin_words: get(w, CIN_WORDS, false) as u16,
            cout: get(w, COUT, false) as u16,
            in_h: get(w, IN_H, false) as u16,
            in_w: get(w, IN_W, false) as u16,
            out_h: get(w, OUT_H, false) as u16,
            out_w: get(w, OUT_W, false) as u16,
            y0: get(w, Y0, true) as i8,
            x0: get(w, X0, true) as i8,
            src_base: get(w, SRC_BASE, false) as u16,
            dst_base: get(w, DST_BASE, false) as u16,
            dst_wpp: get(w, DST_WPP, false) as u16,
            dst_off: get(w, DST_OFF, false) as u16,
            weight_base: get(w, WEIGHT_BASE, false) as u16,
            param_base: get(w, PARAM_BASE, false) as u16,
        };
        Ok((step, get(w, LAST, false) == 1))
    }

    /// Check that the step is well formed and stays inside the buffers of `cfg`.
    pub fn validate(&self, cfg: &DeviceConfig) -> Result<(), JobError> {
        let bad = |m: String| Err(JobError::Invalid(m));
        let buf_words = |b: Buf| match b {
            Buf::A | Buf::B => cfg.act_words,
            Buf::S => cfg.sq_words,
        };
        if self.cin_words == 0
            || self.in_h == 0
            || self.in_w == 0
            || self.out_h == 0
            || self.out_w == 0
        {
            return bad(format!("empty tensor in {self:?}"));
        }
        let in_end = self.src_base as usize
            + self.in_h as usize * self.in_w as usize * self.cin_words as usize;
        if in_end > buf_words(self.src) {
            return bad(format!(
                "input ends at word {in_end}, buffer {:?} has {}",
                self.src,
                buf_words(self.src)
            ));
        }
        let out_words = match self.op {
            Op::Conv | Op::AvgPool => (self.cout as usize).div_ceil(LANES),
            Op::MaxPool => self.cin_words as usize,
        };
        if self.dst_off as usize + out_words > self.dst_wpp as usize {
            return bad(format!(
                "output words {}+{} exceed {} words per pixel",
                self.dst_off, out_words, self.dst_wpp
            ));
        }
        let pixels = match self.op {
            Op::AvgPool => 1,
            _ => self.out_h as usize * self.out_w as usize,
        };
        let out_end = self.dst_base as usize + pixels * self.dst_wpp as usize;
        if out_end > buf_words(self.dst) {
            return bad(format!(
                "output ends at word {out_end}, buffer {:?} has {}",
                self.dst,
                buf_words(self.dst)
            ));
        }
        if self.src == self.dst {
            return bad("a step cannot read and write the same buffer".into());
        }
        match self.op {
            Op::Conv => {
                if self.kernel != 1 && self.kernel != 3 {
                    return bad(format!("conv kernel {} (1 or 3 supported)", self.kernel));
                }
                if self.cout == 0 {
                    return bad("conv with no output channels".into());
                }
                let k2 = self.kernel as usize * self.kernel as usize;
                let w_end = self.weight_base as usize
                    + self.groups(cfg.rows) * k2 * self.cin_words as usize;
                if w_end > cfg.weight_words {
                    return bad(format!(
                        "weights end at word {w_end}, the buffer has {}",
                        cfg.weight_words
                    ));
                }
                if self.param_base as usize + self.cout as usize > cfg.param_words {
                    return bad("parameters exceed the parameter buffer".into());
                }
            }
            Op::MaxPool => {
                if self.kernel != 3 {
                    return bad("max pool is 3x3 stride 2".into());
                }
                if (self.out_h as usize - 1) * 2 >= self.in_h as usize
                    || (self.out_w as usize - 1) * 2 >= self.in_w as usize
                {
                    return bad("max pool window starts outside the input".into());
                }
            }
            Op::AvgPool => {
                if self.cout == 0 || self.cout as usize > self.cin_words as usize * LANES {
                    return bad("average pool channel count".into());
                }
                if self.param_base as usize + self.cout as usize > cfg.param_words {
                    return bad("parameters exceed the parameter buffer".into());
                }
            }
        }
        Ok(())
    }
}

/// Encode a whole job (1..=max_steps steps) into descriptor words.
pub fn encode_job(steps: &[Step], cfg: &DeviceConfig) -> Result<Vec<u64>, JobError> {
    if steps.is_empty() || steps.len() > cfg.max_steps {
        return Err(JobError::StepCount(steps.len(), cfg.max_steps));
    }
    let mut out = Vec::with_capacity(steps.len() * STEP_WORDS);
    for (i, s) in steps.iter().enumerate() {
        s.validate(cfg)?;
        out.extend(s.encode(i + 1 == steps.len())?);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn fire_squeeze() -> Step {
        Step {
            dst: Buf::S,
            cin_words: 12,
            cout: 16,
            in_h: 10,
            in_w: 55,
            out_h: 10,
            out_w: 55,
            dst_wpp: 2,
            ..crate::synthetic::tiny_step()
        }
    }

    #[test]
    fn encode_decode_roundtrip() {
        let mut s = fire_squeeze();
        s.y0 = -1;
        s.x0 = -1;
        s.kernel = 3;
        s.weight_base = 65535;
        s.dst_base = 1234;
        s.src_base = 4321;
        s.param_base = 4095;
        s.cout = 2047;
        s.op = Op::AvgPool;
        s.src = Buf::S;
        let w = s.encode(true).unwrap();
        assert_eq!(Step::decode(&w).unwrap(), (s.clone(), true));
        let w = s.encode(false).unwrap();
        assert_eq!(Step::decode(&w).unwrap(), (s, false));
    }

    #[test]
    fn fields_do_not_overlap() {
        let mut used = [false; STEP_WORDS * 64];
        for (name, f) in fields::ALL {
            for b in f.lsb..f.lsb + f.width {
                assert!(!used[b as usize], "{name} overlaps at bit {b}");
                used[b as usize] = true;
            }
        }
    }

    #[test]
    fn overflow_is_an_error() {
        let mut s = fire_squeeze();
        s.y0 = 9;
        assert!(matches!(
            s.encode(true),
            Err(JobError::FieldOverflow { field: "y0", .. })
        ));
    }

    #[test]
    fn validate_catches_buffer_overrun() {
        let cfg = DeviceConfig::small();
        let s = fire_squeeze();
        assert!(s.validate(&cfg).is_err()); // 10*55*12 words > 4096
        let cfg = DeviceConfig::ulx3s();
        s.validate(&cfg).unwrap();
    }
}
