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
use tokio::sync::mpsc;

use super::acknowledger::Acknowledger;
use super::pending::{Outcome, StreamGuard};
use crate::redis::envelope::Position;
use crate::redis::shared::SharedConnection;
use crate::seam::info::MethodInfo;
use crate::seam::status::Status;

/// The messages of one streaming call, in order.
pub(crate) struct Incoming {
    /// What the reader hands over.
    replies: mpsc::UnboundedReceiver<(Position, Outcome)>,
    /// Keeps the call registered while the stream lives.
    _registered: StreamGuard,
    /// Tells the worker what was read.
    acknowledger: Acknowledger,
    /// The rpc, for messages.
    method: &'static MethodInfo,
    /// How many messages were handed on.
    received: u64,
    /// Their bytes.
    received_bytes: u64,
    /// Whether the stream has ended.
    done: bool,
}

impl Incoming {
    /// The stream of a call registered as `registered`, whose replies come
    /// through `replies`; starts acknowledging into `ack_key`, at least
    /// every quarter window.
    pub(crate) fn start(
        replies: mpsc::UnboundedReceiver<(Position, Outcome)>,
        registered: StreamGuard,
        method: &'static MethodInfo,
        connection: SharedConnection,
        ack_key: String,
        window: u32,
    ) -> Incoming {
        Incoming {
            replies,
            _registered: registered,
            acknowledger: Acknowledger::start(connection, ack_key, window),
            method,
            received: 0,
            received_bytes: 0,
            done: false,
        }
    }

    /// Ends the stream with `status`, or well when `None`.
    fn end(&mut self, status: Option<Status>) -> Poll<Option<Result<Bytes, Status>>> {
        self.done = true;
        self.acknowledger.ended();
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
                    this.received_bytes += message.len() as u64;
                    this.acknowledger.read(seq, this.received_bytes);
                    return Poll::Ready(Some(Ok(message)));
                }
                Err(status) => return this.end(Some(status)),
            }
        }
    }
}
