//! Redis restarted under load (SIGKILL, then a new redis-server on the same
//! port, empty: persistence is off): every connection drops and every key
//! is gone. The calls in flight fail; the bus reconnects and the workers
//! register again by themselves.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_bus_testing::RedisServer;

use crate::scenario::{blocking, under_load};
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_under_load_heals_by_itself() {
    let redis = RedisServer::start().expect("redis-server starts");
    let port = redis.port();
    let side = Side::start();
    let _worker = WorkerSpec::new(&redis.url(), &side.url(), Duration::ZERO).spawn();
    let bus = settings::connect(&redis.url()).await;
    let servers = Arc::new(Mutex::new(vec![redis]));
    let fault = blocking({
        let servers = servers.clone();
        move || {
            let mut servers = servers.lock().unwrap();
            servers[0].kill();
            let restarted = RedisServer::builder()
                .ports(port..=port)
                .start()
                .expect("redis-server starts again on its port");
            servers.push(restarted);
        }
    });
    let report = under_load("Redis restart", &bus, &side, fault, Duration::from_secs(5)).await;
    report.survived(0, settings::dropped_connection());
    // The restart really emptied Redis, and the worker registered again.
    let servers = servers.lock().unwrap();
    let mut restarted = redis::Client::open(servers[1].url())
        .and_then(|client| client.get_connection())
        .expect("connect to the restarted server");
    let live: usize = redis::cmd("ZCARD")
        .arg("rb:{test:math.Math@1}:instances")
        .query(&mut restarted)
        .unwrap();
    assert_eq!(
        live, 1,
        "the worker registered again on the restarted Redis"
    );
}
