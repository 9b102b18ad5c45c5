//! When Redis drops every connection, the bus reconnects by itself without
//! losing or duplicating a call: each call in flight is answered, or fails
//! with UNAVAILABLE saying its request may not have been queued; none times
//! out (which would mean a lost request or reply); a non-idempotent method
//! never runs twice.

use crate::common;

use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use redis_bus::{CallOptions, Code, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_lose_and_duplicate_nothing() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator {
        sum_delay: Duration::from_millis(1),
        ..Default::default()
    };
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(10));
    // `Now` is cached per seed: past the cache, each call runs the handler,
    // so runs can be counted against answers.
    let uncached = MathClient::new(&bus).with_options(
        CallOptions::new()
            .timeout(Duration::from_secs(10))
            .bypass_cache(true),
    );

    let callers: Vec<_> = (0..32)
        .map(|caller| {
            let math = math.clone();
            let uncached = uncached.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..150 {
                    if caller % 2 == 0 {
                        outcomes
                            .push(("sum", math.sum(SumRequest { a: i, b: 1 }).await.map(|_| ())));
                    } else {
                        let outcome = uncached.now(NowRequest { seed: i }).await;
                        outcomes.push(("now", outcome.map(|_| ())));
                    }
                }
                outcomes
            })
        })
        .collect();

    let mut killer = common::inspect(&redis);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .arg("SKIPME")
            .arg("yes")
            .query(&mut killer)
            .unwrap();
        assert!(killed > 0, "the bus's connections were killed");
    }

    let mut answered_nows = 0;
    let mut maybe_sent_nows = 0;
    for caller in callers {
        for (method, outcome) in caller.await.unwrap() {
            match (method, outcome) {
                (_, Ok(())) if method == "now" => answered_nows += 1,
                (_, Ok(())) => {}
                ("now", Err(status)) => {
                    assert_eq!(status.code(), Code::Unavailable, "{status}");
                    assert!(
                        status.message().contains("may or may not have been queued"),
                        "{status}"
                    );
                    maybe_sent_nows += 1;
                }
                (_, Err(status)) => panic!("an idempotent sum is sent again, never lost: {status}"),
            }
        }
    }
    let now_runs = calculator.nows.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        now_runs >= answered_nows && now_runs <= answered_nows + maybe_sent_nows,
        "each Now ran at most once: {now_runs} runs, {answered_nows} answered, {maybe_sent_nows} maybe sent"
    );
    // The bus recovered by itself.
    assert_eq!(math.sum(SumRequest { a: 1, b: 1 }).await.unwrap().sum, 2);
}
