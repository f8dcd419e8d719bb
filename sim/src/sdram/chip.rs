//! A cycle-level model of a 16-bit SDR SDRAM that enforces the datasheet's rules.
//!
//! [`Chip::step`] is called once per rising clock edge with the pins the FPGA drove in the
//! cycle before it and returns what the chip drives on DQ in the cycle after it. Any
//! violation (a timing minimum, a command in the wrong bank state, the initialisation order,
//! a row left unrefreshed, a read of never-written memory, both sides driving DQ) is an
//! [`Violation`] naming the rule; the simulation stops there. Memory is a sparse map of rows.

use common::sdram::SdramTiming;
use std::collections::HashMap;
use std::fmt;

/// The pins the FPGA drives, as the chip samples them at a rising edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pins {
    pub cke: bool,
    pub cs_n: bool,
    pub ras_n: bool,
    pub cas_n: bool,
    pub we_n: bool,
    pub ba: u8,
    pub a: u16,
    /// bit 0: LDQM (DQ 7..0), bit 1: UDQM (DQ 15..8).
    pub dqm: u8,
    /// The FPGA drives `dq` onto DQ (its output enable).
    pub dq_oe: bool,
    pub dq: u16,
}

/// Commands, from CS#, RAS#, CAS#, WE#.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Inhibit,
    Nop,
    Active,
    Read,
    Write,
    BurstTerminate,
    Precharge,
    Refresh,
    LoadMode,
}

impl Pins {
    pub fn cmd(&self) -> Cmd {
        if self.cs_n {
            return Cmd::Inhibit;
        }
        match (self.ras_n, self.cas_n, self.we_n) {
            (true, true, true) => Cmd::Nop,
            (false, true, true) => Cmd::Active,
            (true, false, true) => Cmd::Read,
            (true, false, false) => Cmd::Write,
            (true, true, false) => Cmd::BurstTerminate,
            (false, true, false) => Cmd::Precharge,
            (false, false, true) => Cmd::Refresh,
            (false, false, false) => Cmd::LoadMode,
        }
    }

    /// NOP pins with CKE high and DQ released.
    pub fn nop() -> Self {
        Pins {
            cke: true,
            ras_n: true,
            cas_n: true,
            we_n: true,
            ..Default::default()
        }
    }

    /// `cmd` with bank and address pins, CKE high, DQ released.
    pub fn command(cmd: Cmd, ba: u8, a: u16) -> Self {
        let (cs_n, ras_n, cas_n, we_n) = match cmd {
            Cmd::Inhibit => (true, true, true, true),
            Cmd::Nop => (false, true, true, true),
            Cmd::Active => (false, false, true, true),
            Cmd::Read => (false, true, false, true),
            Cmd::Write => (false, true, false, false),
            Cmd::BurstTerminate => (false, true, true, false),
            Cmd::Precharge => (false, false, true, false),
            Cmd::Refresh => (false, false, false, true),
            Cmd::LoadMode => (false, false, false, false),
        };
        Pins {
            cke: true,
            cs_n,
            ras_n,
            cas_n,
            we_n,
            ba,
            a,
            ..Default::default()
        }
    }
}

/// The datasheet rules the model enforces; each violation names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Only NOP or COMMAND INHIBIT during the power-up wait.
    PowerUp,
    /// PRECHARGE ALL, two AUTO REFRESH and LOAD MODE REGISTER before the first ACTIVE.
    InitSequence,
    /// A mode register value the part does not define (reserved bits, CAS latency, burst).
    ModeRegister,
    /// LOAD MODE REGISTER to the next command.
    Tmrd,
    /// ACTIVE to READ/WRITE.
    Trcd,
    /// PRECHARGE to ACTIVE, AUTO REFRESH or LOAD MODE REGISTER.
    Trp,
    /// ACTIVE to PRECHARGE.
    Tras,
    /// ACTIVE to ACTIVE (or AUTO REFRESH), same bank.
    Trc,
    /// ACTIVE to ACTIVE, different banks.
    Trrd,
    /// Last written data to PRECHARGE.
    Twr,
    /// AUTO REFRESH to the next command.
    Trfc,
    /// Every row refreshed within tREF (64 ms).
    Refresh,
    /// A command for the wrong bank state: ACTIVE on an open bank, READ/WRITE on a closed one,
    /// AUTO REFRESH or LOAD MODE REGISTER with a bank open.
    BankState,
    /// Row or column outside the part.
    Address,
    /// A read of a location never written.
    Uninitialized,
    /// The FPGA and the chip drive DQ in the same cycle, or in adjacent cycles (no turnaround).
    Contention,
    /// A write beat with DQ not driven by the FPGA and not masked.
    Floating,
    /// Something this model does not implement (CKE low, auto precharge).
    Unsupported,
}

