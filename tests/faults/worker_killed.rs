//! SIGKILL of one of two workers with calls in flight: its calls are
//! reclaimed by the survivor once its registration lapsed; an idempotent
//! one is run again and succeeds, a non-idempotent one fails with
//! `UNAVAILABLE` saying it may or may not have run, and nothing stays filed
//! under the dead worker. Two calls are pinned on the doomed worker (one of
//! each kind, long enough to be running at the kill), on top of the load.

use std::time::Duration;

use generated_examples::math::math_bus::MathClient;
use generated_examples::math::{NowRequest, SumRequest};
use redis_bus::{CallOptions, Code};
use redis_bus_testing::RedisServer;
use tokio::time::Instant;

use crate::load::{Ended, Method};
use crate::scenario::under_load;
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

/// How long each handler run of the load takes: long enough that the kill
/// meets calls in flight.
const DELAY: Duration = Duration::from_millis(400);

/// How long the pinned calls run (milliseconds, negated: see the worker).
const PINNED_MS: i64 = -3000;

/// The pinned calls' deadline.
const PINNED_DEADLINE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_calls_are_rerun_when_idempotent_and_refused_otherwise() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let spec = WorkerSpec::new(&redis.url(), &side.url(), DELAY);
    let mut doomed = spec.spawn();
    let bus = settings::connect(&redis.url()).await;
    let pinned = MathClient::new(&bus).with_options(
        CallOptions::new()
            .timeout(PINNED_DEADLINE)
            .bypass_cache(true),
    );
    let sum = tokio::spawn({
        let pinned = pinned.clone();
        async move {
            pinned
                .sum(SumRequest {
                    a: -1,
                    b: PINNED_MS,
                })
                .await
        }
    });
    let now = tokio::spawn({
        let pinned = pinned.clone();
        async move {
            let reply = pinned.now(NowRequest { seed: PINNED_MS }).await;
            (reply, Instant::now())
        }
    });
    let mut side_channel = redis::Client::open(side.url())
        .and_then(|client| client.get_connection())
        .expect("connect to the side channel");
    let started = Instant::now();
    loop {
        let runs: Vec<Option<i64>> = redis::cmd("MGET")
            .arg("runs:sum:-1")
            .arg(format!("runs:now:{PINNED_MS}"))
            .query(&mut side_channel)
            .unwrap();
        if runs == [Some(1), Some(1)] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the doomed worker runs the pinned calls"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _survivor = spec.spawn();

    let mut killed = None;
    let fault = async {
        killed = Some(Instant::now());
        doomed.kill();
    };
    let report = under_load("worker SIGKILL", &bus, &side, fault, Duration::from_secs(3)).await;
    report
        .no_call_hung()
        .runs_are_right(0)
        .failed_only_with(&[Code::Unavailable])
        .healed_within(settings::worker_killed() + DELAY);
    let mut rerun = 0;
    for outcome in report.outcomes() {
        match (&outcome.ended, outcome.method) {
            (Ended::Ok, Method::Sum) if report.runs_of(outcome) == 2 => rerun += 1,
            (Ended::Failed(_, message), Method::Now) => {
                assert!(message.contains("not idempotent"), "{message}");
            }
            (Ended::Failed(_, message), Method::Sum) => {
                panic!("an idempotent call succeeds after a reclaim: {message}")
            }
            _ => {}
        }
    }

    let (now, refused) = now.await.unwrap();
    let now = now.expect_err("the pinned Now is refused");
    let refused = refused - killed.expect("the worker was killed");
    assert!(
        refused <= settings::worker_killed(),
        "the pinned Now was refused {refused:?} after the kill"
    );
    assert_eq!(now.code(), Code::Unavailable, "{now}");
    assert!(now.message().contains("math.Math/Now"), "{now}");
    assert!(now.message().contains("not idempotent"), "{now}");
    let sum = sum.await.unwrap().expect("the pinned Sum is run again");
    assert_eq!(sum.sum, -1 + PINNED_MS);
    let runs: Vec<i64> = redis::cmd("MGET")
        .arg("runs:sum:-1")
        .arg(format!("runs:now:{PINNED_MS}"))
        .query(&mut side_channel)
        .unwrap();
    assert_eq!(runs, [2, 1], "the Sum ran again, the Now did not");
    eprintln!(
        "worker SIGKILL: the pinned Now refused {refused:?} after the kill (bound {:?}); \
         {rerun} idempotent calls of the load run again",
        settings::worker_killed()
    );

    let mut inspect = redis::Client::open(redis.url())
        .and_then(|client| client.get_connection())
        .expect("connect to look");
    let filed: Vec<String> = redis::cmd("KEYS")
        .arg("rb:{test:math.Math@1}:taken:*")
        .query(&mut inspect)
        .expect("KEYS");
    for key in filed {
        let left: usize = redis::cmd("HLEN").arg(&key).query(&mut inspect).unwrap();
        assert_eq!(left, 0, "nothing stays filed under {key}");
    }
}
