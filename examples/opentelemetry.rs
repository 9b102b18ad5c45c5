//! OpenTelemetry traces across the bus (feature `opentelemetry`): a call
//! made in an instrumented handler joins the handler's trace, and the
//! spans of every worker it reaches, through nested calls, are children of
//! their caller's.
//!
//! `cargo run --example opentelemetry --features opentelemetry` runs in
//! this process (`Bus::in_memory()`; with `REDIS_URL` set, over that
//! Redis) and prints the spans of one call tree, where a real service
//! would export them (OTLP, Jaeger, ...).

use std::collections::HashMap;

use generated_examples::accounts::OpenRequest;
use generated_examples::accounts::accounts_bus::{AccountsClient, AccountsServer};
use generated_examples::math::math_bus::MathServer;
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::{AccountsService, MathService, RandomService};
use opentelemetry::trace::{SpanId, TracerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use redis_bus::{Bus, Server};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Sends the spans of this process to `exporter`, as OpenTelemetry spans.
fn install(exporter: InMemorySpanExporter) -> SdkTracerProvider {
    // W3C trace context (traceparent and tracestate) between services.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("example")))
        .init();
    provider
}

/// Serves the samples, opens an account from an instrumented handler, and
/// returns the spans that made.
async fn run(
    bus: Bus,
    exporter: &InMemorySpanExporter,
) -> Result<Vec<SpanData>, Box<dyn std::error::Error>> {
    let server = Server::new(&bus)
        .add_service(AccountsServer::new(AccountsService::new(&bus)))
        .add_service(RandomServer::new(RandomService))
        .add_service(MathServer::new(MathService))
        .start()
        .await?;
    exporter.reset();
    // As an HTTP handler instrumented with `tracing` would be.
    let handler = tracing::info_span!("POST /accounts");
    AccountsClient::new(&bus)
        .open(OpenRequest {
            name: "ada".to_owned(),
            password_length: None,
        })
        .instrument(handler)
        .await?;
    server.shutdown().await?;
    Ok(exporter.get_finished_spans()?)
}

/// Prints `spans` as a tree under the span `parent`.
fn print_tree(spans: &[SpanData], parent: SpanId, depth: usize) {
    for span in spans.iter().filter(|span| span.parent_span_id == parent) {
        let method = span
            .attributes
            .iter()
            .find(|attribute| attribute.key.as_str() == "method")
            .map(|attribute| attribute.value.to_string())
            .unwrap_or_default();
        println!("{:depth$}{} {method}", "", span.name, depth = depth * 2);
        print_tree(spans, span.span_context.span_id(), depth + 1);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = InMemorySpanExporter::default();
    let _provider = install(exporter.clone());
    let bus = match std::env::var("REDIS_URL") {
        Ok(url) => Bus::connect(&url, "examples").await?,
        Err(_) => Bus::in_memory(),
    };
    let spans = run(bus, &exporter).await?;
    let traces: HashMap<_, usize> = spans.iter().fold(HashMap::new(), |mut traces, span| {
        *traces.entry(span.span_context.trace_id()).or_default() += 1;
        traces
    });
    for (trace, count) in traces {
        println!("trace {trace}: {count} spans");
    }
    print_tree(&spans, SpanId::INVALID, 1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many of `spans` are called `name`.
    fn count(spans: &[SpanData], name: &str) -> usize {
        spans.iter().filter(|span| span.name == name).count()
    }

    #[tokio::test]
    async fn one_call_tree_is_one_trace() {
        let exporter = InMemorySpanExporter::default();
        let _provider = install(exporter.clone());
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let bus = Bus::connect(&redis.url(), "examples").await.unwrap();
        let on_redis = run(bus, &exporter).await.unwrap();
        let in_memory = run(Bus::in_memory(), &exporter).await.unwrap();
        for spans in [&on_redis, &in_memory] {
            let trace = spans[0].span_context.trace_id();
            assert!(
                spans
                    .iter()
                    .all(|span| span.span_context.trace_id() == trace)
            );
            let root: Vec<_> = spans
                .iter()
                .filter(|s| s.parent_span_id == SpanId::INVALID)
                .collect();
            assert_eq!(root.len(), 1, "one root: {root:#?}");
            assert_eq!(root[0].name, "POST /accounts");
            // accounts.Open, then random's Uuid and Password, math's Now.
            assert_eq!(count(spans, "redis_bus.call"), 4, "{spans:#?}");
        }
        // Each call served on Redis has a worker's span under it.
        assert_eq!(count(&on_redis, "redis_bus.serve"), 4);
    }
}
