//! The chip model's rules, each provoked once (and the legal sequence next to it passing).

use super::chip::{Chip, Cmd, Pins, Rule};
use common::sdram::SdramTiming;

/// A small part with every timing distinct, so each rule is isolated: a sequence one cycle
/// short of one rule meets all the others.
fn timing() -> SdramTiming {
    SdramTiming {
        banks: 4,
        rows: 8192,
        cols: 512,
        cl: 2,
        t_rcd: 3,
        t_rp: 2,
        t_ras: 5,
        t_rc: 9,
        t_rrd: 2,
        t_wr: 2,
        t_rfc: 7,
        t_mrd: 2,
        t_ref: 1_000_000,
        power_up: 10,
    }
}

struct T {
    c: Chip,
}

impl T {
    fn new() -> Self {
        T {
            c: Chip::new(timing()),
        }
    }
    fn nops(&mut self, n: u64) {
        for _ in 0..n {
            self.c.step(&Pins::nop()).unwrap();
        }
    }
    fn cmd(&mut self, cmd: Cmd, ba: u8, a: u16) -> Result<Option<u16>, Rule> {
        self.c.step(&Pins::command(cmd, ba, a)).map_err(|v| v.rule)
    }
    fn ok(&mut self, cmd: Cmd, ba: u8, a: u16) {
        self.c
            .step(&Pins::command(cmd, ba, a))
            .unwrap_or_else(|v| panic!("{v}"));
    }
    /// Through the power-up wait and PRECHARGE ALL.
    fn powered() -> Self {
        let mut t = T::new();
        t.nops(timing().power_up);
        t.ok(Cmd::Precharge, 0, 1 << 10);
        t.nops(1);
        t
    }
    /// Powered, `refs` AUTO REFRESH (tRFC apart), LOAD MODE REGISTER `mode`; no wait after.
    fn until_mode(refs: usize, mode: u16) -> Self {
        let mut t = T::powered();
        for _ in 0..refs {
            t.ok(Cmd::Refresh, 0, 0);
            t.nops(6);
        }
        t.ok(Cmd::LoadMode, 0, mode);
        t
    }
    /// Initialised with `mode` (BL8, CL2 by default) and past tMRD.
    fn init_mode(mode: u16) -> Self {
        let mut t = T::until_mode(2, mode);
        t.nops(1);
        t
    }
    fn init() -> Self {
        T::init_mode(0x23)
    }
    /// A write burst of `data` at (bank, col) of the open row: WRITE with the first word, the
    /// rest driven beat by beat with `dqm`.
    fn write(&mut self, bank: u8, col: u16, data: &[u16], dqm: u8) {
        for (i, &d) in data.iter().enumerate() {
            let mut p = if i == 0 {
                Pins::command(Cmd::Write, bank, col)
            } else {
                Pins::nop()
            };
            p.dq_oe = true;
            p.dq = d;
            p.dqm = dqm;
            self.c.step(&p).unwrap_or_else(|v| panic!("{v}"));
        }
    }
    /// Steps with NOPs and collects what the chip drives.
    fn collect(&mut self, n: usize) -> Vec<Option<u16>> {
        (0..n).map(|_| self.c.step(&Pins::nop()).unwrap()).collect()
    }
}

const DATA: [u16; 8] = [
    0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777, 0x8888,
];

#[test]
fn legal_write_read_round_trip() {
    let mut t = T::init();
    t.ok(Cmd::Active, 1, 77);
    t.nops(2);
    t.write(1, 8, &DATA, 0);
    t.nops(1);
    // READ: first word driven in the cycle before the edge CL after the command.
    let first = t.cmd(Cmd::Read, 1, 8).unwrap();
    assert_eq!(first, None);
    let out = t.collect(9);
    assert_eq!(out[0], Some(0x1111));
    let words: Vec<u16> = out.iter().take(8).map(|w| w.unwrap()).collect();
    assert_eq!(words, DATA);
    assert_eq!(out[8], None);
    // Sequential burst order wraps inside the 8-word block.
    t.ok(Cmd::Read, 1, 13);
    let out = t.collect(8);
    assert_eq!(out[0], Some(0x6666));
    assert_eq!(out[3], Some(0x1111));
    assert_eq!(t.c.peek(1, 77, 15), Some(0x8888));
    // Precharge after tRAS and tWR, activate again after tRP and tRC.
    t.ok(Cmd::Precharge, 1, 0);
    t.nops(1);
    t.ok(Cmd::Active, 1, 78);
}

#[test]
fn rule_power_up() {
    let mut t = T::new();
    t.nops(3);
    assert_eq!(t.cmd(Cmd::Precharge, 0, 1 << 10), Err(Rule::PowerUp));
}

