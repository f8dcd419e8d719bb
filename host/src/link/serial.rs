//! Serial port link (the ULX3S's FT231X, or the simulated board's pseudo-terminal).

use std::io::{self, Read, Write};
use std::time::Duration;

use super::{Link, LinkError};

/// The FT231X's top rate, and the design's default.
pub const DEFAULT_BAUD: u32 = 3_000_000;

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
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
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
