//! Serial port link (the ULX3S's FT231X, or the simulated board's pseudo-terminal).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::{Link, LinkError};

/// The FT231X's top rate, and the design's default.
pub const DEFAULT_BAUD: u32 = 3_000_000;

/// Longest a device may refuse bytes before a send fails.
const SEND_STALL: Duration = Duration::from_secs(10);

pub struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
    path: String,
}

impl SerialLink {
    pub fn open(path: &str, baud: u32) -> Result<Self, LinkError> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| LinkError::Open(path.into(), e.to_string()))?;
        // Stale bytes from an earlier session would only cost a retry, but drop them.
        let _ = port.clear(serialport::ClearBuffer::All);
        Ok(SerialLink {
            port,
            path: path.into(),
        })
    }
}

impl Link for SerialLink {
    fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        // The port's timeout is the last `recv`'s, often a few ms; a slow device that stops
        // reading for longer fills the buffers and a write times out part way. Keep writing
        // until it has not taken a byte for `SEND_STALL`.
        let mut last = Instant::now();
        while !bytes.is_empty() {
            match self.port.write(bytes) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "port closed")),
                Ok(n) => {
                    bytes = &bytes[n..];
                    last = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) && last.elapsed() < SEND_STALL => {}
                Err(e) => return Err(e),
            }
        }
        self.port.flush()
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(io::Error::other)?;
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        format!("serial port {}", self.path)
    }
}
