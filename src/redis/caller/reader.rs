//! The reader: the one task per client that takes replies from the client's
//! reply list and hands each to the call waiting for it.
//!
//! Replies are never popped: a reply popped by a command whose answer is
//! lost with the connection would be lost with it. Instead the reader
//! renames the whole reply list into the client's `batch` list (atomic,
//! O(1), see `scripts::NEXT_REPLIES`), reads the batch, dispatches it, and
//! deletes it with the next rename. After a reconnect it reads the batch
//! that was left first. While replies keep coming it reads batch after
//! batch. When a batch brings nothing new it blocks with `BLMOVE replies
//! replies` (a rotation of the list onto itself, which waits for a reply
//! without taking it, and returns at once when one is already there), and
//! dispatches the reply it returns at once, so that waiting adds no
//! latency. The rotated reply is read again with the next batch, and
//! skipped when counting what is new. A batch is therefore deleted by the
//! rename after the next wake-up, or after the blocking wait times out.
//!
//! A reply may therefore be dispatched twice; the second time nobody waits
//! for it and it is dropped. Replies for calls that gave up at their
//! deadline are dropped the same way.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::pending::Pending;
use crate::redis::blocking::Blocking;
use crate::redis::connection::Connector;
use crate::redis::envelope::decode_reply;
use crate::redis::scripts;
use crate::redis::shared::SharedConnection;

/// Takes and dispatches replies.
pub(crate) struct Reader {
    /// Opens the reader's blocking connection.
    pub connector: Connector,
    /// The shared connection, for the non-blocking commands.
    pub connection: SharedConnection,
    /// The client's reply list.
    pub replies: String,
    /// The client's batch list: the replies being dispatched.
    pub batch: String,
    /// Where replies go.
    pub pending: Arc<Pending>,
    /// How long one blocking wait lasts before it is issued again.
    pub block: Duration,
}

impl Reader {
    /// Reads replies until the task is aborted (the bus was dropped).
    pub(crate) async fn run(mut self) {
        let mut blocking = Blocking::new(self.connector.clone(), Default::default());
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.read(&mut blocking).await {
                Ok(()) => backoff = Duration::from_millis(50),
                Err(error) => {
                    tracing::warn!(%error, key = %self.replies, "reading replies failed; reconnecting");
                    blocking.drop_connection();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Reads until a command fails.
    async fn read(&mut self, blocking: &mut Blocking) -> redis::RedisResult<()> {
        // A batch left by a dropped connection may not have been dispatched.
        let left: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(&self.batch)
            .arg(0)
            .arg(-1)
            .query_async(&mut self.connection)
            .await?;
        self.dispatch_all(left);
        let mut rotate = redis::cmd("BLMOVE");
        rotate
            .arg(&self.replies)
            .arg(&self.replies)
            .arg("LEFT")
            .arg("RIGHT")
            .arg(self.block.as_secs_f64());
        // How many replies of the batch about to be read the blocking wait
        // already returned and dispatched (0 or 1).
        let mut seen = 0;
        loop {
            let batch = self.next_batch().await?;
            let fresh = batch.len().saturating_sub(seen);
            self.dispatch_all(batch);
            if fresh > 0 {
                // Replies keep coming: read the next batch without waiting.
                seen = 0;
                continue;
            }
            // Quiet: wait. A reply that came since the batch was read is
            // already in the list and returns at once, so this wait is also
            // the check for more, one round trip fewer per call when calls
            // come one at a time.
            let waiting: Option<Vec<u8>> = blocking.query(&rotate, self.block).await?;
            seen = usize::from(waiting.is_some());
            if let Some(reply) = waiting {
                self.dispatch(Bytes::from(reply));
            }
        }
    }

    /// Drops the previous batch and makes the waiting replies the next one.
    async fn next_batch(&mut self) -> redis::RedisResult<Vec<Vec<u8>>> {
        match self.swap_and_read().await {
            // A pipeline sends the script by hash only: load it when Redis
            // does not know it (first use, or after a restart).
            Err(error)
                if error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                scripts::NEXT_REPLIES
                    .load_async(&mut self.connection)
                    .await?;
                self.swap_and_read().await
            }
            batch => batch,
        }
    }

    async fn swap_and_read(&mut self) -> redis::RedisResult<Vec<Vec<u8>>> {
        let mut pipe = redis::pipe();
        pipe.invoke_script(scripts::NEXT_REPLIES.key(&self.replies).key(&self.batch))
            .ignore()
            .cmd("LRANGE")
            .arg(&self.batch)
            .arg(0)
            .arg(-1);
        let (batch,): (Vec<Vec<u8>>,) = pipe.query_async(&mut self.connection).await?;
        Ok(batch)
    }

    fn dispatch_all(&self, replies: Vec<Vec<u8>>) {
        for reply in replies {
            self.dispatch(Bytes::from(reply));
        }
    }

    fn dispatch(&self, reply: Bytes) {
        match decode_reply(reply) {
            Ok(reply) => {
                let id = reply.id;
                if !self.pending.deliver(reply) {
                    tracing::trace!(call_id = %id, "dropping a reply nobody waits for");
                }
            }
            Err(error) => tracing::warn!(%error, key = %self.replies, "dropping a reply"),
        }
    }
}
