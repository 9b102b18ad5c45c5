//! With the feature `opentelemetry`, calls join OpenTelemetry traces: a
//! call made in an instrumented handler (no bus call around it) takes its
//! parent from the current OpenTelemetry context, `traceparent` and
//! `tracestate` travel through the global propagator, and each worker's
//! span is the child of its caller's, down a tree of nested calls.

use crate::common;

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider,
};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use redis_bus::{Bus, CallContext, Server, Status};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

/// The trace an incoming request (e.g. an HTTP call with W3C headers)
/// belongs to, with a vendor's `tracestate`.
fn remote_parent() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_str("vendor=abc,other=1").unwrap(),
    ))
}

/// A math service whose `sum` calls `now` on the bus, to make a tree of
/// calls; `now` records the `tracestate` its call carried.
struct Nested {
    bus: Bus,
    tracestate: Arc<Mutex<Option<String>>>,
}

#[redis_bus::codegen::async_trait]
impl Math for Nested {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        MathClient::new(&self.bus)
            .now(NowRequest { seed: 0 })
            .await?;
        Ok(SumReply {
            sum: request.a + request.b,
        })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        let context = CallContext::current().expect("a handler runs in its call's context");
        *self.tracestate.lock().unwrap() = context.tracestate().map(str::to_owned);
        Ok(NowReply { time: None })
    }
}

/// What the test records: the spans exported, through the global
/// propagator, on a current-thread runtime (so that every task of the test,
/// and no other test's, records into this test's subscriber).
struct Recording {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    _default: tracing::subscriber::DefaultGuard,
}

impl Recording {
    fn start() -> Recording {
        Recording::at(LevelFilter::TRACE)
    }

    /// Records the spans at `level` and above.
    fn at(level: LevelFilter) -> Recording {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let _default = tracing::subscriber::set_default(
            tracing_subscriber::registry().with(level).with(layer),
        );
        Recording {
            exporter,
            provider,
            _default,
        }
    }

    /// Makes every span of the bus reach this test's subscriber from now
    /// on: `tracing` caches per callsite whether anyone listens, and a
    /// test on another thread that hits a callsite first, while this
    /// subscriber is being installed, can leave it cached as unheard.
    fn listen(&self) {
        tracing::callsite::rebuild_interest_cache();
    }

    /// The spans ended so far.
    fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        self.exporter.get_finished_spans().unwrap()
    }
}

/// The one span called `name` whose `method` is `method`.
fn one<'a>(spans: &'a [SpanData], name: &str, method: &str) -> &'a SpanData {
    let found: Vec<_> = spans
        .iter()
        .filter(|span| {
            span.name == name
                && span.attributes.iter().any(|attribute| {
                    attribute.key.as_str() == "method"
                        && attribute.value == Value::from(method.to_owned())
                })
        })
        .collect();
    assert_eq!(found.len(), 1, "one {name} span for {method} in {spans:#?}");
    found[0]
}

/// A server of [`Nested`] on `bus`, and what its `now` saw.
async fn serve_nested(
    redis: &redis_bus_testing::RedisServer,
    bus: &Bus,
) -> (redis_bus::RunningServer, Arc<Mutex<Option<String>>>) {
    let tracestate = Arc::default();
    let server = Server::new(bus)
        .add_service(MathServer::new(Nested {
            bus: common::connect(redis, "test").await,
            tracestate: Arc::clone(&tracestate),
        }))
        .start()
        .await
        .unwrap();
    (server, tracestate)
}

/// Checks that the spans of one `sum` call form one trace under `parent`:
/// call, serve, nested call, nested serve, each the child of the one
/// before.
fn assert_one_tree(spans: &[SpanData], parent: &SpanContext) {
    let chain = [
        one(spans, "redis_bus.call", "math.Math/Sum"),
        one(spans, "redis_bus.serve", "math.Math/Sum"),
        one(spans, "redis_bus.call", "math.Math/Now"),
        one(spans, "redis_bus.serve", "math.Math/Now"),
    ];
    let mut above = parent.span_id();
    for span in chain {
        assert_eq!(
            span.span_context.trace_id(),
            parent.trace_id(),
            "one trace: {span:#?}"
        );
        assert_eq!(span.parent_span_id, above, "parent of {span:#?}");
        assert_eq!(
            span.span_context.trace_state().get("vendor"),
            Some("abc"),
            "the tracestate travels: {span:#?}"
        );
        let kind = if span.name == "redis_bus.call" {
            SpanKind::Client
        } else {
            SpanKind::Server
        };
        assert_eq!(span.span_kind, kind, "{span:#?}");
        above = span.span_context.span_id();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_in_an_instrumented_handler_joins_its_trace() {
    let recording = Recording::start();
    let (redis, bus) = common::redis_and_bus().await;
    let (_server, tracestate) = serve_nested(&redis, &bus).await;

    // An HTTP handler's span, its parent extracted from the request's
    // headers: the call made in it knows no bus call, only this span.
    recording.listen();
    let handler = tracing::info_span!("http.request");
    handler.set_parent(remote_parent()).unwrap();
    let reply = MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .instrument(handler.clone())
        .await
        .unwrap();
    assert_eq!(reply.sum, 3);
    drop(handler);

    let spans = recording.spans();
    let handler = spans.iter().find(|s| s.name == "http.request").unwrap();
    assert_eq!(
        handler.parent_span_id,
        remote_parent().span().span_context().span_id()
    );
    assert_one_tree(&spans, &handler.span_context);
    let seen = tracestate.lock().unwrap().clone();
    assert_eq!(seen.as_deref(), Some("vendor=abc,other=1"), "two hops on");
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_under_the_current_opentelemetry_context_joins_it() {
    let recording = Recording::start();
    let (redis, bus) = common::redis_and_bus().await;
    let (_server, tracestate) = serve_nested(&redis, &bus).await;

    // Code that uses the OpenTelemetry API, no `tracing` span at all.
    recording.listen();
    let parent = remote_parent();
    let _attached = parent.clone().attach();
    MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .unwrap();

    assert_one_tree(&recording.spans(), parent.span().span_context());
    let seen = tracestate.lock().unwrap().clone();
    assert_eq!(seen.as_deref(), Some("vendor=abc,other=1"));
}

#[tokio::test(flavor = "current_thread")]
async fn without_the_call_spans_the_worker_is_the_child_of_the_caller() {
    // At `info`, the callers' `redis_bus.call` spans (at `debug`) are not
    // recorded: each worker's span is then the child of the span the call
    // was made in.
    let recording = Recording::at(LevelFilter::INFO);
    let (redis, bus) = common::redis_and_bus().await;
    let (_server, _) = serve_nested(&redis, &bus).await;
    recording.listen();
    let handler = tracing::info_span!("http.request");
    MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .instrument(handler.clone())
        .await
        .unwrap();
    drop(handler);

    let spans = recording.spans();
    assert!(
        spans.iter().all(|span| span.name != "redis_bus.call"),
        "{spans:#?}"
    );
    let handler = spans.iter().find(|s| s.name == "http.request").unwrap();
    let serve = one(&spans, "redis_bus.serve", "math.Math/Sum");
    let nested = one(&spans, "redis_bus.serve", "math.Math/Now");
    assert_eq!(serve.parent_span_id, handler.span_context.span_id());
    assert_eq!(nested.parent_span_id, serve.span_context.span_id());
    assert_eq!(
        nested.span_context.trace_id(),
        handler.span_context.trace_id()
    );
}
