//! `CallOptions`: per-client or per-call settings of calls.

use std::time::Duration;

use crate::seam::metadata::Metadata;

/// How calls are made: their deadline, whether to wait for a worker, how
/// they use the cache, and the metadata they carry.
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
    /// Metadata sent with each call.
    pub(crate) metadata: Metadata,
    /// Whether a call made while serving another sends that call's
    /// metadata along (under its own).
    pub(crate) propagate_metadata: bool,
    /// Why a metadata entry set here was refused: the calls fail with it.
    pub(crate) invalid: Option<String>,
    /// For server-streaming calls: how many messages the worker may send
    /// ahead of those read (0: the default).
    pub(crate) stream_window: u32,
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

    /// Lets the worker of a server-streaming call send at most `messages`
    /// messages ahead of those the caller has read (default
    /// [`DEFAULT_STREAM_WINDOW`](crate::DEFAULT_STREAM_WINDOW), at most
    /// [`MAX_STREAM_WINDOW`](crate::MAX_STREAM_WINDOW)): a slow reader makes
    /// the worker wait, so Redis and this process hold at most that many
    /// messages of the stream (and on Redis at most about 1 MiB of them,
    /// whatever the window). A larger window streams faster over a slow
    /// link; 0 means the default.
    pub fn stream_window(mut self, messages: u32) -> Self {
        self.stream_window = messages;
        self
    }

    /// Makes calls of cached methods skip the cache: the worker computes a
    /// fresh reply, which replaces the cached one.
    pub fn bypass_cache(mut self, bypass: bool) -> Self {
        self.bypass_cache = bypass;
        self
    }

    /// Sends text metadata `key: value` with each call; the handler reads
    /// it with `CallContext::current()?.metadata().get(key)`. A key that
    /// breaks the rules of [`Metadata`] makes each call fail with
    /// `INVALID_ARGUMENT` naming it.
    pub fn metadata(mut self, key: &str, value: impl Into<String>) -> Self {
        if let Err(why) = self.metadata.insert(key, value) {
            self.invalid.get_or_insert(why);
        }
        self
    }

    /// Sends binary metadata under `key`, which must end in `-bin`.
    pub fn metadata_bin(mut self, key: &str, value: impl Into<bytes::Bytes>) -> Self {
        if let Err(why) = self.metadata.insert_bin(key, value) {
            self.invalid.get_or_insert(why);
        }
        self
    }

    /// Makes a call made while serving another send that call's metadata
    /// along, under its own (off by default: metadata often holds
    /// credentials meant for one service).
    pub fn propagate_metadata(mut self, propagate: bool) -> Self {
        self.propagate_metadata = propagate;
        self
    }
}
