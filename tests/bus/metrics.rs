//! The `Metrics` interceptor (feature `metrics`) counts, times and tracks
//! the calls of each side, and the cache counts hits and misses, as any
//! `metrics` recorder sees them.

use crate::common;

use std::sync::OnceLock;
use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use redis_bus::{CallOptions, Metrics, Server};

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
    // Queued 300 ms before any worker serves it.
    let early = tokio::spawn({
        let math = MathClient::new(&bus).with_options(CallOptions::new().wait_for_worker(true));
        async move { math.now(NowRequest { seed: 7 }).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .interceptor(Metrics::server())
        .start()
        .await
        .unwrap();
    early.await.unwrap().expect("the early call is served");
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
    let queued = |method| match value(&reading, "redis_bus_queue_wait_seconds", &[method]) {
        Some(DebugValue::Histogram(waits)) => waits.iter().map(|w| w.into_inner()).collect(),
        other => panic!("the server records how long requests waited: {other:?}"),
    };
    let early: Vec<f64> = queued(("method", "math.Math/Now"));
    assert!(
        matches!(early[..], [wait] if (0.25..5.0).contains(&wait)),
        "queued 300 ms before a worker started: {early:?}"
    );
    let sums: Vec<f64> = queued(method);
    assert!(
        sums.len() == 2 && sums.iter().all(|wait| (0.0..1.0).contains(wait)),
        "the two sums the server ran were started at once: {sums:?}"
    );
}
