//! PLL settings computed from the oscillator and the design clock, the way the vendor tools'
//! open equivalents (`ecppll`, `icepll`) choose them, so the board tops never carry hand-copied numbers.
//! The searches use exact integer arithmetic; ties break like the reference tools do.

use std::cmp::Ordering;

/// ECP5 `EHXPLLL` settings with `FEEDBK_PATH = "CLKOP"` (feedback from the primary output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ecp5Pll {
    pub clki_div: u32,
    pub clkfb_div: u32,
    pub clkop_div: u32,
    /// Coarse phase of CLKOP in VCO cycles; `ecppll` puts the primary output half a period late.
    pub clkop_cphase: u32,
    /// Achieved output frequency as an exact fraction `fout_num / fout_den` Hz.
    pub fout_num: u64,
    pub fout_den: u64,
    /// VCO frequency in Hz (rounded down).
    pub fvco_hz: u64,
}

/// iCE40 `SB_PLL40_PAD` settings with `FEEDBACK_PATH = "SIMPLE"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ice40Pll {
    pub divr: u32,
    pub divf: u32,
    pub divq: u32,
    pub filter_range: u32,
    /// Achieved output frequency as an exact fraction `fout_num / fout_den` Hz.
    pub fout_num: u64,
    pub fout_den: u64,
    /// VCO frequency in Hz (rounded down).
    pub fvco_hz: u64,
}

impl Ecp5Pll {
    pub fn fout_hz(&self) -> f64 {
        self.fout_num as f64 / self.fout_den as f64
    }
}

impl Ice40Pll {
    pub fn fout_hz(&self) -> f64 {
        self.fout_num as f64 / self.fout_den as f64
    }
}

// ECP5 family data sheet (FPGA-DS-02012) EHXPLLL limits, as used by Trellis' ecppll.
const ECP5_PFD_MIN: u64 = 3_125_000;
const ECP5_PFD_MAX: u64 = 400_000_000;
const ECP5_VCO_MIN: u64 = 400_000_000;
const ECP5_VCO_MAX: u64 = 800_000_000;
const ECP5_OUT_MIN: u64 = 10_000_000;
const ECP5_OUT_MAX: u64 = 400_000_000;

// iCE40 UltraPlus data sheet (FPGA-DS-02008) SB_PLL40 limits, as used by icestorm's icepll.
const ICE40_PFD_MIN: u64 = 10_000_000;
const ICE40_PFD_MAX: u64 = 133_000_000;
const ICE40_VCO_MIN: u64 = 533_000_000;
const ICE40_VCO_MAX: u64 = 1_066_000_000;
const ICE40_OUT_MIN: u64 = 16_000_000;
const ICE40_OUT_MAX: u64 = 275_000_000;

/// `|num/den - target|` as an exact fraction, for comparisons without rounding.
fn abs_err(num: u64, den: u64, target: u64) -> (u128, u128) {
    let n = num as u128;
    let t = target as u128 * den as u128;
    (n.abs_diff(t), den as u128)
}

fn cmp_frac(a: (u128, u128), b: (u128, u128)) -> Ordering {
    (a.0 * b.1).cmp(&(b.0 * a.1))
}

/// Search `EHXPLLL` dividers for `fout = fin * CLKFB_DIV / CLKI_DIV`, `fvco = fout * CLKOP_DIV`
/// (PFD 3.125–400 MHz, VCO 400–800 MHz, output 10–400 MHz). Smallest frequency error wins; among
/// equal errors the VCO nearest 600 MHz (mid-range), then the first found, as `ecppll` does.
pub fn ecp5_pll(fin_hz: u64, target_hz: u64) -> Result<Ecp5Pll, String> {
    let mut best: Option<(Ecp5Pll, (u128, u128), u64)> = None;
    for clki_div in 1..=128u64 {
        // fpfd = fin / clki_div must be within limits (exact comparisons by cross-multiplying).
        if fin_hz < ECP5_PFD_MIN * clki_div || fin_hz > ECP5_PFD_MAX * clki_div {
            continue;
        }
        for clkfb_div in 1..=80u64 {
            for clkop_div in 1..=128u64 {
                // fvco = fin * fb * op / ci
                let vco_num = fin_hz * clkfb_div * clkop_div;
                if vco_num < ECP5_VCO_MIN * clki_div || vco_num > ECP5_VCO_MAX * clki_div {
                    continue;
                }
                let fout_num = fin_hz * clkfb_div;
                let err = abs_err(fout_num, clki_div, target_hz);
                let fvco_hz = vco_num / clki_div;
                let vco_dist = fvco_hz.abs_diff(600_000_000);
                let better = match &best {
                    None => true,
                    Some((_, e, d)) => match cmp_frac(err, *e) {
                        Ordering::Less => true,
                        Ordering::Equal => vco_dist < *d,
                        Ordering::Greater => false,
                    },
                };
                if better {
                    let p = Ecp5Pll {
                        clki_div: clki_div as u32,
                        clkfb_div: clkfb_div as u32,
                        clkop_div: clkop_div as u32,
                        clkop_cphase: ecppll_cphase(fin_hz, clki_div, clkfb_div, clkop_div),
                        fout_num,
                        fout_den: clki_div,
                        fvco_hz,
                    };
                    best = Some((p, err, vco_dist));
                }
            }
        }
    }
    let (p, _, _) = best.ok_or_else(|| format!("no EHXPLLL setting from {fin_hz} Hz"))?;
    let fout = p.fout_hz();
    if fout < ECP5_OUT_MIN as f64 || fout > ECP5_OUT_MAX as f64 {
        return Err(format!("EHXPLLL output {fout} Hz outside 10-400 MHz"));
    }
    Ok(p)
}

