//! `Bus`: a handle on one named bus, shared by the clients and servers of a
//! process.

use std::sync::Arc;
use std::time::Duration;

use crate::memory::MemoryTransport;
use crate::transport::Transport;

/// The deadline of a call whose method declares no `timeout_ms`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle on a bus: services served on it can be called by every client
/// of the same bus. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct Bus {
    /// What carries the calls.
    pub(crate) transport: Arc<dyn Transport>,
    /// The deadline of calls whose method and options set none.
    pub(crate) default_timeout: Duration,
}

impl Bus {
    /// A bus that lives in this process only, for unit tests of services
    /// and their callers: calls go straight to the served implementation,
    /// still encoded and decoded as on the wire.
    pub fn in_memory() -> Bus {
        Bus {
            transport: Arc::new(MemoryTransport::default()),
            default_timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The bus's name.
    pub fn name(&self) -> &str {
        self.transport.bus_name()
    }

    /// The same bus, with `timeout` as the deadline of calls whose method
    /// and call options set none.
    pub fn with_default_timeout(mut self, timeout: Duration) -> Bus {
        self.default_timeout = timeout;
        self
    }
}
