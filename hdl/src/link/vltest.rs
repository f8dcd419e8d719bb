//! `sqz_top` in Verilator (issue 5, done-when 4): frames sent bit by bit into the UART
//! receiver with the sender's baud rate off by ±2 % at ULX3S's fractional 100 MHz /
//! 3 Mbaud, answers decoded from the UART transmitter. The engine is the sim crate's
//! harness fixture (the `sqz_core` port contract with a predictable toy job), so the
//! wrapper's wiring is exercised too. Skips loudly without Verilator.

use std::path::{Path, PathBuf};
use std::process::Command as Cmd;

use common::DeviceConfig;
use common::bus::Region;
use common::protocol::{Command, Decoder, Frame, NAK, NakReason, Response, flag};

use super::{frame_timeout_cycles, top_verilog};

const BENCH: &str = r#"
#include "Vsqz_top.h"
#include "verilated.h"
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

// argv: input records, output bytes, sender period factor, device bit period (cycles).
// Record: u32 pause (cycles after sending), u16 length, bytes.
int main(int argc, char** argv) {
    if (argc != 5) return 2;
    FILE* in = fopen(argv[1], "rb");
    FILE* out = fopen(argv[2], "wb");
    if (!in || !out) return 2;
    const double period = atof(argv[4]);
    const double p = period * atof(argv[3]);
    Vsqz_top* m = new Vsqz_top;
    uint64_t cycle = 0;
    bool prev = true;
    int64_t t0 = -1;
    unsigned byte = 0;
    uint64_t quiet_since = 0;
    auto step = [&](int line) {
        m->uart_rx = line;
        m->clock = 0; m->eval();
        m->clock = 1; m->eval();
        cycle++;
        bool l = m->uart_tx;
        if (t0 < 0) {
            if (prev && !l) { t0 = (int64_t)cycle; byte = 0; }
        } else {
            for (int b = 0; b < 8; b++)
                if (cycle == (uint64_t)floor(t0 + (1.5 + b) * period) && l) byte |= 1u << b;
            if (cycle == (uint64_t)floor(t0 + 9.5 * period)) {
                if (l) fputc((int)byte, out); else fprintf(stderr, "framing error on tx\n");
                t0 = -1;
                quiet_since = cycle;
            }
        }
        prev = l;
    };
    m->reset = 1; m->stream_select = 0; m->stream_out_ready = 1; m->stream_in_valid = 0;
    for (int i = 0; i < 4; i++) step(1);
    m->reset = 0;
    for (int i = 0; i < 100; i++) step(1);
    uint32_t pause; uint16_t len;
    while (fread(&pause, 4, 1, in) == 1 && fread(&len, 2, 1, in) == 1) {
        std::vector<uint8_t> bytes(len);
        if (len && fread(bytes.data(), 1, len, in) != len) return 2;
        const double start = (double)cycle;
        for (size_t k = 0; k < bytes.size(); k++)
            for (int i = 0; i < 10; i++) {
                int line = i == 0 ? 0 : i == 9 ? 1 : (bytes[k] >> (i - 1)) & 1;
                while ((double)cycle < start + (k * 10 + i + 1) * p) step(line);
            }
        const uint64_t until = cycle + pause;
        quiet_since = cycle;
        while (cycle < until || t0 >= 0 || cycle - quiet_since < (uint64_t)(40 * period)) step(1);
    }
    printf("%llu cycles\n", (unsigned long long)cycle);
    fclose(out);
    delete m;
    return 0;
}
"#;

