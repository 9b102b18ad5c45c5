//! A silent cut: every connection open through the proxy forwards nothing
//! any more, for ever, and answers no keepalive either, while new
//! connections work (what a NAT or load-balancer failover does). Worker and
//! client both reach Redis through the proxy; the bus heals by itself
//! within the command limit and a blocking read's bound.

use std::time::Duration;

use redis_bus_testing::{FaultProxy, RedisServer};

use crate::scenario::under_load;
use crate::settings;
use crate::side::Side;
use crate::worker::WorkerSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_cut_of_every_open_connection_heals_by_itself() {
    let redis = RedisServer::start().expect("redis-server starts");
    let proxy = FaultProxy::start(redis.addr()).expect("the proxy starts");
    let side = Side::start();
    let _worker = WorkerSpec::new(&proxy.url(), &side.url(), Duration::ZERO).spawn();
    let bus = settings::connect(&proxy.url()).await;
    let bound = settings::silent_network();
    let fault = async { proxy.pause() };
    let report = under_load(
        "silent cut",
        &bus,
        &side,
        fault,
        bound + Duration::from_secs(2),
    )
    .await;
    report.survived(0, bound);
}
