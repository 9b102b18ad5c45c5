//! `FLUSHALL` under load: queues, registrations and reply lists vanish at
//! once. The calls in flight fail (their requests are gone); the workers
//! register again at their next beat, and new calls are served.

use std::time::Duration;

use redis_bus_testing::RedisServer;

use crate::scenario::{blocking, under_load};
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_under_load_heals_at_the_next_beat() {
    let redis = RedisServer::start().expect("redis-server starts");
    let side = Side::start();
    let _worker = WorkerSpec::new(&redis.url(), &side.url(), Duration::ZERO).spawn();
    let bus = settings::connect(&redis.url()).await;
    let url = redis.url();
    let fault = blocking(move || {
        let mut connection = redis::Client::open(url)
            .and_then(|client| client.get_connection())
            .expect("connect to flush");
        let () = redis::cmd("FLUSHALL")
            .query(&mut connection)
            .expect("FLUSHALL");
    });
    let report = under_load("FLUSHALL", &bus, &side, fault, Duration::from_secs(5)).await;
    report.survived(0, settings::dropped_connection());
}
