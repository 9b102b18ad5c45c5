//! The worker's side of a server-streaming call: pushes the handler's
//! messages onto the caller's reply list in batches, numbered, never more
//! than the window ahead of what the caller acknowledged, and stops when
//! the caller cancels or dies. See `redis::streaming` for the protocol.
//!
//! A batch is whatever the handler has ready when the previous push
//! returns (up to [`MAX_BATCH`], and only while the window has room, so
//! the worker holds no more than the window either), pushed with one
//! `RPUSH` that also renews the list's expiry and reads the
//! acknowledgement: one round trip per batch, however fast the handler.

use std::time::Duration;

use futures_util::{FutureExt, Stream, StreamExt};
use redis::Value;
use tokio::time::Instant;

use super::core::Core;
use crate::redis::envelope::{CallId, encode_streamed};
use crate::redis::shared::describe;
use crate::redis::streaming::{ACK_REFRESH, ACK_TTL, Ack, send_until};
use crate::redis::window::Window;
use crate::seam::status::Status;

/// The most messages one push carries.
const MAX_BATCH: usize = 256;

/// The longest pause between two looks at the acknowledgement while the
/// window is full.
const MAX_WAIT: Duration = Duration::from_millis(50);

/// Where and how one stream goes.
pub(super) struct Destination<'a> {
    /// The call.
    pub id: CallId,
    /// The caller's reply list.
    pub replies: &'a str,
    /// The call's acknowledgement key.
    pub ack_key: String,
    /// How many messages may be sent ahead of those acknowledged.
    pub window: u32,
    /// When the caller stops reading.
    pub deadline: Instant,
}

/// Why a stream stopped before its end.
enum Stopped {
    /// The deadline passed or the caller cancelled: nobody reads a final
    /// reply.
    Unread,
    /// The stream cannot go on, and the caller (if it still reads) is told
    /// why: Redis refused a push (e.g. an ACL), or the caller stopped
    /// acknowledging (dead, or cut off from Redis for longer than the
    /// acknowledgement lives).
    Failed(Status),
}

impl Stopped {
    /// The final outcome of a stream that stopped so.
    fn outcome(self) -> Option<Result<Vec<u8>, Status>> {
        match self {
            Stopped::Unread => None,
            Stopped::Failed(status) => Some(Err(status)),
        }
    }
}

/// Sends `messages` to the caller. Returns the final outcome (`None` when
/// nobody waits for one: deadline passed, cancelled) and, in
/// `sent`, how many messages went out.
pub(super) async fn send_all<S>(
    core: &Core,
    to: &Destination<'_>,
    mut messages: S,
    sent: &mut u64,
) -> Option<Result<Vec<u8>, Status>>
where
    S: Stream<Item = Result<Vec<u8>, Status>> + Unpin,
{
    let mut pusher = Pusher {
        core,
        to,
        started: Instant::now(),
        window: Window::new(to.window),
    };
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut end: Option<Result<(), Status>> = None;
    loop {
        if batch.is_empty() && end.is_none() {
            if let Err(stopped) = pusher.wait_for_room().await {
                return stopped.outcome();
            }
            // Wait for the next message, looking at the caller now and then.
            let next = tokio::select! {
                next = messages.next() => next,
                () = tokio::time::sleep_until(to.deadline) => return None,
                () = tokio::time::sleep(ACK_REFRESH) => {
                    if let Err(stopped) = pusher.look().await {
                        return stopped.outcome();
                    }
                    continue;
                }
            };
            let mut next = Some(next);
            let mut bytes = 0;
            // Then take whatever else is ready and fits the window.
            while let Some(item) = next.take() {
                match item {
                    Some(Ok(message)) => {
                        let seq = pusher.window.sent() + batch.len() as u64 + 1;
                        let encoded = encode_streamed(to.id, seq, message);
                        bytes += encoded.len();
                        batch.push(encoded);
                    }
                    Some(Err(status)) => end = Some(Err(status)),
                    None => end = Some(Ok(())),
                }
                if end.is_none()
                    && batch.len() < MAX_BATCH
                    && pusher.window.has_room(batch.len(), bytes)
                {
                    next = messages.next().now_or_never();
                }
            }
        }
        if batch.is_empty() {
            return end.map(|end| end.map(|()| Vec::new()));
        }
        let pushed = pusher.push(&batch).await;
        batch.clear();
        *sent = pusher.window.sent();
        if let Err(stopped) = pushed {
            return stopped.outcome();
        }
    }
}

