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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_by_code_whether_the_handler_or_the_worker_refused() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .max_request_bytes(16)
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    for _ in 0..3 {
        // The handler's OUT_OF_RANGE.
        math.sum(SumRequest { a: i64::MAX, b: 1 })
            .await
            .unwrap_err();
    }
    // Over the worker's limit of 8 bytes: refused unrun.
    let refused = math
        .sum(SumRequest {
            a: i64::MIN,
            b: i64::MIN,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), redis_bus::Code::ResourceExhausted);
    math.sum(SumRequest { a: 1, b: 2 }).await.unwrap();
    server.shutdown().await.unwrap();

    let stats = bus.discovery().stats().await.unwrap();
    let sum = stats.iter().find(|s| s.method == "math.Math/Sum").unwrap();
    assert_eq!((sum.calls, sum.errors), (5, 4));
    assert_eq!(
        sum.errors_by_code,
        vec![
            (redis_bus::Code::OutOfRange, 3),
            (redis_bus::Code::ResourceExhausted, 1)
        ],
        "the most frequent first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_live_worker_has_its_own_counts_which_go_with_it() {
    let (redis, bus) = common::redis_and_bus().await;
    let start = |bus: redis_bus::Bus| async move {
        Server::new(&bus)
            .add_service(MathServer::new(common::Calculator::default()))
            .start()
            .await
            .unwrap()
    };
    let one = start(bus.clone()).await;
    let two = start(common::connect(&redis, "test").await).await;
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    let calls = 40;
    for b in 0..calls {
        math.sum(SumRequest { a: 1, b }).await.unwrap();
    }
    math.sum(SumRequest { a: i64::MAX, b: 1 })
        .await
        .unwrap_err();
    // Longer than a registration lives without a beat: idle workers keep
    // their counts while they beat. (The second worker's `Bus` is gone:
    // its server still sends its counts.)
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let rows = bus.discovery().instance_stats().await.unwrap();
    let live = [one.instance_id(), two.instance_id()];
    for row in &rows {
        assert_eq!(row.method, "math.Math/Sum", "{rows:?}");
        assert!(
            live.contains(&row.instance.as_str()),
            "only live workers: {rows:?}"
        );
        assert!(
            row.calls > 0 && row.latency_quantile(0.5).is_some(),
            "{row:?}"
        );
    }
    let runs: u64 = rows.iter().map(|row| row.calls).sum();
    let errors: u64 = rows.iter().map(|row| row.errors).sum();
    assert_eq!((runs, errors), (calls as u64 + 1, 1), "{rows:?}");
    let total = bus.discovery().stats().await.unwrap();
    let sum = total.iter().find(|s| s.method == "math.Math/Sum").unwrap();
    assert_eq!(
        sum.calls, runs,
        "the workers' own counts add up to the bus's"
    );

    // A stopped worker's row goes at once; its hash expires with it.
    let gone = one.instance_id().to_owned();
    one.shutdown().await.unwrap();
    let rows = bus.discovery().instance_stats().await.unwrap();
    assert!(rows.iter().all(|row| row.instance != gone), "{rows:?}");
    let key = format!("rb:{{test:stats}}:instance:{gone}");
    let mut inspect = common::inspect(&redis);
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut inspect).unwrap();
    assert!(
        ttl <= 600,
        "the hash lives no longer than a registration: {ttl}"
    );
    two.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_calls_are_timed_by_their_callers_cache_hits_included() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    for _ in 0..10 {
        math.now(NowRequest { seed: -20 }).await.unwrap();
    }
    bus.flush_stats().await.unwrap();
    let stats = bus.discovery().stats().await.unwrap();
    let now = stats.iter().find(|s| s.method == "math.Math/Now").unwrap();
    assert_eq!((now.calls, now.cache_hits), (1, 9));
    let timed: u64 = now.call_latency.iter().map(|(_, count)| count).sum();
    assert_eq!(timed, 10, "every call, hits included: {now:?}");
    let handled: u64 = now.latency.iter().map(|(_, count)| count).sum();
    assert_eq!(handled, 1);
    // The one miss slept 20 ms in its handler; the nine hits did not.
    assert!(now.call_latency_quantile(1.0).unwrap() >= Duration::from_millis(20));
    assert!(now.call_latency_quantile(0.5).unwrap() < Duration::from_millis(20));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_add_in_only_the_reports_they_can_believe() {
    let (redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let reports = "rb:{test:math.Math@1}:reports";
    let mut anyone = common::inspect(&redis);
    for report in [
        "5 1 math.Math/Sum 0:3,16:1",
        "1 1 math.Math/Sum 17:1",
        "1 1 math.Math/Sum 0:1,0:1",
        "1099511627777 0 math.Math/Sum",
        "1 1 math.Math/Sum 0:1099511627777",
        "1 1 random.Random/Uuid 0:1",
        "1 1 math.Math/Sum 0:1 more",
    ] {
        let _: () = redis::cmd("RPUSH")
            .arg(reports)
            .arg(report)
            .query(&mut anyone)
            .unwrap();
    }
    common::eventually(Duration::from_secs(5), "the reports are taken", || {
        redis::cmd("LLEN")
            .arg(reports)
            .query::<u64>(&mut anyone)
            .unwrap()
            == 0
    })
    .await;
    server.shutdown().await.unwrap();
    let stats = bus.discovery().stats().await.unwrap();
    let sum = stats.iter().find(|s| s.method == "math.Math/Sum").unwrap();
    assert_eq!((sum.cache_hits, sum.cache_misses), (5, 1), "{sum:?}");
    let timed: Vec<u64> = sum.call_latency.iter().map(|(_, count)| *count).collect();
    assert_eq!((timed[0], timed[16], timed.iter().sum::<u64>()), (3, 1, 4));
    assert!(stats.iter().all(|s| s.method != "random.Random/Uuid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_holds_its_reports_back_while_nobody_takes_them() {
    let (redis, bus) = common::redis_and_bus().await;
    let reports = "rb:{test:math.Math@1}:reports";
    let mut inspect = common::inspect(&redis);
    // As after a long outage: no worker has taken reports for a while.
    let backlog: Vec<&str> = vec!["0 0 math.Math/Sum"; 10_001];
    let _: () = redis::cmd("RPUSH")
        .arg(reports)
        .arg(&backlog)
        .query(&mut inspect)
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    let length = |inspect: &mut redis::Connection| -> u64 {
        redis::cmd("LLEN").arg(reports).query(inspect).unwrap()
    };
    for _ in 0..3 {
        // No worker: UNAVAILABLE at once, and timed all the same.
        math.sum(SumRequest { a: 1, b: 2 }).await.unwrap_err();
        bus.flush_stats().await.unwrap();
    }
    assert_eq!(
        length(&mut inspect),
        10_002,
        "the first report found the list too long; the others wait in memory"
    );
}
