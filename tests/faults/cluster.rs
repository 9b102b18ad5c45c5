//! High availability on a Redis Cluster with replicas (3 masters, a replica
//! each), under load: `CLUSTER FAILOVER` on a replica of the service's
//! master, and SIGKILL of that master. Every call completes or fails with
//! a status, none hangs, and the bus serves again by itself once the slot
//! has its new master (the old one answers MOVED, or is gone).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_bus_testing::{RedisCluster, master_port_seen_by};
use tokio::time::Instant;

use crate::scenario::{Took, blocking, timed, under_load, worker_and_client};
use crate::settings;
use crate::side::Side;

/// The cluster's node timeout in the SIGKILL scenario: how long a master
/// may be silent before its replica takes over (the harness's default is
/// 5 s).
const NODE_TIMEOUT_MS: &str = "1000";

/// How long the load runs after the fault.
const AFTER_FAULT: Duration = Duration::from_secs(8);

/// A 3-master cluster with a replica each, with `args` for every node.
async fn cluster(args: &'static [&'static str]) -> RedisCluster {
    blocking(move || {
        let mut builder = RedisCluster::builder().replicas(1);
        for arg in args {
            builder = builder.arg(*arg);
        }
        builder.start().expect("the cluster starts")
    })
    .await
}

/// The bus's URL for `cluster`.
fn url(cluster: &RedisCluster) -> String {
    let nodes: Vec<String> = cluster
        .nodes()
        .iter()
        .map(|node| format!("127.0.0.1:{}", node.port()))
        .collect();
    format!("redis+cluster://{}", nodes.join(","))
}

/// The port of the master of the service's slot as the node at `ask` sees
/// it.
fn master_port(ask: &str) -> Option<u16> {
    master_port_seen_by(ask, "rb:{test:math.Math@1}:queue")
}

/// Waits until the node at `ask` names the node at `new` the master of the
/// service's slot.
fn wait_for_master(ask: &str, new: u16) {
    let started = Instant::now();
    while master_port(ask) != Some(new) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the slot moves to {new}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The service's master and the index of its replica.
fn master_and_replica(cluster: &RedisCluster) -> (u16, usize) {
    let old = master_port(&cluster.nodes()[0].url()).expect("the cluster names the master");
    let replica = cluster.replica_of(old).expect("the master has a replica");
    (old, replica)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_failover_under_load() {
    let cluster = cluster(&[]).await;
    let url = url(&cluster);
    let side = Side::start();
    let (_worker, bus) = worker_and_client(&url, &side).await;
    let (old, replica) = master_and_replica(&cluster);
    let new = cluster.nodes()[replica].port();
    let (promote, ask) = (cluster.nodes()[replica].url(), cluster.nodes()[0].url());
    let moved = Took::default();
    let fault = timed(&moved, move || {
        let () = redis::Client::open(promote)
            .and_then(|client| client.get_connection())
            .and_then(|mut c| redis::cmd("CLUSTER").arg("FAILOVER").query(&mut c))
            .expect("CLUSTER FAILOVER");
        wait_for_master(&ask, new);
        format!("CLUSTER FAILOVER: the slot moved from {old} to {new}")
    });
    let report = under_load("CLUSTER FAILOVER", &bus, &side, fault, AFTER_FAULT).await;
    let moved = moved.get();
    report.survived(0, moved + settings::SLACK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_master_killed_under_load() {
    let cluster = cluster(&["--cluster-node-timeout", NODE_TIMEOUT_MS]).await;
    let url = url(&cluster);
    let side = Side::start();
    let (_worker, bus) = worker_and_client(&url, &side).await;
    let (old, replica) = master_and_replica(&cluster);
    let new = cluster.nodes()[replica].port();
    let ask = cluster.nodes()[replica].url();
    let killed = cluster
        .nodes()
        .iter()
        .position(|node| node.port() == old)
        .expect("the master is a node");
    let cluster = Arc::new(Mutex::new(cluster));
    let moved = Took::default();
    let fault = timed(&moved, {
        let cluster = cluster.clone();
        move || {
            cluster.lock().unwrap().nodes_mut()[killed].kill();
            wait_for_master(&ask, new);
            format!("cluster, SIGKILL of the master: the slot moved from {old} to {new}")
        }
    });
    let report = under_load(
        "cluster, SIGKILL of the master",
        &bus,
        &side,
        fault,
        AFTER_FAULT,
    )
    .await;
    let moved = moved.get();
    // The worker acts on a take or an acknowledgement only once the
    // master's replica holds it (`WAIT`), so none runs twice.
    report.survived(0, moved + settings::SLACK);
}
