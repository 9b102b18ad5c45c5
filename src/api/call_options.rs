//! `CallOptions`: per-client or per-call settings of calls.

use std::time::Duration;

/// How calls are made: their deadline, and whether to wait for a worker.
///
/// Set them on a generated client with `with_options` (or `with_timeout`);
/// the client is cheap to clone, so a per-call override reads
/// `math.clone().with_timeout(d).sum(request)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// The deadline of each call, overriding the method's `timeout_ms` and
    /// the bus-wide default.
    pub(crate) timeout: Option<Duration>,
    /// Whether a call with no live worker waits (until its deadline) for one
    /// to appear, instead of failing at once.
    pub(crate) wait_for_worker: bool,
    /// Whether a call of a cached method skips the cache lookup (and so
    /// refreshes the cached reply).
    pub(crate) bypass_cache: bool,
}

impl CallOptions {
    /// The defaults: the method's deadline, fail fast without a worker.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Gives each call `timeout` instead of the method's default deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Makes a call with no live worker wait until its deadline for one to
    /// appear, instead of failing at once with `UNAVAILABLE`.
    pub fn wait_for_worker(mut self, wait: bool) -> Self {
        self.wait_for_worker = wait;
        self
    }

    /// Makes calls of cached methods skip the cache: the worker computes a
    /// fresh reply, which replaces the cached one.
    pub fn bypass_cache(mut self, bypass: bool) -> Self {
        self.bypass_cache = bypass;
        self
    }
}
