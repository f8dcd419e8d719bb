//! A whole simulated board: the Verilated `sqz_top` (UART and byte-stream link, frame
//! decoder, dispatcher and the engine), as built by `build.rs` for each configuration in
//! `SQZ_SIM_BOARDS`. Host bytes go in bit by bit through the UART pins or through the
//! stream port; the answers come back the same way. `sim serve` puts it behind a pty.

use std::time::{Duration, Instant};

use crate::verilated::{BOARD_BIT_CYCLES, BOARDS, SimError, SqzBoard};

unsafe extern "C" {
    fn sqz_board_free(b: *mut SqzBoard);
    fn sqz_board_set_link(b: *mut SqzBoard, mode: i32, bit_cycles: f64);
    fn sqz_board_exchange(
        b: *mut SqzBoard,
        input: *const u8,
        n: usize,
        quiet: u64,
        max_cycles: u64,
    ) -> i32;
    fn sqz_board_take(b: *mut SqzBoard, out: *mut u8, cap: usize) -> usize;
    fn sqz_board_stats(b: *mut SqzBoard, s: *mut BoardStats);
}

/// How host bytes reach the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// Bit by bit through `uart_rx` / `uart_tx` (8N1 at the model's simulated baud rate).
    Uart = 0,
    /// Through the valid/ready byte-stream port (`stream_select` high), as a PCIe DMA or
    /// USB FIFO bridge would drive it.
    Stream = 1,
}

/// Counters of csrc/board.h (`SqzBoardStats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardStats {
    pub cycles: u64,
    /// Cycles with the engine or the dispatcher busy (`led_busy`).
    pub busy_cycles: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Answer bytes whose stop bit was low (UART mode): must stay 0.
    pub framing_errors: u64,
}

/// Cycles without activity after which the device counts as done answering: longer than
/// any gap inside an answer (a bus read between two bytes, a few cycles) and than the
/// dispatcher's turnaround from the last byte of a frame to the first of its answer.
const QUIET_CYCLES: u64 = 256;

/// Bound on one exchange: far above the longest job plus a full receive buffer of bytes,
/// so only a wedged device reaches it.
const MAX_EXCHANGE_CYCLES: u64 = 400_000_000;

/// One simulated board. Not `Send`: the model stays on the thread that made it.
pub struct Board {
    b: *mut SqzBoard,
    name: String,
    mode: LinkMode,
    frame_timeout: u64,
    /// Bytes went in since the last [`Board::settle`].
    dirty: bool,
    /// Wall time spent clocking the model.
    sim_time: Duration,
}

impl Board {
    /// Configurations compiled as boards into this build (`SQZ_SIM_BOARDS`).
    pub fn models() -> Vec<&'static str> {
        BOARDS
            .iter()
            .map(|m| m.0.trim_start_matches("board_"))
            .collect()
    }

    /// A fresh board of the named configuration, out of reset, with `mode` selected.
    pub fn new(config: &str, mode: LinkMode) -> Result<Self, SimError> {
        let name = format!("board_{config}");
        let &(_, ctor, frame_timeout) = BOARDS
            .iter()
            .find(|m| m.0 == name)
            .ok_or_else(|| SimError::UnknownModel(name.clone(), Self::models().join(", ")))?;
        // SAFETY: the constructor returns a new, owned model that `Drop` frees.
        let b = unsafe { ctor() };
        assert!(!b.is_null(), "board constructor returned null");
        // SAFETY: `b` is valid; the bit period is the one the model's UART was built for.
        unsafe { sqz_board_set_link(b, mode as i32, BOARD_BIT_CYCLES as f64) };
        Ok(Board {
            b,
            name,
            mode,
            frame_timeout,
            dirty: false,
            sim_time: Duration::ZERO,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn mode(&self) -> LinkMode {
        self.mode
    }

    /// UART bit period of the model, in clock cycles.
    pub fn bit_cycles() -> u32 {
        BOARD_BIT_CYCLES
    }

    /// Run the host's side of the UART `pct` percent fast (negative: slow) against the
    /// device's: its bit period is the device's divided by `1 + pct / 100`, both directions.
    pub fn set_host_baud_error(&mut self, pct: f64) {
        let bit = BOARD_BIT_CYCLES as f64 / (1.0 + pct / 100.0);
        // SAFETY: `self.b` is valid for the life of `self`.
        unsafe { sqz_board_set_link(self.b, self.mode as i32, bit) };
    }

    /// Deliver `bytes` and clock until the device is quiet; returns its answer bytes.
    pub fn exchange(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.dirty |= !bytes.is_empty();
        self.clock(bytes, QUIET_CYCLES)
    }

    /// The host has gone quiet: clock past the link's inactivity timeout (so a frame cut
    /// short by a lost byte is dropped, as on a board whose clock keeps running) and return
    /// any late answer bytes. Does nothing if no byte came in since the last call.
    pub fn settle(&mut self) -> Vec<u8> {
        if !std::mem::take(&mut self.dirty) {
            return Vec::new();
        }
        self.clock(&[], self.frame_timeout + QUIET_CYCLES)
    }

    fn clock(&mut self, bytes: &[u8], quiet: u64) -> Vec<u8> {
        let t = Instant::now();
        // SAFETY: `self.b` is valid for the life of `self`; `bytes` outlives the call.
        let quiet_reached = unsafe {
            sqz_board_exchange(
                self.b,
                bytes.as_ptr(),
                bytes.len(),
                quiet,
                MAX_EXCHANGE_CYCLES,
            )
        } == 1;
        if !quiet_reached {
            eprintln!("sim serve: the device did not go quiet within {MAX_EXCHANGE_CYCLES} cycles");
        }
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: as above; `buf` has the capacity passed.
            let n = unsafe { sqz_board_take(self.b, buf.as_mut_ptr(), buf.len()) };
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        self.sim_time += t.elapsed();
        out
    }

    pub fn stats(&self) -> BoardStats {
        let mut s = BoardStats::default();
        // SAFETY: as above; `s` matches the C layout.
        unsafe { sqz_board_stats(self.b, &mut s) };
        s
    }

    /// Wall time spent clocking the model.
    pub fn sim_time(&self) -> Duration {
        self.sim_time
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        // SAFETY: made by the constructor, freed once.
        unsafe { sqz_board_free(self.b) }
    }
}
