//! The RTL runner: `sqz_top` (link + engine of the fuzz configuration) in Verilator, a
//! long-lived bench process that replays each case on a fresh model, cycle by cycle, and
//! returns the answer bytes.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::DeviceConfig;

use super::case::{Case, Ev};

const BENCH: &str = r#"
#include "Vsqz_top.h"
#include "verilated.h"
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

// Protocol on stdin/stdout, little-endian. Case: u8 uart, u64 seed, u32 bit cycles,
// u64 cycle limit, u32 n, n x (u8 tag, u32 arg, u8 byte); tags 0 byte (arg = gap),
// 1 reset (arg = cycles), 2 ready (arg = percent), 3 mark.
// Reply: u8 quiet, u64 cycles, u64 mark cycle, u64 last answer byte's cycle, u32 n, bytes.
static bool get(void* p, size_t n) { return fread(p, 1, n, stdin) == n; }
template <class T> static void put(T v) { fwrite(&v, sizeof v, 1, stdout); }

struct Bench {
    VerilatedContext ctx;
    Vsqz_top* m;
    bool uart;
    uint64_t rng, cycle = 0, limit, last_out = 0;
    int pct = 100;
    double bit;
    std::vector<uint8_t> out;
    bool rx_prev = true;
    double rx_t0 = -1;
    int rx_bit = 0;
    unsigned rx_byte = 0;
    bool ready_now = true;

    Bench(bool u, uint64_t seed, double b, uint64_t lim) : uart(u), rng(seed | 1), limit(lim), bit(b) {
        m = new Vsqz_top(&ctx, "");
        m->stream_select = !uart;
        m->uart_rx = 1;
        m->stream_in_valid = 0;
        m->stream_out_ready = 0;
        m->reset = 1;
        for (int i = 0; i < 4; i++) tick(false, 0, 1);
        m->reset = 0;
        tick(false, 0, 1);
    }
    ~Bench() { m->final(); delete m; }
    bool draw() {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        return int(rng % 100) < pct;
    }
    // One cycle with the given inputs; returns whether a stream byte was taken.
    bool tick(bool valid, uint8_t data, int line) {
        m->stream_in_valid = valid;
        m->stream_in_data = data;
        m->uart_rx = line;
        m->stream_out_ready = !uart && draw();
        m->clock = 0;
        m->eval();
        bool taken = valid && m->stream_in_ready;
        if (!uart && m->stream_out_valid && m->stream_out_ready) {
            out.push_back(m->stream_out_data);
            last_out = cycle;
        }
        m->clock = 1;
        m->eval();
        if (uart) receive(m->uart_tx);
        cycle++;
        return taken;
    }
    // Decode the device's transmit line, sampling mid-bit as a UART does.
    void receive(bool line) {
        const double c = double(cycle);
        if (rx_t0 < 0) {
            if (rx_prev && !line) { rx_t0 = c; rx_bit = 0; rx_byte = 0; }
        } else if (rx_bit < 8 && c == std::floor(rx_t0 + (1.5 + rx_bit) * bit)) {
            if (line) rx_byte |= 1u << rx_bit;
            rx_bit++;
        } else if (rx_bit == 8 && c == std::floor(rx_t0 + 9.5 * bit)) {
            out.push_back(line ? uint8_t(rx_byte) : 0xEE);
            last_out = cycle;
            rx_t0 = -1;
        }
        rx_prev = line;
    }
    // Something is on its way: a job, a frame being answered, an answer byte.
    bool active() const {
        return m->led_busy || (!uart && m->stream_out_valid) || (uart && (rx_t0 >= 0 || !m->uart_tx));
    }
    bool over() const { return cycle >= limit; }
};