/// A rule broken at a given clock edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub edge: u64,
    pub rule: Rule,
    pub msg: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SDRAM rule {:?} broken at clock edge {}: {}",
            self.rule, self.edge, self.msg
        )
    }
}

impl std::error::Error for Violation {}

/// The mode register fields the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// Burst length in words (`cols` for a full page).
    pub burst: u64,
    pub interleaved: bool,
    pub cl: u64,
    /// A9: writes are single-location (burst length 1).
    pub single_write: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Bank {
    row: Option<u32>,
    /// Edges of the last ACTIVE, PRECHARGE (of an open bank) and unmasked written beat.
    act: Option<u64>,
    pre: Option<u64>,
    write: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct Burst {
    write: bool,
    bank: usize,
    start: u32,
    beat: u64,
    len: u64,
}

/// One row's words and which bytes were written (bit 0 low byte, bit 1 high byte).
struct Row {
    data: Vec<u16>,
    written: Vec<u8>,
}

/// Data leaving the chip: a read beat's word and location, and the edge that samples it.
#[derive(Clone, Copy, Debug)]
struct OutWord {
    at: u64,
    word: u16,
    addr: (usize, u32, u32),
}

/// The chip. See the module comment for the stepping contract.
pub struct Chip {
    t: SdramTiming,
    edge: u64,
    banks: Vec<Bank>,
    mode: Option<Mode>,
    lmr: Option<u64>,
    last_act: Option<u64>,
    last_ref: Option<u64>,
    /// PRECHARGE ALL seen after the power-up wait; AUTO REFRESH commands since.
    init_pre: bool,
    init_refs: u32,
    burst: Option<Burst>,
    /// Read words on their way out (CAS latency), in edge order.
    out: Vec<OutWord>,
    /// DQM at the last two edges (read masking acts two cycles later).
    dqm_hist: [u8; 2],
    /// Cycles (numbered by the edge that opens them) in which the chip drove DQ: the last
    /// two, to check turnaround.
    drove: [bool; 2],
    rows: HashMap<(usize, u32), Row>,
    /// Next row AUTO REFRESH refreshes, and when each row was last refreshed.
    ref_row: usize,
    refreshed: Vec<u64>,
    /// Counters for reports.
    pub stats: Stats,
}

/// Commands and data seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub activates: u64,
    pub reads: u64,
    pub writes: u64,
    pub precharges: u64,
    pub refreshes: u64,
    pub words_read: u64,
    pub words_written: u64,
}

impl Chip {
    pub fn new(t: SdramTiming) -> Self {
        Chip {
            banks: vec![Bank::default(); t.banks],
            refreshed: vec![0; t.rows],
            t,
            edge: 0,
            mode: None,
            lmr: None,
            last_act: None,
            last_ref: None,
            init_pre: false,
            init_refs: 0,
            burst: None,
            out: Vec::new(),
            dqm_hist: [0; 2],
            drove: [false; 2],
            rows: HashMap::new(),
            ref_row: 0,
            stats: Stats::default(),
        }
    }

    pub fn timing(&self) -> &SdramTiming {
        &self.t
    }

    /// Edges stepped so far.
    pub fn edges(&self) -> u64 {
        self.edge
    }

    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    /// The word stored at (bank, row, col), if both bytes were ever written.
    pub fn peek(&self, bank: usize, row: u32, col: u32) -> Option<u16> {
        let r = self.rows.get(&(bank, row))?;
        (r.written[col as usize] == 3).then(|| r.data[col as usize])
    }

    fn fail<T>(&self, rule: Rule, msg: String) -> Result<T, Violation> {
        Err(Violation {
            edge: self.edge,
            rule,
            msg,
        })
    }

