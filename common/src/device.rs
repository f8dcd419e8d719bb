//! Executable functional model of the device: its buffers, loaded over the memory map of
//! `bus.rs`, and the steps of `job.rs` executed exactly as the RTL must execute them.
//! The RTL is checked against this model byte for byte, and the host's layer-level int8
//! golden model is checked against it, so a mismatch points at a job and a step.

use crate::arith::{activation_value, mac, requantize};
use crate::bus::{Param, Region};
use crate::config::{DeviceConfig, LANES};
use crate::job::{Buf, JobError, Op, STEP_WORDS, Step};

/// The state of one device: buffers, weights, parameters and descriptor memory.
#[derive(Clone, Debug)]
pub struct Device {
    pub cfg: DeviceConfig,
    pub a: Vec<u64>,
    pub b: Vec<u64>,
    pub s: Vec<u64>,
    /// `weights[row][word]`.
    pub weights: Vec<Vec<u64>>,
    pub params: Vec<Param>,
    pub desc: Vec<u64>,
}

#[inline]
fn byte(w: u64, l: usize) -> u8 {
    (w >> (8 * l)) as u8
}

#[inline]
fn set_byte(w: &mut u64, l: usize, v: u8) {
    *w = (*w & !(0xffu64 << (8 * l))) | (v as u64) << (8 * l);
}

impl Device {
    /// A device of configuration `cfg` with every memory zero.
    pub fn new(cfg: DeviceConfig) -> Self {
        Device {
            a: vec![0; cfg.act_words],
            b: vec![0; cfg.act_words],
            s: vec![0; cfg.sq_words],
            weights: vec![vec![0; cfg.weight_words]; cfg.rows],
            params: vec![Param::default(); cfg.param_words],
            desc: vec![0; cfg.max_steps * STEP_WORDS],
            cfg,
        }
    }

    /// The words of an activation buffer.
    pub fn buf(&self, b: Buf) -> &[u64] {
        match b {
            Buf::A => &self.a,
            Buf::B => &self.b,
            Buf::S => &self.s,
        }
    }

    fn buf_mut(&mut self, b: Buf) -> &mut Vec<u64> {
        match b {
            Buf::A => &mut self.a,
            Buf::B => &mut self.b,
            Buf::S => &mut self.s,
        }
    }

    /// Bus write of one word. Out-of-range indices are ignored, as in the RTL.
    pub fn write(&mut self, region: Region, index: usize, data: u64) {
        let rows = self.cfg.rows;
        let slot = match region {
            Region::Desc => self.desc.get_mut(index),
            Region::A => self.a.get_mut(index),
            Region::B => self.b.get_mut(index),
            Region::S => self.s.get_mut(index),
            Region::Weights => self
                .weights
                .get_mut(index % rows)
                .and_then(|r| r.get_mut(index / rows)),
            Region::Params => {
                if let Some(p) = self.params.get_mut(index) {
                    *p = Param::from_word(data);
                }
                return;
            }
        };
        if let Some(slot) = slot {
            *slot = data;
        }
    }

    /// Bus read of one word (0 outside the memories).
    pub fn read(&self, region: Region, index: usize) -> u64 {
        let rows = self.cfg.rows;
        match region {
            Region::Desc => self.desc.get(index).copied(),
            Region::A => self.a.get(index).copied(),
            Region::B => self.b.get(index).copied(),
            Region::S => self.s.get(index).copied(),
            Region::Weights => self
                .weights
                .get(index % rows)
                .and_then(|r| r.get(index / rows))
                .copied(),
            Region::Params => self.params.get(index).map(|p| p.to_word()),
        }
        .unwrap_or(0)
    }

    /// The steps currently in descriptor memory (up to and including the one marked last).
    pub fn decode_job(&self) -> Result<Vec<Step>, JobError> {
        let mut steps = Vec::new();
        for i in 0..self.cfg.max_steps {
            let w: [u64; STEP_WORDS] = self.desc[i * STEP_WORDS..(i + 1) * STEP_WORDS]
                .try_into()
                .unwrap();
            let (s, last) = Step::decode(&w)?;
            s.validate(&self.cfg)?;
            steps.push(s);
            if last {
                return Ok(steps);
            }
        }
        Err(JobError::Invalid("no step is marked last".into()))
    }

    /// Run the job in descriptor memory (the `start` command).
    pub fn run(&mut self) -> Result<(), JobError> {
        let steps = self.decode_job()?;
        for s in &steps {
            self.run_step(s);
        }
        Ok(())
    }

    /// Execute one (validated) step.
    pub fn run_step(&mut self, s: &Step) {
        match s.op {
            Op::Conv => self.conv(s),
            Op::MaxPool => self.max_pool(s),
            Op::AvgPool => self.avg_pool(s),
        }
    }

    fn out_index(s: &Step, oy: usize, ox: usize, word: usize) -> usize {
        s.dst_base as usize
            + (oy * s.out_w as usize + ox) * s.dst_wpp as usize
            + s.dst_off as usize
            + word
    }