/// Build the bench for `test`; `None` (with a loud skip, a failure under
/// `SQZ_REQUIRE_DATA=1`) without Verilator or the core fixture.
fn build(test: &str, dir: &Path, cfg: &DeviceConfig) -> Option<PathBuf> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/tests/rtl/harness_fixture.v");
    let Ok(core) = std::fs::read_to_string(&fixture) else {
        common::data::skip(test, &format!("no {}", fixture.display()));
        return None;
    };
    if !crate::verilator::available_or_skip(test) {
        return None;
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("top.v"), top_verilog(cfg, "core_fixture")).unwrap();
    std::fs::write(
        dir.join("core.v"),
        core.replace("module harness_fixture", "module core_fixture"),
    )
    .unwrap();
    Some(
        crate::verilator::build_bench(dir, "sqz_top", &["top.v", "core.v"], &[], BENCH)
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn record(pause: u32, bytes: &[u8]) -> Vec<u8> {
    let mut r = pause.to_le_bytes().to_vec();
    r.extend((bytes.len() as u16).to_le_bytes());
    r.extend_from_slice(bytes);
    r
}

#[test]
fn verilator_uart_plus_minus_two_percent_and_rejects() {
    let cfg = DeviceConfig::ulx3s();
    let dir = std::env::temp_dir().join(format!("sqz-link-vl-{}", std::process::id()));
    let Some(bench) = build(
        "verilator_uart_plus_minus_two_percent_and_rejects",
        &dir,
        &cfg,
    ) else {
        return;
    };
    let period = cfg.clock_hz as f64 / cfg.baud as f64;
    let timeout = frame_timeout_cycles(&cfg) as u32;
    let data: Vec<u64> = (1..=6u64).map(|i| i * 0x0123_4567_89AB_CDEF).collect();
    let xor = 0x5555_AAAA_0F0F_F0F0u64;
    // The fixture's job: 150 cycles, B[i] = A[i] ^ desc[2] for i < desc[1].
    let desc = Command::Write {
        addr: Region::Desc.addr(0),
        words: vec![150, data.len() as u64, xor],
    };
    let wa = Command::Write {
        addr: Region::A.addr(0),
        words: data.clone(),
    };
    let rb = Command::Read {
        addr: Region::B.addr(0),
        n: data.len() as u16,
    };
    let mut corrupt = Command::Status.frame(8).encode();
    corrupt[7] ^= 0x40;
    let truncated = wa.frame(10).encode()[..12].to_vec();
    let cmds: Vec<(Vec<u8>, u32)> = vec![
        (Command::Info.frame(1).encode(), 0),
        (desc.frame(2).encode(), 0),
        (wa.frame(3).encode(), 0),
        (Command::Run.frame(4).encode(), 0),
        // A retry of the same Run: answered from the cache, the job does not run again.
        (Command::Run.frame(4).encode(), 0),
        (rb.frame(5).encode(), 0),
        (corrupt, 0),
        (Frame::new(0x42, 9, vec![]).encode(), 0),
        (truncated, 2 * timeout),
        (Command::Status.frame(11).encode(), 0),
    ];
    for factor in [0.98, 1.0, 1.02] {
        let input: Vec<u8> = cmds.iter().flat_map(|(b, p)| record(*p, b)).collect();
        let (fin, fout) = (dir.join("in.bin"), dir.join("out.bin"));
        std::fs::write(&fin, input).unwrap();
        let out = Cmd::new(&bench)
            .args([&fin, &fout])
            .arg(factor.to_string())
            .arg(period.to_string())
            .output()
            .unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
        let mut d = Decoder::new();
        let frames: Vec<Frame> = std::fs::read(&fout)
            .unwrap()
            .iter()
            .filter_map(|&b| d.push(b))
            .map(|r| r.unwrap())
            .collect();
        let parse = |i: usize, c: &Command| {
            let f = &frames[i];
            Response::parse(f, c).unwrap_or_else(|e| panic!("{factor}: {i}: {e}"))
        };
        assert_eq!(frames.len(), 9, "factor {factor}: {frames:?}");
        assert!(matches!(parse(0, &Command::Info), Response::Info(i) if i.config == cfg));
        assert_eq!(parse(1, &desc), Response::Write);
        assert_eq!(parse(2, &wa), Response::Write);
        assert_eq!(parse(3, &Command::Run), Response::Run { cycles: 150 });
        assert_eq!(parse(4, &Command::Run), Response::Run { cycles: 150 });
        let want: Vec<u64> = data.iter().map(|w| w ^ xor).collect();
        assert_eq!(parse(5, &rb), Response::Read(want), "factor {factor}");
        assert_eq!(frames[6], Frame::new(NAK, 8, vec![NakReason::Crc as u8]));
        assert_eq!(
            frames[7],
            Frame::new(NAK, 9, vec![NakReason::Unknown as u8])
        );
        let Response::Status(s) = parse(8, &Command::Status) else {
            panic!()
        };
        assert_eq!(
            (
                s.jobs,
                s.frames,
                s.crc_errors,
                s.bad_frames,
                s.timeouts,
                s.overruns
            ),
            (1, 7, 1, 1, 1, 0),
            "factor {factor}"
        );
        assert_eq!(s.flags, flag::CRC | flag::BAD | flag::TIMEOUT);
        eprintln!(
            "factor {factor}: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Send `cmds` (frames, each followed by a pause in cycles) through the UART at the exact
/// baud rate; the answer frames.
fn exchange(bench: &Path, dir: &Path, period: f64, cmds: &[(Vec<u8>, u32)]) -> Vec<Frame> {
    let input: Vec<u8> = cmds.iter().flat_map(|(b, p)| record(*p, b)).collect();
    let (fin, fout) = (dir.join("in.bin"), dir.join("out.bin"));
    std::fs::write(&fin, input).unwrap();
    let out = Cmd::new(bench)
        .args([&fin, &fout])
        .arg("1.0")
        .arg(period.to_string())
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    let mut d = Decoder::new();
    std::fs::read(&fout)
        .unwrap()
        .iter()
        .filter_map(|&b| d.push(b))
        .map(|r| r.unwrap())
        .collect()
}

/// The Verilated `sqz_top`: a Write drops the Run cache, so a Run that reuses the last Run's
/// sequence number (as a new host session's first Run may) runs the new job.
#[test]
fn verilator_write_invalidates_the_run_cache() {
    let cfg = DeviceConfig::ulx3s();
    let dir = std::env::temp_dir().join(format!("sqz-link-vl-cache-{}", std::process::id()));
    let Some(bench) = build("verilator_write_invalidates_the_run_cache", &dir, &cfg) else {
        return;
    };
    let period = cfg.clock_hz as f64 / cfg.baud as f64;
    let data: Vec<u64> = (1..=4u64).map(|i| i * 0x0F1E_2D3C_4B5A_6978).collect();
    // The fixture's job: B[i] = A[i] ^ desc[2] for i < desc[1].
    let desc = |xor: u64| Command::Write {
        addr: Region::Desc.addr(0),
        words: vec![100, data.len() as u64, xor],
    };
    let wa = Command::Write {
        addr: Region::A.addr(0),
        words: data.clone(),
    };
    let rb = Command::Read {
        addr: Region::B.addr(0),
        n: data.len() as u16,
    };
    let (x1, x2) = (0x1111u64, 0x2222_0000u64);
    let cmds: Vec<(Vec<u8>, u32)> = [
        desc(x1).frame(1),
        wa.frame(2),
        Command::Run.frame(3),
        rb.frame(4),
        desc(x2).frame(5),
        Command::Run.frame(3),
        rb.frame(6),
        Command::Status.frame(7),
    ]
    .iter()
    .map(|f| (f.encode(), 0))
    .collect();
    let frames = exchange(&bench, &dir, period, &cmds);
    assert_eq!(frames.len(), 8, "{frames:?}");
    let read = |i: usize| Response::parse(&frames[i], &rb).unwrap();
    let want = |x: u64| Response::Read(data.iter().map(|w| w ^ x).collect());
    assert_eq!(read(3), want(x1));
    assert_eq!(
        read(6),
        want(x2),
        "the Run after a Write was answered from the cache, the job did not run"
    );
    let Response::Status(s) = Response::parse(&frames[7], &Command::Status).unwrap() else {
        panic!()
    };
    assert_eq!(s.jobs, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
