//! How servers stop: gracefully (in-flight calls finish and are answered,
//! nothing new is taken), after exactly one request (`serve_once`), or at
//! the first failure in debug mode.

use crate::common;

use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use redis::Commands;
use redis_bus::{CallOptions, Code, ErrorKind, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_answers_calls_in_flight_and_takes_nothing_new() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator {
        sum_delay: Duration::from_millis(500),
        ..Default::default()
    };
    let server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    let in_flight: Vec<_> = (0..5)
        .map(|i| {
            let math = math.clone();
            tokio::spawn(async move { math.sum(SumRequest { a: i, b: 1 }).await })
        })
        .collect();
    common::eventually(Duration::from_secs(5), "all five calls run", || {
        calculator.runs() == 5
    })
    .await;

    let shutdown = tokio::spawn(server.shutdown());
    // A call queued while the server stops waits for another worker.
    let late = tokio::spawn({
        let math = math.clone().with_options(
            CallOptions::new()
                .wait_for_worker(true)
                .timeout(Duration::from_secs(10)),
        );
        async move { math.sum(SumRequest { a: 100, b: 1 }).await }
    });
    for (i, call) in in_flight.into_iter().enumerate() {
        let reply = call.await.unwrap().expect("calls in flight are answered");
        assert_eq!(reply.sum, i as i64 + 1);
    }
    shutdown.await.unwrap().expect("clean shutdown");
    assert_eq!(calculator.runs(), 5, "nothing new was taken while stopping");

    let mut inspect = common::inspect(&redis);
    let live: Vec<String> = inspect
        .zrange("rb:{test:math.Math@1}:instances", 0, -1)
        .unwrap();
    assert!(live.is_empty(), "the worker deregistered: {live:?}");
    let filed: Vec<String> = inspect.keys("rb:{test:math.Math@1}:taken:*").unwrap();
    assert!(filed.is_empty(), "nothing stays filed under it: {filed:?}");

    // The late call is still queued, and the next worker answers it.
    let next = common::Calculator::default();
    let _next = Server::new(&bus)
        .add_service(MathServer::new(next.clone()))
        .start()
        .await
        .unwrap();
    assert_eq!(
        late.await
            .unwrap()
            .expect("answered by the next worker")
            .sum,
        101
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_once_handles_exactly_one_request() {
    let (_redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let once = tokio::spawn(
        Server::new(&bus)
            .add_service(MathServer::new(calculator.clone()))
            .serve_once(),
    );
    let math = MathClient::new(&bus).with_options(
        CallOptions::new()
            .wait_for_worker(true)
            .timeout(Duration::from_secs(10)),
    );
    let first = math
        .sum(SumRequest { a: 1, b: 1 })
        .await
        .expect("the one request");
    assert_eq!(first.sum, 2);
    once.await
        .unwrap()
        .expect("serve_once returns after its request");
    assert_eq!(calculator.runs(), 1);

    // Another sum: 1 + 1 is answered from the cache, worker or not.
    let status = math
        .clone()
        .with_options(CallOptions::new())
        .sum(SumRequest { a: 2, b: 2 })
        .await
        .expect_err("nobody serves any more");
    assert_eq!(status.code(), Code::Unavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_stops_at_the_first_failure_with_the_handlers_error() {
    let (_redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let debug = tokio::spawn(
        Server::new(&bus)
            .add_service(MathServer::new(calculator.clone()))
            .debug(),
    );
    let math = MathClient::new(&bus).with_options(
        CallOptions::new()
            .wait_for_worker(true)
            .timeout(Duration::from_secs(10)),
    );
    assert_eq!(math.sum(SumRequest { a: 1, b: 1 }).await.unwrap().sum, 2);
    let status = math
        .now(NowRequest { seed: 666 })
        .await
        .expect_err("the handler panics");
    assert_eq!(
        status.code(),
        Code::Internal,
        "the caller still gets its answer"
    );

    let error = debug
        .await
        .unwrap()
        .expect_err("debug mode stops with the failure");
    assert_eq!(error.kind(), ErrorKind::Handler);
    assert!(
        error.to_string().contains("math.Math/Now failed in debug mode: the handler of math.Math/Now panicked: the number of the beast"),
        "{error}"
    );
}