    fn conv(&mut self, s: &Step) {
        let rows = self.cfg.rows;
        let k = s.kernel as usize;
        let cw_n = s.cin_words as usize;
        let src = self.buf(s.src).to_vec();
        let mut dst = std::mem::take(self.buf_mut(s.dst));
        for g in 0..s.groups(rows) {
            for oy in 0..s.out_h as usize {
                for ox in 0..s.out_w as usize {
                    for r in 0..rows {
                        let co = g * rows + r;
                        if co >= s.cout as usize {
                            break;
                        }
                        let p = self.params[s.param_base as usize + co];
                        let mut acc = p.bias;
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = oy as i64 + ky as i64 + s.y0 as i64;
                                let ix = ox as i64 + kx as i64 + s.x0 as i64;
                                if iy < 0 || ix < 0 || iy >= s.in_h as i64 || ix >= s.in_w as i64 {
                                    continue; // zero padding
                                }
                                let in_base = s.src_base as usize
                                    + (iy as usize * s.in_w as usize + ix as usize) * cw_n;
                                let w_base =
                                    s.weight_base as usize + (g * k * k + ky * k + kx) * cw_n;
                                for cw in 0..cw_n {
                                    let a = src[in_base + cw];
                                    let w = self.weights[r][w_base + cw];
                                    for l in 0..LANES {
                                        acc = mac(
                                            acc,
                                            activation_value(byte(a, l), s.in_signed),
                                            byte(w, l) as i8,
                                        );
                                    }
                                }
                            }
                        }
                        let y = requantize(acc, p.m, p.shift, s.out_mode());
                        set_byte(
                            &mut dst[Self::out_index(s, oy, ox, co / LANES)],
                            co % LANES,
                            y,
                        );
                    }
                }
            }
        }
        *self.buf_mut(s.dst) = dst;
    }

    fn max_pool(&mut self, s: &Step) {
        let cw_n = s.cin_words as usize;
        let src = self.buf(s.src).to_vec();
        let mut dst = std::mem::take(self.buf_mut(s.dst));
        for oy in 0..s.out_h as usize {
            for ox in 0..s.out_w as usize {
                for cw in 0..cw_n {
                    let mut out = 0u64;
                    for l in 0..LANES {
                        let mut m = i32::MIN;
                        for iy in 2 * oy..(2 * oy + 3).min(s.in_h as usize) {
                            for ix in 2 * ox..(2 * ox + 3).min(s.in_w as usize) {
                                let w = src
                                    [s.src_base as usize + (iy * s.in_w as usize + ix) * cw_n + cw];
                                m = m.max(activation_value(byte(w, l), s.in_signed));
                            }
                        }
                        set_byte(&mut out, l, m as u8);
                    }
                    dst[Self::out_index(s, oy, ox, cw)] = out;
                }
            }
        }
        *self.buf_mut(s.dst) = dst;
    }

    fn avg_pool(&mut self, s: &Step) {
        let cw_n = s.cin_words as usize;
        let pixels = s.in_h as usize * s.in_w as usize;
        let mut out = vec![0u64; (s.cout as usize).div_ceil(LANES)];
        for c in 0..s.cout as usize {
            let p = self.params[s.param_base as usize + c];
            let mut acc = p.bias;
            for px in 0..pixels {
                let w = self.buf(s.src)[s.src_base as usize + px * cw_n + c / LANES];
                acc = acc.wrapping_add(activation_value(byte(w, c % LANES), s.in_signed));
            }
            set_byte(
                &mut out[c / LANES],
                c % LANES,
                requantize(acc, p.m, p.shift, s.out_mode()),
            );
        }
        for (i, w) in out.into_iter().enumerate() {
            let idx = Self::out_index(s, 0, 0, i);
            self.buf_mut(s.dst)[idx] = w;
        }
    }
}

