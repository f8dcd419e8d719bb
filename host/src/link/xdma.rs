//! XDMA-style link: a host-to-card and a card-to-host stream (the XDMA driver's
//! `/dev/xdma0_h2c_0` and `/dev/xdma0_c2h_0`, or a pair of FIFOs from `sim serve --xdma`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use super::{Link, LinkError};

pub struct XdmaLink {
    h2c: File,
    rx: Receiver<io::Result<Vec<u8>>>,
    /// Received bytes not yet handed out.
    pending: Vec<u8>,
    name: String,
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

impl XdmaLink {
    /// Open both streams. Non-blocking opens: a FIFO without a reader on the other side
    /// fails to open for writing (ENXIO) instead of hanging, and is retried until `timeout`.
    pub fn open(h2c: &Path, c2h: &Path, timeout: Duration) -> Result<Self, LinkError> {
        let err = |p: &Path, e: io::Error| LinkError::Open(p.display().to_string(), e.to_string());
        let deadline = Instant::now() + timeout;
        let h2c_file = loop {
            match OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(h2c)
            {
                Ok(f) => break f,
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(10))
                }
                Err(e) => return Err(err(h2c, e)),
            }
        };
        // One host per device: an advisory lock on the h2c stream (released when this link
        // closes or its process dies), taken before c2h is opened, since a second reader of
        // c2h would take answers meant for the first host.
        match h2c_file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LinkError::Open(
                    h2c.display().to_string(),
                    "another host is using this device (its h2c stream is locked)".into(),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err(h2c, e)),
        }
        let mut c2h_file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(c2h)
            .map_err(|e| err(c2h, e))?;
        let (tx, rx) = channel();
        // A reader thread turns the blocking-ish stream into a channel with timeouts. It
        // polls: a regular file or FIFO at EOF only means "nothing yet".
        thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match c2h_file.read(&mut buf) {
                    Ok(0) => thread::sleep(Duration::from_millis(1)),
                    Ok(n) => {
                        if tx.send(Ok(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) if would_block(&e) => thread::sleep(Duration::from_millis(1)),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        Ok(XdmaLink {
            h2c: h2c_file,
            rx,
            pending: Vec::new(),
            name: format!("XDMA streams {} / {}", h2c.display(), c2h.display()),
        })
    }
}

impl Link for XdmaLink {
    fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match self.h2c.write(bytes) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "h2c closed")),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if would_block(&e) => thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv_timeout(timeout) {
                Ok(Ok(chunk)) => self.pending = chunk,
                Ok(Err(e)) => return Err(e),
                Err(RecvTimeoutError::Timeout) => return Ok(0),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "c2h reader stopped",
                    ));
                }
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
