//! Workers count calls, errors and latency per method, in batches that any
//! number of processes add into, with the last error.

use crate::common;

use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use redis_bus::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_errors_latency_and_last_error_are_counted() {
    let (redis, bus) = common::redis_and_bus().await;
    let one = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let other_bus = common::connect(&redis, "test").await;
    let two = Server::new(&other_bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    for seed in 0..20 {
        math.now(NowRequest {
            seed: -(seed % 3) - 1,
        })
        .await
        .unwrap();
    }
    math.sum(SumRequest { a: i64::MAX, b: 1 })
        .await
        .unwrap_err();
    // Both workers send their counts when they stop.
    one.shutdown().await.unwrap();
    two.shutdown().await.unwrap();
    bus.flush_stats().await.unwrap();

    let stats = bus.discovery().stats().await.unwrap();
    let now = stats.iter().find(|s| s.method == "math.Math/Now").unwrap();
    assert_eq!(
        (now.calls, now.errors),
        (3, 0),
        "three distinct seeds ran, the rest hit the cache"
    );
    assert_eq!((now.cache_hits, now.cache_misses), (17, 3));
    let p50 = now.latency_quantile(0.5).expect("latencies were recorded");
    assert!(
        p50 >= Duration::from_millis(1),
        "a Now with a negative seed sleeps: {p50:?}"
    );
    let sum = stats.iter().find(|s| s.method == "math.Math/Sum").unwrap();
    assert_eq!((sum.calls, sum.errors), (1, 1));
    assert_eq!(
        sum.last_error.as_deref(),
        Some("OUT_OF_RANGE: 9223372036854775807 + 1 overflows")
    );
}