int main() {
    setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
    uint8_t uart;
    while (get(&uart, 1)) {
        uint64_t seed, limit;
        uint32_t bit, n;
        if (!get(&seed, 8) || !get(&bit, 4) || !get(&limit, 8) || !get(&n, 4)) return 2;
        // The whole case first: a case cut short at the cycle limit leaves no input behind.
        std::vector<uint8_t> evs(size_t(n) * 6);
        if (n && !get(evs.data(), evs.size())) return 2;
        Bench b(uart, seed, bit, limit);
        uint64_t last_take = b.cycle, mark = 0;
        bool marked = false;
        for (uint32_t i = 0; i < n && !b.over(); i++) {
            const uint8_t* e = &evs[size_t(i) * 6];
            const uint8_t tag = e[0], byte = e[5];
            const uint32_t arg = e[1] | e[2] << 8 | e[3] << 16 | uint32_t(e[4]) << 24;
            if (tag == 1) {
                // Once the answers are out: a UART byte may still wait in the transmitter.
                for (int calm = 0; calm < (uart ? 16 : 1) && !b.over(); ) {
                    b.tick(false, 0, 1);
                    calm = b.active() ? 0 : calm + 1;
                }
                b.m->reset = 1;
                for (uint32_t k = 0; k < arg; k++) b.tick(false, 0, 1);
                b.m->reset = 0;
            } else if (tag == 2) {
                b.pct = arg;
            } else if (tag == 3) {
                marked = true;
            } else if (!uart) {
                while (b.cycle < last_take + 1 + arg) b.tick(false, 0, 1);
                // No byte while a job runs: as a host waits for a Run's answer (the model
                // has no job time, so no Busy refusals).
                while (b.m->led_busy && !b.over()) b.tick(false, 0, 1);
                if (marked) { mark = b.cycle; marked = false; }
                while (!b.tick(true, byte, 1) && !b.over()) {}
                last_take = b.cycle - 1;
            } else {
                // A UART byte is not refused: wait for the device to be ready for it, as a
                // host waits for an answer, so no byte is lost to an overrun.
                while (b.cycle < last_take + arg) b.tick(false, 0, 1);
                while (b.m->led_busy && !b.over()) b.tick(false, 0, 1);
                if (marked) { mark = b.cycle; marked = false; }
                const double t0 = double(b.cycle);
                for (int k = 0; k < 10; k++) {
                    int line = k == 0 ? 0 : k == 9 ? 1 : (byte >> (k - 1)) & 1;
                    while (double(b.cycle) < t0 + (k + 1) * b.bit) b.tick(false, 0, line);
                }
                for (int k = 0; k < 4; k++) b.tick(false, 0, 1);
                last_take = b.cycle;
            }
        }
        // Quiet: nothing on its way for 64 cycles.
        uint64_t calm = 0;
        while (calm < 64 && !b.over()) {
            b.tick(false, 0, 1);
            calm = b.active() ? 0 : calm + 1;
        }
        put<uint8_t>(!b.over());
        put<uint64_t>(b.cycle);
        put<uint64_t>(mark);
        put<uint64_t>(b.last_out);
        put<uint32_t>(b.out.size());
        fwrite(b.out.data(), 1, b.out.size(), stdout);
        fflush(stdout);
    }
    return 0;
}
"#;

/// What the RTL did with a case.
#[derive(Clone, Debug)]
pub struct RtlRun {
    /// Went quiet before the cycle limit.
    pub quiet: bool,
    pub cycles: u64,
    /// Cycles from the recovery `Status` request's first byte to its answer's last byte.
    pub recovery: u64,
    pub out: Vec<u8>,
}

/// A running bench process.
pub struct Bench {
    child: Child,
    to: BufWriter<ChildStdin>,
    from: BufReader<ChildStdout>,
    bit_cycles: u32,
}

impl Bench {
    /// Build the bench for `cfg` in `dir`; `None` (a loud skip, a failure under
    /// `SQZ_REQUIRE_DATA=1`) without Verilator.
    pub fn build(test: &str, dir: &Path, cfg: &DeviceConfig) -> Option<Self> {
        if !crate::verilator::available_or_skip(test) {
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let v = format!(
            "{}\n{}",
            crate::link::top_verilog(cfg, "sqz_core"),
            crate::emit_core(cfg)
        );
        std::fs::write(dir.join("top.v"), v).unwrap();
        let exe = crate::verilator::build_bench(dir, "sqz_top", &["top.v"], &["-O3"], BENCH)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut child = Command::new(exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the link fuzz bench");
        let to = BufWriter::new(child.stdin.take().unwrap());
        let from = BufReader::new(child.stdout.take().unwrap());
        Some(Bench {
            child,
            to,
            from,
            bit_cycles: cfg.clock_hz.div_ceil(cfg.baud),
        })
    }

    /// Replay `case` on a fresh model, at most `limit` cycles.
    pub fn run(&mut self, case: &Case, limit: u64) -> RtlRun {
        let w = &mut self.to;
        let mut msg = vec![case.uart as u8];
        msg.extend(case.seed.to_le_bytes());
        msg.extend(self.bit_cycles.to_le_bytes());
        msg.extend(limit.to_le_bytes());
        msg.extend((case.evs.len() as u32).to_le_bytes());
        for e in &case.evs {
            let (tag, arg, b) = match *e {
                Ev::Byte { gap, b } => (0u8, gap, b),
                Ev::Reset { cycles } => (1, cycles, 0),
                Ev::Ready { pct } => (2, pct as u32, 0),
                Ev::Mark => (3, 0, 0),
            };
            msg.push(tag);
            msg.extend(arg.to_le_bytes());
            msg.push(b);
        }
        w.write_all(&msg)
            .and_then(|_| w.flush())
            .expect("bench died");
        let r = &mut self.from;
        let mut hdr = [0u8; 1 + 8 * 3 + 4];
        r.read_exact(&mut hdr).expect("bench died");
        let u64_at = |i: usize| u64::from_le_bytes(hdr[i..i + 8].try_into().unwrap());
        let n = u32::from_le_bytes(hdr[25..29].try_into().unwrap()) as usize;
        let mut out = vec![0; n];
        r.read_exact(&mut out).expect("bench died");
        RtlRun {
            quiet: hdr[0] == 1,
            cycles: u64_at(1),
            recovery: u64_at(17).saturating_sub(u64_at(9)),
            out,
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
