//! The reader: the one task per client that pops replies from the client's
//! reply list and hands each to the call waiting for it.
//!
//! It blocks on a connection of its own (see `connection`), pops up to 256
//! replies per command, and reconnects when the connection drops. Replies
//! for calls nobody waits for any more (they gave up at their deadline) are
//! dropped.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::pending::Pending;
use crate::redis::connection::Connector;
use crate::redis::envelope::decode_reply;

/// The most replies popped by one command.
const MAX_BATCH: usize = 256;

/// Pops and dispatches replies.
pub(crate) struct Reader {
    /// Opens the reader's own connection.
    pub connector: Connector,
    /// The client's reply list.
    pub key: String,
    /// Where replies go.
    pub pending: Arc<Pending>,
    /// How long one blocking pop waits before it is issued again.
    pub block: Duration,
}

impl Reader {
    /// Reads replies until the task is aborted (the bus was dropped).
    pub(crate) async fn run(self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            let mut connection = match self.connector.dedicated().await {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::warn!(%error, "the reply reader cannot reconnect; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            backoff = Duration::from_millis(50);
            loop {
                let popped: Option<(String, Vec<Vec<u8>>)> = match redis::cmd("BLMPOP")
                    .arg(self.block.as_secs_f64())
                    .arg(1)
                    .arg(&self.key)
                    .arg("LEFT")
                    .arg("COUNT")
                    .arg(MAX_BATCH)
                    .query_async(&mut connection)
                    .await
                {
                    Ok(popped) => popped,
                    Err(error) => {
                        tracing::warn!(%error, key = %self.key, "reading replies failed; reconnecting");
                        break;
                    }
                };
                for reply in popped.map(|(_, replies)| replies).unwrap_or_default() {
                    self.dispatch(Bytes::from(reply));
                }
            }
        }
    }

    fn dispatch(&self, reply: Bytes) {
        match decode_reply(reply) {
            Ok((call_id, outcome)) => {
                if !self.pending.complete(call_id, outcome) {
                    tracing::debug!(call_id, "dropping a reply nobody waits for");
                }
            }
            Err(error) => tracing::warn!(%error, key = %self.key, "dropping a reply"),
        }
    }
}
