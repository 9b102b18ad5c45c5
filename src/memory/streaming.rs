//! Streaming calls on the in-memory bus. In a server-streaming call the
//! caller polls the handler's stream itself, inside the call's context; in
//! a client-streaming one the handler polls the caller's. So flow control
//! is exact (nothing is made before it is read), and dropping one side
//! drops the other at once. Messages are still encoded and decoded.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt};

use crate::seam::call::OutgoingCall;
use crate::seam::context::{CallContext, Scoped};
use crate::seam::debug_report::panic_message;
use crate::seam::info::MethodInfo;
use crate::seam::service::Service;
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, EncodedRequests, ReplyStream};

/// Starts `call` on `service` and returns its messages; a handler that
/// fails (or panics) before streaming makes a stream of that one status.
pub(super) async fn run(service: Arc<dyn Service>, call: OutgoingCall) -> EncodedMessages {
    let context = CallContext::new(call.deadline, call.traceparent.map(|t| t.to_string()))
        .with_metadata(call.metadata);
    let method = call.method;
    let payload = call.payload;
    let open = context
        .clone()
        .scope(async move { service.call_server_streaming(method.name, &payload).await });
    match AssertUnwindSafe(open).catch_unwind().await {
        Ok(Ok(messages)) => Box::pin(Messages {
            messages: Some(context.scope_stream(messages)),
            method,
            sent: 0,
        }),
        Ok(Err(status)) => Box::pin(futures_util::stream::iter([Err(status)])),
        Err(panic) => Box::pin(futures_util::stream::iter([Err(panicked(
            method,
            panic.as_ref(),
            0,
        ))])),
    }
}

/// Runs client-streaming `call` on `service`, whose handler reads
/// `requests` itself: it is read no further than the handler reads.
pub(super) async fn collect(
    service: Arc<dyn Service>,
    call: OutgoingCall,
    requests: EncodedRequests,
) -> Result<Bytes, Status> {
    let context = CallContext::new(call.deadline, call.traceparent.map(|t| t.to_string()))
        .with_metadata(call.metadata);
    let method = call.method;
    let requests: EncodedMessages = Box::pin(requests.map(|request| Ok(Bytes::from(request))));
    let handler =
        context.scope(async move { service.call_client_streaming(method.name, requests).await });
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(outcome) => outcome.map(Bytes::from),
        Err(panic) => Err(Status::internal(format!(
            "the handler of {} panicked: {}",
            method.full_name,
            panic_message(panic.as_ref())
        ))),
    }
}

/// A handler's stream as the caller reads it: panics become `INTERNAL`,
/// and nothing is polled after the status that ends it.
struct Messages {
    /// The handler's stream, until it ended.
    messages: Option<Scoped<ReplyStream<Vec<u8>>>>,
    method: &'static MethodInfo,
    /// How many messages it made.
    sent: u64,
}

impl Stream for Messages {
    type Item = Result<Bytes, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(messages) = this.messages.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| messages.poll_next_unpin(cx)));
        let item = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Some(Ok(message)))) => {
                this.sent += 1;
                return Poll::Ready(Some(Ok(Bytes::from(message))));
            }
            Ok(Poll::Ready(Some(Err(status)))) => Some(Err(status)),
            Ok(Poll::Ready(None)) => None,
            Err(panic) => Some(Err(panicked(this.method, panic.as_ref(), this.sent))),
        };
        this.messages = None;
        Poll::Ready(item)
    }
}

/// The status of a handler that panicked after `sent` messages.
fn panicked(method: &MethodInfo, panic: &(dyn std::any::Any + Send), sent: u64) -> Status {
    Status::internal(format!(
        "the handler of {} panicked after {sent} messages: {}",
        method.full_name,
        panic_message(panic)
    ))
}
