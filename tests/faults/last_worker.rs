//! The last worker of a service leaving: stopped (SIGTERM) with calls
//! queued, the calls it runs finish and the queued ones fail at once with
//! `UNAVAILABLE` naming the service, never run; killed (SIGKILL), the calls
//! waiting for it fail once its registration lapsed, long before their
//! deadline. A call made with `wait_for_worker` keeps waiting, and the next
//! worker serves it.

use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::MathClient;
use redis_bus::{CallOptions, Code};
use redis_bus_testing::RedisServer;
use tokio::time::Instant;

use crate::load::{Batch, Ended, client, mixed};
use crate::report::Report;
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

/// Far longer than any bound here: a call that waits for it hangs.
const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_worker_stopping_fails_its_queue_at_once() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let spec =
        WorkerSpec::new(&redis.url(), &side.url(), Duration::from_millis(500)).concurrency(2);
    let mut worker = spec.spawn();
    let bus = settings::connect(&redis.url()).await;
    let math = client(&bus, DEADLINE);
    let queued = Batch::start(&math, (1..=20).map(mixed), DEADLINE);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = tokio::spawn({
        let math = MathClient::new(&bus).with_options(
            CallOptions::new()
                .wait_for_worker(true)
                .timeout(DEADLINE)
                .bypass_cache(true),
        );
        async move { math.sum(SumRequest { a: 1000, b: 0 }).await }
    });

    let fault = Instant::now();
    worker.terminate();
    let stopped = Instant::now();
    let outcomes = queued.outcomes().await;
    let runs = side.runs(&outcomes).await;
    let report = Report::new("the last worker stopping", outcomes, runs, fault);
    report.no_call_hung().runs_are_right(0);
    let mut unavailable = 0;
    for outcome in report.outcomes() {
        match &outcome.ended {
            Ended::Ok => assert_eq!(report.runs_of(outcome), 1),
            Ended::Failed(code, message) => {
                assert_eq!(*code, Code::Unavailable, "{message}");
                assert!(message.contains("math.Math"), "{message}");
                assert_eq!(report.runs_of(outcome), 0, "a refused call never ran");
                assert!(
                    outcome.ended_at <= stopped + settings::SLACK,
                    "a queued call fails at the stop, not at its deadline"
                );
                unavailable += 1;
            }
            Ended::Hung => unreachable!("checked above"),
        }
    }
    assert!(unavailable > 0, "calls were still queued at the stop");
    let last = report
        .outcomes()
        .iter()
        .map(|outcome| outcome.ended_at)
        .max()
        .expect("calls");
    eprintln!(
        "the last worker stopping: exited {:?} after SIGTERM; {unavailable} queued calls \
         failed, the last {:?} after the exit",
        stopped - fault,
        last.saturating_duration_since(stopped)
    );
    assert!(
        !waiting.is_finished(),
        "a call that waits for a worker waits"
    );
    let _next = spec.spawn();
    let reply = tokio::time::timeout(DEADLINE, waiting)
        .await
        .expect("served before its deadline")
        .expect("no panic");
    assert_eq!(reply.expect("served by the next worker").sum, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_worker_dying_fails_the_calls_waiting_for_it() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let spec = WorkerSpec::new(&redis.url(), &side.url(), DEADLINE).concurrency(1);
    let mut worker = spec.spawn();
    let bus = settings::connect(&redis.url()).await;
    let math = client(&bus, DEADLINE);
    let calls = Batch::start(&math, (1..=6).map(mixed), DEADLINE);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fault = Instant::now();
    worker.kill();
    let outcomes = calls.outcomes().await;
    let runs = side.runs(&outcomes).await;
    let report = Report::new("the last worker killed", outcomes, runs, fault);
    report
        .no_call_hung()
        .runs_are_right(0)
        .failed_only_with(&[Code::Unavailable]);
    let last = report
        .outcomes()
        .iter()
        .map(|outcome| outcome.ended_at - fault)
        .max()
        .expect("calls");
    eprintln!(
        "the last worker killed: its callers told within {last:?} (bound {:?})",
        settings::last_worker_killed()
    );
    for outcome in report.outcomes() {
        assert!(!outcome.is_ok(), "nobody serves math any more");
        assert!(
            outcome.ended_at <= fault + settings::last_worker_killed(),
            "{:?} {} failed {:?} after the kill, past {:?}",
            outcome.method,
            outcome.key,
            outcome.ended_at - fault,
            settings::last_worker_killed()
        );
    }
}
