//! The caller's side of a client-streaming call: its requests go into the
//! call's upload stream (a Redis stream, `Keys::upload`) as they come, as
//! entries `0-1`, `0-2`, ... and then an `end` entry that counts them. The
//! worker reads the stream and trims what it has read, so the stream's
//! length is what the worker has not read yet: the caller sends while the
//! window (`redis::window`) has room and waits otherwise.
//!
//! Explicit entry ids make a resend harmless: an entry that is already
//! there is refused as "equal or smaller" than the stream's last, and
//! counts as sent.

use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use redis::Value;
use tokio::time::Instant;

use crate::redis::shared::SharedConnection;
use crate::redis::streaming::send_until;
use crate::redis::window::Window;
use crate::seam::status::Status;
use crate::seam::stream::EncodedRequests;

/// The most requests one push carries.
const MAX_BATCH: usize = 256;

/// The longest pause between two looks at the stream's length while the
/// window is full.
const MAX_WAIT: Duration = Duration::from_millis(50);

/// Where one call's requests go.
pub(crate) struct Upload {
    /// The shared connection.
    pub connection: SharedConnection,
    /// The call's upload stream.
    pub key: String,
    /// How many requests may wait in Redis for the worker (and at most
    /// about `WINDOW_BYTES` of them).
    pub window: u32,
    /// When the caller stops waiting.
    pub deadline: Instant,
}

impl Upload {
    /// Sends every request of `requests`, then the end. Returns once all
    /// are in Redis, or the status that stopped the sending. Requests are
    /// taken from `requests` only while the window has room.
    pub(crate) async fn send_all(&self, mut requests: EncodedRequests) -> Result<(), Status> {
        let mut window = Window::new(self.window);
        let mut batch: Vec<Vec<u8>> = Vec::new();
        loop {
            self.wait_for_room(&mut window).await?;
            let mut ended = false;
            let mut bytes = 0;
            let mut next = Some(requests.next().await);
            while let Some(item) = next.take() {
                match item {
                    Some(request) => {
                        bytes += request.len();
                        batch.push(request);
                    }
                    None => ended = true,
                }
                if !ended && batch.len() < MAX_BATCH && window.has_room(batch.len(), bytes) {
                    next = requests.next().now_or_never();
                }
            }
            let waiting_in_redis = self.push(&batch, window.sent(), ended).await?;
            for request in batch.drain(..) {
                window.record_sent(request.len());
            }
            window.record_read(window.sent().saturating_sub(waiting_in_redis));
            if ended {
                return Ok(());
            }
        }
    }

    /// Pushes `requests`, numbered from `sent + 1`, and the end after them
    /// when `end`; returns how many requests wait in Redis.
    async fn push(&self, requests: &[Vec<u8>], sent: u64, end: bool) -> Result<u64, Status> {
        let mut pipe = redis::pipe();
        for (index, request) in requests.iter().enumerate() {
            let seq = sent + index as u64 + 1;
            pipe.cmd("XADD")
                .arg(&self.key)
                .arg(format!("0-{seq}"))
                .arg("m")
                .arg(request);
        }
        if end {
            let count = sent + requests.len() as u64;
            pipe.cmd("XADD")
                .arg(&self.key)
                .arg(format!("0-{}", count + 1))
                .arg("end")
                .arg(count);
        }
        // Gone by itself soon after the call's deadline, whatever happens
        // to the caller and the worker.
        let expiry =
            self.deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
        pipe.cmd("PEXPIRE")
            .arg(&self.key)
            .arg(expiry.as_millis() as u64);
        pipe.cmd("XLEN").arg(&self.key);
        let replies = self.send(&pipe).await?;
        for reply in &replies {
            if let Value::ServerError(error) = reply {
                // Already there: a resend of what went through before.
                if !error.details().unwrap_or("").contains("equal or smaller") {
                    return Err(Status::internal(format!(
                        "Redis refused a request of the stream ({}): {error:?}",
                        self.key
                    )));
                }
            }
        }
        Ok(waiting(replies.last()))
    }

    /// Waits until the window has room, looking at how many requests wait
    /// in Redis more and more rarely (from 1 ms to [`MAX_WAIT`]).
    async fn wait_for_room(&self, window: &mut Window) -> Result<(), Status> {
        let mut pause = Duration::from_millis(1);
        while !window.has_room(0, 0) {
            if Instant::now() + pause >= self.deadline {
                return Err(Status::deadline_exceeded(
                    "the worker read no more requests of the stream before the deadline",
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_WAIT);
            let mut pipe = redis::pipe();
            pipe.cmd("XLEN").arg(&self.key);
            let waiting_now = waiting(self.send(&pipe).await?.last());
            window.record_read(window.sent().saturating_sub(waiting_now));
        }
        Ok(())
    }

    /// Sends `pipe` until it goes through, or the deadline passes.
    async fn send(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, Status> {
        send_until(
            &self.connection,
            pipe,
            self.deadline,
            "sending streamed requests",
        )
        .await
        .map_err(|error| {
            Status::unavailable(format!(
                "sending the requests of the stream failed: {error}"
            ))
        })
    }
}

/// The length an `XLEN` answered (0 for anything else).
fn waiting(reply: Option<&Value>) -> u64 {
    match reply {
        Some(Value::Int(length)) => (*length).max(0) as u64,
        _ => 0,
    }
}
