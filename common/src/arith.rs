//! The arithmetic contract: the exact integer operations the hardware performs.
//!
//! The int8 golden model, the device model and the RTL all call (or mirror) these
//! functions; `docs/quantization.md` explains them. Change them only together.

/// Largest requantization multiplier (exclusive): `m` is an unsigned 15-bit value so that
/// the hardware multiplies a 32-bit accumulator by a positive 16-bit signed operand.
pub const M_LIMIT: u32 = 1 << 15;
/// Largest requantization shift (inclusive).
pub const MAX_SHIFT: u8 = 47;

/// How an output byte is produced from the requantized value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OutMode {
    /// ReLU fused: saturate to `[0, 255]`, the byte is an unsigned activation.
    Relu,
    /// No activation: saturate to `[-128, 127]`, the byte is a signed (two's complement) value.
    Linear,
}

impl OutMode {
    /// The mode of a layer with (`true`) or without a fused ReLU.
    pub fn of(relu: bool) -> OutMode {
        if relu { OutMode::Relu } else { OutMode::Linear }
    }
}

/// Fixed-point requantization of an int32 accumulator to one output byte.
///
/// `y = sat((acc * m + 2^(shift-1)) >> shift)` for `shift >= 1`, `y = sat(acc * m)` for
/// `shift == 0`; the product is exact (i64), `>>` is an arithmetic (flooring) shift, so
/// ties round towards +infinity (2.5 -> 3, -2.5 -> -2). `sat` clamps to the range of
/// `mode`. Panics in debug builds if `m` or `shift` are out of contract.
#[inline]
pub fn requantize(acc: i32, m: u16, shift: u8, mode: OutMode) -> u8 {
    debug_assert!((m as u32) < M_LIMIT, "multiplier {m} out of range");
    debug_assert!(shift <= MAX_SHIFT, "shift {shift} out of range");
    let prod = acc as i64 * m as i64;
    let y = if shift == 0 {
        prod
    } else {
        (prod + (1i64 << (shift - 1))) >> shift
    };
    saturate(y, mode)
}

/// Clamp to the output range of `mode` and return the byte as stored on the device.
#[inline]
pub fn saturate(y: i64, mode: OutMode) -> u8 {
    match mode {
        OutMode::Relu => y.clamp(0, 255) as u8,
        OutMode::Linear => y.clamp(-128, 127) as i8 as u8,
    }
}

/// The value of a stored activation byte as the multiplier sees it: signed tensors
/// (the network input) are two's complement, unsigned tensors (after ReLU) are 0..=255.
#[inline]
pub fn activation_value(byte: u8, signed: bool) -> i32 {
    if signed {
        byte as i8 as i32
    } else {
        byte as i32
    }
}

/// Accumulation: the hardware accumulator is 32 bits and wraps; the quantizer keeps
/// biases and products far from that (see docs/quantization.md), so wrapping never
/// happens for a calibrated model, but the contract is defined for every input.
#[inline]
pub fn mac(acc: i32, activation: i32, weight: i8) -> i32 {
    acc.wrapping_add(activation * weight as i32)
}

/// Choose `(m, shift)` so that `m / 2^shift` approximates `ratio` (> 0) as closely as the
/// 15-bit multiplier allows. Returns `(0, 0)` for a ratio that is zero or too small to
/// represent (every output is then 0 before saturation).
pub fn quantize_multiplier(ratio: f64) -> (u16, u8) {
    assert!(
        ratio.is_finite() && ratio >= 0.0,
        "ratio {ratio} must be finite and >= 0"
    );
    if ratio == 0.0 {
        return (0, 0);
    }
    // Normalise m into [2^14, 2^15) with the largest shift allowed.
    let mut shift: i32 = 14 - ratio.log2().floor() as i32;
    let mut m = (ratio * 2f64.powi(shift)).round();
    if m >= M_LIMIT as f64 {
        m = (m / 2.0).round();
        shift -= 1;
    }
    if shift < 0 {
        // Ratio >= 2^15: not representable, saturate to the largest multiplier.
        return ((M_LIMIT - 1) as u16, 0);
    }
    while shift > MAX_SHIFT as i32 {
        m = (m / 2.0).round();
        shift -= 1;
    }
    (m as u16, shift as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_round_up() {
        // 5 * 1 / 2 = 2.5 -> 3 ; -5 / 2 = -2.5 -> -2
        assert_eq!(requantize(5, 1, 1, OutMode::Linear), 3);
        assert_eq!(requantize(-5, 1, 1, OutMode::Linear) as i8, -2);
        assert_eq!(requantize(-7, 1, 1, OutMode::Linear) as i8, -3); // -3.5 -> -3
        assert_eq!(requantize(7, 1, 1, OutMode::Linear) as i8, 4); // 3.5 -> 4
    }

    #[test]
    fn saturates_both_ends() {
        assert_eq!(requantize(1000, 1, 0, OutMode::Relu), 255);
        assert_eq!(requantize(-1000, 1, 0, OutMode::Relu), 0);
        assert_eq!(requantize(1000, 1, 0, OutMode::Linear) as i8, 127);
        assert_eq!(requantize(-1000, 1, 0, OutMode::Linear) as i8, -128);
        assert_eq!(requantize(i32::MAX, 32767, 0, OutMode::Linear) as i8, 127);
        assert_eq!(requantize(i32::MIN, 32767, 0, OutMode::Linear) as i8, -128);
        // -(2^46 - 2^31) / 2^47 = -0.49998 rounds to 0
        assert_eq!(requantize(i32::MIN, 32767, 47, OutMode::Linear) as i8, 0);
        assert_eq!(requantize(i32::MIN, 32767, 46, OutMode::Linear) as i8, -1);
    }

    #[test]
    fn shift_zero_and_large_shifts() {
        assert_eq!(requantize(3, 40, 0, OutMode::Relu), 120);
        assert_eq!(requantize(i32::MAX, 32767, 47, OutMode::Relu), 0);
        assert_eq!(requantize(i32::MAX, 32767, 39, OutMode::Relu), 128);
    }

    #[test]
    fn multiplier_approximates_ratio() {
        for &r in &[1.0, 0.5, 1e-3, 3.7e-5, 0.999_99, 123.4] {
            let (m, s) = quantize_multiplier(r);
            let got = m as f64 / 2f64.powi(s as i32);
            assert!((got - r).abs() <= r * 2f64.powi(-14), "{r}: {m}/2^{s}");
        }
        // Below 2^-33 the shift limit leaves fewer than 14 bits of multiplier.
        let (m, s) = quantize_multiplier(1e-12);
        assert_eq!((m, s), (141, 47)); // 1e-12 * 2^47 = 140.7
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(1e6), (32767, 0));
    }

    proptest! {
        #[test]
        fn matches_real_rounding(acc in any::<i32>(), m in 0u16..32768, shift in 0u8..=47) {
            let exact = acc as f64 * m as f64 / 2f64.powi(shift as i32);
            let want = (exact + 0.5).floor();
            let got = requantize(acc, m, shift, OutMode::Linear) as i8 as f64;
            prop_assert_eq!(got, want.clamp(-128.0, 127.0));
            let got = requantize(acc, m, shift, OutMode::Relu) as f64;
            prop_assert_eq!(got, want.clamp(0.0, 255.0));
        }

        #[test]
        fn monotonic_in_acc(a in any::<i32>(), b in any::<i32>(), m in 0u16..32768, shift in 0u8..=47) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let f = |x| requantize(x, m, shift, OutMode::Linear) as i8;
            prop_assert!(f(lo) <= f(hi));
        }
    }
}
