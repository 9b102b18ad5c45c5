//! What both sides of a server-streaming call on Redis agree on.
//!
//! The worker pushes each message onto the caller's reply list, numbered
//! 1, 2, ..., then the final reply with the count. The caller writes how
//! many messages it has read into the call's acknowledgement key
//! (`Keys::stream_ack`); the worker sends at most a window ahead of that
//! count, so a slow reader makes the worker wait instead of making Redis
//! hold the stream. The caller refreshes the key while it reads, so the
//! key's expiry tells the worker that a caller died; it writes
//! [`CANCELLED`] there when it drops the stream.

use std::time::Duration;

use redis::{Pipeline, RedisResult, Value};
use tokio::time::Instant;

use crate::redis::shared::SharedConnection;

/// How long an acknowledgement lives unless refreshed: a worker stops
/// within about this long after its caller died.
pub(crate) const ACK_TTL: Duration = Duration::from_secs(3);

/// How often a reading caller refreshes its acknowledgement.
pub(crate) const ACK_REFRESH: Duration = Duration::from_secs(1);

/// The acknowledgement of a caller that dropped its stream.
pub(crate) const CANCELLED: &str = "cancel";

/// What an acknowledgement key says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ack {
    /// The caller has read this many messages.
    Read(u64),
    /// The caller dropped the stream.
    Cancelled,
    /// No key: the caller has not written one yet, or died.
    Missing,
}

impl Ack {
    /// Reads the value of an acknowledgement key. A value that is neither
    /// a count nor [`CANCELLED`] (the key is the caller's, and anyone who
    /// may write the caller's keys may write it) counts as nothing read.
    pub(crate) fn parse(value: Option<&[u8]>) -> Ack {
        match value {
            None => Ack::Missing,
            Some(value) if value == CANCELLED.as_bytes() => Ack::Cancelled,
            Some(value) => Ack::Read(
                std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.parse().ok())
                    .unwrap_or(0),
            ),
        }
    }
}

/// Sends `pipe` (one side's push, or its look at the other side) until a
/// connection takes it, backing off from 20 ms to 1 s between tries, or
/// until the next try would pass `deadline`: then the last error. Each
/// command's reply comes back, a refused one as `Value::ServerError`. A
/// push sent twice (its first answer lost with a connection) is harmless:
/// both sides number what they send.
pub(crate) async fn send_until(
    connection: &SharedConnection,
    pipe: &Pipeline,
    deadline: Instant,
    what: &str,
) -> RedisResult<Vec<Value>> {
    let mut backoff = Duration::from_millis(20);
    loop {
        match connection.replies(pipe).await {
            Ok(replies) => return Ok(replies),
            Err(error) if Instant::now() + backoff >= deadline => return Err(error),
            Err(error) => {
                tracing::warn!(%error, "{what} failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_read_as_counts_cancellations_or_nothing() {
        assert_eq!(Ack::parse(None), Ack::Missing);
        assert_eq!(Ack::parse(Some(b"17")), Ack::Read(17));
        assert_eq!(Ack::parse(Some(CANCELLED.as_bytes())), Ack::Cancelled);
        assert_eq!(Ack::parse(Some(b"junk")), Ack::Read(0));
    }
}
