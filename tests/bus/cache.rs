//! The result cache from `cache_key` options: hits need no worker, errors
//! are never cached, one request or a whole method can be cleared, N
//! concurrent identical calls run the handler once, a call can bypass the
//! cache, counts are kept per method, and an optional near cache answers
//! repeated hits from memory until Redis says the entry changed.

use crate::common::{self, near_cache_bus, sum_entry};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use generated_examples::services::MathService;
use redis::Commands;
use redis_bus::{CallOptions, Code, Server};

/// Serves the sample math service on `bus` (until the server is dropped),
/// with a client of it.
async fn serve_math(bus: &redis_bus::Bus) -> (redis_bus::RunningServer, MathClient) {
    let server = Server::new(bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    (server, MathClient::new(bus))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_session_now_is_cached_per_seed_until_cleared() {
    let (_redis, bus) = common::redis_and_bus().await;
    let (_server, math) = serve_math(&bus).await;

    let first = math.now(NowRequest { seed: 1 }).await.unwrap().time;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = math.now(NowRequest { seed: 1 }).await.unwrap().time;
    assert_eq!(first, again, "seed 1 keeps its time");
    let other = math.now(NowRequest { seed: 2 }).await.unwrap().time;
    assert_ne!(first, other, "seed 2 has its own");

    assert!(
        math.clear_cache()
            .now(&NowRequest { seed: 1 })
            .await
            .unwrap(),
        "there was an entry"
    );
    let fresh = math.now(NowRequest { seed: 1 }).await.unwrap().time;
    assert_ne!(first, fresh, "after clearing, seed 1 gets a new time");
    assert_eq!(
        math.now(NowRequest { seed: 2 }).await.unwrap().time,
        other,
        "seed 2 is untouched"
    );
    assert!(
        !math
            .clear_cache()
            .now(&NowRequest { seed: 9 })
            .await
            .unwrap(),
        "nothing to clear"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sum_is_computed_once_until_cleared_or_expired() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    for _ in 0..10 {
        assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum, 3);
    }
    assert_eq!(calculator.runs(), 1, "computed once");

    let mut inspect = common::inspect(&redis);
    let ttl: i64 = inspect.ttl(sum_entry(1, 2)).unwrap();
    assert!(
        (3500..=3600).contains(&ttl),
        "cached for cache_ttl_seconds: {ttl}"
    );

    math.clear_cache().sum_all().await.unwrap();
    math.sum(SumRequest { a: 1, b: 2 }).await.unwrap();
    assert_eq!(calculator.runs(), 2, "recomputed after clearing every sum");

    // Expiry: the entry's TTL runs out.
    let _: () = inspect.pexpire(sum_entry(1, 2), 1).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    math.sum(SumRequest { a: 1, b: 2 }).await.unwrap();
    assert_eq!(calculator.runs(), 3, "recomputed after expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_without_a_ttl_live_until_cleared() {
    let (redis, bus) = common::redis_and_bus().await;
    let (_server, math) = serve_math(&bus).await;
    math.now(NowRequest { seed: 5 }).await.unwrap();
    let fingerprint = generated_examples::math::math_bus::methods::NOW.schema_fingerprint;
    let ttl: i64 = common::inspect(&redis)
        .ttl(format!("rb:{{test:cache:math.Math/Now}}:{fingerprint}:5"))
        .unwrap();
    assert_eq!(ttl, -1, "Now declares no cache_ttl_seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_never_cached() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    for _ in 0..3 {
        let status = math
            .sum(SumRequest { a: i64::MAX, b: 1 })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::OutOfRange);
    }
    assert_eq!(calculator.runs(), 3, "every failing call ran");
    let exists: bool = common::inspect(&redis)
        .exists(sum_entry(i64::MAX, 1))
        .unwrap();
    assert!(!exists);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_whole_method_is_one_command_whatever_the_entries() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    for a in 0..100 {
        math.sum(SumRequest { a, b: 0 }).await.unwrap();
    }
    let mut inspect = common::inspect(&redis);
    let entries = |inspect: &mut redis::Connection| -> usize {
        inspect
            .scan_match::<_, String>("rb:{test:cache:math.Math/Sum}:*")
            .unwrap()
            .map(Result::unwrap)
            .filter(|key| !key.ends_with(":generation"))
            .count()
    };
    assert_eq!(entries(&mut inspect), 100);
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut inspect)
        .unwrap();
    math.clear_cache().sum_all().await.unwrap();
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut inspect)
        .unwrap();
    // One INCR of the method's generation, nothing that walks the keyspace;
    // the old entries are left to their TTL. (The worker's own background
    // commands may run meanwhile, so only these are counted.)
    assert!(stats.contains("cmdstat_incr:calls=1,"), "{stats}");
    for command in ["cmdstat_scan", "cmdstat_keys", "cmdstat_unlink"] {
        assert!(!stats.contains(command), "{command} in {stats}");
    }
    assert_eq!(
        entries(&mut inspect),
        100,
        "no entry was deleted one by one"
    );
    for a in 0..100 {
        math.sum(SumRequest { a, b: 0 }).await.unwrap();
    }
    assert_eq!(calculator.runs(), 200, "every sum is recomputed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_misses_run_the_handler_once() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    // Two workers, so that the identical calls are spread over both.
    let other_bus = common::connect(&redis, "test").await;
    let _one = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let _two = Server::new(&other_bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let math = math.clone();
            // A negative seed makes the handler sleep that many ms.
            tokio::spawn(async move { math.now(NowRequest { seed: -300 }).await })
        })
        .collect();
    let mut times = Vec::new();
    for call in calls {
        times.push(call.await.unwrap().expect("every caller is answered").time);
    }
    assert_eq!(
        calculator.runs(),
        1,
        "the handler ran once for 50 identical calls"
    );
    assert!(
        times.windows(2).all(|pair| pair[0] == pair[1]),
        "everyone got the same reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bypassing_reads_fresh_and_refreshes_the_cache() {
    let (_redis, bus) = common::redis_and_bus().await;
    let (_server, math) = serve_math(&bus).await;
    let cached = math.now(NowRequest { seed: 3 }).await.unwrap().time;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fresh = math
        .clone()
        .with_options(CallOptions::new().bypass_cache(true))
        .now(NowRequest { seed: 3 })
        .await
        .unwrap()
        .time;
    assert_ne!(cached, fresh, "the bypassing call ran the handler");
    assert_eq!(
        math.now(NowRequest { seed: 3 }).await.unwrap().time,
        fresh,
        "and refreshed the cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_misses_and_stores_are_counted_per_method() {
    let (_redis, bus) = common::redis_and_bus().await;
    let (_server, math) = serve_math(&bus).await;
    for _ in 0..4 {
        math.sum(SumRequest { a: 2, b: 2 }).await.unwrap();
    }
    bus.flush_stats().await.unwrap();
    let stats = bus.discovery().stats().await.unwrap();
    let sum = stats
        .iter()
        .find(|s| s.method == "math.Math/Sum")
        .expect("Sum has statistics");
    assert_eq!(
        (sum.cache_hits, sum.cache_misses, sum.cache_stores),
        (3, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_cache_answers_from_memory_until_redis_invalidates_it() {
    let redis = redis_bus_testing::RedisServer::start().unwrap();
    let bus = near_cache_bus(&redis).await;
    let (_server, math) = serve_math(&bus).await;
    let first = math.now(NowRequest { seed: 1 }).await.unwrap().time;
    math.now(NowRequest { seed: 1 }).await.unwrap();

    // The invalidation of the first miss's keys (the worker's SET) can
    // arrive after the entry was read back and drop it once: that costs a
    // round trip, never a stale reply. What users rely on is the steady
    // state, so a few rounds of 20 calls are allowed to reach it.
    let mut inspect = common::inspect(&redis);
    let mut rounds_with_round_trips = Vec::new();
    for _ in 0..3 {
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query(&mut inspect)
            .unwrap();
        for _ in 0..20 {
            assert_eq!(math.now(NowRequest { seed: 1 }).await.unwrap().time, first);
        }
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut inspect)
            .unwrap();
        if !stats.contains("cmdstat_mget") {
            break;
        }
        rounds_with_round_trips.push(stats);
    }
    assert!(
        rounds_with_round_trips.len() < 3,
        "repeated hits cost no round trip: {rounds_with_round_trips:?}"
    );

    // Another client clears the entry: the near cache hears of it.
    let other = common::connect(&redis, "test").await;
    assert!(
        MathClient::new(&other)
            .clear_cache()
            .now(&NowRequest { seed: 1 })
            .await
            .unwrap()
    );
    common::eventually(
        Duration::from_secs(5),
        "the near cache dropped the cleared entry",
        || now_of_seed_1(&math) != first,
    )
    .await;
}

/// A near-cache hit touches no socket; a loop of them must still let the
/// runtime's other tasks run, as a loop of any tokio I/O does.
#[tokio::test(flavor = "current_thread")]
async fn a_loop_of_near_cache_hits_lets_other_tasks_run() {
    let redis = redis_bus_testing::RedisServer::start().unwrap();
    let bus = near_cache_bus(&redis).await;
    let (_server, math) = serve_math(&bus).await;
    for _ in 0..3 {
        math.now(NowRequest { seed: 1 }).await.unwrap();
    }

    // On this one-thread runtime, the other task runs only when the loop
    // yields.
    let other_task_ran = Arc::new(AtomicBool::new(false));
    let ran = other_task_ran.clone();
    tokio::spawn(async move { ran.store(true, Ordering::SeqCst) });
    let mut calls = 0;
    while !other_task_ran.load(Ordering::SeqCst) {
        assert!(
            calls < 100_000,
            "{calls} near-cache hits in a row without yielding to another task"
        );
        math.now(NowRequest { seed: 1 }).await.unwrap();
        calls += 1;
    }
}

/// Calls `now(1)` from a synchronous check.
fn now_of_seed_1(math: &MathClient) -> Option<redis_bus::codegen::prost_types::Timestamp> {
    let math = math.clone();
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current()
            .block_on(async move { math.now(NowRequest { seed: 1 }).await.unwrap().time })
    })
}
