//! The `Metrics` interceptor (feature `metrics`) counts, times and tracks
//! the calls of each side, and the cache counts hits and misses, as any
//! `metrics` recorder sees them.

use crate::common;

use std::sync::OnceLock;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use redis_bus::{Metrics, Server};

/// The process-wide recorder of this test binary (installed once).
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("no other recorder in this binary");
        snapshotter
    })
}

/// One reading of every metric (reading clears what it read).
type Reading = Vec<(metrics_util::CompositeKey, DebugValue)>;

fn read() -> Reading {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key, value))
        .collect()
}

/// The value of metric `name` whose labels include every one of `labels`.
fn value<'a>(reading: &'a Reading, name: &str, labels: &[(&str, &str)]) -> Option<&'a DebugValue> {
    reading
        .iter()
        .find(|(key, _)| {
            let key = key.key();
            key.name() == name
                && labels.iter().all(|(label, wanted)| {
                    key.labels()
                        .any(|l| l.key() == *label && l.value() == *wanted)
                })
        })
        .map(|(_, value)| value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_counted_timed_and_tracked_on_both_sides() {
    snapshotter();
    let (_redis, bus) = common::redis_and_bus().await;
    let bus = bus.with_interceptor(Metrics::client());
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .interceptor(Metrics::server())
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    // "metrics" math runs on bus "test": its own sums, so counts are exact.
    for _ in 0..3 {
        math.sum(SumRequest { a: 70, b: 7 }).await.unwrap();
    }
    math.sum(SumRequest { a: i64::MAX, b: 1 })
        .await
        .unwrap_err();

    let method = ("method", "math.Math/Sum");
    let reading = read();
    let client_ok = value(
        &reading,
        "redis_bus_calls_total",
        &[("side", "client"), method, ("code", "OK")],
    );
    assert_eq!(client_ok, Some(&DebugValue::Counter(3)));
    let server_ok = value(
        &reading,
        "redis_bus_calls_total",
        &[("side", "server"), method, ("code", "OK")],
    );
    assert_eq!(
        server_ok,
        Some(&DebugValue::Counter(1)),
        "two were cache hits"
    );
    let failed = value(
        &reading,
        "redis_bus_calls_total",
        &[("side", "server"), method, ("code", "OUT_OF_RANGE")],
    );
    assert_eq!(failed, Some(&DebugValue::Counter(1)));
    let Some(DebugValue::Histogram(times)) = value(
        &reading,
        "redis_bus_call_duration_seconds",
        &[("side", "client"), method],
    ) else {
        panic!("client calls are timed");
    };
    assert_eq!(times.len(), 4);
    let in_flight = value(
        &reading,
        "redis_bus_calls_in_flight",
        &[("side", "client"), method],
    );
    assert!(
        matches!(in_flight, Some(DebugValue::Gauge(gauge)) if gauge.into_inner() == 0.0),
        "{in_flight:?}"
    );
    assert_eq!(
        value(&reading, "redis_bus_cache_hits_total", &[method]),
        Some(&DebugValue::Counter(2))
    );
}
