//! The Redis transport: requests queued per service (and major version) in
//! lists, taken in batches into a per-worker `taken` hash so that no request
//! is lost with a worker, replies pushed to a list per client. The reasons,
//! and the measurements behind them, are in docs/ARCHITECTURE.md.
//!
//! Layout: `caller` (the calling side), `worker` (the serving side),
//! `keys` (every key), `envelope` (what is in them), `scripts` (the Lua),
//! `connection` (opening connections), `clock` (bus time), `settings`.

mod batch;
mod blocking;
mod cache;
mod caller;
mod cleanup;
mod clock;
mod connection;
mod envelope;
mod heartbeats;
mod keys;
mod queues;
mod registry;
mod role;
mod scripts;
mod sentinel;
mod settings;
mod shared;
mod stats;
mod streaming;
mod window;
mod worker;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::task::JoinHandle;

use self::caller::{Caller, CallerParts};
use self::clock::BusClock;
use self::connection::Connector;
use self::keys::Keys;
use self::registry::EventWaiter;
pub(crate) use self::settings::RedisSettings;
use self::stats::Stats;
use self::worker::{RedisWorker, WorkerParts};
use crate::redis::shared::SharedConnection;
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
use crate::seam::transport::{RegistryEvents, Transport, Worker};

/// A bus on Redis.
pub(crate) struct RedisTransport {
    /// Opens connections.
    connector: Connector,
    /// The bus's keys.
    keys: Keys,
    /// The shared connection.
    connection: SharedConnection,
    /// Bus time.
    clock: Arc<BusClock>,
    /// Pacing.
    settings: RedisSettings,
    /// The calling side, started on the first call (a process that only
    /// serves needs no reply reader).
    caller: OnceLock<Caller>,
    /// Statistics recorded by this process.
    stats: Arc<Stats>,
    /// The task that sends them every interval. It outlives the transport
    /// while a worker started on it still counts (a server runs on after
    /// the `Bus` it was started with is dropped), and ends at its first
    /// tick after the last of them.
    _stats_flusher: JoinHandle<()>,
}

impl std::fmt::Debug for RedisTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTransport")
            .field("url", &self.connector.shown_url())
            .field("bus", &self.keys.bus())
            .finish_non_exhaustive()
    }
}

impl RedisTransport {
    /// Connects to bus `name` at `url`.
    pub(crate) async fn connect(
        url: &str,
        name: &str,
        settings: RedisSettings,
        tls: Option<redis::TlsCertificates>,
    ) -> Result<RedisTransport, Error> {
        let keys = Keys::new(name)?;
        let connector = Connector::new(url, tls)?;
        let opened = connector.shared();
        let mut connection = match settings.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, opened).await.map_err(|_| {
                Error::new(
                    ErrorKind::Connection,
                    format!(
                        "cannot connect to Redis at {}: no answer within {limit:?}",
                        connector.shown_url()
                    ),
                )
            })??,
            None => opened.await?,
        };
        let clock = Arc::new(BusClock::default());
        clock
            .sync(&mut connection)
            .await
            .map_err(|error| connector.error("cannot read the clock of Redis at", error))?;
        let stats = Arc::new(Stats::new(settings.instance_ttl));
        let stats_flusher = tokio::spawn(stats::flush_periodically(
            Arc::downgrade(&stats),
            connection.clone(),
            keys.clone(),
            settings.stats_interval,
        ));
        Ok(RedisTransport {
            connector,
            keys,
            connection,
            clock,
            settings,
            caller: OnceLock::new(),
            stats,
            _stats_flusher: stats_flusher,
        })
    }

    fn caller(&self) -> &Caller {
        self.caller.get_or_init(|| {
            Caller::start(CallerParts {
                connector: self.connector.clone(),
                connection: self.connection.clone(),
                keys: self.keys.clone(),
                clock: Arc::clone(&self.clock),
                stats: Arc::clone(&self.stats),
                block: self.settings.block_timeout,
                near_cache: self.settings.near_cache,
                client_name: self.settings.client_name.clone(),
                watch_interval: self.settings.heartbeat_interval,
            })
        })
    }
}

/// Clears the entry of `text`, or every entry of `method`.
async fn clear(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &keys::CacheKeys,
    method: &MethodInfo,
    text: Option<&str>,
) -> redis::RedisResult<bool> {
    match text {
        Some(text) => cache::clear(connection, &keys.entry(method.schema_fingerprint, text)).await,
        None => cache::clear_all(connection, keys).await.map(|()| true),
    }
}

#[async_trait]
impl Transport for RedisTransport {
    fn bus_name(&self) -> &str {
        self.keys.bus()
    }

