//! The network program: what the network controller on the device executes to run a whole
//! inference from one start, with weights, activations and the program itself in SDRAM.
//!
//! A program is a list of [`Entry`]s run in order. Each entry is [`ENTRY_WORDS`] 64-bit words
//! in SDRAM (entry `i` at word `program + 2 * i`), packed as [`fields`] says (bit 0 = bit 0 of
//! the entry's first word; bits 64.. are the second word).
//!
//! Semantics (the executor in `exec.rs` is the executable form):
//! - `Transfer` hands a copy to the DMA engine, which runs transfers one at a time in program
//!   order. `ToChip` copies `runs` runs of `len` words: run `r` reads SDRAM words
//!   `sdram + r * stride ..+ len` and writes bus addresses `bus + r * len ..+ len` (on chip
//!   the runs are packed). `ToSdram` copies the other way. The controller goes on to the next
//!   entry once the DMA has taken the transfer.
//! - `Gather` is a `ToChip` transfer that builds the im2col patches of the first layer from
//!   the raw image (see [`Gather`]), so the host sends only the image.
//! - `Copy` hands the DMA an on-chip copy of `words` words from bus address `from` to `to`,
//!   word by word in increasing address order (a folded pool's carried conv row).
//! - `Start` starts the job in the descriptor memory; the controller goes on at once.
//! - `WaitJob` waits until the running job is done; `WaitDma` until every transfer issued
//!   so far has completed. `End` finishes the program (nothing may be running).
//!
//! **The concurrency rule.** A transfer and a job that may run at the same time touch
//! disjoint on-chip memory: a transfer issued while a job runs must not touch any word the
//! job reads or writes (its descriptor, source and destination ranges, weights and
//! parameters), and a job may start only if no transfer issued since the last `WaitDma`
//! touches its words. Jobs never touch SDRAM and the DMA runs in order, so with this rule
//! the result does not depend on timing. The executor checks it and stops with an error.

mod compile;
mod exec;
mod schedule;

pub use compile::{LayerCheck, Located, NetProgram, Variant, compile};
pub use exec::{ExecError, Machine, Trace};
pub use schedule::{LayerTime, Schedule, SdramModel, job_cycles};

use thiserror::Error;

use crate::job::{Field, JobError, get, put};

/// 64-bit words per entry.
pub const ENTRY_WORDS: usize = 2;

/// Direction of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    ToChip,
    ToSdram,
}

/// A (two-dimensional) copy between SDRAM and an on-chip memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transfer {
    pub dir: Dir,
    /// First SDRAM word (64-bit word index).
    pub sdram: u32,
    /// First on-chip bus address (`region << 20 | index`, as `crate::bus`).
    pub bus: u32,
    /// Words per run.
    pub len: u32,
    /// Runs (1 for a plain contiguous copy).
    pub runs: u32,
    /// SDRAM words from one run's start to the next's.
    pub stride: u32,
}

impl Transfer {
    /// Words moved.
    pub fn words(&self) -> u64 {
        self.len as u64 * self.runs as u64
    }
}

/// The im2col gather of a `k x k`, stride `stride`, padding `pad` convolution over the raw
/// image: `img_h x img_w` pixels of `img_c` bytes, stored pixel-major as packed bytes from
/// SDRAM word `sdram` (byte `(y * img_w + x) * img_c + c` is byte `i % 8` of word `i / 8`).
/// For output rows `oy0 .. oy0 + rows` and columns `0..ow` it writes `wpp` words per output
/// pixel, packed from bus address `bus` (pixel `((oy - oy0) * ow + ox) * wpp`). Byte `j` of a
/// pixel's words is, for `j < k * k * img_c` with `(ky, kx, c) = (j / (k * img_c),
/// j / img_c % k, j % img_c)`, the image byte at `(oy * stride + ky - pad, ox * stride + kx -
/// pad, c)`, or 0 outside the image; bytes from `k * k * img_c` on are 0. That is the layout
/// `Tensor::im2col` gives the host, so the job is the same 1x1 convolution. A DMA builds it
/// by streaming the image rows `oy0 * stride - pad ..` once through a buffer of `k` rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gather {
    pub sdram: u32,
    pub bus: u32,
    pub img_h: u16,
    pub img_w: u16,
    pub img_c: u8,
    pub k: u8,
    pub stride: u8,
    pub pad: u8,
    pub oy0: u16,
    pub rows: u16,
    pub ow: u16,
    pub wpp: u8,
}

