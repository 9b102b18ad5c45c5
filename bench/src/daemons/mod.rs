//! The servers the benchmark talks to, started for the run and killed at
//! its end (also on an error or Ctrl-C, since dropping them kills them):
//! one `redis-server` and one `nats-server`, each on a free loopback port,
//! never a server the machine already runs.

mod nats;

use anyhow::{Context, Result};
use redis_bus_testing::RedisServer;

pub use self::nats::NatsServer;
use crate::systems::{Daemon, System};

/// Where a tonic worker listens: any free loopback port, which it reports.
const GRPC_LISTEN: &str = "127.0.0.1:0";

/// The running servers.
pub struct Daemons {
    /// redis-server, when a system needs it: the harness that redis-bus's
    /// own tests use, with no persistence (`--save "" --appendonly no`).
    redis: Option<RedisServer>,
    /// nats-server, when a system needs it and it is installed.
    nats: Option<NatsServer>,
}

impl Daemons {
    /// Starts the servers that `systems` need. Returns them with the
    /// systems that can run: NATS is left out, with a message, when
    /// `nats-server` is not installed.
    pub async fn start(systems: &[System]) -> Result<(Daemons, Vec<System>)> {
        let needs = |daemon| systems.iter().any(|system| system.daemon() == daemon);
        let redis = if needs(Daemon::Redis) {
            // Blocks for the few milliseconds redis-server takes to start.
            let server = RedisServer::start().context(
                "cannot start redis-server (is it installed? apt-get install redis-server)",
            )?;
            Some(server)
        } else {
            None
        };
        let nats = if needs(Daemon::Nats) {
            let server = NatsServer::start().await?;
            if server.is_none() {
                eprintln!(
                    "nats-server is not on PATH: skipping NATS request-reply (install \
                     nats-server to compare with it)"
                );
            }
            server
        } else {
            None
        };
        let runnable = systems
            .iter()
            .copied()
            .filter(|system| system.daemon() != Daemon::Nats || nats.is_some())
            .collect();
        Ok((Daemons { redis, nats }, runnable))
    }

    /// Where `system`'s worker serves, or its calls go when it has no
    /// worker: the URL of its daemon, or the address a tonic worker
    /// listens on.
    pub fn target(&self, system: System) -> Result<String> {
        match system.daemon() {
            Daemon::Redis => Ok(self
                .redis
                .as_ref()
                .context("redis-server is not running")?
                .url()),
            Daemon::Nats => Ok(self
                .nats
                .as_ref()
                .context("nats-server is not running")?
                .url()),
            Daemon::None => Ok(GRPC_LISTEN.to_owned()),
        }
    }

    /// The process id of `system`'s daemon, if it has one.
    pub fn pid(&self, system: System) -> Option<u32> {
        match system.daemon() {
            Daemon::Redis => self.redis.as_ref().map(RedisServer::pid),
            Daemon::Nats => self.nats.as_ref().map(NatsServer::pid),
            Daemon::None => None,
        }
    }

    /// Empties Redis between runs, so that no run inherits another's keys.
    pub async fn flush_redis(&self) -> Result<()> {
        let Some(redis) = &self.redis else {
            return Ok(());
        };
        flush_all(&redis.url()).await
    }
}

/// Empties the Redis at `url` (one server, or one node of a cluster).
pub async fn flush_all(url: &str) -> Result<()> {
    let client = redis::Client::open(url)?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("cannot connect to the benchmark's redis-server at {url}"))?;
    redis::cmd("FLUSHALL")
        .query_async::<()>(&mut connection)
        .await
        .context("FLUSHALL failed")
}
