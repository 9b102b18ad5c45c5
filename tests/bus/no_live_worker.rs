//! A call that no live worker can serve fails at once with an error naming
//! the service (never a hang), unless the caller asked to wait for one.

use crate::common;

use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use redis::Commands;
use redis_bus::{CallOptions, Code, Server};

/// A bound that only a hang would reach: the calls here have a 60 s
/// deadline, so failing within it proves they did not wait for it.
const NOT_A_HANG: Duration = Duration::from_secs(10);

#[tokio::test]
async fn call_fails_fast_without_live_instance() {
    let (redis, bus) = common::redis_and_bus().await;
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(60));
    let status = tokio::time::timeout(NOT_A_HANG, math.sum(SumRequest { a: 1, b: 2 }))
        .await
        .expect("the call fails instead of waiting for its deadline")
        .expect_err("nobody serves math");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status
            .message()
            .contains("no live worker serves math.Math 1.x on bus \"test\""),
        "{status}"
    );
    // The request stays queued (an application may only push to a queue),
    // and while math is known to be down, calls only ask: nothing more is
    // pushed however often they are made.
    for _ in 0..20 {
        let again = math.sum(SumRequest { a: 1, b: 2 }).await.unwrap_err();
        assert_eq!(again.code(), Code::Unavailable);
    }
    let queue = "rb:{test:math.Math@1}:queue";
    let queued: usize = common::inspect(&redis).llen(queue).unwrap();
    assert_eq!(queued, 1, "only the first call pushed its request");

    // A worker that starts later never runs what its callers were told
    // would not run: it answers it UNAVAILABLE, and the queue is empty.
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    assert_eq!(math.sum(SumRequest { a: 5, b: 5 }).await.unwrap().sum, 10);
    assert_eq!(
        calculator.calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the call made once it was up ran"
    );
    let queued: usize = common::inspect(&redis).llen(queue).unwrap();
    assert_eq!(queued, 0);
}

#[tokio::test]
async fn waiting_call_is_served_once_a_worker_starts() {
    let (_redis, bus) = common::redis_and_bus().await;
    let math = MathClient::new(&bus).with_options(
        CallOptions::new()
            .wait_for_worker(true)
            .timeout(Duration::from_secs(30)),
    );
    let call = tokio::spawn(async move { math.sum(SumRequest { a: 2, b: 3 }).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!call.is_finished(), "the call waits for a worker");

    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let reply = tokio::time::timeout(NOT_A_HANG, call)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.expect("served by the new worker").sum, 5);
}

#[tokio::test]
async fn call_after_the_last_worker_stopped_fails_fast() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(60));
    assert_eq!(math.sum(SumRequest { a: 1, b: 1 }).await.unwrap().sum, 2);
    server.shutdown().await.unwrap();

    // Another sum: the first one is cached, and a cache hit needs no worker.
    let status = tokio::time::timeout(NOT_A_HANG, math.sum(SumRequest { a: 2, b: 2 }))
        .await
        .expect("a stopped worker deregisters at once")
        .expect_err("nobody serves math any more");
    assert_eq!(status.code(), Code::Unavailable);
}
