//! The seam between the typed API (`Bus`, `Client`, `Server`) and what
//! carries calls: Redis, or memory for unit tests. The API holds a
//! `dyn Transport`; each transport implements it with the data of this
//! layer only.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::seam::call::OutgoingCall;
use crate::seam::error::{Error, ErrorKind};
use crate::seam::heartbeat::Heartbeat;
use crate::seam::info::MethodInfo;
use crate::seam::instance::Instance;
use crate::seam::queue_depth::QueueDepth;
use crate::seam::server_config::ServerConfig;
use crate::seam::service::Service;
use crate::seam::stats::{InstanceStats, MethodStats};
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, EncodedRequests};

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

    /// Delivers a call of a server-streaming method and returns its stream
    /// of encoded messages, which ends with the call's final status. The
    /// caller bounds the stream by the deadline; dropping the stream
    /// cancels the call.
    async fn call_streaming(&self, call: OutgoingCall) -> Result<EncodedMessages, Status>;

    /// Delivers a call of a client-streaming method, sends `requests` to
    /// its handler as they come (and as the handler reads them), and waits
    /// for the encoded reply. The caller bounds the wait by the deadline.
    async fn call_client_streaming(
        &self,
        call: OutgoingCall,
        requests: EncodedRequests,
    ) -> Result<Bytes, Status>;

    /// Starts serving `services`; they are reachable when this returns.
    async fn start(
        &self,
        services: Vec<Arc<dyn Service>>,
        config: ServerConfig,
    ) -> Result<Box<dyn Worker>, Error>;

    /// The live instances of every service, or of service `only`.
    async fn instances(&self, only: Option<&str>) -> Result<Vec<Instance>, Error>;

    /// When each live instance of `service` last renewed its registration;
    /// a transport without heartbeats says so.
    async fn heartbeats(&self, service: &str) -> Result<Vec<Heartbeat>, Error> {
        Err(Error::new(
            ErrorKind::Config,
            format!(
                "bus {:?} keeps no heartbeats to show for {service}",
                self.bus_name()
            ),
        ))
    }

    /// How many requests wait in each service's queue; a transport without
    /// queues says so.
    async fn queue_depths(&self) -> Result<Vec<QueueDepth>, Error> {
        Err(Error::new(
            ErrorKind::Config,
            format!("bus {:?} keeps no queues to measure", self.bus_name()),
        ))
    }

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

    /// The own statistics of every live worker, per method.
    async fn instance_stats(&self) -> Result<Vec<InstanceStats>, Error>;

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
