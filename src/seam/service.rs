//! The server side of a service as the bus sees it: a method name and an
//! encoded request in, an encoded reply (or a `Status`) out.
//!
//! Generated servers (`MathServer`) implement [`Service`] by decoding the
//! request, calling the user's trait method and encoding the reply, through
//! [`handle`] (and [`handle_stream`] for server-streaming rpcs).

use std::future::Future;

use async_trait::async_trait;
use futures_util::StreamExt;
use prost::Message;

use crate::seam::cache_key::CacheKeyWriter;
use crate::seam::info::{Method, ServiceInfo};
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, ReplyStream};

/// A service implementation that a server can run: generated for each
/// proto service as `<Name>Server`.
#[async_trait]
pub trait Service: Send + Sync + 'static {
    /// The service's metadata.
    fn info(&self) -> &'static ServiceInfo;

    /// Handles one call of `method` (its proto name) with an encoded
    /// request, returning the encoded reply.
    async fn call(&self, method: &str, request: &[u8]) -> Result<Vec<u8>, Status>;

    /// Handles one call of server-streaming `method` with an encoded
    /// request, returning the stream of encoded messages. Services without
    /// streaming rpcs keep the default, which knows no such method.
    async fn call_server_streaming(
        &self,
        method: &str,
        request: &[u8],
    ) -> Result<ReplyStream<Vec<u8>>, Status> {
        let _ = request;
        Err(unknown_method(self.info(), method))
    }

    /// Handles one call of client-streaming `method`, whose encoded
    /// requests come through `requests`, returning the encoded reply.
    /// Services without client-streaming rpcs keep the default.
    async fn call_client_streaming(
        &self,
        method: &str,
        requests: EncodedMessages,
    ) -> Result<Vec<u8>, Status> {
        drop(requests);
        Err(unknown_method(self.info(), method))
    }

    /// The cache key text of an encoded request of cached `method`, as the
    /// method's `cache_key` template makes it from the decoded request:
    /// `None` for a method whose replies are not cached (or unknown), an
    /// error for a request that does not decode.
    ///
    /// Workers derive the cache entry a reply is stored under from this,
    /// never from anything the request says about itself. Generated servers
    /// implement it through [`cache_key_of`]; a hand-written service that
    /// returns `None` runs its cached methods without the cache.
    fn cache_key(&self, method: &str, request: &[u8]) -> Option<Result<String, Status>> {
        let _ = (method, request);
        None
    }
}

/// The cache key text of an encoded request for `M`, written by `M`'s
/// generated cache-key writer exactly as a client writes it for the typed
/// request (so both name the same entry).
pub fn cache_key_of<M: Method>(request: &[u8]) -> Result<String, Status> {
    let template = M::INFO.cache_key.ok_or_else(|| {
        Status::failed_precondition(format!("{} caches no replies", M::INFO.full_name))
    })?;
    let request = decode::<M>(request)?;
    let mut key = CacheKeyWriter::new(template);
    M::cache_key(&request, &mut key);
    Ok(key.finish())
}

/// Decodes a request for `M`; the error names the method and the type.
fn decode<M: Method>(request: &[u8]) -> Result<M::Request, Status> {
    M::Request::decode(request).map_err(|error| {
        Status::invalid_argument(format!(
            "the request to {} does not decode as {}: {error}",
            M::INFO.full_name,
            M::INFO.request_type
        ))
    })
}

/// Decodes a request for `M`, runs `handler` on it and encodes the reply.
///
/// A request that does not decode never reaches the handler: the caller
/// gets `INVALID_ARGUMENT` naming the method and the expected type.
pub async fn handle<M, F, Fut>(request: &[u8], handler: F) -> Result<Vec<u8>, Status>
where
    M: Method,
    F: FnOnce(M::Request) -> Fut,
    Fut: Future<Output = Result<M::Reply, Status>>,
{
    let request = decode::<M>(request)?;
    let reply = handler(request).await?;
    Ok(reply.encode_to_vec())
}

/// Decodes a request for server-streaming `M`, runs `handler` on it and
/// encodes each message of the stream it returns.
pub async fn handle_stream<M, F, Fut>(
    request: &[u8],
    handler: F,
) -> Result<ReplyStream<Vec<u8>>, Status>
where
    M: Method,
    F: FnOnce(M::Request) -> Fut,
    Fut: Future<Output = Result<ReplyStream<M::Reply>, Status>>,
{
    let request = decode::<M>(request)?;
    let messages = handler(request).await?;
    Ok(Box::pin(messages.map(|message| {
        message.map(|message| message.encode_to_vec())
    })))
}

/// The status for a call of a method that `service` does not have.
pub fn unknown_method(service: &ServiceInfo, method: &str) -> Status {
    let known: Vec<&str> = service.methods.iter().map(|m| m.name).collect();
    Status::unimplemented(format!(
        "{} {} has no method {method:?} (its methods: {})",
        service.name,
        service.version,
        known.join(", ")
    ))
}
