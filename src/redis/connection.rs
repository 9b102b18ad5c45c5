//! Opening connections to Redis or a Redis Cluster, and turning redis-rs
//! errors into ours.
//!
//! Two kinds of connection, for a reason (see docs/ARCHITECTURE.md):
//! - one shared, multiplexed connection per bus for ordinary commands; it
//!   reconnects by itself (on a cluster, it routes by slot and follows
//!   MOVED and ASK);
//! - one dedicated connection per blocking reader (`BLMOVE`, `XREAD
//!   BLOCK`), see `blocking`. A blocking command stalls everything else on
//!   its connection, and redis-rs's default 500 ms response timeout would
//!   abandon a blocked read whose element Redis pops later, losing it.
//!   Dedicated connections therefore have no response timeout of redis-rs:
//!   each blocking read is bounded by its own block time plus a margin,
//!   after which the connection is dropped (see `blocking`).
//!
//! A `redis+sentinel://` URL names a master monitored by Redis Sentinel
//! (see `sentinel`): every connection asks the sentinels for the current
//! master when it opens, and the shared one again when the master it talks
//! to fails or is demoted.
//!
//! Every connection has TCP keepalive ([`KEEPALIVE`]), so that a peer that
//! vanished (a host that went down, a cable cut) fails the connection even
//! when nothing is sent; the shared connection's commands are bounded by
//! `shared::COMMAND_TIMEOUT`, which also catches a network that keeps the
//! connection open but forwards nothing.

use std::time::Duration;

use redis::aio::{ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisError,
    TlsCertificates,
};

use super::sentinel::Sentinel;
use super::shared::{
    CLUSTER_COMMAND_LIMIT, COMMAND_TIMEOUT, Opener, Refused, Replaceable, SharedConnection,
};
use crate::seam::error::{Error, ErrorKind};

/// How long opening a TCP connection (and the handshake) may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// TCP keepalive of every connection: the first probe after 5 s of
/// silence, then every 1 s; 3 unanswered probes (8 s in all) close it.
const KEEPALIVE: (Duration, Duration, u32) = (Duration::from_secs(5), Duration::from_secs(1), 3);

/// The TCP settings of every connection.
fn tcp_settings() -> redis::io::tcp::TcpSettings {
    let (time, interval, retries) = KEEPALIVE;
    let keepalive = redis::io::tcp::socket2::TcpKeepalive::new()
        .with_time(time)
        .with_interval(interval)
        .with_retries(retries);
    redis::io::tcp::TcpSettings::default()
        .set_nodelay(true)
        .set_keepalive(keepalive)
}

/// The URL schemes that name a cluster by a list of its nodes.
const CLUSTER_SCHEMES: [(&str, &str); 2] =
    [("redis+cluster", "redis"), ("rediss+cluster", "rediss")];

/// Opens connections to one Redis or one Redis Cluster.
#[derive(Clone)]
pub(crate) struct Connector {
    /// What the URL names.
    target: Target,
    /// The URL with any password hidden, for messages.
    shown_url: String,
}

/// A single Redis, a master found through Sentinel, or a cluster.
#[derive(Clone)]
enum Target {
    /// One Redis.
    Single(Box<Client>),
    /// The master that Redis Sentinel names, asked for again on reconnect.
    Sentinel(Sentinel),
    /// A cluster (boxed: it is much larger than a client).
    Cluster(Box<Cluster>),
}

