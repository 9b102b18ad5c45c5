//! `Client`: the untyped core of every generated client. It encodes the
//! request, works out the deadline, hands the call to the transport and
//! decodes the reply (or, for a server-streaming rpc, hands back the
//! stream of replies).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use prost::Message;
use tokio::time::Instant;
use tracing::Instrument;

use crate::api::bus::Bus;
use crate::api::call_options::CallOptions;
use crate::api::call_trace;
use crate::api::interceptor::{InterceptedCall, around};
use crate::api::streaming::Streaming;
use crate::seam::cache_key::CacheKeyWriter;
use crate::seam::call::{CacheUse, OutgoingCall};
use crate::seam::context::CallContext;
use crate::seam::info::{Method, MethodInfo, ServiceInfo};
use crate::seam::metadata::Metadata;
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, EncodedRequests};

/// Calls one service over a bus. Generated clients wrap it; cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    /// The bus the calls go over.
    bus: Bus,
    /// The service called.
    service: &'static ServiceInfo,
    /// Settings of every call.
    options: CallOptions,
}

impl Client {
    /// A client of `service` on `bus`.
    pub fn new(bus: &Bus, service: &'static ServiceInfo) -> Self {
        Client {
            bus: bus.clone(),
            service,
            options: CallOptions::default(),
        }
    }

    /// The same client with `options` for every call.
    pub fn with_options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// The same client with a deadline of `timeout` for every call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Calls `M` with `request` and waits for the reply, at most until the
    /// call's deadline.
    pub async fn unary<M: Method>(&self, request: M::Request) -> Result<M::Reply, Status> {
        let method = M::INFO;
        let cache_text = method
            .cache_key
            .map(|template| cache_key_text::<M>(template, &request));
        let payload = request.encode_to_vec();
        // Not held while waiting: with many calls in flight, every request
        // kept alive until its reply adds up.
        drop(request);
        let reply = self.call_encoded(method, payload, cache_text).await?;
        decode_reply::<M>(reply)
    }

    /// Calls `method` with an encoded request and returns the encoded
    /// reply; `cache_text` is the request's cache key text for a cached
    /// method. Typed and dynamic calls both go through here.
    pub(crate) async fn call_encoded(
        &self,
        method: &'static MethodInfo,
        payload: Vec<u8>,
        cache_text: Option<String>,
    ) -> Result<Bytes, Status> {
        if method.server_streaming || method.client_streaming {
            return Err(Status::failed_precondition(format!(
                "{} is a streaming rpc, not a unary one",
                method.full_name
            )));
        }
        let cache = cache_text.map(|text| CacheUse {
            text,
            bypass: self.options.bypass_cache,
        });
        self.deliver(method, payload, cache, |call| self.bus.send(call))
            .await
    }

    /// Calls server-streaming `M` with `request` and returns the stream of
    /// its messages once the request is on its way. The stream ends with
    /// the call's status: `Ok` messages, then `None` after a stream that
    /// ended well, or one `Err` saying why it ended early (how many
    /// messages came is [`Streaming::received`]). Dropping the stream
    /// cancels the call: the worker stops producing promptly.
    pub async fn server_streaming<M: Method>(
        &self,
        request: M::Request,
    ) -> Result<Streaming<M::Reply>, Status> {
        let method = M::INFO;
        let payload = request.encode_to_vec();
        drop(request);
        let (deadline, timeout) = self.deadline(method);
        let replies = self.stream_encoded(method, payload).await?;
        Ok(Streaming::replies(replies, method, deadline, timeout))
    }

    /// Calls client-streaming `M`, sending each message of `requests` as it
    /// comes, and waits for the reply, at most until the call's deadline.
    /// The worker may answer before `requests` ends (the handler stopped
    /// reading); the rest of `requests` is then not read. A caller reads at
    /// most a window ahead of what the handler has read
    /// ([`CallOptions::stream_window`]).
    pub async fn client_streaming<M, S>(&self, requests: S) -> Result<M::Reply, Status>
    where
        M: Method,
        S: Stream<Item = M::Request> + Send + 'static,
    {
        let requests: EncodedRequests = Box::pin(requests.map(|request| request.encode_to_vec()));
        let reply = self.client_streaming_encoded(M::INFO, requests).await?;
        decode_reply::<M>(reply)
    }

    /// Calls client-streaming `method` with encoded requests and returns
    /// the encoded reply. Typed and dynamic calls both go through here.
    pub(crate) async fn client_streaming_encoded(
        &self,
        method: &'static MethodInfo,
        requests: EncodedRequests,
    ) -> Result<Bytes, Status> {
        if !method.client_streaming {
            return Err(Status::failed_precondition(format!(
                "{} does not take a stream of requests",
                method.full_name
            )));
        }
        self.deliver(method, Vec::new(), None, |call| {
            self.bus.transport.call_client_streaming(call, requests)
        })
        .await
    }

    /// Calls server-streaming `method` with an encoded request and returns
    /// the stream of encoded messages. Typed and dynamic calls both go
    /// through here.
    pub(crate) async fn stream_encoded(
        &self,
        method: &'static MethodInfo,
        payload: Vec<u8>,
    ) -> Result<EncodedMessages, Status> {
        if !method.server_streaming {
            return Err(Status::failed_precondition(format!(
                "{} is a unary rpc, not a server-streaming one",
                method.full_name
            )));
        }
        self.deliver(method, payload, None, |call| {
            self.bus.transport.call_streaming(call)
        })
        .await
    }