#[test]
fn rule_init_sequence() {
    // AUTO REFRESH before PRECHARGE ALL.
    let mut t = T::new();
    t.nops(timing().power_up);
    assert_eq!(t.cmd(Cmd::Refresh, 0, 0), Err(Rule::InitSequence));
    // ACTIVE with one refresh only.
    let mut t = T::until_mode(1, 0x23);
    t.nops(1);
    assert_eq!(t.cmd(Cmd::Active, 0, 0), Err(Rule::InitSequence));
}

#[test]
fn rule_mode_register() {
    for bad in [0x13, 0x43, 0x04, 0x0f, 0x423, 0xa3] {
        let mut t = T::new();
        t.nops(timing().power_up);
        t.ok(Cmd::Precharge, 0, 1 << 10);
        t.nops(1);
        assert_eq!(
            t.cmd(Cmd::LoadMode, 0, bad),
            Err(Rule::ModeRegister),
            "{bad:#x}"
        );
    }
}

#[test]
fn rule_tmrd() {
    let mut t = T::until_mode(2, 0x23);
    assert_eq!(t.cmd(Cmd::Active, 0, 0), Err(Rule::Tmrd));
    T::init().ok(Cmd::Active, 0, 0);
}

#[test]
fn rule_trcd() {
    let mut t = T::init();
    t.ok(Cmd::Active, 2, 5);
    t.nops(1);
    assert_eq!(t.cmd(Cmd::Read, 2, 0), Err(Rule::Trcd));
}

#[test]
fn rule_trp() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 5);
    t.nops(8);
    t.ok(Cmd::Precharge, 0, 0);
    assert_eq!(t.cmd(Cmd::Active, 0, 6), Err(Rule::Trp));
}

#[test]
fn rule_tras() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 5);
    t.nops(3);
    assert_eq!(t.cmd(Cmd::Precharge, 0, 0), Err(Rule::Tras));
}

#[test]
fn rule_trc() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 5);
    t.nops(4);
    t.ok(Cmd::Precharge, 0, 0); // tRAS met
    t.nops(2); // tRP met, 7 cycles after ACTIVE < tRC 9
    assert_eq!(t.cmd(Cmd::Active, 0, 6), Err(Rule::Trc));
}

#[test]
fn rule_trrd() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 5);
    assert_eq!(t.cmd(Cmd::Active, 1, 5), Err(Rule::Trrd));
}

#[test]
fn rule_twr() {
    let mut t = T::init();
    t.ok(Cmd::Active, 3, 9);
    t.nops(2);
    t.write(3, 0, &DATA, 0);
    // The last word was registered at the edge before: one cycle, tWR is 2.
    assert_eq!(t.cmd(Cmd::Precharge, 3, 0), Err(Rule::Twr));
}

#[test]
fn rule_trfc() {
    let mut t = T::init();
    t.ok(Cmd::Refresh, 0, 0);
    t.nops(5);
    assert_eq!(t.cmd(Cmd::Active, 0, 0), Err(Rule::Trfc));
}

#[test]
fn rule_refresh_within_tref() {
    let mut tm = timing();
    tm.t_ref = 8192 * 8;
    let mut c = Chip::new(tm.clone());
    let nop = Pins::nop();
    for _ in 0..tm.power_up {
        c.step(&nop).unwrap();
    }
    c.step(&Pins::command(Cmd::Precharge, 0, 1 << 10)).unwrap();
    // One AUTO REFRESH every 7 cycles keeps every row within tREF for two full periods...
    for i in 0..2 * tm.t_ref {
        let p = if i % 7 == 6 {
            Pins::command(Cmd::Refresh, 0, 0)
        } else {
            nop
        };
        c.step(&p).unwrap_or_else(|v| panic!("{v}"));
    }
    // ...and stopping them lets row 0's age pass tREF.
    let v = (0..tm.t_ref).find_map(|_| c.step(&nop).err()).unwrap();
    assert_eq!(v.rule, Rule::Refresh, "{v}");
}

#[test]
fn rule_bank_state() {
    let mut t = T::init();
    assert_eq!(t.cmd(Cmd::Read, 0, 0), Err(Rule::BankState));
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(9);
    assert_eq!(t.cmd(Cmd::Active, 0, 2), Err(Rule::BankState));
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(9);
    assert_eq!(t.cmd(Cmd::Refresh, 0, 0), Err(Rule::BankState));
}

#[test]
fn rule_address() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    assert_eq!(t.cmd(Cmd::Read, 0, 600), Err(Rule::Address));
}