/// `ecppll` delays the primary output by half an output period: `0.5 / fout * fvco` VCO cycles,
/// nominally `CLKOP_DIV / 2`, evaluated with its single-precision `fout`/`fvco` and truncated. Float
/// rounding makes that one less for some dividers (25 -> 100 MHz: 2, not 3). Reproduce its arithmetic
/// so the instance matches the reference tool exactly; with CLKOP feedback the phase does not change
/// the output clock.
fn ecppll_cphase(fin_hz: u64, clki_div: u64, clkfb_div: u64, clkop_div: u64) -> u32 {
    let fpfd = (fin_hz as f64 / 1e6) as f32 / clki_div as f32;
    let fvco = fpfd * clkfb_div as f32 * clkop_div as f32;
    let fout = fvco / clkop_div as f32;
    let ns_phase = (1.0 / (fout as f64 * 1e6) * 0.5) as f32;
    (ns_phase as f64 * (fvco as f64 * 1e6)) as u32
}

/// Search `SB_PLL40_PAD` (simple feedback) dividers for `fout = fin * (DIVF+1) / ((DIVR+1) * 2^DIVQ)`
/// (PFD 10–133 MHz, VCO 533–1066 MHz, output 16–275 MHz). The first setting with the smallest
/// error wins, in `icepll`'s loop order (DIVR, then DIVF, then DIVQ ascending).
pub fn ice40_pll(fin_hz: u64, target_hz: u64) -> Result<Ice40Pll, String> {
    let mut best: Option<(Ice40Pll, (u128, u128))> = None;
    for divr in 0..=15u64 {
        let r = divr + 1;
        if fin_hz < ICE40_PFD_MIN * r || fin_hz > ICE40_PFD_MAX * r {
            continue;
        }
        for divf in 0..=127u64 {
            let vco_num = fin_hz * (divf + 1);
            if vco_num < ICE40_VCO_MIN * r || vco_num > ICE40_VCO_MAX * r {
                continue;
            }
            for divq in 1..=6u64 {
                let den = r << divq;
                let err = abs_err(vco_num, den, target_hz);
                let better = match &best {
                    None => true,
                    Some((_, e)) => cmp_frac(err, *e) == Ordering::Less,
                };
                if better {
                    // icepll's loop filter choice by PFD frequency (MHz thresholds 17/26/44/66/101).
                    let pfd = fin_hz as f64 / r as f64 / 1e6;
                    let filter_range = match pfd {
                        f if f < 17.0 => 1,
                        f if f < 26.0 => 2,
                        f if f < 44.0 => 3,
                        f if f < 66.0 => 4,
                        f if f < 101.0 => 5,
                        _ => 6,
                    };
                    let p = Ice40Pll {
                        divr: divr as u32,
                        divf: divf as u32,
                        divq: divq as u32,
                        filter_range,
                        fout_num: vco_num,
                        fout_den: den,
                        fvco_hz: vco_num / r,
                    };
                    best = Some((p, err));
                }
            }
        }
    }
    let (p, _) = best.ok_or_else(|| format!("no SB_PLL40 setting from {fin_hz} Hz"))?;
    let fout = p.fout_hz();
    if fout < ICE40_OUT_MIN as f64 || fout > ICE40_OUT_MAX as f64 {
        return Err(format!("SB_PLL40 output {fout} Hz outside 16-275 MHz"));
    }
    Ok(p)
}

