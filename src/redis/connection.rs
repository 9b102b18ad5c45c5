//! Opening connections to Redis, and turning redis-rs errors into ours.
//!
//! Two kinds of connection, for a reason (see docs/ARCHITECTURE.md):
//! - one shared, multiplexed connection per bus for ordinary commands; it
//!   reconnects by itself, and commands from every task pipeline onto it;
//! - one dedicated connection per blocking reader (BLMOVE, BLMPOP). A
//!   blocking command stalls everything else on its connection, and
//!   redis-rs's default 500 ms response timeout would abandon a blocked
//!   read whose element Redis pops later, losing it. Dedicated connections
//!   therefore have no response timeout at all.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client, RedisError};

use crate::error::{Error, ErrorKind};

/// How long opening a TCP connection (and the handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens connections to one Redis.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    /// The redis-rs client for the URL.
    client: Client,
    /// The URL with any password hidden, for messages.
    shown_url: String,
}

impl Connector {
    /// A connector for `url` (`redis://[user[:password]@]host[:port][/db]`
    /// or `rediss://` for TLS). Nothing is opened yet.
    pub(crate) fn new(url: &str) -> Result<Connector, Error> {
        let shown_url = hide_password(url);
        let client = Client::open(url).map_err(|error| {
            Error::new(ErrorKind::Config, format!("invalid Redis URL {shown_url}"))
                .with_source(error)
        })?;
        Ok(Connector { client, shown_url })
    }

    /// The URL, password hidden.
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// The shared connection: multiplexed, reconnecting after a drop (the
    /// command that met the drop fails; the next ones go through).
    pub(crate) async fn shared(&self) -> Result<ConnectionManager, Error> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            // Calls have their own deadlines; background work sets its own
            // timeouts. A response timeout here would only add a second,
            // less precise, clock.
            .set_response_timeout(None)
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        self.client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|error| self.error("cannot connect to Redis at", error))
    }

    /// A connection of its own for one blocking reader, with no response
    /// timeout (see the module docs for why).
    pub(crate) async fn dedicated(&self) -> Result<MultiplexedConnection, Error> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|error| self.error("cannot connect to Redis at", error))
    }

    /// A connection whose reads are cached in this process and invalidated
    /// by Redis (RESP3 client tracking), for cache lookups.
    pub(crate) async fn near_cache(&self) -> Result<MultiplexedConnection, Error> {
        let info = self.client.get_connection_info().clone();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings))
            .map_err(|error| self.error("cannot open a near-cache connection to", error))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None)
            .set_cache_config(redis::caching::CacheConfig::new());
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|error| self.error("cannot open a near-cache connection to", error))
    }

    /// Our error for a redis-rs error met while doing `what` at this URL.
    pub(crate) fn error(&self, what: &str, error: RedisError) -> Error {
        redis_error(&format!("{what} {}", self.shown_url), error)
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
}
