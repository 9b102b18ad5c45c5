//! The seam between the typed API (`Bus`, `Client`, `Server`) and what
//! carries calls: Redis, or memory for unit tests.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::time::Instant;

use crate::discovery::Instance;
use crate::error::Error;
use crate::info::{MethodInfo, ServiceInfo};
use crate::server::ServerConfig;
use crate::service::Service;
use crate::stats::MethodStats;
use crate::status::Status;
use crate::trace::TraceParent;

/// One call on its way out, with everything the transport needs.
#[derive(Debug)]
pub(crate) struct OutgoingCall {
    /// The service called.
    pub service: &'static ServiceInfo,
    /// The rpc called.
    pub method: &'static MethodInfo,
    /// The encoded request.
    pub payload: Vec<u8>,
    /// When the caller stops waiting.
    pub deadline: Instant,
    /// The W3C trace context to send along.
    pub traceparent: Option<TraceParent>,
    /// Whether to wait for a worker when none is live.
    pub wait_for_worker: bool,
    /// For a method whose replies are cached: how to use the cache.
    pub cache: Option<CacheUse>,
}

/// How a call of a cached method uses the cache.
#[derive(Debug)]
pub(crate) struct CacheUse {
    /// The request's cache key text, as the method's template makes it.
    pub text: String,
    /// Whether to skip the lookup (the reply is still stored).
    pub bypass: bool,
}

/// Carries calls and runs workers.
#[async_trait]
pub(crate) trait Transport: Send + Sync + fmt::Debug + 'static {
    /// The bus name, for messages.
    fn bus_name(&self) -> &str;

    /// Where the bus lives, for messages: the Redis URL with any password
    /// hidden.
    fn location(&self) -> &str;

    /// Delivers a call and waits for its encoded reply. The caller bounds
    /// the wait by the deadline.
    async fn call(&self, call: OutgoingCall) -> Result<Bytes, Status>;

    /// Starts serving `services`; they are reachable when this returns.
    async fn start(
        &self,
        services: Vec<Arc<dyn Service>>,
        config: ServerConfig,
    ) -> Result<Box<dyn Worker>, Error>;

    /// The live instances of every service, or of service `only`.
    async fn instances(&self, only: Option<&str>) -> Result<Vec<Instance>, Error>;

    /// Wakes a watcher when the registry may have changed.
    async fn registry_events(&self) -> Result<Box<dyn RegistryEvents>, Error>;

    /// Forgets the cached reply of `method` for the request whose cache key
    /// text is `text` (true when there was one), or every cached reply of
    /// `method` when `text` is `None`.
    async fn clear_cache(
        &self,
        method: &'static MethodInfo,
        text: Option<&str>,
    ) -> Result<bool, Error>;

    /// The statistics of every method of the bus.
    async fn stats(&self) -> Result<Vec<MethodStats>, Error>;

    /// Sends the statistics this process recorded and has not sent yet.
    async fn flush_stats(&self) -> Result<(), Error>;

    /// Counts the keys of the bus, and removes them unless `dry_run`.
    async fn cleanup(&self, dry_run: bool) -> Result<u64, Error>;
}

/// Tells a watcher when to look at the registry again.
#[async_trait]
pub(crate) trait RegistryEvents: Send {
    /// Returns when a worker announced a start or a stop, or after the poll
    /// interval (workers that die announce nothing).
    async fn wait(&mut self) -> Result<(), Error>;
}

/// A running worker, as started by a transport.
#[async_trait]
pub(crate) trait Worker: Send + Sync {
    /// The instance id under which the worker serves.
    fn instance_id(&self) -> &str;

    /// Completes when the worker stops taking calls by itself (after its
    /// one call in `serve_once` mode, or a failure in debug mode) or is
    /// asked to shut down.
    async fn stopped(&self);

    /// Stops taking calls, at once.
    fn stop_taking(&self);

    /// Stops taking calls, finishes those in flight and deregisters. Returns
    /// the error that made the worker stop by itself, if one did.
    async fn shutdown(self: Box<Self>) -> Result<(), Error>;
}
