//! How many requests wait in a service's queue for a worker to take them:
//! a queue that grows says the workers do not keep up.

/// The queue of one service at one major version.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueDepth {
    /// The service's full name, e.g. `math.Math`.
    pub service: String,
    /// The major version whose requests the queue holds.
    pub major: u64,
    /// Requests queued and not yet taken by a worker.
    pub waiting: u64,
}
