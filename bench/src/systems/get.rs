//! Redis `GET` of a value the size of the payload: one round trip through
//! redis-rs, the floor of a cache hit read from Redis.

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use redis::aio::MultiplexedConnection;
use tokio::sync::OnceCell;

use super::{Caller, check_echo, ping};

/// The key read by every call.
const KEY: &str = "bench:get";

/// Reads one key over one multiplexed connection, shared by every call in
/// flight (as redis-bus shares one connection per bus).
#[derive(Clone)]
pub struct GetCaller {
    /// The shared connection.
    connection: MultiplexedConnection,
    /// Set once the payload is stored under [`KEY`].
    stored: Arc<OnceCell<()>>,
}

/// Connects to the Redis at `url`.
pub async fn connect(url: &str) -> Result<GetCaller> {
    Ok(GetCaller {
        connection: ping::connection(url).await?,
        stored: Arc::default(),
    })
}

impl Caller for GetCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        // A run sends one payload throughout: store it before the first read
        // (during the warm-up), as a cache miss would.
        self.stored
            .get_or_try_init(|| async {
                redis::cmd("SET")
                    .arg(KEY)
                    .arg(&payload[..])
                    .query_async::<()>(&mut self.connection.clone())
                    .await
                    .context("SET failed")
            })
            .await?;
        let value: Vec<u8> = redis::cmd("GET")
            .arg(KEY)
            .query_async(&mut self.connection.clone())
            .await
            .context("GET failed")?;
        check_echo(payload, &value)
    }
}