impl crate::backend::Backend for Device {
    fn write(
        &mut self,
        region: Region,
        index: usize,
        words: &[u64],
    ) -> Result<(), crate::backend::BackendError> {
        for (i, &w) in words.iter().enumerate() {
            Device::write(self, region, index + i, w);
        }
        Ok(())
    }
    fn read(
        &mut self,
        region: Region,
        index: usize,
        n: usize,
    ) -> Result<Vec<u64>, crate::backend::BackendError> {
        Ok((0..n)
            .map(|i| Device::read(self, region, index + i))
            .collect())
    }
    fn run(&mut self) -> Result<u64, crate::backend::BackendError> {
        Device::run(self)?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::tests::fire_squeeze;

    /// A 1x1 conv computed by hand on a 1x1 image.
    #[test]
    fn conv_one_pixel_by_hand() {
        let mut d = Device::new(DeviceConfig::small());
        let mut s = fire_squeeze();
        s.src = Buf::A;
        s.dst = Buf::B;
        s.cin_words = 1;
        s.cout = 2;
        (s.in_h, s.in_w, s.out_h, s.out_w) = (1, 1, 1, 1);
        s.in_signed = true;
        // input channels: [-128, 127, 1, 0, ...]
        d.write(
            Region::A,
            0,
            u64::from_le_bytes([0x80, 0x7f, 1, 0, 0, 0, 0, 0]),
        );
        // row 0 weights [1, 1, 1, ...], row 1 [-1, 2, 0, ...]
        d.write(Region::Weights, 0, u64::from_le_bytes([1; 8]));
        d.write(
            Region::Weights,
            1,
            u64::from_le_bytes([0xff, 2, 0, 0, 0, 0, 0, 0]),
        );
        d.write(
            Region::Params,
            0,
            Param {
                bias: 10,
                m: 1,
                shift: 0,
            }
            .to_word(),
        );
        d.write(
            Region::Params,
            1,
            Param {
                bias: 0,
                m: 1,
                shift: 1,
            }
            .to_word(),
        );
        d.run_step(&s);
        // row 0: 10 - 128 + 127 + 1 = 10 ; row 1: (128 + 254) / 2 = 191
        assert_eq!(d.read(Region::B, 0).to_le_bytes()[..2], [10, 191]);
    }

    #[test]
    fn max_pool_ceil_mode_clips_windows() {
        let mut d = Device::new(DeviceConfig::small());
        // 4x4 single-word image, value = y*4+x in lane 0
        for i in 0..16 {
            d.write(Region::A, i, i as u64);
        }
        let mut s = fire_squeeze();
        s.op = Op::MaxPool;
        s.kernel = 3;
        s.dst = Buf::B;
        s.cin_words = 1;
        s.dst_wpp = 1;
        (s.in_h, s.in_w, s.out_h, s.out_w) = (4, 4, 2, 2);
        s.validate(&d.cfg).unwrap();
        d.run_step(&s);
        let got: Vec<u64> = (0..4).map(|i| d.read(Region::B, i)).collect();
        assert_eq!(got, vec![10, 11, 14, 15]);
    }

    /// Deterministic pseudo-random words (xorshift), so the test needs no data.
    fn words(n: usize, seed: &mut u64) -> Vec<u64> {
        (0..n)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                *seed
            })
            .collect()
    }

    /// A Fire module (squeeze 1x1 -> expand 1x1 + expand 3x3, concatenated) run over row
    /// bands with one halo row gives the same bytes as the whole image in one tile: the
    /// job format's `y0` and tile heights express the halo correctly.
    #[test]
    fn fire_over_row_bands_matches_whole_image() {
        let (h, w, cin_words) = (7usize, 5usize, 2usize);
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut cfg = DeviceConfig::small();
        cfg.rows = 4;
        let input = words(h * w * cin_words, &mut seed);
        let mut dev = Device::new(cfg.clone());
        for (r, row) in dev.weights.iter_mut().enumerate() {
            *row = words(cfg.weight_words, &mut seed);
            row.iter_mut().for_each(|x| *x ^= r as u64);
        }
        for (c, p) in dev.params.iter_mut().enumerate() {
            *p = Param {
                bias: c as i32 * 37 - 900,
                m: 20000 + c as u16,
                shift: 12,
            };
        }
        let fire = |in_h: u16, y0: i8, out_h: u16| {
            let base = Step {
                cin_words: cin_words as u16,
                cout: 8,
                in_h,
                in_w: w as u16,
                out_h: in_h,
                out_w: w as u16,
                dst_wpp: 1,
                ..fire_squeeze()
            };
            let e1 = Step {
                src: Buf::S,
                dst: Buf::B,
                cin_words: 1,
                cout: 8,
                out_h,
                y0,
                dst_wpp: 2,
                weight_base: 16,
                param_base: 8,
                ..base.clone()
            };
            let e3 = Step {
                kernel: 3,
                y0: y0 - 1,
                x0: -1,
                dst_off: 1,
                weight_base: 32,
                param_base: 16,
                ..e1.clone()
            };
            vec![base, e1, e3]
        };
        let run = |dev: &mut Device, rows: std::ops::Range<usize>, steps: &[Step]| {
            dev.a[..rows.len() * w * cin_words]
                .copy_from_slice(&input[rows.start * w * cin_words..rows.end * w * cin_words]);
            let desc = crate::job::encode_job(steps, &dev.cfg).unwrap();
            for (i, x) in desc.into_iter().enumerate() {
                dev.write(Region::Desc, i, x);
            }
            dev.run().unwrap();
        };
        let mut whole = dev.clone();
        run(&mut whole, 0..h, &fire(h as u16, 0, h as u16));
        let want = &whole.b[..h * w * 2];
        for band in [2usize, 3, 4] {
            let mut got = Vec::new();
            for r0 in (0..h).step_by(band) {
                let r1 = (r0 + band).min(h);
                let (i0, i1) = (r0.saturating_sub(1), (r1 + 1).min(h));
                let mut d = dev.clone();
                run(
                    &mut d,
                    i0..i1,
                    &fire((i1 - i0) as u16, (r0 - i0) as i8, (r1 - r0) as u16),
                );
                got.extend_from_slice(&d.b[..(r1 - r0) * w * 2]);
            }
            assert_eq!(got, want, "band height {band}");
        }
        assert!(
            want.iter().any(|&x| x != 0),
            "test data must not be all zero"
        );
    }
}
