//! A call on its way from the API to a transport: what was called, the
//! encoded request, its deadline and trace, and how it uses the cache.

use std::time::Duration;

use tokio::time::Instant;

use crate::seam::info::{MethodInfo, ServiceInfo};
use crate::seam::metadata::Metadata;
use crate::seam::trace::TraceParent;

/// The deadline of a call whose method declares no `timeout_ms`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One call on its way out, with everything the transport needs.
#[derive(Debug)]
pub(crate) struct OutgoingCall {
    /// The service called.
    pub service: &'static ServiceInfo,
    /// The rpc called.
    pub method: &'static MethodInfo,
    /// The encoded request.
    pub payload: Vec<u8>,
    /// When the caller stops waiting.
    pub deadline: Instant,
    /// The W3C trace context to send along.
    pub traceparent: Option<TraceParent>,
    /// Whether to wait for a worker when none is live.
    pub wait_for_worker: bool,
    /// For a method whose replies are cached: how to use the cache.
    pub cache: Option<CacheUse>,
    /// The call's metadata, checked against the limits.
    pub metadata: Metadata,
    /// For a server-streaming call, the flow-control window it asks for
    /// (0: the worker's default); 0 for a unary call.
    pub stream_window: u32,
}

/// How a call of a cached method uses the cache.
#[derive(Debug)]
pub(crate) struct CacheUse {
    /// The request's cache key text, as the method's template makes it.
    pub text: String,
    /// Whether to skip the lookup (the reply is still stored).
    pub bypass: bool,
}
