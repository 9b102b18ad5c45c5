//! Redis `PING <payload>`, answered with the payload: one round trip to
//! Redis and back through redis-rs, the floor of any call carried by Redis.

use anyhow::{Context, Result};
use bytes::Bytes;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

use super::{Caller, check_echo};

/// Pings over one multiplexed connection, shared by every call in flight
/// (as redis-bus shares one connection per bus).
#[derive(Clone)]
pub struct PingCaller {
    /// The shared connection.
    connection: MultiplexedConnection,
}

/// Connects to the Redis at `url`.
pub async fn connect(url: &str) -> Result<PingCaller> {
    Ok(PingCaller {
        connection: connection(url).await?,
    })
}

/// A multiplexed connection to the Redis at `url`, without a response
/// timeout.
pub(super) async fn connection(url: &str) -> Result<MultiplexedConnection> {
    let client = redis::Client::open(url).with_context(|| format!("bad Redis URL {url}"))?;
    // redis-rs's default 500 ms response timeout would turn a stall of the
    // loaded 2-core machine into a failed run; the orchestrator bounds the
    // whole measurement instead.
    let config = AsyncConnectionConfig::new().set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .with_context(|| format!("cannot connect to Redis at {url}"))
}

impl Caller for PingCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        let echoed: Vec<u8> = redis::cmd("PING")
            .arg(&payload[..])
            .query_async(&mut self.connection.clone())
            .await
            .context("PING failed")?;
        check_echo(payload, &echoed)
    }
}
