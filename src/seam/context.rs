//! The context of the call a handler is serving: its deadline, trace
//! (`traceparent` and `tracestate`) and metadata.
//!
//! A worker runs each handler inside the context of its call. When the
//! handler calls another service, the new call inherits the deadline (it
//! can only be shorter) and the trace, with no parameter to pass along;
//! the metadata only when the nested call asks for it
//! (`CallOptions::propagate_metadata`), since it may hold credentials meant
//! for this service alone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::time::Instant;

use crate::seam::metadata::Metadata;
use crate::seam::trace::TRACESTATE_KEY;

tokio::task_local! {
    static CURRENT: CallContext;
}

/// The call being served by the current task.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// When the caller stops waiting.
    deadline: Instant,
    /// The caller's W3C trace context, when it sent one.
    traceparent: Option<String>,
    /// The caller's W3C `tracestate`, when it sent one.
    tracestate: Option<String>,
    /// The call's metadata.
    metadata: Metadata,
    /// How long the request waited before a worker started it.
    queued: Option<Duration>,
}

impl CallContext {
    pub(crate) fn new(deadline: Instant, traceparent: Option<String>) -> Self {
        CallContext {
            deadline,
            traceparent,
            tracestate: None,
            metadata: Metadata::new(),
            queued: None,
        }
    }

    /// The same context, for a request that waited `queued` before a
    /// worker started it.
    pub(crate) fn with_queued(mut self, queued: Duration) -> Self {
        self.queued = Some(queued);
        self
    }

    /// The same context with `metadata`. The `tracestate` a request
    /// carries among its metadata, under a reserved key, is the context's
    /// own: the handler's metadata is what users sent.
    pub(crate) fn with_metadata(mut self, mut metadata: Metadata) -> Self {
        if let Some(tracestate) = metadata.take_text(TRACESTATE_KEY) {
            self.tracestate = Some(tracestate);
        }
        self.metadata = metadata;
        self
    }

    /// The metadata the caller (and its interceptors) sent.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The context of the call the current task is serving, if any.
    pub fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// When the caller stops waiting.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How long the request waited (in its queue, or for a live worker)
    /// before this worker started it: on Redis, measured on the bus clock
    /// from when the caller sent it, so within the clocks' agreement
    /// (about a millisecond). `None` when the transport cannot tell.
    pub fn queued(&self) -> Option<Duration> {
        self.queued
    }

    /// How long until the deadline (zero once it passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The caller's W3C `traceparent`, when it sent one.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// The caller's W3C `tracestate` (vendors' trace data that travels
    /// with the `traceparent`), when it sent one.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// Runs `future` with this context as the current one.
    pub(crate) async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// `stream`, each of whose polls runs inside this context: the messages
    /// of a server-streaming handler are made after the handler returned
    /// its stream, and their nested calls inherit the call as a unary
    /// handler's do.
    pub(crate) fn scope_stream<S: Stream + Unpin>(self, stream: S) -> Scoped<S> {
        Scoped {
            context: self,
            stream,
        }
    }
}

/// A stream polled inside a call's context; see
/// [`CallContext::scope_stream`].
pub(crate) struct Scoped<S> {
    context: CallContext,
    stream: S,
}

impl<S: Stream + Unpin> Stream for Scoped<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        let stream = &mut this.stream;
        CURRENT.sync_scope(this.context.clone(), || Pin::new(stream).poll_next(cx))
    }
}
