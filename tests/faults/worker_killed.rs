//! SIGKILL of one of two workers with calls in flight: its calls are
//! reclaimed by the survivor once its registration lapsed; an idempotent
//! one is run again and succeeds, a non-idempotent one fails with
//! `UNAVAILABLE` saying it may or may not have run, and nothing stays filed
//! under the dead worker.

use std::time::Duration;

use redis_bus::Code;
use redis_bus_testing::RedisServer;

use crate::load::{Ended, Method};
use crate::scenario::under_load;
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

/// How long each handler run takes: long enough that the kill meets calls
/// in flight.
const DELAY: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_calls_are_rerun_when_idempotent_and_refused_otherwise() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let spec = WorkerSpec::new(&redis.url(), &side.url(), DELAY);
    let mut doomed = spec.spawn();
    let _survivor = spec.spawn();
    let bus = settings::connect(&redis.url()).await;
    let fault = async { doomed.kill() };
    let report = under_load(
        "worker SIGKILL",
        &bus,
        &side,
        fault,
        Duration::from_secs(3),
    )
    .await;
    report
        .no_call_hung()
        .runs_are_right(0)
        .failed_only_with(&[Code::Unavailable])
        .healed_within(settings::worker_killed() + DELAY);
    let (mut rerun, mut refused) = (0, 0);
    for outcome in report.outcomes() {
        match (&outcome.ended, outcome.method) {
            (Ended::Ok, Method::Sum) if report.runs_of(outcome) == 2 => rerun += 1,
            (Ended::Failed(_, message), Method::Now) => {
                assert!(message.contains("not idempotent"), "{message}");
                refused += 1;
            }
            (Ended::Failed(_, message), Method::Sum) => {
                panic!("an idempotent call succeeds after a reclaim: {message}")
            }
            _ => {}
        }
    }
    eprintln!("worker SIGKILL: {rerun} idempotent calls run again, {refused} others refused");
    assert!(rerun + refused > 0, "the kill met calls in flight");

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