    /// Delivers a call through the interceptors, within its deadline and
    /// its trace, with `carry` (the transport's unary or streaming call).
    async fn deliver<T, F, Fut>(
        &self,
        method: &'static MethodInfo,
        payload: Vec<u8>,
        cache: Option<CacheUse>,
        carry: F,
    ) -> Result<T, Status>
    where
        F: FnOnce(OutgoingCall) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let (deadline, timeout) = self.deadline(method);
        let (span, trace) = call_trace::start(method, timeout);
        let started = std::time::Instant::now();
        let intercepted = InterceptedCall {
            method,
            metadata: self.metadata()?,
            deadline,
            queued: None,
        };
        let stream_window = if method.server_streaming || method.client_streaming {
            self.options.stream_window
        } else {
            0
        };
        let send = |intercepted: InterceptedCall| async move {
            let mut metadata = intercepted.metadata;
            metadata.check_limits().map_err(Status::invalid_argument)?;
            call_trace::stamp(&trace, &mut metadata);
            let call = OutgoingCall {
                service: self.service,
                method,
                payload,
                deadline,
                traceparent: Some(trace.parent),
                wait_for_worker: self.options.wait_for_worker,
                cache,
                metadata,
                stream_window,
            };
            match tokio::time::timeout_at(deadline, carry(call)).await {
                Ok(reply) => reply,
                Err(_) => Err(Status::deadline_exceeded(format!(
                    "{} did not answer within its deadline of {} ms",
                    method.full_name,
                    timeout.as_millis()
                ))),
            }
        };
        let result = around(&self.bus.interceptors, intercepted, send)
            .instrument(span.clone())
            .await;
        span.record("duration_us", started.elapsed().as_micros() as u64);
        span.record(
            "outcome",
            result
                .as_ref()
                .map_or_else(|status| status.code().as_str(), |_| "OK"),
        );
        result
    }

    /// The metadata of a call: the options' own, then (when asked) the
    /// metadata of the call being served.
    fn metadata(&self) -> Result<Metadata, Status> {
        if let Some(invalid) = &self.options.invalid {
            return Err(Status::invalid_argument(invalid.clone()));
        }
        let mut metadata = self.options.metadata.clone();
        if self.options.propagate_metadata {
            if let Some(outer) = CallContext::current() {
                metadata.merge_missing(outer.metadata());
            }
        }
        Ok(metadata)
    }

    /// Forgets the cached reply of `M` for `request`; true when there was
    /// one. The next call with that request runs the handler again.
    pub async fn clear_cached<M: Method>(&self, request: &M::Request) -> Result<bool, Status> {
        let template = cached(M::INFO)?;
        let text = cache_key_text::<M>(template, request);
        self.clear_cache(M::INFO, Some(&text)).await
    }

    /// Forgets every cached reply of `M`, in O(1) whatever their number.
    pub async fn clear_all_cached<M: Method>(&self) -> Result<(), Status> {
        cached(M::INFO)?;
        self.clear_cache(M::INFO, None).await.map(drop)
    }

    /// Forgets the cached reply of `method` for cache key text `text`, or
    /// every cached reply of `method`.
    pub(crate) async fn clear_cache(
        &self,
        method: &'static MethodInfo,
        text: Option<&str>,
    ) -> Result<bool, Status> {
        self.bus
            .transport
            .clear_cache(method, text)
            .await
            .map_err(|error| Status::unavailable(format!("clearing the cache failed: {error}")))
    }

    /// The deadline of a call of `method`, and the budget it stands for:
    /// the call's own timeout, else the method's, else the bus default,
    /// never later than the deadline of the call being served (if any).
    pub(crate) fn deadline(&self, method: &MethodInfo) -> (Instant, Duration) {
        let timeout = self
            .options
            .timeout
            .or_else(|| method.timeout_ms.map(|ms| Duration::from_millis(ms.into())))
            .unwrap_or(self.bus.default_timeout);
        let own = Instant::now() + timeout;
        match CallContext::current() {
            Some(outer) if outer.deadline() < own => (outer.deadline(), outer.remaining()),
            _ => (own, timeout),
        }
    }
}

/// The cache key template of `method`, or the error for a method without
/// one.
pub(crate) fn cached(method: &MethodInfo) -> Result<&'static str, Status> {
    method.cache_key.ok_or_else(|| {
        Status::failed_precondition(format!("{} caches no replies", method.full_name))
    })
}

/// Decodes a reply of `M`; the error names the method and the type.
fn decode_reply<M: Method>(reply: Bytes) -> Result<M::Reply, Status> {
    M::Reply::decode(reply).map_err(|error| {
        let method = M::INFO;
        Status::internal(format!(
            "the reply of {} does not decode as {}: {error}",
            method.full_name, method.reply_type
        ))
    })
}

/// The cache key text of `request`, as `M`'s template makes it.
fn cache_key_text<M: Method>(template: &str, request: &M::Request) -> String {
    let mut key = CacheKeyWriter::new(template);
    M::cache_key(request, &mut key);
    key.finish()
}