#[test]
fn rule_uninitialized_read() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    t.write(0, 0, &DATA[..4], 0);
    // The burst's other 4 words were cut by the READ: words 4..8 were never written.
    t.ok(Cmd::Read, 0, 0);
    let out = t.collect(4);
    assert_eq!(out[0..3], [Some(0x1111), Some(0x2222), Some(0x3333)]);
    assert_eq!(
        (0..8)
            .find_map(|_| t.c.step(&Pins::nop()).err())
            .unwrap()
            .rule,
        Rule::Uninitialized
    );
}

#[test]
fn rule_contention() {
    // The FPGA drives in a cycle the chip drives read data.
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    t.write(0, 0, &DATA, 0);
    t.ok(Cmd::Read, 0, 0);
    t.nops(2);
    let mut p = Pins::nop();
    p.dq_oe = true;
    assert_eq!(t.c.step(&p).map_err(|v| v.rule), Err(Rule::Contention));
    // A WRITE right after the last read word: no turnaround cycle.
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    t.write(0, 0, &DATA, 0);
    t.ok(Cmd::Read, 0, 0);
    t.collect(9);
    let mut p = Pins::command(Cmd::Write, 0, 0);
    p.dq_oe = true;
    assert_eq!(t.c.step(&p).map_err(|v| v.rule), Err(Rule::Contention));
    // One more idle cycle and the same write is legal.
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    t.write(0, 0, &DATA, 0);
    t.ok(Cmd::Read, 0, 0);
    t.collect(10);
    t.write(0, 8, &DATA, 0);
}

#[test]
fn rule_floating_write_data() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    assert_eq!(t.cmd(Cmd::Write, 0, 0), Err(Rule::Floating));
}

#[test]
fn rule_unsupported() {
    let mut t = T::init();
    let mut p = Pins::nop();
    p.cke = false;
    assert_eq!(t.c.step(&p).map_err(|v| v.rule), Err(Rule::Unsupported));
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    assert_eq!(t.cmd(Cmd::Read, 0, 1 << 10), Err(Rule::Unsupported));
}

#[test]
fn burst_terminate_and_masks() {
    let mut t = T::init();
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    t.write(0, 0, &DATA, 0);
    // A write cut by BURST TERMINATE after 3 words; the high byte of word 1 masked.
    let mut p = Pins::command(Cmd::Write, 0, 8);
    p.dq_oe = true;
    p.dq = 0xaaaa;
    t.c.step(&p).unwrap();
    p = Pins::nop();
    p.dq_oe = true;
    p.dq = 0xbbbb;
    p.dqm = 2;
    t.c.step(&p).unwrap();
    p.dq = 0xcccc;
    p.dqm = 0;
    t.c.step(&p).unwrap();
    t.ok(Cmd::BurstTerminate, 0, 0);
    assert_eq!(t.c.peek(0, 1, 8), Some(0xaaaa));
    assert_eq!(t.c.peek(0, 1, 9), None); // only its low byte written
    assert_eq!(t.c.peek(0, 1, 10), Some(0xcccc));
    assert_eq!(t.c.peek(0, 1, 11), None);
    // A read cut by BURST TERMINATE after 3 beats: 3 words, then high impedance.
    t.nops(2);
    t.ok(Cmd::Read, 0, 0);
    let mut out = t.collect(2);
    out.push(t.cmd(Cmd::BurstTerminate, 0, 0).unwrap());
    out.extend(t.collect(3));
    assert_eq!(
        out,
        [Some(0x1111), Some(0x2222), Some(0x3333), None, None, None]
    );
    // Read masking: DQM at an edge releases DQ for the word sampled two edges later.
    t.ok(Cmd::Read, 0, 0);
    let mut p = Pins::nop();
    p.dqm = 3;
    assert_eq!(t.c.step(&p).unwrap(), Some(0x1111));
    assert_eq!(t.c.step(&Pins::nop()).unwrap(), None);
    assert_eq!(t.c.step(&Pins::nop()).unwrap(), Some(0x3333));
    assert_eq!(t.c.step(&Pins::nop()).unwrap(), Some(0x4444));
}

#[test]
fn full_page_burst_wraps_in_the_row() {
    // Full page (A2..A0 = 7), CAS latency 3.
    let mut t = T::init_mode(0x37);
    t.ok(Cmd::Active, 0, 1);
    t.nops(2);
    let data: Vec<u16> = (0..512).map(|i| i as u16 ^ 0x5a5a).collect();
    t.write(0, 0, &data, 0);
    t.ok(Cmd::Read, 0, 510);
    t.nops(1);
    let out = t.collect(4);
    assert_eq!(
        out[..3],
        [Some(510 ^ 0x5a5a), Some(511 ^ 0x5a5a), Some(0x5a5a)]
    );
}