impl Gather {
    /// Image rows the gather reads (clipped to the image).
    pub fn image_rows(&self) -> (usize, usize) {
        let (s, p, k) = (self.stride as isize, self.pad as isize, self.k as isize);
        let r0 = self.oy0 as isize * s - p;
        let r1 = (self.oy0 as isize + self.rows as isize - 1) * s - p + k;
        (
            r0.max(0) as usize,
            r1.clamp(0, self.img_h as isize) as usize,
        )
    }

    /// Words written on chip.
    pub fn words(&self) -> u64 {
        self.rows as u64 * self.ow as u64 * self.wpp as u64
    }
}

/// An on-chip copy (bus addresses as `crate::bus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Copy {
    pub from: u32,
    pub to: u32,
    pub words: u32,
}

/// One entry of a network program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    Transfer(Transfer),
    Gather(Gather),
    Copy(Copy),
    Start,
    WaitJob,
    WaitDma,
    End,
}

/// Operation codes (field `OP`).
/// Code 0 is no operation: zeroed memory stops the controller with an error.
pub mod op {
    pub const END: u8 = 7;
    pub const TO_CHIP: u8 = 1;
    pub const TO_SDRAM: u8 = 2;
    pub const GATHER: u8 = 3;
    pub const START: u8 = 4;
    pub const WAIT_JOB: u8 = 5;
    pub const WAIT_DMA: u8 = 6;
    pub const COPY: u8 = 8;
}

/// The packed layout of an entry. `OP` is common; the others depend on it.
pub mod fields {
    use crate::job::Field;
    const fn f(lsb: u32, width: u32) -> Field {
        Field { lsb, width }
    }
    pub const OP: Field = f(0, 4);
    /// `Transfer` and `Gather`: SDRAM word, bus address.
    pub const SDRAM: Field = f(4, 24);
    pub const BUS: Field = f(28, 24);
    /// `Transfer`.
    pub const LEN: Field = f(52, 16);
    pub const RUNS: Field = f(68, 16);
    pub const STRIDE: Field = f(84, 24);
    /// `Gather`.
    pub const IMG_H: Field = f(52, 10);
    pub const IMG_W: Field = f(62, 10);
    pub const IMG_C: Field = f(72, 4);
    pub const K: Field = f(76, 4);
    pub const G_STRIDE: Field = f(80, 3);
    pub const PAD: Field = f(83, 3);
    pub const OY0: Field = f(86, 10);
    pub const ROWS: Field = f(96, 10);
    pub const OW: Field = f(106, 10);
    pub const WPP: Field = f(116, 8);
    /// `Copy`.
    pub const FROM: Field = f(4, 24);
    pub const TO: Field = f(28, 24);
    pub const WORDS: Field = f(52, 16);
    /// The fields of a `Transfer` and of a `Gather`, for decoders and documentation.
    pub const TRANSFER: &[(&str, Field)] = &[
        ("op", OP),
        ("sdram", SDRAM),
        ("bus", BUS),
        ("len", LEN),
        ("runs", RUNS),
        ("stride", STRIDE),
    ];
    pub const COPY: &[(&str, Field)] = &[("op", OP), ("from", FROM), ("to", TO), ("words", WORDS)];
    pub const GATHER: &[(&str, Field)] = &[
        ("op", OP),
        ("sdram", SDRAM),
        ("bus", BUS),
        ("img_h", IMG_H),
        ("img_w", IMG_W),
        ("img_c", IMG_C),
        ("k", K),
        ("stride", G_STRIDE),
        ("pad", PAD),
        ("oy0", OY0),
        ("rows", ROWS),
        ("ow", OW),
        ("wpp", WPP),
    ];
}

/// An entry that cannot be encoded or decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FormatError {
    #[error(transparent)]
    Field(#[from] JobError),
    #[error("unknown operation code {0}")]
    Op(u64),
}

