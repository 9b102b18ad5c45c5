//! `Streaming`: a stream of typed messages as they come, then its status:
//! what a server-streaming call returns to its caller, and what the handler
//! of a client-streaming rpc reads its requests from.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use prost::Message;
use tokio::time::{Instant, Sleep};

use crate::seam::call::DEFAULT_TIMEOUT;
use crate::seam::context::CallContext;
use crate::seam::info::{Method, MethodInfo};
use crate::seam::status::Status;
use crate::seam::stream::EncodedMessages;

/// The messages of a stream (the replies of a server-streaming call, or
/// the requests a client-streaming handler reads), read with
/// [`message`](Self::message) or as a [`Stream`]. Each item is a message;
/// a stream that ended well then ends (`None`); one that ended early yields
/// one `Err` with its status first: the handler's error, `DEADLINE_EXCEEDED`
/// when the call's deadline passed, `UNAVAILABLE` when the worker stopped
/// mid-stream. A stream never ends early looking complete.
///
/// The call's deadline covers the whole stream. Dropping the stream
/// cancels the call.
pub struct Streaming<T> {
    /// The encoded messages from the transport.
    replies: EncodedMessages,
    /// The rpc called, for messages.
    method: &'static MethodInfo,
    /// The full proto name of the messages.
    message_type: &'static str,
    /// Fires at the call's deadline.
    deadline: Pin<Box<Sleep>>,
    /// The call's budget, for messages.
    timeout: Duration,
    /// How many messages were read.
    received: u64,
    /// Whether the stream has ended.
    done: bool,
    /// Decodes one message.
    decode: Decoder<T>,
}

/// Decodes one message of a stream.
type Decoder<T> = Box<dyn Fn(Bytes) -> Result<T, prost::DecodeError> + Send + Sync>;

impl<T: Message + Default> Streaming<T> {
    /// The replies of a server-streaming call of `method`.
    pub(crate) fn replies(
        replies: EncodedMessages,
        method: &'static MethodInfo,
        deadline: Instant,
        timeout: Duration,
    ) -> Self {
        let decode: Decoder<T> = Box::new(|encoded| T::decode(encoded));
        Streaming::new(
            replies,
            method,
            method.reply_type,
            deadline,
            timeout,
            decode,
        )
    }
}

impl<T> Streaming<T> {
    /// Messages of type `message_type` from `replies`, decoded by `decode`.
    pub(crate) fn new(
        replies: EncodedMessages,
        method: &'static MethodInfo,
        message_type: &'static str,
        deadline: Instant,
        timeout: Duration,
        decode: Decoder<T>,
    ) -> Self {
        Streaming {
            replies,
            method,
            message_type,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            timeout,
            received: 0,
            done: false,
            decode,
        }
    }

    /// The next message: `Ok(Some(message))`, `Ok(None)` once the stream
    /// ended well, or the status it ended with.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        self.next().await.transpose()
    }

    /// How many messages have been read so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Ends the stream with `status`.
    fn end(&mut self, status: Status) -> Poll<Option<Result<T, Status>>> {
        self.done = true;
        Poll::Ready(Some(Err(status)))
    }
}

impl<T> Stream for Streaming<T> {
    type Item = Result<T, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match this.replies.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(encoded))) => match (this.decode)(encoded) {
                Ok(message) => {
                    this.received += 1;
                    Poll::Ready(Some(Ok(message)))
                }
                Err(error) => {
                    let status = Status::internal(format!(
                        "message {} of {} does not decode as {}: {error}",
                        this.received + 1,
                        this.method.full_name,
                        this.message_type
                    ));
                    this.end(status)
                }
            },
            Poll::Ready(Some(Err(status))) => this.end(status),
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let status = Status::deadline_exceeded(format!(
                        "{} did not finish its stream within its deadline of {} ms \
                         ({} messages came)",
                        this.method.full_name,
                        this.timeout.as_millis(),
                        this.received
                    ));
                    this.end(status)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Runs the handler of client-streaming `M` on the stream of its encoded
/// `requests`, typed, and encodes the reply. The stream's deadline is the
/// call's. For generated code.
pub async fn handle_client_stream<M, F, Fut>(
    requests: EncodedMessages,
    handler: F,
) -> Result<Vec<u8>, Status>
where
    M: Method,
    F: FnOnce(Streaming<M::Request>) -> Fut,
    Fut: Future<Output = Result<M::Reply, Status>>,
{
    let method = M::INFO;
    let (deadline, timeout) = match CallContext::current() {
        Some(context) => (context.deadline(), context.remaining()),
        None => (Instant::now() + DEFAULT_TIMEOUT, DEFAULT_TIMEOUT),
    };
    let decode: Decoder<M::Request> = Box::new(M::Request::decode);
    let requests = Streaming::new(
        requests,
        method,
        method.request_type,
        deadline,
        timeout,
        decode,
    );
    let reply = handler(requests).await?;
    Ok(reply.encode_to_vec())
}

impl<T> fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming")
            .field("method", &self.method.full_name)
            .field("received", &self.received)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
