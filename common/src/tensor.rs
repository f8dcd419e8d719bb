//! Activation tensors: [`Tensor8`], channel-major bytes as the reference and the golden
//! model compute them, and [`Tensor`], the device's layout: pixel-major (row-major pixels),
//! each pixel `cw` words of [`LANES`] channel bytes, channels past `c` zero. A band of rows
//! is one contiguous run of words, which is what a tile transfer moves.

use crate::config::LANES;
use crate::qnet::QNet;

/// A tensor of bytes in channel-major order `[c][h][w]`, the reference's and the golden
/// model's layout: `signed` bytes are two's complement, the others unsigned activations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor8 {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub signed: bool,
    pub data: Vec<u8>,
}

impl Tensor8 {
    /// The input of `net`: signed bytes `[in_c][in_h][in_w]`.
    pub fn input(net: &QNet, input: &[i8]) -> Tensor8 {
        let (c, h, w) = (net.in_c, net.in_h, net.in_w);
        assert_eq!(input.len(), c * h * w, "input must be {c}x{h}x{w} bytes");
        Tensor8 {
            c,
            h,
            w,
            signed: true,
            data: input.iter().map(|&v| v as u8).collect(),
        }
    }
}

/// An activation tensor of `c` channels, `h x w` pixels, in device words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    /// Words per pixel: `c.div_ceil(LANES)`.
    pub cw: usize,
    pub words: Vec<u64>,
}

impl Tensor {
    pub fn zeros(c: usize, h: usize, w: usize) -> Self {
        let cw = c.div_ceil(LANES);
        Tensor {
            c,
            h,
            w,
            cw,
            words: vec![0; h * w * cw],
        }
    }

    /// From channel-major bytes `[c][h][w]` (the golden model's layout).
    pub fn from_chw(bytes: &[u8], c: usize, h: usize, w: usize) -> Self {
        assert_eq!(bytes.len(), c * h * w, "tensor size");
        let mut t = Tensor::zeros(c, h, w);
        for ch in 0..c {
            for p in 0..h * w {
                t.set(p / w, p % w, ch, bytes[ch * h * w + p]);
            }
        }
        t
    }

    /// To channel-major bytes `[c][h][w]`.
    pub fn to_chw(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.c * self.h * self.w];
        for ch in 0..self.c {
            for p in 0..self.h * self.w {
                out[ch * self.h * self.w + p] = self.get(p / self.w, p % self.w, ch);
            }
        }
        out
    }

    #[inline]
    fn word_index(&self, y: usize, x: usize, word: usize) -> usize {
        (y * self.w + x) * self.cw + word
    }

    pub fn get(&self, y: usize, x: usize, ch: usize) -> u8 {
        (self.words[self.word_index(y, x, ch / LANES)] >> (8 * (ch % LANES))) as u8
    }

    pub fn set(&mut self, y: usize, x: usize, ch: usize, v: u8) {
        let i = self.word_index(y, x, ch / LANES);
        let sh = 8 * (ch % LANES);
        self.words[i] = (self.words[i] & !(0xffu64 << sh)) | (v as u64) << sh;
    }

    /// Words of rows `r0..r1`, channel words `c0..c1` of every pixel, packed pixel-major.
    pub fn gather(&self, r0: usize, r1: usize, c0: usize, c1: usize) -> Vec<u64> {
        if c0 == 0 && c1 == self.cw {
            return self.words[r0 * self.w * self.cw..r1 * self.w * self.cw].to_vec();
        }
        let mut out = Vec::with_capacity((r1 - r0) * self.w * (c1 - c0));
        for p in r0 * self.w..r1 * self.w {
            out.extend_from_slice(&self.words[p * self.cw + c0..p * self.cw + c1]);
        }
        out
    }

    /// Inverse of [`Tensor::gather`]: store packed words into rows `r0..`, channel words `c0..c1`.
    pub fn scatter(&mut self, r0: usize, c0: usize, c1: usize, words: &[u64]) {
        let n = c1 - c0;
        for (i, px) in words.chunks_exact(n).enumerate() {
            let p = r0 * self.w + i;
            self.words[p * self.cw + c0..p * self.cw + c1].copy_from_slice(px);
        }
    }

    /// The im2col lowering of a `k x k`, stride `s`, padding `pad` convolution: a tensor of
    /// the output's size whose channel `(ky*k + kx)*c + ci` is input channel `ci` at tap
    /// `(ky, kx)` (zero in the padding), so the convolution becomes a 1x1 one.
    pub fn im2col(&self, k: usize, s: usize, pad: usize) -> Tensor {
        let oh = (self.h + 2 * pad - k) / s + 1;
        let ow = (self.w + 2 * pad - k) / s + 1;
        let mut t = Tensor::zeros(self.c * k * k, oh, ow);
        for oy in 0..oh {
            for ox in 0..ow {
                for ky in 0..k {
                    for kx in 0..k {
                        let iy = (oy * s + ky) as isize - pad as isize;
                        let ix = (ox * s + kx) as isize - pad as isize;
                        if iy < 0 || ix < 0 || iy >= self.h as isize || ix >= self.w as isize {
                            continue;
                        }
                        for ci in 0..self.c {
                            let v = self.get(iy as usize, ix as usize, ci);
                            t.set(oy, ox, (ky * k + kx) * self.c + ci, v);
                        }
                    }
                }
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chw_roundtrip_and_bands() {
        let (c, h, w) = (11, 3, 4);
        let bytes: Vec<u8> = (0..c * h * w).map(|i| (i * 7 + 3) as u8).collect();
        let t = Tensor::from_chw(&bytes, c, h, w);
        assert_eq!(t.cw, 2);
        assert_eq!(t.to_chw(), bytes);
        let mut u = Tensor::zeros(c, h, w);
        u.scatter(1, 0, 1, &t.gather(1, 3, 0, 1));
        u.scatter(0, 1, 2, &t.gather(0, 3, 1, 2));
        u.scatter(0, 0, 1, &t.gather(0, 1, 0, 1));
        assert_eq!(u, t);
    }

    #[test]
    fn im2col_taps() {
        let (c, h, w) = (2, 5, 5);
        let bytes: Vec<u8> = (0..c * h * w).map(|i| i as u8 + 1).collect();
        let t = Tensor::from_chw(&bytes, c, h, w);
        let m = t.im2col(3, 2, 1);
        assert_eq!((m.c, m.h, m.w), (18, 3, 3));
        // output (1,1), tap (0,0) = input (1,1); tap (2,2) = input (3,3)
        assert_eq!(m.get(1, 1, 1), t.get(1, 1, 1));
        assert_eq!(m.get(1, 1, 8 * 2 + 1), t.get(3, 3, 1));
        // output (0,0), tap (0,0) is padding
        assert_eq!(m.get(0, 0, 0), 0);
    }
}
