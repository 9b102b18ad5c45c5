//! Interceptors: code that runs around every call, on the calling side
//! (`Bus::with_interceptor`: every client made from that bus) or on the
//! serving side (`Server::interceptor`: every service of that server). An
//! interceptor can read and set the call's metadata, reject the call with a
//! `Status`, and time or log it once it is done.
//!
//! Interceptors run in the order they were added before a call, and in the
//! reverse order after it, like layers around the call.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::seam::info::MethodInfo;
use crate::seam::metadata::Metadata;
use crate::seam::status::Status;

/// Code that runs around every call; see the module docs.
///
/// ```
/// use redis_bus::{InterceptedCall, Interceptor, Status};
///
/// /// Refuses calls without the right token.
/// struct RequireToken(String);
///
/// #[redis_bus::codegen::async_trait]
/// impl Interceptor for RequireToken {
///     async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
///         match call.metadata.get("authorization") {
///             Some(token) if token == self.0 => Ok(()),
///             _ => Err(Status::unauthenticated(format!(
///                 "{} needs a valid authorization token",
///                 call.method.full_name
///             ))),
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait Interceptor: Send + Sync + 'static {
    /// Runs before the call. It may change `call.metadata` (the handler,
    /// or the callee, sees the result); an error fails the call with that
    /// status, and on a server its handler does not run.
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status>;

    /// Runs once the call is done, with its outcome and how long it took
    /// since `before`. Does nothing unless implemented.
    async fn after(&self, call: &InterceptedCall, outcome: Result<(), &Status>, elapsed: Duration) {
        let _ = (call, outcome, elapsed);
    }
}

/// A call as an interceptor sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InterceptedCall {
    /// The method called.
    pub method: &'static MethodInfo,
    /// The call's metadata, which the interceptor may change.
    pub metadata: Metadata,
    /// When the caller stops waiting.
    pub deadline: Instant,
    /// On a server, how long the request waited before this worker started
    /// it (see [`CallContext::queued`](crate::CallContext::queued)); `None`
    /// on a client, or when the transport cannot tell.
    pub queued: Option<Duration>,
}

/// The interceptors of a bus or a server, in order.
pub(crate) type Interceptors = Arc<[Arc<dyn Interceptor>]>;

/// Runs `call` between the `before` and `after` of `interceptors`: the
/// first `before` that fails is the outcome, and only the interceptors
/// whose `before` ran get their `after`.
pub(crate) async fn around<T, F>(
    interceptors: &[Arc<dyn Interceptor>],
    mut intercepted: InterceptedCall,
    call: impl FnOnce(InterceptedCall) -> F,
) -> Result<T, Status>
where
    F: std::future::Future<Output = Result<T, Status>>,
{
    if interceptors.is_empty() {
        return call(intercepted).await;
    }
    let started = std::time::Instant::now();
    let mut ran = 0;
    let mut rejected = None;
    for interceptor in interceptors {
        ran += 1;
        if let Err(status) = interceptor.before(&mut intercepted).await {
            rejected = Some(status);
            break;
        }
    }
    let seen = intercepted.clone();
    let outcome = match rejected {
        Some(status) => Err(status),
        None => call(intercepted).await,
    };
    let elapsed = started.elapsed();
    for interceptor in interceptors[..ran].iter().rev() {
        interceptor
            .after(&seen, outcome.as_ref().map(drop), elapsed)
            .await;
    }
    outcome
}
