//! The span of an outgoing call and the trace context it sends.
//!
//! The parent of a call, first found first: with OpenTelemetry, the call's
//! own span as an OpenTelemetry span (a child of the current span, or of
//! the current OpenTelemetry context); the call being served, if any; the
//! current OpenTelemetry context; else the call starts a new trace. The
//! `tracestate` comes with the parent. A call whose span is disabled (no
//! subscriber records it) sends its parent's context as it is, so that the
//! worker's span links to a span that was recorded.

use std::time::Duration;

use tracing::{Span, field};

use crate::seam::context::CallContext;
use crate::seam::info::MethodInfo;
use crate::seam::metadata::Metadata;
use crate::seam::trace::{self, TRACESTATE_KEY, TraceContext, TraceParent};

/// Opens the span of a call of `method` with a budget of `timeout`, and
/// works out the trace context the call sends.
pub(crate) fn start(method: &MethodInfo, timeout: Duration) -> (Span, TraceContext) {
    let span = tracing::debug_span!(
        "redis_bus.call",
        // For `tracing-opentelemetry`: the span kind of an RPC's caller.
        "otel.kind" = "client",
        method = method.full_name,
        trace_id = field::Empty,
        span_id = field::Empty,
        timeout_ms = timeout.as_millis() as u64,
        call_id = field::Empty,
        outcome = field::Empty,
        duration_us = field::Empty,
    );
    let context = own_context(&span);
    trace::record_ids(&span, &context.parent);
    (span, context)
}

/// Puts the `tracestate` of `context` into the metadata a call sends.
pub(crate) fn stamp(context: &TraceContext, metadata: &mut Metadata) {
    if let Some(state) = &context.state {
        metadata.insert_reserved(TRACESTATE_KEY, state.clone());
    }
}

/// The trace context of a call whose span is `span`; see the module docs.
fn own_context(span: &Span) -> TraceContext {
    #[cfg(feature = "opentelemetry")]
    if let Some(own) = crate::seam::otel::of_span(span) {
        return own;
    }
    // A call made while serving another continues its trace.
    let served = CallContext::current().and_then(|context| {
        let parent = context.traceparent().and_then(TraceParent::parse)?;
        Some(TraceContext::new(
            parent,
            context.tracestate().map(str::to_owned),
        ))
    });
    #[cfg(feature = "opentelemetry")]
    let served = served.or_else(crate::seam::otel::current);
    match served {
        // Nobody records this call's span: the worker's span is then the
        // child of the caller's parent, a span that exists.
        Some(parent) if span.is_disabled() => parent,
        Some(parent) => TraceContext::new(parent.parent.child(), parent.state),
        None => TraceContext::new(TraceParent::new_root(), None),
    }
}
