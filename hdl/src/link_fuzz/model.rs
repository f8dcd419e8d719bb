//! The model runner (`common::protocol::Server` over the functional `Device`, with the
//! receiver's timing) and the comparison of its answers with the RTL's.

use common::DeviceConfig;
use common::device::Device;
use common::protocol::{ANSWER, Decoder, Frame, STATUS_LEN, Server, kind};

use super::case::{Case, Ev};

/// The model's answer bytes to `case`.
pub fn run(cfg: &DeviceConfig, timeout: u64, case: &Case) -> Vec<u8> {
    let mut s = Server::with_timeout(Device::new(cfg.clone()), timeout);
    let mut out = Vec::new();
    for e in &case.evs {
        match *e {
            Ev::Byte { gap, b } => out.extend(s.push_after(gap as u64, b)),
            Ev::Reset { .. } => s.reset(),
            Ev::Ready { .. } | Ev::Mark => {}
        }
    }
    out
}

/// The answer frames in `bytes`, or why they are not a clean sequence of frames.
fn frames(bytes: &[u8]) -> Result<Vec<Frame>, String> {
    let mut d = Decoder::new();
    let mut fs = Vec::new();
    for &b in bytes {
        match d.push(b) {
            Some(Ok(f)) => fs.push(f),
            Some(Err(e)) => return Err(format!("answer stream: {e}")),
            None => {}
        }
    }
    let clean: Vec<u8> = fs.iter().flat_map(Frame::encode).collect();
    if clean != bytes {
        return Err("answer stream has bytes outside frames".into());
    }
    Ok(fs)
}

/// The engine's cycle counts in `fs` (a `Run` answer's payload, `Status.job_cycles`), set to
/// the functional model's 0; returns them.
fn clear_cycles(fs: &mut [Frame]) -> Vec<u32> {
    let mut seen = Vec::new();
    for f in fs {
        let at = match f.kind {
            k if k == kind::RUN | ANSWER && f.payload.len() == 4 => 0,
            k if k == kind::STATUS | ANSWER && f.payload.len() == STATUS_LEN => 2,
            _ => continue,
        };
        let c = &mut f.payload[at..at + 4];
        seen.push(u32::from_le_bytes(c.try_into().unwrap()));
        c.fill(0);
    }
    seen
}

/// Compare the answers. Byte for byte, except the engine's cycle counts, which the
/// functional model does not have (it answers 0): those must be 0 or, for every job of the
/// run, one and the same count (`job_cycles`, learnt from the first).
pub fn compare(rtl: &[u8], model: &[u8], job_cycles: &mut Option<u32>) -> Result<(), String> {
    let mut r = frames(rtl)?;
    let seen = clear_cycles(&mut r);
    for c in seen.into_iter().filter(|&c| c != 0) {
        match *job_cycles {
            None => *job_cycles = Some(c),
            Some(j) if j != c => {
                return Err(format!("job took {c} cycles, earlier jobs {j}"));
            }
            _ => {}
        }
    }
    let normal: Vec<u8> = r.iter().flat_map(Frame::encode).collect();
    if normal != model {
        return Err("answers differ".into());
    }
    Ok(())
}