/// Relative error of an achieved frequency against the target, in parts per million.
pub fn error_ppm(achieved_hz: f64, target_hz: u64) -> f64 {
    (achieved_hz - target_hz as f64).abs() / target_hz as f64 * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn ecp5_known_good() {
        // `ecppll -i 25 -o 100`: refclk 1, feedback 4, clkout0 6, CPHASE 2, VCO 600.
        let p = ecp5_pll(25_000_000, 100_000_000).unwrap();
        assert_eq!(
            (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase),
            (1, 4, 6, 2)
        );
        assert_eq!(p.fvco_hz, 600_000_000);
        assert_eq!(p.fout_hz(), 100e6);
        // `ecppll -i 25 -o 50`: 1, 2, 12, CPHASE 5. `-o 75`: 1, 3, 8, CPHASE 4. `-o 125`: 1, 5, 5, 2.
        let p = ecp5_pll(25_000_000, 50_000_000).unwrap();
        assert_eq!(
            (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase),
            (1, 2, 12, 5)
        );
        let p = ecp5_pll(25_000_000, 75_000_000).unwrap();
        assert_eq!(
            (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase),
            (1, 3, 8, 4)
        );
        let p = ecp5_pll(25_000_000, 125_000_000).unwrap();
        assert_eq!(
            (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase),
            (1, 5, 5, 2)
        );
        // 48 MHz is not reachable exactly: ecppll gives 8/15/13 = 46.875 MHz, VCO 609.375.
        let p = ecp5_pll(25_000_000, 48_000_000).unwrap();
        assert_eq!(
            (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase),
            (8, 15, 13, 6)
        );
        assert_eq!(p.fout_hz(), 46.875e6);
    }

    #[test]
    fn ice40_known_good() {
        // `icepll -i 12 -o 24`: DIVR 0, DIVF 63, DIVQ 5, FILTER_RANGE 1, VCO 768.
        let p = ice40_pll(12_000_000, 24_000_000).unwrap();
        assert_eq!((p.divr, p.divf, p.divq, p.filter_range), (0, 63, 5, 1));
        assert_eq!(p.fvco_hz, 768_000_000);
        assert_eq!(p.fout_hz(), 24e6);
    }

    #[test]
    fn limits_hold_for_many_targets() {
        for mhz in 20..=200u64 {
            let p = ecp5_pll(25_000_000, mhz * 1_000_000).unwrap();
            assert!(
                (400_000_000..=800_000_000).contains(&p.fvco_hz),
                "{mhz}: {p:?}"
            );
            assert!(25_000_000 / p.clki_div as u64 >= 3_125_000);
        }
        for mhz in 17..=200u64 {
            let p = ice40_pll(12_000_000, mhz * 1_000_000).unwrap();
            assert!(
                (533_000_000..=1_066_000_000).contains(&p.fvco_hz),
                "{mhz}: {p:?}"
            );
            assert!(12_000_000 / (p.divr as u64 + 1) >= 10_000_000);
            assert!(
                error_ppm(p.fout_hz(), mhz * 1_000_000) < 20_000.0,
                "{mhz}: {p:?}"
            );
        }
        assert!(ice40_pll(12_000_000, 500_000_000).is_err());
    }

    /// Runs a reference tool if it is installed; None (with a loud note) when it is not.
    fn run_tool(candidates: &[&str], args: &[&str]) -> Option<String> {
        for c in candidates {
            if let Ok(out) = Command::new(c).args(args).output()
                && out.status.success()
            {
                return Some(String::from_utf8_lossy(&out.stdout).into_owned());
            }
        }
        eprintln!(
            "NOTE: none of {candidates:?} found: skipping the comparison with the reference tool"
        );
        None
    }

    fn field(text: &str, key: &str) -> u32 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("no '{key}' in:\n{text}"));
        let v = line[line.find(':').unwrap() + 1..]
            .split_whitespace()
            .next()
            .unwrap();
        v.parse().unwrap()
    }

    fn ecppll_candidates() -> Vec<String> {
        let venv = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../.venv-hdl/bin/yowasp-ecppll"
        );
        vec!["ecppll".into(), "yowasp-ecppll".into(), venv.into()]
    }

    #[test]
    fn matches_ecppll_when_present() {
        let c = ecppll_candidates();
        let c: Vec<&str> = c.iter().map(|s| s.as_str()).collect();
        for (fin, fout) in [(25, 100), (25, 65), (25, 40), (12, 90), (25, 133)] {
            let Some(text) = run_tool(&c, &["-i", &fin.to_string(), "-o", &fout.to_string()])
            else {
                return;
            };
            let p = ecp5_pll(fin * 1_000_000, fout * 1_000_000).unwrap();
            assert_eq!(p.clki_div, field(&text, "Refclk divisor"), "{fin}->{fout}");
            assert_eq!(
                p.clkfb_div,
                field(&text, "Feedback divisor"),
                "{fin}->{fout}"
            );
            assert_eq!(
                p.clkop_div,
                field(&text, "clkout0 divisor"),
                "{fin}->{fout}"
            );
        }
    }

    #[test]
    fn matches_icepll_when_present() {
        for (fin, fout) in [(12, 24), (12, 30), (12, 48), (12, 100), (12, 17)] {
            let Some(text) = run_tool(
                &["icepll"],
                &["-i", &fin.to_string(), "-o", &fout.to_string()],
            ) else {
                return;
            };
            let p = ice40_pll(fin * 1_000_000, fout * 1_000_000).unwrap();
            assert_eq!(p.divr, field(&text, "DIVR"), "{fin}->{fout}");
            assert_eq!(p.divf, field(&text, "DIVF"), "{fin}->{fout}");
            assert_eq!(p.divq, field(&text, "DIVQ"), "{fin}->{fout}");
            assert_eq!(
                p.filter_range,
                field(&text, "FILTER_RANGE"),
                "{fin}->{fout}"
            );
        }
    }
}