/// What a cluster connector holds.
#[derive(Clone)]
struct Cluster {
    /// The redis-rs cluster client.
    client: ClusterClient,
    /// The first node the URL listed: credentials and TLS for direct
    /// connections to any node.
    seed: ConnectionInfo,
    /// The URL's TLS settings, for direct connections.
    tls: Option<TlsCertificates>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector for `url`: `redis://[user[:password]@]host[:port][/db]`,
    /// `rediss://...` for TLS, or `redis+cluster://[user[:password]@]host:port,host:port,...`
    /// (`rediss+cluster://` with TLS) for a cluster, or
    /// `redis+sentinel://[user[:password]@]host:port,host:port,.../<master-name>[/db]`
    /// (`rediss+sentinel://` with TLS) for a master monitored by Sentinel. `tls` holds the CA (and
    /// the client certificate for mutual TLS) when the system's trust
    /// store does not apply. Nothing is opened yet.
    pub(crate) fn new(url: &str, tls: Option<TlsCertificates>) -> Result<Connector, Error> {
        let shown_url = hide_password(url);
        if url.starts_with("rediss") {
            // rustls needs a process-wide crypto provider; choose one unless
            // the application already did (it may prefer another).
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let invalid = |error: RedisError| {
            Error::new(ErrorKind::Config, format!("invalid Redis URL {shown_url}"))
                .with_source(error)
        };
        if let Some(sentinel) = Sentinel::from_url(url, tls.clone(), tcp_settings()) {
            let sentinel = sentinel.map_err(|reason| {
                Error::new(
                    ErrorKind::Config,
                    format!("invalid Redis Sentinel URL {shown_url}: {reason}"),
                )
            })?;
            return Ok(Connector {
                target: Target::Sentinel(sentinel),
                shown_url,
            });
        }
        let target = match cluster_nodes(url) {
            Some(nodes) => {
                let seed = nodes[0]
                    .as_str()
                    .into_connection_info()
                    .map_err(invalid)?
                    .set_tcp_settings(tcp_settings());
                let mut builder = ClusterClientBuilder::new(nodes)
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(COMMAND_TIMEOUT)
                    .tcp_settings(tcp_settings())
                    // Retries ride out a failover, within a bound.
                    .overall_response_timeout(Some(CLUSTER_COMMAND_LIMIT));
                if let Some(tls) = &tls {
                    builder = builder.certs(tls.clone());
                }
                Target::Cluster(Box::new(Cluster {
                    client: builder.build().map_err(invalid)?,
                    seed,
                    tls,
                }))
            }
            None => {
                let info = url
                    .into_connection_info()
                    .map_err(invalid)?
                    .set_tcp_settings(tcp_settings());
                Target::Single(Box::new(match tls {
                    Some(tls) => Client::build_with_tls(info, tls).map_err(invalid)?,
                    None => Client::open(info).map_err(invalid)?,
                }))
            }
        };
        Ok(Connector { target, shown_url })
    }

    /// The URL, password hidden.
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// Through Sentinel, the master's address as the sentinels last named
    /// it (`None` otherwise): a connection opened to another node should
    /// reconnect.
    pub(crate) fn named_master(&self) -> Option<ConnectionAddr> {
        match &self.target {
            Target::Sentinel(sentinel) => sentinel.current(),
            _ => None,
        }
    }

    /// The Sentinel deployment the URL names, if it names one.
    pub(crate) fn sentinel(&self) -> Option<&Sentinel> {
        match &self.target {
            Target::Sentinel(sentinel) => Some(sentinel),
            _ => None,
        }
    }

    /// Whether a worker must confirm that its writes reached the master's
    /// replicas before it acts on them (see `worker::confirm`): through
    /// Sentinel and on a cluster, where a failover can promote a replica
    /// that had not copied them.
    pub(crate) fn confirms_writes(&self) -> bool {
        !matches!(self.target, Target::Single(_))
    }

    /// Whether the URL names a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }

    /// The shared connection: multiplexed, reconnecting after a drop (the
    /// command that met the drop fails; the next ones go through).
    pub(crate) async fn shared(&self) -> Result<SharedConnection, Error> {
        let connection = match &self.target {
            Target::Single(client) => {
                Replaceable::open(Opener::Fixed(client.clone()), shared_config())
                    .await
                    .map(|single| SharedConnection::Single(std::sync::Arc::new(single)))
            }
            Target::Sentinel(sentinel) => {
                Replaceable::open(Opener::Sentinel(sentinel.clone()), shared_config())
                    .await
                    .map(|single| SharedConnection::Single(std::sync::Arc::new(single)))
            }
            Target::Cluster(cluster) => cluster
                .client
                .get_async_connection()
                .await
                .map(SharedConnection::Cluster),
        };
        connection.map_err(|error| self.error("cannot connect to Redis at", error))
    }

    /// A connection of its own, with no response timeout (see the module
    /// docs for why): to the Redis, or on a cluster to the first node the
    /// URL lists (blocking readers follow MOVED from there).
    pub(crate) async fn dedicated(&self) -> Result<MultiplexedConnection, Error> {
        match &self.target {
            Target::Single(client) => self.open(client).await,
            Target::Sentinel(sentinel) => self.open(&self.master(sentinel).await?).await,
            Target::Cluster(cluster) => {
                self.open(&self.client_for(cluster.seed.clone(), &cluster.tls)?)
                    .await
            }
        }
    }

    /// A connection of its own to the cluster node at `host:port` (on a
    /// single Redis, to that Redis; through Sentinel, to the current
    /// master), with the URL's credentials and TLS.
    pub(crate) async fn node(&self, host: &str, port: u16) -> Result<MultiplexedConnection, Error> {
        match &self.target {
            Target::Single(client) => self.open(client).await,
            Target::Sentinel(_) => self.dedicated().await,
            Target::Cluster(cluster) => {
                let (seed, tls) = (&cluster.seed, &cluster.tls);
                let addr = match seed.addr() {
                    ConnectionAddr::TcpTls {
                        insecure,
                        tls_params,
                        ..
                    } => ConnectionAddr::TcpTls {
                        host: host.to_owned(),
                        port,
                        insecure: *insecure,
                        tls_params: tls_params.clone(),
                    },
                    _ => ConnectionAddr::Tcp(host.to_owned(), port),
                };
                let client = self.client_for(seed.clone().set_addr(addr), tls)?;
                self.open(&client).await
            }
        }
    }

    /// A connection whose reads are cached in this process and invalidated
    /// by Redis (RESP3 client tracking), for cache lookups; `None` on a
    /// cluster, where lookups read the nodes directly.
    pub(crate) async fn near_cache(&self) -> Result<Option<MultiplexedConnection>, Error> {
        let client = match &self.target {
            Target::Single(client) => client.as_ref().clone(),
            Target::Sentinel(sentinel) => self.master(sentinel).await?,
            Target::Cluster(_) => return Ok(None),
        };
        let info = client.get_connection_info().clone();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings))
            .map_err(|error| self.error("cannot open a near-cache connection to", error))?;
        // A lookup that times out fails the near-cache connection, which
        // the lookup then drops and reopens.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_cache_config(redis::caching::CacheConfig::new());
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map(Some)
            .map_err(|error| self.error("cannot open a near-cache connection to", error))
    }

    /// A client for the master that the sentinels name now.
    async fn master(&self, sentinel: &Sentinel) -> Result<Client, Error> {
        sentinel
            .master()
            .await
            .map_err(|error| self.error("cannot find the master through", error))
    }

    /// A client for one node of the cluster.
    fn client_for(
        &self,
        info: ConnectionInfo,
        tls: &Option<TlsCertificates>,
    ) -> Result<Client, Error> {
        let client = match tls {
            Some(tls) => Client::build_with_tls(info, tls.clone()),
            None => Client::open(info),
        };
        client.map_err(|error| self.error("cannot reach a node of the cluster at", error))
    }

    /// Opens a connection without a response timeout.
    async fn open(&self, client: &Client) -> Result<MultiplexedConnection, Error> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|error| self.error("cannot connect to Redis at", error))
    }

    /// Our error for a redis-rs error met while doing `what` at this URL.
    pub(crate) fn error(&self, what: &str, error: RedisError) -> Error {
        redis_error(&format!("{what} {}", self.shown_url), error)
    }
}

