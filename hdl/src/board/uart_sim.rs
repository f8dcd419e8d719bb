//! Runs an emitted board top in Verilator (PLL bypassed) and talks to it over its UART pins:
//! the same Verilog that goes to the FPGA, driven bit by bit at the configuration's baud rate.

use super::{Board, Design, Family, emit_board};
use common::DeviceConfig;
use std::path::{Path, PathBuf};
use std::process::Command;

/// C++ testbench: clocks the board top, sends the bytes given on the command line as 8N1 frames on
/// the FPGA's RX pin, decodes the FPGA's TX pin, and prints the received bytes in hex. It stops
/// after `idle` cycles without traffic once everything is sent, or at `max_cycles`.
const TESTBENCH: &str = r#"
#include "VTOP.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 5) { fprintf(stderr, "usage: tb cycles_per_bit max_cycles idle hexbytes\n"); return 2; }
    double bit = atof(argv[1]);
    long max_cycles = atol(argv[2]);
    long idle = atol(argv[3]);
    std::vector<int> tx;
    for (const char* p = argv[4]; p[0] && p[1]; p += 2) { unsigned v; sscanf(p, "%2x", &v); tx.push_back(v); }
    VerilatedContext ctx;
    VTOP top(&ctx);
    top.RX_PIN = 1;
    top.RESET_PIN = RESET_IDLE;
    top.CLK_PIN = 0;
    // Line schedule to the FPGA: idle, then frames back to back after a reset wait.
    const long start = 200;
    long last_activity = 0;
    int rx_state = -1; double rx_t0 = 0; int rx_byte = 0; int prev = 1;
    std::vector<int> got;
    long end_of_tx = start + (long)(tx.size() * 10 * bit) + 1;
    for (long c = 0; c < max_cycles; c++) {
        int line = 1;
        if (c >= start && c < end_of_tx) {
            double t = (c - start) / bit;
            long b = (long)t;
            long byte = b / 10, pos = b % 10;
            if (byte < (long)tx.size()) line = pos == 0 ? 0 : pos == 9 ? 1 : (tx[byte] >> (pos - 1)) & 1;
        }
        top.RX_PIN = line;
        top.CLK_PIN = 0; top.eval();
        top.CLK_PIN = 1; top.eval();
        int o = top.TX_PIN;
        if (rx_state < 0) {
            if (prev == 1 && o == 0) { rx_state = 0; rx_t0 = c; rx_byte = 0; }
        } else {
            double t = (c - rx_t0) / bit;  // bit times since the start edge
            // Sample in the middle of bit rx_state (0: start bit, 1-8: data, 9: stop).
            if (t - 0.5 >= rx_state && t - 0.5 < rx_state + 1) {
                if (rx_state == 0) { if (o != 0) rx_state = -2; }      // glitch, not a start bit
                else if (rx_state <= 8) rx_byte |= o << (rx_state - 1);
                else { if (o == 1) got.push_back(rx_byte); else fprintf(stderr, "framing error at cycle %ld\n", c); rx_state = -2; }
                if (rx_state >= 0) rx_state++;
                last_activity = c;
            }
            if (rx_state == -2) rx_state = -1;
        }
        prev = o;
        if (c >= end_of_tx && c - (last_activity > end_of_tx ? last_activity : end_of_tx) > idle) break;
    }
    for (int b : got) printf("%02x", b);
    printf("\n");
    return 0;
}
"#;

/// Pins of a board top: (clock, FPGA RX, FPGA TX, reset button, its idle level).
fn pins(board: &Board) -> (&'static str, &'static str, &'static str, &'static str, u8) {
    match board.family {
        Family::Ecp5 => ("clk_25mhz", "ftdi_txd", "ftdi_rxd", "btn_fire1", 0),
        Family::Ice40 => ("clk_12mhz", "uart_rx", "uart_tx", "btn_n", 1),
    }
}

/// A Verilated board top, built once in `dir`.
pub struct BoardSim {
    exe: PathBuf,
    cycles_per_bit: f64,
}

