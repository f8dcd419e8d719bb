//! Links to the device: one byte-pipe trait ([`Link`]) with a serial port, an XDMA-style
//! pair of stream files and an in-process functional device behind it, plus the protocol
//! [`Client`] (timeouts, retries, handshake) that runs jobs over any of them.

mod client;
mod fault;
mod local;
mod serial;
mod xdma;

pub use client::{Client, ClientOptions, LinkError, LinkStats};
pub use fault::{FaultRates, Faulty, Rng};
pub use local::LocalLink;
pub use serial::{DEFAULT_BAUD, SerialLink};
pub use xdma::XdmaLink;

use std::io;
use std::time::Duration;

/// A bidirectional byte pipe to the device.
pub trait Link: Send {
    /// Send all bytes.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Receive what is available, waiting at most `timeout`; `Ok(0)` means nothing came.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// What this link is connected to, for messages.
    fn describe(&self) -> String;
}

impl<L: Link + ?Sized> Link for Box<L> {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).recv(buf, timeout)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Open a device by name: `functional:CONFIG` (in-process model), `xdma:DIR` (stream files
/// `DIR/h2c` and `DIR/c2h`), otherwise a serial port path at `baud`.
pub fn open(spec: &str, baud: u32, timeout: Duration) -> Result<Box<dyn Link>, LinkError> {
    if let Some(cfg) = spec.strip_prefix("functional:") {
        let cfg = common::DeviceConfig::by_name(cfg)
            .ok_or_else(|| LinkError::Open(spec.into(), "unknown configuration".into()))?;
        return Ok(Box::new(LocalLink::new(cfg)));
    }
    if let Some(dir) = spec.strip_prefix("xdma:") {
        let dir = std::path::Path::new(dir);
        return Ok(Box::new(XdmaLink::open(
            &dir.join("h2c"),
            &dir.join("c2h"),
            timeout,
        )?));
    }
    Ok(Box::new(SerialLink::open(spec, baud)?))
}

#[cfg(test)]
mod tests;
