//! The functional device in-process: the protocol server of `common::protocol` over the
//! device model. Fast host tests and `--device functional:CONFIG` use it.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use common::DeviceConfig;
use common::device::Device;
use common::protocol::Server;

use super::Link;

pub struct LocalLink {
    pub server: Server,
    pending: VecDeque<u8>,
}

impl LocalLink {
    pub fn new(cfg: DeviceConfig) -> Self {
        LocalLink {
            server: Server::new(Device::new(cfg)),
            pending: VecDeque::new(),
        }
    }
}

impl Link for LocalLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.pending.extend(self.server.push(bytes));
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            // Nothing is in flight and the model answers synchronously, so nothing can
            // come: wait out the timeout, during which the device's inactivity timer fires.
            std::thread::sleep(timeout);
            self.server.timeout();
            return Ok(0);
        }
        let n = buf.len().min(self.pending.len());
        for (d, s) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }

    fn describe(&self) -> String {
        format!("functional model ({})", self.server.device.cfg.name)
    }
}
