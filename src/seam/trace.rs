//! W3C trace context (`traceparent`) for calls, so that the spans of a
//! caller and of the worker that serves it, across services, link into one
//! trace.
//!
//! The bus does not export traces itself: it records the ids on its
//! `tracing` spans (`trace_id`, `span_id`, `parent_span_id`), where a
//! subscriber can pick them up. With the feature `opentelemetry` the spans
//! are OpenTelemetry spans under `tracing-opentelemetry`, and the ids are
//! theirs (`seam::otel`).
//!
//! The W3C `tracestate` (vendors' data that goes with a `traceparent`)
//! travels in the request's metadata under the reserved key
//! [`TRACESTATE_KEY`], not in a field of its own: the metadata map already
//! carries what rides along with a call, bounded and checked by the worker,
//! so the envelope stays as it is.

use std::fmt;

use tracing::Span;

/// The metadata key under which a call's `tracestate` travels.
pub(crate) const TRACESTATE_KEY: &str = "rb-tracestate";

/// The longest `tracestate` a call carries: W3C asks that at least 512
/// characters be passed on, and a longer one may be cut.
pub(crate) const MAX_TRACESTATE_LEN: usize = 512;

/// The trace context a call sends: its own `traceparent`, and the
/// `tracestate` of its trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceContext {
    /// The call's trace and span.
    pub parent: TraceParent,
    /// The trace's `tracestate`, when it has one short enough to carry.
    pub state: Option<String>,
}

impl TraceContext {
    /// A context with `state`, dropped when it is empty or too long.
    pub(crate) fn new(parent: TraceParent, state: Option<String>) -> Self {
        let state = state.filter(|state| !state.is_empty() && state.len() <= MAX_TRACESTATE_LEN);
        TraceContext { parent, state }
    }
}

/// The trace of a call served under `span`, whose caller sent `parent`
/// (and `state`): with OpenTelemetry, `span` becomes the child of the
/// caller's span and the trace is its own; otherwise a new span id in the
/// caller's trace. Records the ids on `span`.
pub(crate) fn served(span: &Span, parent: Option<TraceParent>, state: Option<&str>) -> TraceParent {
    #[cfg(feature = "opentelemetry")]
    let joined = crate::seam::otel::join(span, parent, state);
    #[cfg(not(feature = "opentelemetry"))]
    let joined: Option<TraceParent> = {
        let _ = state;
        None
    };
    let own =
        joined.unwrap_or_else(|| parent.map_or_else(TraceParent::new_root, TraceParent::child));
    record_ids(span, &own);
    own
}

/// Records the `trace_id` and `span_id` fields of `span`.
pub(crate) fn record_ids(span: &Span, trace: &TraceParent) {
    // Writing the ids costs a few percent of a call: not for nobody.
    if span.is_disabled() {
        return;
    }
    span.record("trace_id", trace.trace_id_hex());
    span.record("span_id", trace.span_id_hex());
}

/// One `traceparent`: version 00, a trace id, the id of the span that
/// sent it, and the sampled flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceParent {
    /// The trace every span of a request tree shares.
    pub trace_id: u128,
    /// The span that made the call.
    pub span_id: u64,
    /// The W3C trace flags (bit 0: sampled).
    pub flags: u8,
}

impl TraceParent {
    /// A new trace, for a call made outside any other call.
    pub(crate) fn new_root() -> Self {
        TraceParent {
            trace_id: non_zero(rand::random()),
            span_id: non_zero(rand::random()),
            flags: 1,
        }
    }

    /// A new span in the same trace, for a call made while serving `self`.
    pub(crate) fn child(self) -> Self {
        TraceParent {
            span_id: non_zero(rand::random()),
            ..self
        }
    }

    /// Parses a `traceparent` header value; `None` when it is malformed.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || parts.next().is_some() || trace.len() != 32 || span.len() != 16 {
            return None;
        }
        let parsed = TraceParent {
            trace_id: u128::from_str_radix(trace, 16).ok()?,
            span_id: u64::from_str_radix(span, 16).ok()?,
            flags: u8::from_str_radix(flags, 16).ok()?,
        };
        (parsed.trace_id != 0 && parsed.span_id != 0).then_some(parsed)
    }

    /// The trace id as 32 lowercase hex digits.
    pub(crate) fn trace_id_hex(&self) -> String {
        let mut digits = [0; 32];
        hex(&mut digits, self.trace_id);
        ascii(&digits).to_owned()
    }

    /// The span id as 16 lowercase hex digits.
    pub(crate) fn span_id_hex(&self) -> String {
        let mut digits = [0; 16];
        hex(&mut digits, self.span_id.into());
        ascii(&digits).to_owned()
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `00-<trace id>-<span id>-<flags>`, in hex written by hand: this
        // runs for every call on both sides, and padded `{:032x}` formatting
        // took a few percent of each side's CPU.
        let mut text = *b"00-________________________________-________________-__";
        hex(&mut text[3..35], self.trace_id);
        hex(&mut text[36..52], self.span_id.into());
        hex(&mut text[53..55], self.flags.into());
        f.write_str(ascii(&text))
    }
}

/// Fills `digits` with the lowest `digits.len()` hex digits of `value`,
/// lowercase and zero-padded.
fn hex(digits: &mut [u8], mut value: u128) {
    for digit in digits.iter_mut().rev() {
        *digit = b"0123456789abcdef"[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// `bytes`, known to be ASCII, as text.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("hex digits and dashes are ASCII")
}

/// All-zero ids are invalid in W3C trace context.
fn non_zero<T: Default + PartialEq + From<u8>>(id: T) -> T {
    if id == T::default() { T::from(1) } else { id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_through_its_text() {
        let parent = TraceParent::new_root();
        assert_eq!(TraceParent::parse(&parent.to_string()), Some(parent));
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
    }

    #[test]
    fn traceparent_text_is_the_w3c_format() {
        let parent = TraceParent {
            trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
            span_id: 0xf067aa0ba902b7,
            flags: 1,
        };
        assert_eq!(
            parent.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(parent.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parent.span_id_hex(), "00f067aa0ba902b7");
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for text in [
            "",
            "00-abc-def-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(text), None, "{text}");
        }
        assert!(
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some()
        );
    }
}
