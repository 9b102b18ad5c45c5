//! Connecting through Redis Sentinel with a master name the sentinels do
//! not know, or with none, fails with an error saying so. How the bus
//! lives through failovers (Sentinel and Cluster, under load) is the fault
//! suite's (`tests/faults/`).

use redis_bus::Bus;
use redis_bus_testing::RedisSentinel;

/// Starts a Sentinel deployment off the async runtime (it blocks while the
/// sentinels meet).
async fn sentinel() -> RedisSentinel {
    tokio::task::spawn_blocking(|| RedisSentinel::start().expect("the deployment starts"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_with_an_unknown_master_name_says_so() {
    let deployment = sentinel().await;
    let url = deployment.url().replace("/mymaster", "/nosuchmaster");
    let error = Bus::connect(&url, "test")
        .await
        .expect_err("no master by that name");
    let message = format!("{error:#}");
    assert!(message.contains("nosuchmaster"), "{message}");
    let error = Bus::connect(&url.replace("/nosuchmaster", ""), "test")
        .await
        .expect_err("no master named");
    assert!(format!("{error}").contains("names no master"), "{error}");
}
