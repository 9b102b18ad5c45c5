//! The context of the call a handler is serving: its deadline and trace.
//!
//! A worker runs each handler inside the context of its call. When the
//! handler calls another service, the new call inherits the deadline (it
//! can only be shorter) and the trace, with no parameter to pass along.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

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
}

impl CallContext {
    pub(crate) fn new(deadline: Instant, traceparent: Option<String>) -> Self {
        CallContext {
            deadline,
            traceparent,
        }
    }

    /// The context of the call the current task is serving, if any.
    pub fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// When the caller stops waiting.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How long until the deadline (zero once it passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The caller's W3C `traceparent`, when it sent one.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// Runs `future` with this context as the current one.
    pub(crate) async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }
}
