//! The Verilator harness on its test fixture (`tests/rtl/harness_fixture.v`): bus bursts,
//! read latency, start/done, the cycle limit and tracing, independent of the engine.

use common::backend::Backend;
use common::bus::Region;
use sim::{Core, Port, SimError};

fn fixture() -> Core {
    Core::new("harness_fixture").expect("the fixture model is always built")
}

#[test]
fn bus_roundtrip_and_read_latency() {
    let mut c = fixture();
    let words: Vec<u64> = (0..200u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    let t0 = c.cycles();
    c.bus_write(Region::A, 0, &words).unwrap();
    assert_eq!(c.cycles() - t0, 200, "one word per cycle");
    c.bus_write(Region::S, 5, &[u64::MAX, 0]).unwrap();
    // The fixture answers 3 cycles after the request: pipelined, 200 words take 200 + 2
    // cycles; one at a time, 3 cycles each.
    let t0 = c.cycles();
    assert_eq!(c.bus_read(Region::A, 0, 200).unwrap(), words);
    assert_eq!(c.cycles() - t0, 200 + 2);
    c.pipelined_reads = false;
    let t0 = c.cycles();
    assert_eq!(c.bus_read(Region::A, 0, 200).unwrap(), words);
    assert_eq!(c.cycles() - t0, 200 * 3);
    c.pipelined_reads = true;
    assert_eq!(c.bus_read(Region::S, 4, 3).unwrap(), vec![0, u64::MAX, 0]);
    // rvalid is a one-cycle pulse: it is still up right after the last read, gone one cycle later.
    assert_eq!(c.peek(Port::BusRvalid), 1);
    c.tick();
    assert_eq!(c.peek(Port::BusRvalid), 0);
}

#[test]
fn job_runs_to_done_and_reports_cycles() {
    let mut c = fixture();
    let a: Vec<u64> = (0..40).map(|i| i * 3 + 1).collect();
    let key = 0xdead_beef_0000_ffff;
    Backend::write(&mut c, Region::A, 0, &a).unwrap();
    Backend::write(&mut c, Region::Desc, 0, &[1000, 40, key]).unwrap();
    let (job, clocked) = c.run_job().unwrap();
    assert_eq!(job, 1000);
    assert_eq!(clocked, 1001, "start cycle plus the job");
    assert_eq!(c.peek(Port::Busy), 0);
    let b = Backend::read(&mut c, Region::B, 0, 41).unwrap();
    let want: Vec<u64> = a.iter().map(|x| x ^ key).chain([0]).collect();
    assert_eq!(b, want);
    // A second job on the same core, through the Backend trait.
    Backend::write(&mut c, Region::Desc, 0, &[7]).unwrap();
    assert_eq!(Backend::run(&mut c).unwrap(), 7);
}

#[test]
fn hung_job_hits_the_cycle_limit_with_a_clear_error() {
    let mut c = fixture();
    c.max_job_cycles = 5000;
    c.bus_write(Region::Desc, 0, &[0xffff_ffff]).unwrap();
    let e = c.run_job().unwrap_err();
    assert_eq!(e, SimError::JobTimeout(5000));
    assert!(e.to_string().contains("did not finish within 5000 cycles"));
    // The core was reset and is usable again.
    assert_eq!(c.peek(Port::Busy), 0);
    c.bus_write(Region::Desc, 0, &[3]).unwrap();
    assert_eq!(c.run_job().unwrap().0, 3);
}

#[test]
fn busy_falling_without_done_is_an_error() {
    let mut c = fixture();
    c.bus_write(Region::Desc, 0, &[0xffff_fffe]).unwrap();
    let e = c.run_job().unwrap_err();
    assert_eq!(e, SimError::NotBusy(11));
    c.bus_write(Region::Desc, 0, &[5]).unwrap();
    assert_eq!(c.run_job().unwrap().0, 5);
}

/// The bound `Backend::run` puts on a job: above the ideal cycles, far below the default limit.
#[test]
fn job_cycle_bound_follows_the_job() {
    use common::job::{Buf, Op, Step, encode_job};
    let cfg = common::DeviceConfig::ulx3s();
    let step = Step {
        op: Op::Conv,
        kernel: 3,
        in_signed: false,
        relu: true,
        src: Buf::A,
        dst: Buf::B,
        cin_words: 2,
        cout: 64,
        in_h: 20,
        in_w: 55,
        out_h: 18,
        out_w: 55,
        y0: 0,
        x0: -1,
        src_base: 0,
        dst_base: 0,
        dst_wpp: 8,
        dst_off: 0,
        weight_base: 0,
        param_base: 0,
    };
    let desc = encode_job(&[step.clone(), step], &cfg).unwrap();
    let ideal = 2 * 4 * 18 * 55 * 9 * 2;
    let bound = sim::verilated::job_cycle_bound(&desc, &cfg).unwrap();
    assert!(bound > 4 * ideal && bound < 10 * ideal, "{bound}");
    assert_eq!(sim::verilated::job_cycle_bound(&desc[..4], &cfg), None);
    assert_eq!(sim::verilated::job_cycle_bound(&[u64::MAX; 16], &cfg), None);
}

#[test]
fn bus_access_while_busy_is_refused() {
    let mut c = fixture();
    c.bus_write(Region::Desc, 0, &[100]).unwrap();
    c.poke(Port::Start, 1).unwrap();
    c.tick();
    c.poke(Port::Start, 0).unwrap();
    assert_eq!(c.peek(Port::Busy), 1);
    assert_eq!(c.bus_write(Region::A, 0, &[1]), Err(SimError::BusyOnBus));
    assert_eq!(c.bus_read(Region::A, 0, 1), Err(SimError::BusyOnBus));
    c.ticks(100);
    assert_eq!(c.peek(Port::Busy), 0);
    assert_eq!(c.peek(Port::JobCycles), 100);
}

#[test]
fn errors_for_bad_names_ports_and_addresses() {
    let e = Core::new("no_such_config").err().unwrap();
    assert!(matches!(e, SimError::UnknownModel(..)));
    assert!(e.to_string().contains("harness_fixture"));
    let mut c = fixture();
    assert_eq!(c.poke(Port::Done, 1), Err(SimError::NotAnInput(Port::Done)));
    assert!(matches!(
        c.bus_write(Region::A, (1 << 20) - 1, &[1, 2]),
        Err(SimError::AddressRange { .. })
    ));
}

#[test]
fn trace_writes_a_vcd_waveform() {
    let dir = std::env::temp_dir().join(format!("sqz_trace_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fixture.vcd");
    let mut c = fixture();
    c.set_trace(&path).unwrap();
    c.bus_write(Region::Desc, 0, &[20]).unwrap();
    c.run_job().unwrap();
    c.stop_trace();
    let vcd = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(vcd.contains("$enddefinitions"), "VCD header");
    for sig in ["clock", "bus_addr", "done", "job_cycles"] {
        assert!(vcd.contains(sig), "signal {sig} in the trace");
    }
    // 1 write + 21 run cycles, two edges each (the reset cycles ran before the trace).
    assert!(
        vcd.matches("\n#").count() >= 2 * 22,
        "a time stamp per clock edge"
    );
    // A window: only cycles 100..110 from now are dumped.
    let path = dir.join("window.vcd");
    std::fs::create_dir_all(&dir).unwrap();
    let now = c.cycles();
    c.set_trace_window(&path, now + 100..now + 110).unwrap();
    c.bus_write(Region::Desc, 0, &[500]).unwrap();
    c.run_job().unwrap();
    c.stop_trace();
    let vcd = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        vcd.matches("\n#").count(),
        2 * 10,
        "two edges per traced cycle"
    );
    let bad = c.set_trace(std::path::Path::new("/nonexistent-dir/x.vcd"));
    assert!(matches!(bad, Err(SimError::Trace(_))));
}