impl BoardSim {
    /// Emits the board top for `design` and builds it with Verilator (`SQZ_BYPASS_PLL` defined).
    pub fn build(
        board: &Board,
        cfg: &DeviceConfig,
        design: Design,
        dir: &Path,
    ) -> Result<Self, String> {
        let v = emit_board(board, cfg, design)?;
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let top = board.top;
        std::fs::write(dir.join(format!("{top}.v")), v).map_err(|e| e.to_string())?;
        let (clk, rx, tx, rst, idle) = pins(board);
        let tb = TESTBENCH
            .replace("VTOP", &format!("V{top}"))
            .replace("CLK_PIN", clk)
            .replace("RX_PIN", rx)
            .replace("TX_PIN", tx)
            .replace("RESET_PIN", rst)
            .replace("RESET_IDLE", &idle.to_string());
        let define = ["-DSQZ_BYPASS_PLL"];
        let exe = crate::verilator::build_bench(dir, top, &[&format!("{top}.v")], &define, &tb)?;
        Ok(BoardSim {
            exe,
            cycles_per_bit: cfg.clock_hz as f64 / cfg.baud as f64,
        })
    }

    /// Sends `bytes` on the UART and returns what comes back before the line idles for `idle_cycles`.
    pub fn exchange(
        &self,
        bytes: &[u8],
        idle_cycles: u64,
        max_cycles: u64,
    ) -> Result<Vec<u8>, String> {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let out = Command::new(&self.exe)
            .args([
                self.cycles_per_bit.to_string(),
                max_cycles.to_string(),
                idle_cycles.to_string(),
                hex,
            ])
            .output()
            .map_err(|e| format!("cannot run the testbench: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || stderr.contains("framing error") {
            return Err(format!("testbench failed: {stderr}"));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.trim();
        (0..line.len() / 2)
            .map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work_dir(name: &str) -> PathBuf {
        let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/board-sim")
            .join(name);
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn ulx3s_echo_top_loops_uart_back() {
        if !crate::verilator::available_or_skip("ulx3s_echo_top_loops_uart_back") {
            return;
        }
        let sim = BoardSim::build(
            &Board::ulx3s(),
            &DeviceConfig::ulx3s(),
            Design::Echo,
            &work_dir("echo"),
        )
        .unwrap();
        let msg = b"\x00\xffSqueezeNet\x55\xaa";
        let got = sim.exchange(msg, 200, 100_000).unwrap();
        assert_eq!(got, msg);
    }

    /// Issue 6 done-when 4: the emitted ULX3S board top with the real accelerator (engine + link),
    /// PLL bypassed, answers an info request on its UART pins with its configuration.
    #[test]
    fn ulx3s_top_answers_info_over_uart() {
        use common::protocol::{Command, Decoder, Response, VERSION};
        if !crate::verilator::available_or_skip("ulx3s_top_answers_info_over_uart") {
            return;
        }
        let cfg = DeviceConfig::ulx3s();
        let sim =
            BoardSim::build(&Board::ulx3s(), &cfg, Design::Accel, &work_dir("accel")).unwrap();
        let cmd = Command::Info;
        let got = sim
            .exchange(&cmd.frame(7).encode(), 3_000, 300_000)
            .unwrap();
        let mut d = Decoder::new();
        let frame = got
            .iter()
            .find_map(|&b| d.push(b))
            .unwrap_or_else(|| panic!("no answer frame in {got:02x?}"))
            .unwrap();
        assert_eq!(frame.seq, 7);
        match Response::parse(&frame, &cmd).unwrap() {
            Response::Info(i) => {
                assert_eq!(i.version, VERSION);
                assert_eq!(i.config, cfg);
            }
            r => panic!("expected an info answer, got {r:?}"),
        }
        // The DMA's status through the link and the bus mux: idle, no transfer finished.
        let cmd = Command::Read {
            addr: common::dma::DMA_REGION << common::bus::REGION_SHIFT,
            n: 2,
        };
        let got = sim
            .exchange(&cmd.frame(8).encode(), 3_000, 300_000)
            .unwrap();
        let mut d = Decoder::new();
        let frame = got.iter().find_map(|&b| d.push(b)).unwrap().unwrap();
        let idle = common::dma::status(false, 0);
        assert_eq!(
            Response::parse(&frame, &cmd).unwrap(),
            Response::Read(vec![idle, idle])
        );
    }
}