/// Pushes batches within the window.
struct Pusher<'a> {
    core: &'a Core,
    to: &'a Destination<'a>,
    /// When the stream started: before [`ACK_TTL`] has passed, a missing
    /// acknowledgement means the caller has not written one yet.
    started: Instant,
    /// What was sent and not yet read.
    window: Window,
}

impl Pusher<'_> {
    /// Waits until the window has room, looking at the acknowledgement
    /// more and more rarely (from 1 ms to [`MAX_WAIT`]) while it has none.
    async fn wait_for_room(&mut self) -> Result<(), Stopped> {
        let mut wait = Duration::from_millis(1);
        while !self.window.has_room(0, 0) {
            if Instant::now() + wait >= self.to.deadline {
                return Err(Stopped::Unread);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_WAIT);
            self.look().await?;
        }
        Ok(())
    }

    /// Pushes `batch` (which fits the window) and reads the
    /// acknowledgement in the same round trip.
    async fn push(&mut self, batch: &[Vec<u8>]) -> Result<(), Stopped> {
        let mut pipe = redis::pipe();
        pipe.cmd("RPUSH").arg(self.to.replies).arg(batch);
        pipe.cmd("PEXPIRE")
            .arg(self.to.replies)
            .arg(self.core.settings.reply_ttl.as_millis() as u64);
        pipe.cmd("GET").arg(&self.to.ack_key);
        let replies = self.send(&pipe).await?;
        for message in batch {
            self.window.record_sent(message.len());
        }
        self.read_ack(replies.last())
    }

    /// Reads the acknowledgement.
    async fn look(&mut self) -> Result<(), Stopped> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&self.to.ack_key);
        let replies = self.send(&pipe).await?;
        self.read_ack(replies.last())
    }

    /// Sends `pipe` until it goes through, or the deadline passes.
    async fn send(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, Stopped> {
        let connection = &self.core.connection;
        let replies = send_until(connection, pipe, self.to.deadline, "streaming a reply")
            .await
            .map_err(|_| Stopped::Unread)?;
        let refused = pipe
            .cmd_iter()
            .zip(&replies)
            .find_map(|(command, reply)| match reply {
                Value::ServerError(error) => Some((describe(command), error)),
                _ => None,
            });
        match refused {
            Some((command, error)) => Err(Stopped::Failed(Status::internal(format!(
                "the worker could not stream the reply: Redis refused {command}: {error:?}"
            )))),
            None => Ok(replies),
        }
    }

    /// Takes in what an acknowledgement key said.
    fn read_ack(&mut self, value: Option<&Value>) -> Result<(), Stopped> {
        let value = match value {
            Some(Value::BulkString(bytes)) => Some(&bytes[..]),
            _ => None,
        };
        match Ack::parse(value) {
            Ack::Read(read) => {
                self.window.record_read(read);
                Ok(())
            }
            Ack::Cancelled => {
                tracing::debug!(call_id = %self.to.id, "the caller cancelled the stream");
                Err(Stopped::Unread)
            }
            Ack::Missing if self.started.elapsed() < ACK_TTL => Ok(()),
            // Told, in case it is alive but was cut off: it would otherwise
            // wait for the rest until its deadline.
            Ack::Missing => {
                tracing::debug!(call_id = %self.to.id, "the caller of the stream is gone");
                Err(Stopped::Failed(Status::unavailable(format!(
                    "the caller acknowledged nothing for {} s, so the worker stopped the stream",
                    ACK_TTL.as_secs()
                ))))
            }
        }
    }
}
