//! OpenTelemetry (feature `opentelemetry`): the bus's `tracing` spans are
//! OpenTelemetry spans when `tracing-opentelemetry` is installed, and the
//! trace context crosses the bus through OpenTelemetry's global text-map
//! propagator.
//!
//! A caller sends the context of its own call span, which
//! `tracing-opentelemetry` made a child of the current span (or, with none,
//! of `opentelemetry::Context::current()`). A worker extracts the context
//! and makes its serving span a child of the caller's. When the global
//! propagator writes no W3C `traceparent` (OpenTelemetry's default one
//! writes nothing), the span context itself is sent, in W3C form, so that
//! traces join without configuration.

use std::collections::HashMap;
use std::str::FromStr;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, global};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::seam::trace::{TraceContext, TraceParent};

/// The trace context of `span` as an OpenTelemetry span; `None` when it is
/// not one (no `tracing-opentelemetry` layer, or the span is disabled).
pub(crate) fn of_span(span: &Span) -> Option<TraceContext> {
    inject(&span.context())
}

/// The trace context of `opentelemetry::Context::current()`, when it has a
/// span: the parent of a call made outside any bus call and any
/// OpenTelemetry `tracing` span.
pub(crate) fn current() -> Option<TraceContext> {
    inject(&Context::current())
}

/// Makes `span` the child of the caller's span (`parent`, `state`) and
/// returns `span`'s own trace context; `None` when `span` is not an
/// OpenTelemetry span.
pub(crate) fn join(
    span: &Span,
    parent: Option<TraceParent>,
    state: Option<&str>,
) -> Option<TraceParent> {
    if let Some(parent) = parent {
        // An error means the span is no OpenTelemetry span: nothing to join.
        span.set_parent(extract(parent, state)).ok()?;
    }
    of_span(span).map(|own| own.parent)
}

/// `context`'s span, written by the global propagator.
fn inject(context: &Context) -> Option<TraceContext> {
    let span = context.span();
    let span_context = span.span_context();
    if !span_context.is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(context, &mut carrier));
    let parent = carrier
        .get("traceparent")
        .and_then(|text| TraceParent::parse(text))
        .unwrap_or_else(|| TraceParent {
            trace_id: u128::from_be_bytes(span_context.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(span_context.span_id().to_bytes()),
            flags: span_context.trace_flags().to_u8(),
        });
    let state = carrier
        .remove("tracestate")
        .unwrap_or_else(|| span_context.trace_state().header());
    Some(TraceContext::new(parent, Some(state)))
}

/// The caller's context, read by the global propagator.
fn extract(parent: TraceParent, state: Option<&str>) -> Context {
    let mut carrier = HashMap::from([("traceparent".to_owned(), parent.to_string())]);
    if let Some(state) = state {
        carrier.insert("tracestate".to_owned(), state.to_owned());
    }
    let context = global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    if context.span().span_context().is_valid() {
        return context;
    }
    let remote = SpanContext::new(
        TraceId::from(parent.trace_id),
        SpanId::from(parent.span_id),
        TraceFlags::new(parent.flags),
        true,
        state
            .and_then(|state| TraceState::from_str(state).ok())
            .unwrap_or_default(),
    );
    Context::new().with_remote_span_context(remote)
}