    /// Cycles since `at` (None: long ago) must be at least `min`.
    fn since(&self, at: Option<u64>, min: u64, rule: Rule, what: &str) -> Result<(), Violation> {
        if let Some(at) = at {
            let d = self.edge - at;
            if d < min {
                return self.fail(
                    rule,
                    format!("{what} {d} cycles after the previous command, needs {min}"),
                );
            }
        }
        Ok(())
    }

    /// One rising edge with the pins the FPGA drove in the cycle before it. Returns the
    /// word the chip drives on DQ in the cycle after the edge (`None`: high impedance).
    pub fn step(&mut self, p: &Pins) -> Result<Option<u16>, Violation> {
        self.edge += 1;
        // The chip's data of the cycle that ended (opened by the last edge) against the FPGA's.
        if p.dq_oe && self.drove[0] {
            return self.fail(
                Rule::Contention,
                "the FPGA and the SDRAM both drive DQ in the same cycle".into(),
            );
        }
        if p.dq_oe && self.drove[1] {
            return self.fail(
                Rule::Contention,
                "the FPGA drives DQ in the cycle right after the SDRAM did (no turnaround cycle)"
                    .into(),
            );
        }
        if !p.cke {
            return self.fail(
                Rule::Unsupported,
                "CKE low (power-down and self refresh are not modelled)".into(),
            );
        }
        self.check_refresh()?;
        let cmd = p.cmd();
        if self.edge <= self.t.power_up && !matches!(cmd, Cmd::Nop | Cmd::Inhibit) {
            return self.fail(
                Rule::PowerUp,
                format!(
                    "{cmd:?} during the power-up wait ({} cycles of NOP)",
                    self.t.power_up
                ),
            );
        }
        if !matches!(cmd, Cmd::Nop | Cmd::Inhibit) {
            self.since(self.lmr, self.t.t_mrd, Rule::Tmrd, "command")?;
        }
        // The burst in flight moves one beat at this edge unless this command ends it.
        match cmd {
            Cmd::Nop | Cmd::Inhibit => {}
            Cmd::Active => self.active(p)?,
            Cmd::Read | Cmd::Write => self.column(p, cmd == Cmd::Write)?,
            Cmd::BurstTerminate => self.burst = None,
            Cmd::Precharge => self.precharge(p)?,
            Cmd::Refresh => self.refresh()?,
            Cmd::LoadMode => self.load_mode(p)?,
        }
        self.beat(p)?;
        self.dqm_hist = [p.dqm, self.dqm_hist[0]];
        // What is sampled at the next edge is driven in the cycle opened by this one.
        let next = self.edge + 1;
        let drive = match self.out.first() {
            Some(w) if w.at == next => {
                let w = self.out.remove(0);
                // DQM two edges before the sampling edge masks the output (both bytes here:
                // a half-masked read still drives DQ).
                (self.dqm_hist[1] != 3).then_some(w)
            }
            _ => None,
        };
        self.drove = [drive.is_some(), self.drove[0]];
        if p.dq_oe && drive.is_some() {
            return self.fail(
                Rule::Contention,
                "the SDRAM drives DQ in the cycle right after the FPGA did (no turnaround cycle)"
                    .into(),
            );
        }
        match drive {
            None => Ok(None),
            Some(w) => {
                let (bank, row, col) = w.addr;
                match self.rows.get(&(bank, row)) {
                    Some(r) if r.written[col as usize] == 3 => {}
                    _ => {
                        return self.fail(
                            Rule::Uninitialized,
                            format!("read of bank {bank} row {row} column {col}, never written"),
                        );
                    }
                }
                self.stats.words_read += 1;
                Ok(Some(w.word))
            }
        }
    }

    fn check_refresh(&self) -> Result<(), Violation> {
        // AUTO REFRESH walks the rows in order, so the next one is the oldest.
        let age = self.edge - self.refreshed[self.ref_row];
        if age > self.t.t_ref {
            return self.fail(
                Rule::Refresh,
                format!(
                    "row {} not refreshed for {age} cycles (tREF {} cycles)",
                    self.ref_row, self.t.t_ref
                ),
            );
        }
        Ok(())
    }

    fn initialised(&self, what: &str) -> Result<Mode, Violation> {
        match self.mode {
            Some(m) if self.init_refs >= 2 => Ok(m),
            _ => self.fail(
                Rule::InitSequence,
                format!(
                    "{what} before the initialisation (PRECHARGE ALL, 2 AUTO REFRESH, LOAD MODE \
                     REGISTER) finished: {} refreshes, mode {}",
                    self.init_refs,
                    if self.mode.is_some() {
                        "set"
                    } else {
                        "not set"
                    }
                ),
            ),
        }
    }

