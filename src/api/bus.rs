//! `Bus`: a handle on one named bus, shared by the clients and servers of a
//! process; `BusBuilder` to connect one with non-default settings.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::api::interceptor::{Interceptor, Interceptors};
use crate::memory::MemoryTransport;
use crate::redis::{RedisSettings, RedisTransport};
use crate::seam::call::OutgoingCall;
use crate::seam::error::{Error, ErrorKind};
use crate::seam::status::Status;
use crate::seam::transport::Transport;

/// The deadline of a call whose method declares no `timeout_ms`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle on a bus: services served on it can be called by every client
/// of the same bus. Cheap to clone; clones share connections.
///
/// Buses with the same name on the same Redis share their services; buses
/// with different names never see each other's keys.
#[derive(Clone)]
pub struct Bus {
    /// What carries the calls.
    pub(crate) transport: Arc<dyn Transport>,
    /// The deadline of calls whose method and options set none.
    pub(crate) default_timeout: Duration,
    /// What runs around every call made through this handle.
    pub(crate) interceptors: Interceptors,
    /// The `tower` layers every call made through this handle goes through.
    #[cfg(feature = "tower")]
    pub(crate) tower: Option<Arc<crate::api::tower::client::ClientLayers>>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("transport", &self.transport)
            .field("default_timeout", &self.default_timeout)
            .field("interceptors", &self.interceptors.len())
            .finish()
    }
}

impl Bus {
    /// Connects to the bus `name` on the Redis at `url`
    /// (`redis://[user[:password]@]host[:port][/db]`, or `rediss://` for
    /// TLS), with default settings.
    pub async fn connect(url: &str, name: &str) -> Result<Bus, Error> {
        Bus::builder(url, name).connect().await
    }

    /// A builder to connect to the bus `name` at `url` with other settings.
    pub fn builder(url: &str, name: &str) -> BusBuilder {
        BusBuilder {
            url: url.to_owned(),
            name: name.to_owned(),
            default_timeout: DEFAULT_TIMEOUT,
            settings: RedisSettings::default(),
            tls: None,
        }
    }

    /// A bus that lives in this process only, for unit tests of services
    /// and their callers: calls go straight to the served implementation,
    /// still encoded and decoded as on the wire, with what a test can see
    /// of Redis: the result cache (hits, TTLs, clearing, one handler run
    /// for identical misses), metadata and interceptors, deadlines, and
    /// `UNAVAILABLE` without a worker.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use generated_examples::math::SumRequest;
    /// use generated_examples::math::math_bus::{MathClient, MathServer};
    /// use generated_examples::services::MathService;
    ///
    /// let bus = redis_bus::Bus::in_memory();
    /// let _server = redis_bus::Server::new(&bus)
    ///     .add_service(MathServer::new(MathService))
    ///     .start()
    ///     .await?;
    /// let math = MathClient::new(&bus);
    /// assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await?.sum, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_memory() -> Bus {
        Bus {
            transport: Arc::new(MemoryTransport::default()),
            default_timeout: DEFAULT_TIMEOUT,
            interceptors: Arc::new([]),
            #[cfg(feature = "tower")]
            tower: None,
        }
    }

    /// The bus's name.
    pub fn name(&self) -> &str {
        self.transport.bus_name()
    }

    /// Where the bus lives: the Redis URL with any password hidden.
    pub fn url(&self) -> &str {
        self.transport.location()
    }

    /// How many keys the bus holds in Redis (a `SCAN`, for operators).
    pub async fn count_keys(&self) -> Result<u64, Error> {
        self.transport.cleanup(true).await
    }

    /// Removes every key of the bus from Redis (queues, registrations,
    /// cache, statistics), with `SCAN` and `UNLINK`, never `KEYS`; returns
    /// how many were removed. Workers still running register again with
    /// their next heartbeat.
    pub async fn cleanup(&self) -> Result<u64, Error> {
        self.transport.cleanup(false).await
    }

    /// Sends the statistics this process recorded and has not sent yet
    /// (they are sent every second anyway): before reading them right
    /// after some calls, or before exiting.
    pub async fn flush_stats(&self) -> Result<(), Error> {
        self.transport.flush_stats().await
    }

    /// Hands `call` to the transport, through this handle's `tower` layers
    /// when it has some.
    pub(crate) async fn send(&self, call: OutgoingCall) -> Result<Bytes, Status> {
        #[cfg(feature = "tower")]
        if let Some(layers) = &self.tower {
            return layers.send(call).await;
        }
        self.transport.call(call).await
    }

    /// The same bus, with `interceptor` running around every call of every
    /// client made from it (after the interceptors added before it). Other
    /// handles on the bus are not affected.
    pub fn with_interceptor(mut self, interceptor: impl Interceptor) -> Bus {
        let mut all: Vec<Arc<dyn Interceptor>> = self.interceptors.to_vec();
        all.push(Arc::new(interceptor));
        self.interceptors = all.into();
        self
    }

    /// The same bus, with `timeout` as the deadline of calls whose method
    /// and call options set none.
    pub fn with_default_timeout(mut self, timeout: Duration) -> Bus {
        self.default_timeout = timeout;
        self
    }
}

