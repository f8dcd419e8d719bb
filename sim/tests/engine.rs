//! The Verilated engine against the device model on quick cases: the bus memory map of every
//! built configuration, and a whole synthetic SqueezeNet (every step type: 1x1 and 3x3
//! convs, Fire jobs through S, im2col conv1, max pools, the global average pool) on `small`,
//! and v1.1 on `icebreaker` with the iCE40 cells its bitstream instantiates.
//! Models missing from the build skip loudly (fail under `SQZ_REQUIRE_DATA=1`).

use common::DeviceConfig;
use common::backend::Backend;
use common::bus::Region;
use common::data::skip;
use common::device::Device;
use common::job::STEP_WORDS;
use common::synthetic::{SplitMix, Version, input, squeezenet};
use sim::Core;
use sim::network::{compare, simulate};

fn core_or_skip(test: &str, cfg: &str) -> Option<Core> {
    if Core::models().contains(&cfg) {
        return Some(Core::new(cfg).unwrap());
    }
    skip(
        test,
        &format!("model {cfg} not built (built: {:?})", Core::models()),
    );
    None
}

/// Random words written to the first, last and some middle words of every region read back as
/// the device model stores them (parameters keep only bias, multiplier and shift).
#[test]
fn bus_memory_map_matches_device_model() {
    for cfg in [
        DeviceConfig::small(),
        DeviceConfig::ulx3s(),
        DeviceConfig::icebreaker(),
    ] {
        let Some(mut core) = core_or_skip("bus_memory_map_matches_device_model", &cfg.name) else {
            continue;
        };
        let mut dev = Device::new(cfg.clone());
        let rng = &mut SplitMix(77);
        let regions = [
            (Region::Desc, cfg.max_steps * STEP_WORDS),
            (Region::A, cfg.act_words),
            (Region::B, cfg.act_words),
            (Region::S, cfg.sq_words),
            (Region::Weights, cfg.weight_words * cfg.rows),
            (Region::Params, cfg.param_words),
        ];
        for &(region, len) in &regions {
            for start in [0, len / 3, len.saturating_sub(20)] {
                let n = 20.min(len - start);
                let words: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
                core.write(region, start, &words).unwrap();
                Backend::write(&mut dev, region, start, &words).unwrap();
            }
        }
        for &(region, len) in &regions {
            for start in [0, len / 3, len.saturating_sub(20)] {
                let n = 20.min(len - start);
                let got = core.read(region, start, n).unwrap();
                let want = Backend::read(&mut dev, region, start, n).unwrap();
                assert_eq!(got, want, "{} {region:?}[{start}..+{n}]", cfg.name);
            }
        }
    }
}

/// Both SqueezeNet versions, synthetic weights, small inputs, on the `small` configuration:
/// every layer's bytes equal the int8 reference.
#[test]
fn synthetic_squeezenets_on_small_config_are_bit_exact() {
    let cfg = DeviceConfig::small();
    for (version, size) in [(Version::V1_1, 35), (Version::V1_0, 51)] {
        let Some(mut core) = core_or_skip("synthetic_squeezenets_on_small_config", &cfg.name)
        else {
            return;
        };
        let net = squeezenet(version, size, 21);
        let x = input(size, 22);
        let reference = common::reference::run(&net, &x);
        let run = simulate(&net, &x, &cfg, &mut core, |_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", net.name));
        let report = compare(&net, &run, &reference);
        eprintln!("{}", report.table());
        assert!(report.bit_exact, "{}", report.table());
    }
}

/// The iCEBreaker's core as its bitstream builds it: 4 SB_MAC16 time-shared by the 8 lanes
/// (operands held between issues), the requantizer's 2, the SPRAM port, the lean pipeline.
/// A synthetic v1.1 (every step type) is bit-exact. (The shared port's collision flag is
/// checked by the rust-hdl core tests, `hdl/tests/core_sim.rs`.)
#[test]
fn synthetic_squeezenet_on_icebreaker_cells_is_bit_exact() {
    let test = "synthetic_squeezenet_on_icebreaker_cells_is_bit_exact";
    let cfg = DeviceConfig::icebreaker();
    let Some(mut core) = core_or_skip(test, &cfg.name) else {
        return;
    };
    if !Core::has_ice40_cells(&cfg.name) {
        return skip(
            test,
            "the icebreaker model was built without Yosys' cells_sim.v",
        );
    }
    let net = squeezenet(Version::V1_1, 35, 23);
    let x = input(35, 24);
    let reference = common::reference::run(&net, &x);
    let run =
        simulate(&net, &x, &cfg, &mut core, |_| {}).unwrap_or_else(|e| panic!("{}: {e}", net.name));
    let report = compare(&net, &run, &reference);
    eprintln!("{}", report.table());
    assert!(report.bit_exact, "{}", report.table());
}

/// Tracing the real core: a one-pixel 1x1 conv on `small` leaves a VCD with the core's ports
/// and internals, one time stamp per clock edge.
#[test]
fn trace_of_the_engine_is_a_vcd_with_its_signals() {
    use common::job::encode_job;
    let cfg = DeviceConfig::small();
    let Some(mut core) = core_or_skip("trace_of_the_engine", &cfg.name) else {
        return;
    };
    let path = std::env::temp_dir().join(format!("sqz_engine_{}.vcd", std::process::id()));
    core.set_trace(&path).unwrap();
    let step = common::synthetic::tiny_step();
    core.write(Region::Desc, 0, &encode_job(&[step], &cfg).unwrap())
        .unwrap();
    let cycles = core.run().unwrap();
    core.stop_trace();
    let vcd = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(vcd.contains("$scope module sqz_core"), "top scope");
    for sig in ["bus_addr", "busy", "done", "job_cycles"] {
        assert!(vcd.contains(&format!(" {sig} ")), "signal {sig}");
    }
    assert!(vcd.matches("\n#").count() as u64 >= 2 * cycles);
}
