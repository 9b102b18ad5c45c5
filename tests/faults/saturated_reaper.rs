//! A busy survivor reclaiming a dead peer's calls: two workers with few
//! permits, more long idempotent calls than both can run, one SIGKILLed.
//! The survivor's registration never lapses while it waits for permits to
//! re-run what it reclaimed, and an idle worker started afterwards never
//! robs it: each call runs at most twice (once on the dead worker), and all
//! succeed.

use std::time::Duration;

use redis_bus_testing::RedisServer;
use tokio::time::Instant;

use crate::load::{Batch, Method, client};
use crate::report::Report;
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

/// Each worker's permits.
const PERMITS: usize = 4;

/// How many calls, each taking [`DELAY`].
const CALLS: i64 = 16;
const DELAY: Duration = Duration::from_secs(2);

/// How long the survivor's registration is watched after the kill.
const WATCHED: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_worker_that_reclaims_stays_live_and_is_not_robbed() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let spec = WorkerSpec::new(&redis.url(), &side.url(), DELAY).concurrency(PERMITS);
    let mut doomed = spec.spawn();
    let _survivor = spec.spawn();
    let bus = settings::connect(&redis.url()).await;
    let deadline = Duration::from_secs(30);
    let math = client(&bus, deadline);
    let calls = Batch::start(&math, (1..=CALLS).map(|a| (Method::Sum, a)), deadline);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fault = Instant::now();
    doomed.kill();
    let _idle = spec.spawn();

    let mut inspect = redis::Client::open(redis.url())
        .and_then(|client| client.get_connection())
        .expect("connect to look");
    let mut lapses = 0;
    while fault.elapsed() < WATCHED {
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

    let outcomes = calls.outcomes().await;
    let runs = side.runs(&outcomes).await;
    let report = Report::new("saturated reaper", outcomes, runs, fault);
    report.no_call_hung();
    let mut total = 0;
    for outcome in report.outcomes() {
        assert!(
            outcome.is_ok(),
            "an idempotent call succeeds after a reclaim: {outcome:?}"
        );
        let ran = report.runs_of(outcome);
        assert!(
            (1..=2).contains(&ran),
            "Sum {} ran {ran} times",
            outcome.key
        );
        total += ran;
    }
    assert!(
        total <= CALLS + PERMITS as i64,
        "only the dead worker's calls ran again: {total} runs of {CALLS} calls"
    );
}
