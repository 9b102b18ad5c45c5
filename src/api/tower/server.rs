//! `Server::layer`: `tower` layers around all the services of a server.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use tower::util::BoxService;

use crate::api::server::Server;
use crate::api::tower::call::{Body, BoxError, CallReply, CallRequest, into_status};
use crate::api::tower::stack::{self, BoxCallService, LayerFn, Stack};
use crate::seam::call::DEFAULT_TIMEOUT;
use crate::seam::context::CallContext;
use crate::seam::info::ServiceInfo;
use crate::seam::service::{Service, unknown_method};
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, ReplyStream};

impl Server {
    /// Runs every call of every service of this server through `layer`, a
    /// `tower` layer such as `ConcurrencyLimitLayer`, `RateLimitLayer` or
    /// `TimeoutLayer` (feature `tower`). The layers wrap all the services
    /// together, outside the interceptors; the first added is the
    /// outermost. See [`CallRequest`] for what a layer sees.
    ///
    /// ```
    /// # fn serve(bus: &redis_bus::Bus) {
    /// use std::time::Duration;
    ///
    /// let server = redis_bus::Server::new(bus)
    ///     .layer(tower::limit::ConcurrencyLimitLayer::new(64))
    ///     .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(5)));
    /// # drop(server);
    /// # }
    /// ```
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: tower::Layer<BoxCallService> + Send + Sync + 'static,
        L::Service: tower::Service<CallRequest, Response = CallReply> + Send + 'static,
        <L::Service as tower::Service<CallRequest>>::Error: Into<BoxError>,
        <L::Service as tower::Service<CallRequest>>::Future: Send + 'static,
    {
        self.with_layer(stack::boxed(layer))
    }
}

/// `services`, each of whose calls goes through one stack of `layers`.
pub(crate) fn layered(
    services: Vec<Arc<dyn Service>>,
    layers: &[LayerFn],
) -> Vec<Arc<dyn Service>> {
    if layers.is_empty() {
        return services;
    }
    let by_name = services
        .iter()
        .map(|service| (service.info().name, Arc::clone(service)))
        .collect();
    let stack = stack::build(layers, BoxService::new(Router(Arc::new(by_name))));
    services
        .into_iter()
        .map(|inner| {
            Arc::new(Layered {
                inner,
                stack: stack.clone(),
            }) as Arc<dyn Service>
        })
        .collect()
}

/// A service whose calls go through the server's layers.
struct Layered {
    /// The service (with the server's interceptors).
    inner: Arc<dyn Service>,
    /// The layers, shared by all the server's services.
    stack: Stack,
}

#[async_trait]
impl Service for Layered {
    fn info(&self) -> &'static ServiceInfo {
        self.inner.info()
    }

    async fn call(&self, method: &str, request: &[u8]) -> Result<Vec<u8>, Status> {
        let service = self.inner.info();
        let Some(method) = service.method(method) else {
            return Err(unknown_method(service, method));
        };
        // Transports run every call in its context; one without (a test
        // calling the service directly) gets an empty one.
        let context = CallContext::current().unwrap_or_else(|| {
            CallContext::new(tokio::time::Instant::now() + DEFAULT_TIMEOUT, None)
        });
        let request = CallRequest {
            service,
            method,
            metadata: context.metadata().clone(),
            deadline: context.deadline(),
            body: Body::Incoming {
                context,
                payload: Bytes::copy_from_slice(request),
            },
        };
        match self.stack.call(request).await {
            Ok(reply) => Ok(reply.payload.into()),
            Err(error) => Err(into_status(error, method)),
        }
    }

    // Streaming calls pass by the layers, which wrap one request and one
    // reply.
    async fn call_server_streaming(
        &self,
        method: &str,
        request: &[u8],
    ) -> Result<ReplyStream<Vec<u8>>, Status> {
        self.inner.call_server_streaming(method, request).await
    }

    async fn call_client_streaming(
        &self,
        method: &str,
        requests: EncodedMessages,
    ) -> Result<Vec<u8>, Status> {
        self.inner.call_client_streaming(method, requests).await
    }

    fn cache_key(&self, method: &str, request: &[u8]) -> Option<Result<String, Status>> {
        self.inner.cache_key(method, request)
    }
}

/// The innermost service of a server: runs a call on the service it names,
/// in its context, with the metadata as the layers left it.
struct Router(Arc<HashMap<&'static str, Arc<dyn Service>>>);

impl tower::Service<CallRequest> for Router {
    type Response = CallReply;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<CallReply, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: CallRequest) -> Self::Future {
        let service = self.0.get(request.service.name).cloned();
        Box::pin(async move {
            let (Some(service), Body::Incoming { context, payload }) = (service, request.body)
            else {
                return Err(Status::internal(format!(
                    "a tower layer around {} made a request the server cannot run",
                    request.method.full_name
                ))
                .into());
            };
            let context = context.with_metadata(request.metadata);
            let reply = context
                .scope(service.call(request.method.name, &payload))
                .await?;
            Ok(CallReply::new(reply))
        })
    }
}
