//! SDR SDRAM parts and their timings in clock cycles: shared by the controller (`hdl::sdram`),
//! which takes its wait counts from here, and the chip model of the simulator (`sim::sdram`),
//! which enforces the same rules. Figures are the datasheets' minimums; see docs/sdram.md.

/// One SDRAM part: geometry and datasheet timings (nanoseconds unless named otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct SdramPart {
    pub name: &'static str,
    pub banks: usize,
    pub rows: usize,
    pub cols: usize,
    /// ACTIVE to READ/WRITE.
    pub t_rcd_ns: f64,
    /// PRECHARGE to ACTIVE (or AUTO REFRESH).
    pub t_rp_ns: f64,
    /// ACTIVE to PRECHARGE.
    pub t_ras_ns: f64,
    /// ACTIVE to ACTIVE, same bank.
    pub t_rc_ns: f64,
    /// ACTIVE to ACTIVE, different banks.
    pub t_rrd_ns: f64,
    /// Last data in to PRECHARGE.
    pub t_wr_ns: f64,
    /// AUTO REFRESH to any command.
    pub t_rfc_ns: f64,
    /// LOAD MODE REGISTER to any command, in cycles.
    pub t_mrd_cycles: u64,
    /// Every row refreshed within this time.
    pub t_ref_ms: f64,
    /// NOPs with a stable clock after power-up before the first command.
    pub power_up_ns: f64,
}

impl SdramPart {
    /// Micron MT48LC16M16A2-75 (256 Mbit, 4 x 8192 x 512 x 16): the 32 MB part of the ULX3S.
    pub fn mt48lc16m16a2() -> Self {
        SdramPart {
            name: "MT48LC16M16A2-75",
            banks: 4,
            rows: 8192,
            cols: 512,
            t_rcd_ns: 20.0,
            t_rp_ns: 20.0,
            t_ras_ns: 44.0,
            t_rc_ns: 66.0,
            t_rrd_ns: 15.0,
            t_wr_ns: 15.0,
            t_rfc_ns: 66.0,
            t_mrd_cycles: 2,
            t_ref_ms: 64.0,
            power_up_ns: 100_000.0,
        }
    }

    /// Alliance AS4C32M16SB-7 (512 Mbit, 4 x 8192 x 1024 x 16): the 64 MB part of some
    /// ULX3S revisions.
    pub fn as4c32m16sb() -> Self {
        SdramPart {
            name: "AS4C32M16SB-7",
            banks: 4,
            rows: 8192,
            cols: 1024,
            t_rcd_ns: 21.0,
            t_rp_ns: 21.0,
            t_ras_ns: 42.0,
            t_rc_ns: 63.0,
            t_rrd_ns: 14.0,
            t_wr_ns: 14.0,
            t_rfc_ns: 63.0,
            t_mrd_cycles: 2,
            t_ref_ms: 64.0,
            power_up_ns: 200_000.0,
        }
    }

    /// Timings in cycles of `clock_hz` with CAS latency `cl` (2 or 3).
    pub fn at(&self, clock_hz: u32, cl: u32) -> SdramTiming {
        let ns = 1e9 / clock_hz as f64;
        // A small tolerance so 20.0 / 10.0 is 2 cycles, not 3 after rounding error.
        let c = |t: f64| ((t / ns) - 1e-9).ceil().max(1.0) as u64;
        SdramTiming {
            banks: self.banks,
            rows: self.rows,
            cols: self.cols,
            cl: cl as u64,
            t_rcd: c(self.t_rcd_ns),
            t_rp: c(self.t_rp_ns),
            t_ras: c(self.t_ras_ns),
            t_rc: c(self.t_rc_ns),
            t_rrd: c(self.t_rrd_ns),
            t_wr: c(self.t_wr_ns),
            t_rfc: c(self.t_rfc_ns),
            t_mrd: self.t_mrd_cycles,
            t_ref: (self.t_ref_ms * 1e6 / ns) as u64,
            power_up: c(self.power_up_ns),
        }
    }
}

/// A part's rules in clock cycles (all minimums except `t_ref`, a maximum).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdramTiming {
    pub banks: usize,
    pub rows: usize,
    pub cols: usize,
    pub cl: u64,
    pub t_rcd: u64,
    pub t_rp: u64,
    pub t_ras: u64,
    pub t_rc: u64,
    pub t_rrd: u64,
    pub t_wr: u64,
    pub t_rfc: u64,
    pub t_mrd: u64,
    pub t_ref: u64,
    pub power_up: u64,
}

impl SdramTiming {
    /// The stricter of two parts' rules on the geometry both have: one controller for every
    /// ULX3S revision.
    pub fn common(&self, o: &SdramTiming) -> SdramTiming {
        SdramTiming {
            banks: self.banks.min(o.banks),
            rows: self.rows.min(o.rows),
            cols: self.cols.min(o.cols),
            cl: self.cl.max(o.cl),
            t_rcd: self.t_rcd.max(o.t_rcd),
            t_rp: self.t_rp.max(o.t_rp),
            t_ras: self.t_ras.max(o.t_ras),
            t_rc: self.t_rc.max(o.t_rc),
            t_rrd: self.t_rrd.max(o.t_rrd),
            t_wr: self.t_wr.max(o.t_wr),
            t_rfc: self.t_rfc.max(o.t_rfc),
            t_mrd: self.t_mrd.max(o.t_mrd),
            t_ref: self.t_ref.min(o.t_ref),
            power_up: self.power_up.max(o.power_up),
        }
    }

    /// Cycles between AUTO REFRESH commands so that all rows are refreshed within `t_ref`,
    /// with 5 % margin for a refresh delayed behind a burst.
    pub fn refresh_interval(&self) -> u64 {
        self.t_ref * 95 / 100 / self.rows as u64
    }

    /// What the ULX3S controller is built for: both fitted parts at `clock_hz`, CAS latency
    /// `cl`, on the 32 MB (4 x 8192 x 512) both have.
    pub fn ulx3s(clock_hz: u32, cl: u32) -> SdramTiming {
        SdramPart::mt48lc16m16a2()
            .at(clock_hz, cl)
            .common(&SdramPart::as4c32m16sb().at(clock_hz, cl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulx3s_at_100_mhz() {
        let t = SdramTiming::ulx3s(100_000_000, 2);
        assert_eq!((t.banks, t.rows, t.cols), (4, 8192, 512));
        assert_eq!((t.t_rcd, t.t_rp, t.t_ras, t.t_rc), (3, 3, 5, 7));
        assert_eq!((t.t_rrd, t.t_wr, t.t_rfc, t.t_mrd), (2, 2, 7, 2));
        assert_eq!(t.t_ref, 6_400_000);
        assert_eq!(t.power_up, 20_000);
        // 64 ms / 8192 rows = 781 cycles; with the margin 742.
        assert_eq!(t.refresh_interval(), 742);
        // Every row within tREF even with a burst and the init sequence in front.
        assert!(t.refresh_interval() * t.rows as u64 + t.power_up + 1000 < t.t_ref);
    }
}