    fn all_idle(&self, what: &str) -> Result<(), Violation> {
        if let Some(b) = self.banks.iter().position(|b| b.row.is_some()) {
            return self.fail(Rule::BankState, format!("{what} with bank {b} open"));
        }
        for b in &self.banks {
            self.since(b.pre, self.t.t_rp, Rule::Trp, what)?;
            self.since(b.act, self.t.t_rc, Rule::Trc, what)?;
        }
        self.since(self.last_ref, self.t.t_rfc, Rule::Trfc, what)
    }

    fn active(&mut self, p: &Pins) -> Result<(), Violation> {
        self.initialised("ACTIVE")?;
        let (bank, row) = (p.ba as usize, p.a as u32);
        if row as usize >= self.t.rows {
            return self.fail(Rule::Address, format!("ACTIVE of row {row}"));
        }
        let b = self.banks[bank];
        if let Some(open) = b.row {
            return self.fail(
                Rule::BankState,
                format!("ACTIVE of bank {bank} row {row} with row {open} open"),
            );
        }
        self.since(b.pre, self.t.t_rp, Rule::Trp, "ACTIVE")?;
        self.since(b.act, self.t.t_rc, Rule::Trc, "ACTIVE")?;
        self.since(self.last_act, self.t.t_rrd, Rule::Trrd, "ACTIVE")?;
        self.since(self.last_ref, self.t.t_rfc, Rule::Trfc, "ACTIVE")?;
        self.banks[bank].row = Some(row);
        self.banks[bank].act = Some(self.edge);
        self.last_act = Some(self.edge);
        self.stats.activates += 1;
        Ok(())
    }

    fn column(&mut self, p: &Pins, write: bool) -> Result<(), Violation> {
        let what = if write { "WRITE" } else { "READ" };
        let mode = self.initialised(what)?;
        let bank = p.ba as usize;
        // A9..A0 (a 512-column part ignores A9 on the board; the model insists on 0).
        let col = (p.a & 0x3ff) as u32;
        if p.a & (1 << 10) != 0 {
            return self.fail(
                Rule::Unsupported,
                format!("{what} with auto precharge (A10) is not modelled"),
            );
        }
        if col as usize >= self.t.cols {
            return self.fail(Rule::Address, format!("{what} of column {col}"));
        }
        let b = self.banks[bank];
        if b.row.is_none() {
            return self.fail(Rule::BankState, format!("{what} of closed bank {bank}"));
        }
        self.since(b.act, self.t.t_rcd, Rule::Trcd, what)?;
        let len = if write && mode.single_write {
            1
        } else {
            mode.burst
        };
        self.burst = Some(Burst {
            write,
            bank,
            start: col,
            beat: 0,
            len,
        });
        if write {
            self.stats.writes += 1;
        } else {
            self.stats.reads += 1;
        }
        Ok(())
    }

    fn precharge(&mut self, p: &Pins) -> Result<(), Violation> {
        let all = p.a & (1 << 10) != 0;
        for bank in 0..self.t.banks {
            if !(all || bank == p.ba as usize) {
                continue;
            }
            let b = self.banks[bank];
            if b.row.is_none() {
                // PRECHARGE of an idle bank is a NOP.
                continue;
            }
            self.since(b.act, self.t.t_ras, Rule::Tras, "PRECHARGE")?;
            if let Some(w) = b.write {
                let d = self.edge - w;
                if d < self.t.t_wr {
                    return self.fail(
                        Rule::Twr,
                        format!(
                            "PRECHARGE of bank {bank} {d} cycles after its last written data, needs {}",
                            self.t.t_wr
                        ),
                    );
                }
            }
            self.banks[bank].row = None;
            self.banks[bank].pre = Some(self.edge);
            self.stats.precharges += 1;
            // A burst in this bank ends here: a write at once, a read's data CL-1 cycles on.
            if self.burst.is_some_and(|x| x.bank == bank) {
                self.burst = None;
            }
        }
        if all && self.edge > self.t.power_up {
            self.init_pre = true;
        }
        Ok(())
    }

