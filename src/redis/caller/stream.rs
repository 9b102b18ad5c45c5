//! The caller's side of a server-streaming call: the messages the reader
//! hands over, put in order with duplicates dropped (a reply may be read
//! twice after a reconnect, a message sent twice after a failed push),
//! a missing message or a short stream told from one that ended, and what
//! was read acknowledged so that the worker may send more. See
//! `redis::streaming` for the protocol.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{mpsc, watch};

use super::pending::{Outcome, StreamGuard};
use crate::redis::envelope::Position;
use crate::redis::shared::SharedConnection;
use crate::redis::streaming::{ACK_REFRESH, ACK_TTL, CANCELLED};
use crate::seam::info::MethodInfo;
use crate::seam::status::Status;

/// The messages of one streaming call, in order.
pub(crate) struct Incoming {
    /// What the reader hands over.
    replies: mpsc::UnboundedReceiver<(Position, Outcome)>,
    /// Keeps the call registered while the stream lives.
    _registered: StreamGuard,
    /// Tells the acknowledging task what was read.
    progress: watch::Sender<Progress>,
    /// The rpc, for messages.
    method: &'static MethodInfo,
    /// How many messages were handed on.
    received: u64,
    /// Whether the stream has ended.
    done: bool,
}

/// How far the caller has read.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Messages read.
    read: u64,
    /// The final reply came: nothing more to acknowledge.
    ended: bool,
}

impl Incoming {
    /// The stream of a call registered as `registered`, whose replies come
    /// through `replies`; starts acknowledging into `ack_key`, at least
    /// every `window / 2` messages.
    pub(crate) fn start(
        replies: mpsc::UnboundedReceiver<(Position, Outcome)>,
        registered: StreamGuard,
        method: &'static MethodInfo,
        connection: SharedConnection,
        ack_key: String,
        window: u32,
    ) -> Incoming {
        let (progress, watched) = watch::channel(Progress::default());
        tokio::spawn(acknowledge(connection, ack_key, window, watched));
        Incoming {
            replies,
            _registered: registered,
            progress,
            method,
            received: 0,
            done: false,
        }
    }

    /// Ends the stream with `status`, or well when `None`.
    fn end(&mut self, status: Option<Status>) -> Poll<Option<Result<Bytes, Status>>> {
        self.done = true;
        self.progress.send_modify(|progress| progress.ended = true);
        Poll::Ready(status.map(Err))
    }

    /// What the final reply of a stream of `sent` messages says.
    fn finish(&mut self, sent: u64, outcome: Outcome) -> Poll<Option<Result<Bytes, Status>>> {
        let received = self.received;
        let method = self.method.full_name;
        let status = match outcome {
            Ok(_) if sent == received => None,
            Ok(_) => Some(Status::data_loss(format!(
                "{method} streamed {sent} messages and {received} arrived: Redis lost some \
                 (was it restarted or flushed?)"
            ))),
            // From a worker that did not serve the stream (one that
            // reclaimed the call after its worker died): it knows nothing of
            // what arrived.
            Err(status) if sent == 0 && received > 0 => {
                let message = format!("{} ({received} messages came)", status.message());
                Some(Status::new(status.code(), message).with_details(status.details().clone()))
            }
            Err(status) => Some(status),
        };
        self.end(status)
    }
}

impl Stream for Incoming {
    type Item = Result<Bytes, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let Some((position, outcome)) = ready!(this.replies.poll_recv(cx)) else {
                let status = Status::unavailable("the bus's reply reader has stopped");
                return this.end(Some(status));
            };
            let seq = match position {
                Position::Final(sent) => return this.finish(sent, outcome),
                Position::Streamed(seq) => seq,
            };
            let next = this.received + 1;
            if seq < next {
                // Read or sent twice.
                continue;
            }
            if seq > next {
                let status = Status::data_loss(format!(
                    "message {next} of the stream of {} is missing (message {seq} came \
                     next): Redis lost it (was it restarted or flushed?)",
                    this.method.full_name
                ));
                return this.end(Some(status));
            }
            match outcome {
                Ok(message) => {
                    this.received = seq;
                    this.progress.send_modify(|progress| progress.read = seq);
                    return Poll::Ready(Some(Ok(message)));
                }
                Err(status) => return this.end(Some(status)),
            }
        }
    }
}

/// Writes how many messages were read into `key`: when `window / 2` more
/// were read, and every [`ACK_REFRESH`] (which keeps the key alive, and
/// with it the worker's belief that this caller lives). When the stream is
/// dropped the key is deleted after a stream that ended, or says
/// [`CANCELLED`] (for [`ACK_TTL`]) after one that did not, which stops the
/// worker.
async fn acknowledge(
    connection: SharedConnection,
    key: String,
    window: u32,
    mut progress: watch::Receiver<Progress>,
) {
    let step = u64::from(window / 2).max(1);
    let mut acknowledged = None;
    let mut refresh = tokio::time::interval(ACK_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ended = loop {
        let read = tokio::select! {
            changed = progress.changed() => {
                let now = *progress.borrow_and_update();
                if changed.is_err() || now.ended {
                    break now.ended;
                }
                if acknowledged.is_some_and(|done| now.read < done + step) {
                    continue;
                }
                now.read
            }
            _ = refresh.tick() => progress.borrow().read,
        };
        let mut set = redis::cmd("SET");
        set.arg(&key)
            .arg(read)
            .arg("PX")
            .arg(ACK_TTL.as_millis() as u64);
        write(&connection, &set, &key).await;
        acknowledged = Some(read);
    };
    let mut last = if ended {
        redis::cmd("DEL")
    } else {
        redis::cmd("SET")
    };
    last.arg(&key);
    if !ended {
        last.arg(CANCELLED)
            .arg("PX")
            .arg(ACK_TTL.as_millis() as u64);
    }
    write(&connection, &last, &key).await;
}

/// Sends one acknowledgement; a failure is logged and the next one (at
/// most [`ACK_REFRESH`] later) makes up for it.
async fn write(connection: &SharedConnection, command: &redis::Cmd, key: &str) {
    let sent: redis::RedisResult<()> = command.query_async(&mut connection.clone()).await;
    if let Err(error) = sent {
        tracing::warn!(%error, key, "acknowledging streamed messages failed");
    }
}
