//! Liveness under faults that leave no error behind: a network that stops
//! forwarding on open connections, a worker too busy to beat, the last
//! worker leaving or dying. Each scenario is bounded in time; each checks
//! that no call hangs past its deadline and that the bus serves new calls
//! within the healing bound `docs/ARCHITECTURE.md` states.

use crate::common;

use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use redis_bus::{CallOptions, Code, Server};
use redis_bus_testing::{FaultProxy, RedisServer};

/// Longer than any healing bound of the tests' settings (100 ms beats,
/// 600 ms registrations, 500 ms blocks): a call that has not healed by
/// then never would.
const HEALED_WITHIN: Duration = Duration::from_secs(15);

/// Calls `sum` until one succeeds, each bounded by 2 s, for at most
/// [`HEALED_WITHIN`]; returns how long healing took.
async fn healed(math: &MathClient) -> Duration {
    let started = tokio::time::Instant::now();
    loop {
        let math = math
            .clone()
            .with_options(CallOptions::new().timeout(Duration::from_secs(2)));
        if let Ok(reply) = math.sum(SumRequest { a: 2, b: 3 }).await {
            assert_eq!(reply.sum, 5);
            return started.elapsed();
        }
        assert!(
            started.elapsed() < HEALED_WITHIN,
            "the bus did not heal within {HEALED_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_cut_of_every_open_connection_heals_by_itself() {
    let redis = RedisServer::start().expect("redis-server starts");
    let proxy = FaultProxy::start(redis.addr()).expect("the proxy starts");
    // Worker and client both reach Redis through the proxy.
    let worker_bus = common::connect_url(&proxy.url(), "test").await;
    let _server = Server::new(&worker_bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let bus = common::connect_url(&proxy.url(), "test").await;
    let math = MathClient::new(&bus);
    for a in 0..20 {
        assert_eq!(math.sum(SumRequest { a, b: 1 }).await.unwrap().sum, a + 1);
    }
    // Every connection open now forwards nothing, for ever, as after a NAT
    // or load-balancer failover; new connections work.
    proxy.pause();
    let took = healed(&math).await;
    eprintln!("healed {took:?} after the silent cut");
    for a in 100..120 {
        let reply = math.sum(SumRequest { a, b: 1 }).await;
        assert_eq!(reply.expect("served again").sum, a + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_worker_stopping_fails_its_queue_at_once() {
    let (_redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator {
        sum_delay: Duration::from_millis(500),
        ..Default::default()
    };
    let server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .max_concurrency(2)
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(30));
    let queued: Vec<_> = (0..20)
        .map(|a| {
            let math = math.clone();
            tokio::spawn(async move { math.sum(SumRequest { a, b: 0 }).await })
        })
        .collect();
    common::eventually(Duration::from_secs(5), "two calls run", || {
        calculator.runs() == 2
    })
    .await;
    // Queued behind the others, while the worker is busy.
    let waiting = tokio::spawn({
        let math = math.clone().with_options(
            CallOptions::new()
                .wait_for_worker(true)
                .timeout(Duration::from_secs(30)),
        );
        async move { math.sum(SumRequest { a: 1000, b: 0 }).await }
    });

    server.shutdown().await.unwrap();

    let mut answered = 0;
    let mut unavailable = 0;
    for call in queued {
        // Well before their 30 s deadline: the stop told them.
        match tokio::time::timeout(HEALED_WITHIN, call)
            .await
            .unwrap()
            .unwrap()
        {
            Ok(_) => answered += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status}");
                assert!(status.message().contains("math.Math"), "{status}");
                unavailable += 1;
            }
        }
    }
    assert_eq!(
        (answered, unavailable),
        (calculator.runs(), 20 - calculator.runs())
    );
    assert!(
        !waiting.is_finished(),
        "a call that waits for a worker waits"
    );
    let _next = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let reply = tokio::time::timeout(HEALED_WITHIN, waiting).await.unwrap();
    assert_eq!(reply.unwrap().expect("served by the next worker").sum, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_worker_dying_fails_the_calls_waiting_for_it() {
    let (redis, bus) = common::redis_and_bus().await;
    let busy = common::process::WorkerOptions {
        concurrency: Some(1),
        ..Default::default()
    };
    let mut worker =
        common::process::spawn_worker(&redis.url(), "test", Duration::from_secs(30), &busy);
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(60));
    let calls: Vec<_> = (0..5)
        .map(|a| {
            let math = math.clone();
            tokio::spawn(async move { math.sum(SumRequest { a, b: 0 }).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.kill().unwrap();
    worker.wait().unwrap();
    for call in calls {
        let status = tokio::time::timeout(HEALED_WITHIN, call)
            .await
            .expect("failed long before the 60 s deadline")
            .unwrap()
            .expect_err("nobody serves math any more");
        assert_eq!(status.code(), Code::Unavailable, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_worker_that_reclaims_stays_live() {
    let (redis, bus) = common::redis_and_bus().await;
    let busy = common::process::WorkerOptions {
        concurrency: Some(4),
        ..Default::default()
    };
    let url = redis.url();
    let mut doomed = common::process::spawn_worker(&url, "test", Duration::from_secs(2), &busy);
    let mut survivor = common::process::spawn_worker(&url, "test", Duration::from_secs(2), &busy);
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(30));
    // Idempotent 2 s sums: more than both can run at once.
    let calls: Vec<_> = (0..16)
        .map(|a| {
            let math = math.clone();
            tokio::spawn(async move { math.sum(SumRequest { a, b: 0 }).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    // While the survivor is saturated and reclaims, it is live throughout.
    let mut inspect = common::inspect(&redis);
    let live_for = Duration::from_secs(4);
    let started = tokio::time::Instant::now();
    let mut lapses = 0;
    while started.elapsed() < live_for {
        let (seconds, micros): (i64, i64) = redis::cmd("TIME").query(&mut inspect).unwrap();
        let now = seconds * 1000 + micros / 1000;
        let scores: Vec<(String, i64)> = redis::cmd("ZRANGE")
            .arg("rb:{test:math.Math@1}:instances")
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query(&mut inspect)
            .unwrap();
        if !scores.iter().any(|(_, expires)| *expires > now) {
            lapses += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(lapses, 0, "the survivor's registration lapsed");
    for call in calls {
        let reply = call.await.unwrap();
        assert!(
            reply.is_ok(),
            "an idempotent call succeeds after a reclaim: {reply:?}"
        );
    }
    survivor.kill().unwrap();
    survivor.wait().unwrap();
}
