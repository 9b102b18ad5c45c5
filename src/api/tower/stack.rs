//! Layers made into one service that every call of a server or a bus
//! handle goes through, so that limits hold across all of them.

use std::future::poll_fn;
use std::sync::Arc;

use tower::util::BoxService;
use tower::{Layer, Service, ServiceExt};

use crate::api::tower::call::{BoxError, CallReply, CallRequest};

/// A service of calls, boxed: what each layer wraps.
pub type BoxCallService = BoxService<CallRequest, CallReply, BoxError>;

/// One layer, boxed: wraps a service in it.
pub(crate) type LayerFn = Arc<dyn Fn(BoxCallService) -> BoxCallService + Send + Sync>;

/// `layer` as a [`LayerFn`].
pub(crate) fn boxed<L>(layer: L) -> LayerFn
where
    L: Layer<BoxCallService> + Send + Sync + 'static,
    L::Service: Service<CallRequest, Response = CallReply> + Send + 'static,
    <L::Service as Service<CallRequest>>::Error: Into<BoxError>,
    <L::Service as Service<CallRequest>>::Future: Send + 'static,
{
    Arc::new(move |inner| BoxService::new(layer.layer(inner).map_err(Into::into)))
}

/// `layers` around `inner`, the first outermost.
pub(crate) fn build(layers: &[LayerFn], inner: BoxCallService) -> Stack {
    let service = layers
        .iter()
        .rev()
        .fold(inner, |service, layer| layer(service));
    Stack(Arc::new(tokio::sync::Mutex::new(service)))
}

/// The layered service, shared by every call.
#[derive(Clone)]
pub(crate) struct Stack(Arc<tokio::sync::Mutex<BoxCallService>>);

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stack")
    }
}

impl Stack {
    /// Runs `request` through the layers. Waiting for readiness (a
    /// concurrency or rate limit) is bounded by the caller's deadline,
    /// which the callers of this enforce; only that wait and the dispatch
    /// hold the lock, not the call.
    pub(crate) async fn call(&self, request: CallRequest) -> Result<CallReply, BoxError> {
        let reply = {
            let mut service = self.0.lock().await;
            poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(request)
        };
        reply.await
    }
}