impl Entry {
    /// Pack into program words.
    pub fn encode(&self) -> Result<[u64; ENTRY_WORDS], FormatError> {
        use fields::*;
        let mut w = [0u64; ENTRY_WORDS];
        let mut set = |name, f, v: u64| put(&mut w, name, f, v as i64, false);
        match *self {
            Entry::Transfer(t) => {
                let code = match t.dir {
                    Dir::ToChip => op::TO_CHIP,
                    Dir::ToSdram => op::TO_SDRAM,
                };
                set("op", OP, code as u64)?;
                set("sdram", SDRAM, t.sdram as u64)?;
                set("bus", BUS, t.bus as u64)?;
                set("len", LEN, t.len as u64)?;
                set("runs", RUNS, t.runs as u64)?;
                set("stride", STRIDE, t.stride as u64)?;
            }
            Entry::Gather(g) => {
                set("op", OP, op::GATHER as u64)?;
                set("sdram", SDRAM, g.sdram as u64)?;
                set("bus", BUS, g.bus as u64)?;
                set("img_h", IMG_H, g.img_h as u64)?;
                set("img_w", IMG_W, g.img_w as u64)?;
                set("img_c", IMG_C, g.img_c as u64)?;
                set("k", K, g.k as u64)?;
                set("stride", G_STRIDE, g.stride as u64)?;
                set("pad", PAD, g.pad as u64)?;
                set("oy0", OY0, g.oy0 as u64)?;
                set("rows", ROWS, g.rows as u64)?;
                set("ow", OW, g.ow as u64)?;
                set("wpp", WPP, g.wpp as u64)?;
            }
            Entry::Copy(c) => {
                set("op", OP, op::COPY as u64)?;
                set("from", FROM, c.from as u64)?;
                set("to", TO, c.to as u64)?;
                set("words", WORDS, c.words as u64)?;
            }
            Entry::Start => set("op", OP, op::START as u64)?,
            Entry::WaitJob => set("op", OP, op::WAIT_JOB as u64)?,
            Entry::WaitDma => set("op", OP, op::WAIT_DMA as u64)?,
            Entry::End => set("op", OP, op::END as u64)?,
        }
        Ok(w)
    }