    fn location(&self) -> &str {
        self.connector.shown_url()
    }

    async fn call(&self, call: OutgoingCall) -> Result<Bytes, Status> {
        // The whole call as its caller waits for it, cache hits included.
        let (service, method) = (call.service, call.method.full_name);
        let started = std::time::Instant::now();
        let outcome = self.caller().call(call).await;
        self.stats.called(service, method, started.elapsed());
        outcome
    }

    async fn call_streaming(&self, call: OutgoingCall) -> Result<EncodedMessages, Status> {
        self.caller().call_streaming(call).await
    }

    async fn call_client_streaming(
        &self,
        call: OutgoingCall,
        requests: EncodedRequests,
    ) -> Result<Bytes, Status> {
        self.caller().call_client_streaming(call, requests).await
    }

    async fn start(
        &self,
        services: Vec<Arc<dyn Service>>,
        config: ServerConfig,
    ) -> Result<Box<dyn Worker>, Error> {
        let parts = WorkerParts {
            connection: self.connection.clone(),
            connector: self.connector.clone(),
            keys: self.keys.clone(),
            clock: Arc::clone(&self.clock),
            settings: self.settings.clone(),
            stats: Arc::clone(&self.stats),
        };
        Ok(Box::new(RedisWorker::start(parts, services, config).await?))
    }

    async fn clear_cache(
        &self,
        method: &'static MethodInfo,
        text: Option<&str>,
    ) -> Result<bool, Error> {
        let keys = self.keys.cache(method.full_name);
        // Through this process's near cache when it has one, so that no
        // read after the clear returns what was cleared (see
        // `cache::clear_near`).
        let near = self.caller.get().and_then(Caller::open_near_cache);
        let cleared = match near {
            Some(mut near) => cache::clear_near(&mut near, &keys, method, text).await,
            None => clear(&mut self.connection.clone(), &keys, method, text).await,
        };
        cleared.map_err(|error| self.connector.error("cannot clear the cache at", error))
    }

    async fn stats(&self) -> Result<Vec<MethodStats>, Error> {
        stats::read(&mut self.connection.clone(), &self.keys)
            .await
            .map_err(|error| self.connector.error("cannot read statistics at", error))
    }

    async fn instance_stats(&self) -> Result<Vec<InstanceStats>, Error> {
        stats::read_instances(&self.connection, &self.keys, self.clock.now_ms())
            .await
            .map_err(|error| self.connector.error("cannot read statistics at", error))
    }

    async fn cleanup(&self, dry_run: bool) -> Result<u64, Error> {
        cleanup::cleanup(&self.connector, &self.connection, &self.keys, dry_run).await
    }

    async fn flush_stats(&self) -> Result<(), Error> {
        self.stats
            .flush(&self.connection, &self.keys)
            .await
            .map_err(|error| self.connector.error("cannot send statistics to", error))
    }

    async fn instances(&self, only: Option<&str>) -> Result<Vec<Instance>, Error> {
        registry::instances(&self.connection, &self.keys, only, self.clock.now_ms())
            .await
            .map_err(|error| self.connector.error("cannot read the registry at", error))
    }

    async fn heartbeats(&self, service: &str) -> Result<Vec<Heartbeat>, Error> {
        let (now, ttl) = (self.clock.now_ms(), self.settings.instance_ttl);
        heartbeats::read(&self.connection, &self.keys, service, now, ttl)
            .await
            .map_err(|error| self.connector.error("cannot read the registry at", error))
    }

    async fn queue_depths(&self) -> Result<Vec<QueueDepth>, Error> {
        queues::read(&self.connection, &self.keys)
            .await
            .map_err(|error| self.connector.error("cannot read the queues at", error))
    }

    async fn registry_events(&self) -> Result<Box<dyn RegistryEvents>, Error> {
        let waiter = EventWaiter::new(
            self.connector.clone(),
            &self.connection,
            self.keys.events(),
            self.settings.heartbeat_interval,
        )
        .await
        .map_err(|error| {
            self.connector
                .error("cannot read registry events at", error)
        })?;
        Ok(Box::new(RedisEvents {
            waiter,
            connector: self.connector.clone(),
        }))
    }
}

/// Registry events on Redis (the waiter reconnects after a failure).
struct RedisEvents {
    /// Waits on the events stream.
    waiter: EventWaiter,
    /// For messages.
    connector: Connector,
}

#[async_trait]
impl RegistryEvents for RedisEvents {
    async fn wait(&mut self) -> Result<(), Error> {
        self.waiter.wait().await.map_err(|error| {
            self.connector
                .error("cannot read registry events at", error)
        })
    }
}
