//! Timing and batching settings of the Redis transport.

use std::time::Duration;

/// How the Redis transport paces itself; set through `BusBuilder`.
#[derive(Debug, Clone)]
pub(crate) struct RedisSettings {
    /// How often a worker renews its registration and looks for dead ones.
    pub heartbeat_interval: Duration,
    /// How long a registration lives without renewal: a killed worker is
    /// considered dead, and its requests reclaimed, this long after its last
    /// heartbeat.
    pub instance_ttl: Duration,
    /// How long a reply list lives after its last reply, so that replies to
    /// a client that went away do not stay forever.
    pub reply_ttl: Duration,
    /// How long one blocking read waits before it is issued again; bounds
    /// how long an idle reader takes to notice a dead connection.
    pub block_timeout: Duration,
    /// The most requests a worker takes in one command.
    pub take_batch: usize,
    /// How often recorded statistics are sent.
    pub stats_interval: Duration,
    /// Whether cache lookups go through a client-side cache that Redis
    /// invalidates (RESP3 client tracking).
    pub near_cache: bool,
    /// The name that prefixes the client's id in its keys.
    pub client_name: Option<String>,
    /// How long connecting may take in all, when bounded.
    pub connect_timeout: Option<Duration>,
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            heartbeat_interval: Duration::from_secs(1),
            instance_ttl: Duration::from_secs(5),
            reply_ttl: Duration::from_secs(60),
            block_timeout: Duration::from_secs(2),
            take_batch: 64,
            stats_interval: Duration::from_secs(1),
            near_cache: false,
            client_name: None,
            connect_timeout: None,
        }
    }
}
