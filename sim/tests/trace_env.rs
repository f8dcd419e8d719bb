//! `SQZ_TRACE=FILE` traces every core a test makes (its own test binary: it sets the variable).

use common::bus::Region;
use sim::Core;

#[test]
fn sqz_trace_env_writes_a_waveform() {
    let path = std::env::temp_dir().join(format!("sqz_trace_env_{}.vcd", std::process::id()));
    // SAFETY: the only test in this binary; no other thread reads the environment.
    unsafe { std::env::set_var("SQZ_TRACE", &path) };
    let mut c = Core::new("harness_fixture").unwrap();
    c.bus_write(Region::Desc, 0, &[10]).unwrap();
    c.run_job().unwrap();
    drop(c);
    let vcd = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(vcd.contains("$enddefinitions") && vcd.contains("job_cycles"));
    // Reset (5 cycles), the write and the 11-cycle job: two edges each.
    assert!(vcd.matches("\n#").count() >= 2 * 17);
}