/// How the shared connection to one Redis (or one master) is configured.
fn shared_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        // A bound on every command; calls have their own, usually longer,
        // deadlines on top.
        .set_response_timeout(Some(COMMAND_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500))
}

/// The node URLs of a `redis+cluster://` URL, or `None` for any other URL.
fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let (_, node_scheme) = CLUSTER_SCHEMES
        .iter()
        .find(|(cluster, _)| *cluster == scheme)?;
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    let (hosts, path) = match hosts.split_once('/') {
        Some((hosts, path)) => (hosts, format!("/{path}")),
        None => (hosts, String::new()),
    };
    Some(
        hosts
            .split(',')
            .map(|host| format!("{node_scheme}://{credentials}{}{path}", host.trim()))
            .collect(),
    )
}

/// Our error for a pipeline that failed while doing `what`, naming the
/// command Redis refused, if it refused one.
pub(crate) fn refused_error(what: &str, refused: Refused) -> Error {
    match refused.command {
        Some(command) => redis_error(&format!("{what}: Redis refused {command}"), refused.error),
        None => redis_error(what, refused.error),
    }
}

/// Our error for a redis-rs error met while doing `what`.
pub(crate) fn redis_error(what: &str, error: RedisError) -> Error {
    let kind = if matches!(error.code(), Some("NOPERM" | "WRONGPASS" | "NOAUTH"))
        || error.kind() == redis::ErrorKind::AuthenticationFailed
    {
        ErrorKind::PermissionDenied
    } else if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_io_error() || error.is_connection_refusal() || error.is_connection_dropped()
    {
        ErrorKind::Connection
    } else {
        ErrorKind::Redis
    };
    Error::new(kind, what.to_owned()).with_source(error)
}

/// `url` with the password replaced by `***`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://***@{host}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(
            hide_password("redis://app:s3cret@cache:6379/0"),
            "redis://app:***@cache:6379/0"
        );
        assert_eq!(hide_password("redis://s3cret@cache"), "redis://***@cache");
        assert_eq!(hide_password("redis://cache:6379"), "redis://cache:6379");
    }

    #[test]
    fn cluster_urls_list_their_nodes() {
        assert_eq!(
            cluster_nodes("redis+cluster://app:pw@a:7000,b:7001"),
            Some(vec![
                "redis://app:pw@a:7000".to_owned(),
                "redis://app:pw@b:7001".to_owned()
            ])
        );
        assert_eq!(
            cluster_nodes("rediss+cluster://a:7000/"),
            Some(vec!["rediss://a:7000/".to_owned()])
        );
        assert_eq!(cluster_nodes("redis://a:7000"), None);
    }
}