/// Connects to a bus with non-default settings; from [`Bus::builder`].
#[derive(Debug, Clone)]
pub struct BusBuilder {
    /// The Redis URL.
    url: String,
    /// The bus name.
    name: String,
    /// The deadline of calls whose method and options set none.
    default_timeout: Duration,
    /// Transport pacing.
    settings: RedisSettings,
    /// The CA and client certificate for `rediss://` URLs, when the
    /// system's trust store does not apply.
    tls: Option<redis::TlsCertificates>,
}

impl BusBuilder {
    /// The deadline of calls whose method declares no `timeout_ms` and whose
    /// options set none (30 s by default).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// How often workers renew their registration (1 s by default), and how
    /// long a registration lasts without renewal (5 s): a worker that is
    /// killed is considered dead, and its requests reclaimed, within about
    /// `ttl + interval`.
    pub fn heartbeat(mut self, interval: Duration, ttl: Duration) -> Self {
        self.settings.heartbeat_interval = interval;
        self.settings.instance_ttl = ttl;
        self
    }

    /// How long one blocking read waits before it is issued again (2 s by
    /// default): bounds how long an idle reader takes to notice a dead
    /// connection, and how long a stopping worker can wait for a taker that
    /// cannot be woken.
    pub fn block_timeout(mut self, timeout: Duration) -> Self {
        self.settings.block_timeout = timeout;
        self
    }

    /// Keeps cached replies in this process too (off by default): a repeated
    /// hit then costs no round trip. Redis tells the process when an entry
    /// changes or is cleared (RESP3 client tracking), so it never serves a
    /// reply that Redis no longer holds.
    pub fn near_cache(mut self, enabled: bool) -> Self {
        self.settings.near_cache = enabled;
        self
    }

    /// Bounds the whole of connecting (opening the connection, the
    /// handshake and its retries) by `limit`: past it, `connect` fails with
    /// an error of kind `Connection` naming the URL. Unbounded by default,
    /// beyond each attempt's own limit.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.settings.connect_timeout = Some(limit);
        self
    }

    /// Names this process's client (letters, digits, `.`, `_`, `-`): its
    /// reply lists become `rb:{<bus>:client:<name>-<random id>}:...`, so
    /// that a Redis ACL can give each application its own (see
    /// docs/ACL.md).
    pub fn client_name(mut self, name: &str) -> Self {
        self.settings.client_name = Some(name.to_owned());
        self
    }

    /// Trusts the CA in `ca_pem` (PEM) for `rediss://` URLs, instead of the
    /// system's trust store: for a Redis whose certificate a private CA
    /// signed.
    pub fn tls_ca(mut self, ca_pem: impl Into<Vec<u8>>) -> Self {
        self.tls.get_or_insert_with(empty_tls).root_cert = Some(ca_pem.into());
        self
    }

    /// Presents a client certificate (mutual TLS), both in PEM.
    pub fn tls_client_certificate(
        mut self,
        certificate_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.tls.get_or_insert_with(empty_tls).client_tls = Some(redis::ClientTlsConfig {
            client_cert: certificate_pem.into(),
            client_key: key_pem.into(),
        });
        self
    }

    /// Connects, failing with a clear error when Redis cannot be reached or
    /// the settings are invalid.
    pub async fn connect(self) -> Result<Bus, Error> {
        let settings = &self.settings;
        if let Some(name) = &settings.client_name {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "invalid client name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-'"
                    ),
                ));
            }
        }
        if settings.instance_ttl <= settings.heartbeat_interval {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "the registration lifetime ({:?}) must be longer than the heartbeat \
                     interval ({:?}), or live workers would look dead",
                    settings.instance_ttl, settings.heartbeat_interval
                ),
            ));
        }
        let transport =
            RedisTransport::connect(&self.url, &self.name, self.settings, self.tls).await?;
        Ok(Bus {
            transport: Arc::new(transport),
            default_timeout: self.default_timeout,
            interceptors: Arc::new([]),
            #[cfg(feature = "tower")]
            tower: None,
        })
    }
}

/// TLS settings that change nothing yet.
fn empty_tls() -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: None,
    }
}
