//! High availability through Redis Sentinel (a master, two replicas, three
//! sentinels), under load: `SENTINEL FAILOVER` with the data nodes behind
//! an ACL user (`redis+sentinel://user:password@...`), and SIGKILL of the
//! master. Every call completes or fails with a status, none hangs, and
//! the bus serves again by itself once the sentinels named the new master,
//! and no call runs twice: a worker acts on a take or a reply only once
//! the replicas copied it or the sentinels say no failover is under way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_bus::Bus;
use redis_bus_testing::RedisSentinel;

use crate::scenario::{Took, blocking, timed, under_load, worker_and_client};
use crate::settings;
use crate::side::Side;

/// How often a connected bus asks the sentinels for the master.
const SENTINEL_CHECK: Duration = Duration::from_secs(1);

/// How long the load runs after the fault.
const AFTER_FAULT: Duration = Duration::from_secs(8);

/// How long a worker's write waits for the master's replicas before it
/// asks the sentinels (the runtime's `CONFIRM_WAIT`): after a promotion
/// the other replica resyncs to the new master, and takes wait that long
/// meanwhile.
const CONFIRM_WAIT: Duration = Duration::from_millis(500);

/// Every call started this long after the sentinels named the new master
/// succeeds: the bus's next check, then a reconnect, then a take that may
/// wait for a resyncing replica.
fn healed_after_promotion(promoted: Duration) -> Duration {
    promoted + SENTINEL_CHECK + CONFIRM_WAIT + settings::SLACK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_under_load_with_an_acl_user() {
    let deployment = blocking(|| {
        RedisSentinel::builder()
            .user("bus", "s3cret")
            .start()
            .expect("the deployment starts")
    })
    .await;
    let url = deployment.url();
    assert!(url.starts_with("redis+sentinel://bus:s3cret@"), "{url}");
    let wrong = url.replace("s3cret", "wrong");
    let error = Bus::connect(&wrong, "test")
        .await
        .expect_err("a wrong password is refused");
    let message = format!("{error:#}");
    assert!(
        message.to_lowercase().contains("authentication failed"),
        "{message}"
    );
    assert!(
        !message.contains("wrong@"),
        "the password is hidden: {message}"
    );

    let side = Side::start();
    let (_worker, bus) = worker_and_client(&url, &side).await;
    let old = deployment.master_port().unwrap();
    let deployment = Arc::new(deployment);
    let promoted = Took::default();
    let fault = timed(&promoted, {
        let deployment = deployment.clone();
        move || {
            deployment.failover().unwrap();
            let new = deployment
                .wait_for_new_master(old, Duration::from_secs(10))
                .unwrap();
            format!("SENTINEL FAILOVER: the sentinels name {new} instead of {old}")
        }
    });
    let report = under_load("SENTINEL FAILOVER", &bus, &side, fault, AFTER_FAULT).await;
    let promoted = promoted.get();
    report.survived(0, healed_after_promotion(promoted));

    // Nothing of the bus stayed on the demoted master: only the sentinels
    // (and replicas) are its clients.
    let old_node = deployment
        .nodes()
        .iter()
        .find(|node| node.port() == old)
        .unwrap();
    let clients: String = redis::Client::open(deployment.node_url(old_node))
        .and_then(|client| client.get_connection())
        .and_then(|mut c| {
            redis::cmd("CLIENT")
                .arg(&["LIST", "TYPE", "normal"][..])
                .query(&mut c)
        })
        .unwrap();
    let ours: Vec<&str> = clients
        .lines()
        .filter(|line| !line.contains("name=sentinel-") && !line.contains("cmd=client|list"))
        .collect();
    assert!(ours.is_empty(), "the bus left the demoted master: {ours:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_master_killed_under_load() {
    let deployment = blocking(|| RedisSentinel::start().expect("the deployment starts")).await;
    let url = deployment.url();
    let side = Side::start();
    let (_worker, bus) = worker_and_client(&url, &side).await;
    let deployment = Arc::new(Mutex::new(deployment));
    let promoted = Took::default();
    let fault = timed(&promoted, {
        let deployment = deployment.clone();
        move || {
            let mut deployment = deployment.lock().unwrap();
            let old = deployment.kill_master().unwrap();
            let new = deployment
                .wait_for_new_master(old, Duration::from_secs(15))
                .unwrap();
            format!("SIGKILL of the master: the sentinels name {new} instead of {old}")
        }
    });
    let report = under_load(
        "Sentinel, SIGKILL of the master",
        &bus,
        &side,
        fault,
        AFTER_FAULT,
    )
    .await;
    let promoted = promoted.get();
    report.survived(0, healed_after_promotion(promoted));
}
