//! A service wrapped in a server's interceptors: they run around each call,
//! unary or streaming, inside the call's context, before the generated
//! dispatcher decodes it. Around a server-streaming call they run until
//! the handler returned its stream; around a client-streaming one, until
//! the handler answered.

use std::sync::Arc;

use async_trait::async_trait;

use crate::api::interceptor::{InterceptedCall, Interceptors, around};
use crate::seam::context::CallContext;
use crate::seam::info::ServiceInfo;
use crate::seam::service::{Service, unknown_method};
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, ReplyStream};

/// `inner`, with `interceptors` around each of its calls.
pub(crate) struct Intercepted {
    /// The service.
    pub inner: Arc<dyn Service>,
    /// What runs around its calls.
    pub interceptors: Interceptors,
}

impl Intercepted {
    /// The context of a call of `method` and what its interceptors see.
    fn intercepted(&self, method: &str) -> Result<(CallContext, InterceptedCall), Status> {
        let info = self.inner.info();
        let Some(method_info) = info.method(method) else {
            return Err(unknown_method(info, method));
        };
        // Transports run every call in its context; one without (a test
        // calling the service directly) gets an empty one.
        let context = CallContext::current().unwrap_or_else(|| {
            CallContext::new(
                tokio::time::Instant::now() + crate::seam::call::DEFAULT_TIMEOUT,
                None,
            )
        });
        let intercepted = InterceptedCall {
            method: method_info,
            metadata: context.metadata().clone(),
            deadline: context.deadline(),
            queued: context.queued(),
        };
        Ok((context, intercepted))
    }
}

#[async_trait]
impl Service for Intercepted {
    fn info(&self) -> &'static ServiceInfo {
        self.inner.info()
    }

    async fn call(&self, method: &str, request: &[u8]) -> Result<Vec<u8>, Status> {
        let (context, intercepted) = self.intercepted(method)?;
        around(&self.interceptors, intercepted, |intercepted| {
            // The handler sees the metadata as the interceptors left it.
            let context = context.with_metadata(intercepted.metadata);
            context.scope(self.inner.call(method, request))
        })
        .await
    }

    async fn call_server_streaming(
        &self,
        method: &str,
        request: &[u8],
    ) -> Result<ReplyStream<Vec<u8>>, Status> {
        let (context, intercepted) = self.intercepted(method)?;
        around(&self.interceptors, intercepted, |intercepted| async move {
            let context = context.with_metadata(intercepted.metadata);
            let messages = context
                .clone()
                .scope(self.inner.call_server_streaming(method, request))
                .await?;
            // The messages are made later, and see that metadata too.
            let messages: ReplyStream<Vec<u8>> = Box::pin(context.scope_stream(messages));
            Ok(messages)
        })
        .await
    }

    async fn call_client_streaming(
        &self,
        method: &str,
        requests: EncodedMessages,
    ) -> Result<Vec<u8>, Status> {
        let (context, intercepted) = self.intercepted(method)?;
        around(&self.interceptors, intercepted, |intercepted| {
            let context = context.with_metadata(intercepted.metadata);
            context.scope(self.inner.call_client_streaming(method, requests))
        })
        .await
    }

    fn cache_key(&self, method: &str, request: &[u8]) -> Option<Result<String, Status>> {
        self.inner.cache_key(method, request)
    }
}
