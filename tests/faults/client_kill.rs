//! `CLIENT KILL` of every connection, three times under load: the bus
//! reconnects by itself and loses or duplicates nothing. An idempotent call
//! never fails (its request is resent); a non-idempotent one whose send
//! failed fails with `UNAVAILABLE` saying it may not have been queued.

use std::time::Duration;

use redis_bus::Code;
use redis_bus_testing::RedisServer;

use crate::load::{Ended, Method};
use crate::scenario::{blocking, under_load};
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

/// How many times, and how far apart, every connection is killed.
const KILLS: u32 = 3;
const KILL_EVERY: Duration = Duration::from_millis(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_kill_of_every_connection_loses_and_duplicates_nothing() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let _worker = WorkerSpec::new(&redis.url(), &side.url(), Duration::ZERO).spawn();
    let bus = settings::connect(&redis.url()).await;
    let url = redis.url();
    let fault = async move {
        for kill in 0..KILLS {
            if kill > 0 {
                tokio::time::sleep(KILL_EVERY).await;
            }
            let url = url.clone();
            let killed: i64 = blocking(move || {
                let mut connection = redis::Client::open(url)
                    .and_then(|client| client.get_connection())
                    .expect("connect to kill");
                redis::cmd("CLIENT")
                    .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"][..])
                    .query(&mut connection)
                    .expect("CLIENT KILL")
            })
            .await;
            assert!(killed > 0, "the bus's connections were killed");
        }
    };
    let report = under_load("CLIENT KILL", &bus, &side, fault, Duration::from_secs(4)).await;
    report
        .no_call_hung()
        .runs_are_right(0)
        .failed_only_with(&[Code::Unavailable])
        .healed_within(KILL_EVERY * (KILLS - 1) + settings::dropped_connection());
    for outcome in report.outcomes() {
        if let Ended::Failed(_, message) = &outcome.ended {
            assert_eq!(outcome.method, Method::Now, "a Sum is resent: {message}");
            assert!(
                message.contains("may or may not have been queued"),
                "{message}"
            );
        }
    }
}
