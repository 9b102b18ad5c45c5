//! `Bus::layer`: `tower` layers around every call made through a bus
//! handle.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tower::util::BoxService;

use crate::api::bus::Bus;
use crate::api::tower::call::{Body, BoxError, CallReply, CallRequest, into_status};
use crate::api::tower::stack::{self, BoxCallService, LayerFn, Stack};
use crate::seam::call::OutgoingCall;
use crate::seam::status::Status;
use crate::seam::trace::TRACESTATE_KEY;
use crate::seam::transport::Transport;

/// The layers of a bus handle, and the stack they make over its transport.
#[derive(Clone)]
pub(crate) struct ClientLayers {
    /// The layers, the first outermost.
    layers: Vec<LayerFn>,
    /// The service every call goes through.
    stack: Stack,
}

impl std::fmt::Debug for ClientLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLayers")
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl ClientLayers {
    /// Sends `call` through the layers to the transport.
    pub(crate) fn send(
        &self,
        mut call: OutgoingCall,
    ) -> impl Future<Output = Result<Bytes, Status>> + use<> {
        let stack = self.stack.clone();
        async move {
            let method = call.method;
            let tracestate = call.metadata.take_text(TRACESTATE_KEY);
            let request = CallRequest {
                service: call.service,
                method,
                metadata: std::mem::take(&mut call.metadata),
                deadline: call.deadline,
                body: Body::Outgoing { call, tracestate },
            };
            match stack.call(request).await {
                Ok(reply) => Ok(reply.payload),
                Err(error) => Err(into_status(error, method)),
            }
        }
    }
}

impl Bus {
    /// The same bus, with every call of every client made from it going
    /// through `layer`, a `tower` layer such as `ConcurrencyLimitLayer`,
    /// `RateLimitLayer` or `TimeoutLayer` (feature `tower`). The layers
    /// run inside the interceptors, around the transport (cache hits go
    /// through them too); the first added is the outermost. Other handles on the
    /// bus are not affected; clones of this one share its layers' state.
    ///
    /// ```
    /// let bus = redis_bus::Bus::in_memory()
    ///     .layer(tower::limit::ConcurrencyLimitLayer::new(16));
    /// # drop(bus);
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Bus
    where
        L: tower::Layer<BoxCallService> + Send + Sync + 'static,
        L::Service: tower::Service<CallRequest, Response = CallReply> + Send + 'static,
        <L::Service as tower::Service<CallRequest>>::Error: Into<BoxError>,
        <L::Service as tower::Service<CallRequest>>::Future: Send + 'static,
    {
        let mut layers = self
            .tower
            .take()
            .map(|own| own.layers.clone())
            .unwrap_or_default();
        layers.push(stack::boxed(layer));
        let transport = BoxService::new(ToTransport(Arc::clone(&self.transport)));
        let stack = stack::build(&layers, transport);
        self.tower = Some(Arc::new(ClientLayers { layers, stack }));
        self
    }
}

/// The innermost service of a bus handle: hands the call to the transport,
/// with the metadata as the layers left it.
struct ToTransport(Arc<dyn Transport>);

impl tower::Service<CallRequest> for ToTransport {
    type Response = CallReply;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<CallReply, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: CallRequest) -> Self::Future {
        let transport = Arc::clone(&self.0);
        Box::pin(async move {
            let Body::Outgoing {
                mut call,
                tracestate,
            } = request.body
            else {
                return Err(Status::internal(format!(
                    "a tower layer around {} made a request the client cannot send",
                    request.method.full_name
                ))
                .into());
            };
            call.metadata = request.metadata;
            call.metadata
                .check_limits()
                .map_err(Status::invalid_argument)?;
            if let Some(tracestate) = tracestate {
                call.metadata.insert_reserved(TRACESTATE_KEY, tracestate);
            }
            Ok(CallReply::new(transport.call(call).await?))
        })
    }
}