    /// Unpack program words.
    pub fn decode(w: &[u64; ENTRY_WORDS]) -> Result<Entry, FormatError> {
        use fields::*;
        let g = |f: Field| get(w, f, false) as u64;
        let transfer = |dir| {
            Entry::Transfer(Transfer {
                dir,
                sdram: g(SDRAM) as u32,
                bus: g(BUS) as u32,
                len: g(LEN) as u32,
                runs: g(RUNS) as u32,
                stride: g(STRIDE) as u32,
            })
        };
        Ok(match g(OP) as u8 {
            op::END => Entry::End,
            op::TO_CHIP => transfer(Dir::ToChip),
            op::TO_SDRAM => transfer(Dir::ToSdram),
            op::GATHER => Entry::Gather(Gather {
                sdram: g(SDRAM) as u32,
                bus: g(BUS) as u32,
                img_h: g(IMG_H) as u16,
                img_w: g(IMG_W) as u16,
                img_c: g(IMG_C) as u8,
                k: g(K) as u8,
                stride: g(G_STRIDE) as u8,
                pad: g(PAD) as u8,
                oy0: g(OY0) as u16,
                rows: g(ROWS) as u16,
                ow: g(OW) as u16,
                wpp: g(WPP) as u8,
            }),
            op::COPY => Entry::Copy(Copy {
                from: g(FROM) as u32,
                to: g(TO) as u32,
                words: g(WORDS) as u32,
            }),
            op::START => Entry::Start,
            op::WAIT_JOB => Entry::WaitJob,
            op::WAIT_DMA => Entry::WaitDma,
            v => return Err(FormatError::Op(v as u64)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(w: u32) -> impl Strategy<Value = u64> {
        0u64..1 << w
    }

    fn transfer() -> impl Strategy<Value = Entry> {
        use fields::*;
        (
            any::<bool>(),
            bits(SDRAM.width),
            bits(BUS.width),
            bits(LEN.width),
            bits(RUNS.width),
            bits(STRIDE.width),
        )
            .prop_map(|(d, sdram, bus, len, runs, stride)| {
                Entry::Transfer(Transfer {
                    dir: if d { Dir::ToChip } else { Dir::ToSdram },
                    sdram: sdram as u32,
                    bus: bus as u32,
                    len: len as u32,
                    runs: runs as u32,
                    stride: stride as u32,
                })
            })
    }

    fn gather() -> impl Strategy<Value = Entry> {
        use fields::*;
        (
            (bits(SDRAM.width), bits(BUS.width), bits(IMG_H.width)),
            (bits(IMG_W.width), bits(IMG_C.width), bits(K.width)),
            (bits(G_STRIDE.width), bits(PAD.width), bits(OY0.width)),
            (bits(ROWS.width), bits(OW.width), bits(WPP.width)),
        )
            .prop_map(|(a, b, c, d)| {
                Entry::Gather(Gather {
                    sdram: a.0 as u32,
                    bus: a.1 as u32,
                    img_h: a.2 as u16,
                    img_w: b.0 as u16,
                    img_c: b.1 as u8,
                    k: b.2 as u8,
                    stride: c.0 as u8,
                    pad: c.1 as u8,
                    oy0: c.2 as u16,
                    rows: d.0 as u16,
                    ow: d.1 as u16,
                    wpp: d.2 as u8,
                })
            })
    }

    fn copy() -> impl Strategy<Value = Entry> {
        use fields::*;
        (bits(FROM.width), bits(TO.width), bits(WORDS.width)).prop_map(|(f, t, w)| {
            Entry::Copy(Copy {
                from: f as u32,
                to: t as u32,
                words: w as u32,
            })
        })
    }

    fn entry() -> impl Strategy<Value = Entry> {
        prop_oneof![
            transfer(),
            gather(),
            copy(),
            Just(Entry::Start),
            Just(Entry::WaitJob),
            Just(Entry::WaitDma),
            Just(Entry::End),
        ]
    }

    proptest! {
        #[test]
        fn encode_decode_roundtrip(e in entry()) {
            let w = e.encode().unwrap();
            prop_assert_eq!(Entry::decode(&w).unwrap(), e);
        }

        #[test]
        fn decode_encode_roundtrip_on_used_bits(w0 in any::<u64>(), w1 in any::<u64>()) {
            // Any word pair with a known operation decodes, and re-encoding keeps exactly
            // the bits of that operation's fields.
            if let Ok(e) = Entry::decode(&[w0, w1]) {
                let back = e.encode().unwrap();
                let layout = match e {
                    Entry::Transfer(_) => fields::TRANSFER,
                    Entry::Gather(_) => fields::GATHER,
                    Entry::Copy(_) => fields::COPY,
                    _ => &[("op", fields::OP)][..],
                };
                let mut mask = [0u64; ENTRY_WORDS];
                for (_, f) in layout {
                    for b in f.lsb..f.lsb + f.width {
                        mask[(b / 64) as usize] |= 1 << (b % 64);
                    }
                }
                prop_assert_eq!([w0 & mask[0], w1 & mask[1]], back);
            }
        }
    }

    #[test]
    fn fields_do_not_overlap_and_fit() {
        for layout in [fields::TRANSFER, fields::GATHER, fields::COPY] {
            let mut used = [false; ENTRY_WORDS * 64];
            for (name, f) in layout {
                for b in f.lsb..f.lsb + f.width {
                    assert!(!used[b as usize], "{name} overlaps at bit {b}");
                    used[b as usize] = true;
                }
            }
        }
    }

    #[test]
    fn overflow_and_unknown_op_are_errors() {
        let t = Transfer {
            dir: Dir::ToChip,
            sdram: 1 << 24,
            bus: 0,
            len: 1,
            runs: 1,
            stride: 0,
        };
        assert!(matches!(
            Entry::Transfer(t).encode(),
            Err(FormatError::Field(JobError::FieldOverflow {
                field: "sdram",
                ..
            }))
        ));
        assert_eq!(Entry::decode(&[15, 0]), Err(FormatError::Op(15)));
    }
}
