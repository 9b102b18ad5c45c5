//! The in-memory bus behaves like Redis for everything a unit test can
//! see: the cache (hits, one handler run for identical misses, clearing one
//! entry or all, errors never cached, hits without a worker), `UNAVAILABLE`
//! without a worker, and deadlines. Each test runs on both.

use crate::common::{self, on_each_bus};

use std::sync::atomic::Ordering;
use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use redis_bus::{Bus, Code, MethodStats, Server};

/// The statistics of `method` once this process's counts are in.
async fn stats_of(bus: &Bus, method: &str) -> MethodStats {
    bus.flush_stats().await.unwrap();
    let stats = bus.discovery().stats().await.unwrap();
    stats
        .into_iter()
        .find(|stats| stats.method == method)
        .unwrap_or_else(|| panic!("{method} has statistics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_behaves_alike() {
    on_each_bus(|bus| async move {
        let calculator = common::Calculator::default();
        let server = Server::new(&bus)
            .add_service(MathServer::new(calculator.clone()))
            .start()
            .await
            .unwrap();
        let math = MathClient::new(&bus);
        let seed = NowRequest { seed: -50 };
        let identical: Vec<_> = (0..20)
            .map(|_| {
                let math = math.clone();
                tokio::spawn(async move { math.now(seed).await.unwrap().time })
            })
            .collect();
        let times = futures_util::future::join_all(identical).await;
        assert!(
            times
                .windows(2)
                .all(|pair| pair[0].as_ref().unwrap() == pair[1].as_ref().unwrap())
        );
        assert_eq!(
            calculator.nows.load(Ordering::SeqCst),
            1,
            "20 identical misses, one run"
        );
        let hits_before = stats_of(&bus, "math.Math/Now").await.cache_hits;
        math.now(seed).await.unwrap();
        let now = stats_of(&bus, "math.Math/Now").await;
        assert_eq!(now.cache_hits, hits_before + 1);
        assert_eq!(now.cache_hits + now.cache_misses, 21);

        assert!(
            math.clear_cache().now(&seed).await.unwrap(),
            "there was an entry"
        );
        math.now(seed).await.unwrap();
        assert_eq!(
            calculator.nows.load(Ordering::SeqCst),
            2,
            "cleared: computed again"
        );
        math.clear_cache().now_all().await.unwrap();
        math.now(seed).await.unwrap();
        assert_eq!(
            calculator.nows.load(Ordering::SeqCst),
            3,
            "all cleared: again"
        );

        let overflow = SumRequest { a: i64::MAX, b: 1 };
        for _ in 0..2 {
            let status = math.sum(overflow).await.unwrap_err();
            assert_eq!(status.code(), Code::OutOfRange);
        }
        assert_eq!(calculator.runs(), 5, "errors are never cached");

        // A hit needs no worker; a miss does.
        server.shutdown().await.unwrap();
        assert!(math.now(seed).await.is_ok(), "answered from the cache");
        let status = math.now(NowRequest { seed: 1 }).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_behave_alike() {
    on_each_bus(|bus| async move {
        let calculator = common::Calculator {
            sum_delay: Duration::from_secs(5),
            ..Default::default()
        };
        let _server = Server::new(&bus)
            .add_service(MathServer::new(calculator))
            .start()
            .await
            .unwrap();
        let math = MathClient::new(&bus).with_timeout(Duration::from_millis(200));
        let status = math.sum(SumRequest { a: 1, b: 1 }).await.unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status}");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn in_memory_entries_live_for_their_ttl() {
    let bus = Bus::in_memory();
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    // Sum's replies live for an hour.
    let request = SumRequest { a: 1, b: 2 };
    math.sum(request).await.unwrap();
    tokio::time::advance(Duration::from_secs(3599)).await;
    math.sum(request).await.unwrap();
    assert_eq!(calculator.runs(), 1, "still cached");
    tokio::time::advance(Duration::from_secs(2)).await;
    math.sum(request).await.unwrap();
    assert_eq!(calculator.runs(), 2, "expired: computed again");
}