    fn refresh(&mut self) -> Result<(), Violation> {
        if !self.init_pre {
            return self.fail(
                Rule::InitSequence,
                "AUTO REFRESH before the first PRECHARGE ALL".into(),
            );
        }
        self.all_idle("AUTO REFRESH")?;
        self.refreshed[self.ref_row] = self.edge;
        self.ref_row = (self.ref_row + 1) % self.t.rows;
        self.last_ref = Some(self.edge);
        self.init_refs = self.init_refs.saturating_add(1);
        self.stats.refreshes += 1;
        Ok(())
    }

    fn load_mode(&mut self, p: &Pins) -> Result<(), Violation> {
        if !self.init_pre {
            return self.fail(
                Rule::InitSequence,
                "LOAD MODE REGISTER before the first PRECHARGE ALL".into(),
            );
        }
        self.all_idle("LOAD MODE REGISTER")?;
        let a = p.a as u32;
        let burst = match a & 7 {
            0 => 1,
            1 => 2,
            2 => 4,
            3 => 8,
            7 if a & 8 == 0 => self.t.cols as u64,
            _ => {
                return self.fail(
                    Rule::ModeRegister,
                    format!(
                        "reserved burst length field {} (A3 = {})",
                        a & 7,
                        a >> 3 & 1
                    ),
                );
            }
        };
        let cl = match a >> 4 & 7 {
            2 => 2,
            3 => 3,
            x => return self.fail(Rule::ModeRegister, format!("CAS latency field {x}")),
        };
        if cl < self.t.cl {
            return self.fail(
                Rule::ModeRegister,
                format!("CAS latency {cl} below the {} this clock needs", self.t.cl),
            );
        }
        if a >> 7 & 3 != 0 || a >> 10 != 0 || p.ba != 0 {
            return self.fail(
                Rule::ModeRegister,
                format!(
                    "reserved bits set (A12..A10, A8..A7 and BA must be 0): A = {a:#x}, BA = {}",
                    p.ba
                ),
            );
        }
        self.mode = Some(Mode {
            burst,
            interleaved: a & 8 != 0,
            cl,
            single_write: a & (1 << 9) != 0,
        });
        self.lmr = Some(self.edge);
        Ok(())
    }

    /// The burst's beat at this edge: a write stores the FPGA's word, a read queues one.
    fn beat(&mut self, p: &Pins) -> Result<(), Violation> {
        let Some(mut b) = self.burst else {
            return Ok(());
        };
        let mode = self.mode.expect("bursts need a mode");
        let base = b.start & !(b.len as u32 - 1).min(self.t.cols as u32 - 1);
        let off = if b.len as usize == self.t.cols {
            (b.start + b.beat as u32) % self.t.cols as u32
        } else if mode.interleaved {
            base | ((b.start ^ b.beat as u32) & (b.len as u32 - 1))
        } else {
            base | ((b.start + b.beat as u32) & (b.len as u32 - 1))
        };
        let row = self.banks[b.bank].row.expect("a burst's bank is open");
        let cols = self.t.cols;
        if b.write {
            // Data-in masking has no latency: DQM at this edge.
            if p.dqm != 3 {
                if !p.dq_oe {
                    return self.fail(
                        Rule::Floating,
                        format!("write beat {} with DQ not driven and not masked", b.beat),
                    );
                }
                let r = self.rows.entry((b.bank, row)).or_insert_with(|| Row {
                    data: vec![0; cols],
                    written: vec![0; cols],
                });
                let w = &mut r.data[off as usize];
                if p.dqm & 1 == 0 {
                    *w = (*w & 0xff00) | (p.dq & 0xff);
                }
                if p.dqm & 2 == 0 {
                    *w = (*w & 0x00ff) | (p.dq & 0xff00);
                }
                r.written[off as usize] |= !p.dqm & 3;
                self.banks[b.bank].write = Some(self.edge);
                self.stats.words_written += 1;
            }
        } else {
            let word = self
                .rows
                .get(&(b.bank, row))
                .map_or(0, |r| r.data[off as usize]);
            self.out.push(OutWord {
                at: self.edge + mode.cl,
                word,
                addr: (b.bank, row, off),
            });
        }
        b.beat += 1;
        self.burst = (b.beat < b.len).then_some(b);
        Ok(())
    }
}
