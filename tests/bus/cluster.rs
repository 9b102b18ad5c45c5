//! The bus on a Redis Cluster: the samples run across three masters, with
//! services on different nodes, and calls keep succeeding (or fail cleanly,
//! never hang) while a live service's slot moves to another node.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use generated_examples::accounts::OpenRequest;
use generated_examples::accounts::accounts_bus::{AccountsClient, AccountsServer};
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::{AccountsService, MathService, RandomService};
use redis_bus::{Bus, Code, Server};
use redis_bus_testing::RedisCluster;

/// The bus URL of a cluster: every node, so that any may answer first.
fn cluster_url(cluster: &RedisCluster) -> String {
    let nodes: Vec<String> = cluster
        .nodes()
        .iter()
        .map(|node| format!("127.0.0.1:{}", node.port()))
        .collect();
    format!("redis+cluster://{}", nodes.join(","))
}

/// A synchronous connection to one node.
fn node(cluster: &RedisCluster, index: usize) -> redis::Connection {
    redis::Client::open(cluster.nodes()[index].url())
        .and_then(|client| client.get_connection())
        .expect("connect to a cluster node")
}

/// The slot of `key`.
fn slot(cluster: &RedisCluster, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut node(cluster, 0))
        .unwrap()
}

/// The index of the master that serves `key`.
fn owner(cluster: &RedisCluster, key: &str) -> usize {
    cluster.master_of(key).expect("every slot is served")
}

/// A node's cluster id.
fn node_id(cluster: &RedisCluster, index: usize) -> String {
    redis::cmd("CLUSTER")
        .arg("MYID")
        .query(&mut node(cluster, index))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_run_across_a_three_master_cluster() {
    let cluster = RedisCluster::start().expect("a 3-master cluster starts");
    let bus = Bus::connect(&cluster_url(&cluster), "test")
        .await
        .expect("the bus connects to the cluster");
    let _servers = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .add_service(RandomServer::new(RandomService))
        .add_service(AccountsServer::new(AccountsService::new(&bus)))
        .start()
        .await
        .expect("workers start on the cluster");

    // Where each service's traffic lands.
    let mut placement = BTreeMap::new();
    for service in ["math.Math@1", "random.Random@1", "accounts.Accounts@1"] {
        let queue = format!("rb:{{test:{service}}}:queue");
        placement.insert(service, owner(&cluster, &queue));
    }
    println!("service queues by node: {placement:?}");
    let nodes: std::collections::BTreeSet<_> = placement.values().collect();
    assert!(nodes.len() > 1, "services spread over nodes: {placement:?}");

    let account = AccountsClient::new(&bus)
        .open(OpenRequest {
            name: "ada".into(),
            password_length: Some(8),
        })
        .await
        .expect("a call tree across nodes");
    assert_eq!(account.password.len(), 8);
    let math = MathClient::new(&bus);
    let first = math.now(NowRequest { seed: 1 }).await.unwrap().time;
    assert_eq!(
        math.now(NowRequest { seed: 1 }).await.unwrap().time,
        first,
        "cached on the cluster"
    );
    assert!(
        math.clear_cache()
            .now(&NowRequest { seed: 1 })
            .await
            .unwrap()
    );
    let names: Vec<String> = bus
        .discovery()
        .services()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["accounts.Accounts", "math.Math", "random.Random"]);
    assert!(bus.count_keys().await.unwrap() > 0);

    // Statistics cross the cluster too: this client reports on services
    // whose lists are on different nodes.
    bus.flush_stats()
        .await
        .expect("the reports of services on several nodes are sent");
    let stats = bus.discovery().stats().await.unwrap();
    // Now missed for Open's own call and for the first of this test's
    // two, and hit for the second.
    let now = stats.iter().find(|s| s.method == "math.Math/Now").unwrap();
    assert_eq!((now.cache_hits, now.cache_misses), (1, 2), "{now:?}");
    // And the worker takes the reports in, at its next heartbeat, with its
    // statistics hash's renewal (another hash tag) beside.
    let reports = "rb:{test:math.Math@1}:reports";
    let mut owner = node(&cluster, owner(&cluster, reports));
    let mut waiting = || -> usize { redis::cmd("LLEN").arg(reports).query(&mut owner).unwrap() };
    let started = std::time::Instant::now();
    while waiting() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the worker takes its service's reports"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Each worker's own counts are read across the services' nodes.
    loop {
        let per_worker = bus
            .discovery()
            .instance_stats()
            .await
            .expect("per-worker statistics are read on a cluster");
        let now_calls: u64 = per_worker
            .iter()
            .filter(|row| row.method == "math.Math/Now")
            .map(|row| row.calls)
            .sum();
        if now_calls == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the worker's own counts show its two runs of Now: {per_worker:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_survive_moving_a_live_services_slot() {
    let cluster = RedisCluster::start().expect("a 3-master cluster starts");
    let url = cluster_url(&cluster);
    let bus = Bus::connect(&url, "test").await.unwrap();
    let worker_bus = Bus::connect(&url, "test").await.unwrap();
    let calculator = common::Calculator::default();
    let _server = Server::new(&worker_bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(10));

    // Callers keep calling (uncached sums: a fresh pair each time) from
    // before the slot moves until after it moved.
    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..8i64)
        .map(|caller| {
            let math = math.clone();
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let started = tokio::time::Instant::now();
                    let outcome = math
                        .sum(SumRequest {
                            a: caller * 1_000_000 + i,
                            b: 1,
                        })
                        .await;
                    outcomes.push((outcome.map(|reply| reply.sum), started.elapsed()));
                }
                outcomes
            })
        })
        .collect();

    // Move the slot of math's keys to another master while they call.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let queue = "rb:{test:math.Math@1}:queue";
    let slot = slot(&cluster, queue);
    let source = owner(&cluster, queue);
    let target = (source + 1) % 3;
    let (source_id, target_id) = (node_id(&cluster, source), node_id(&cluster, target));
    let target_port = cluster.nodes()[target].port();
    let _: () = redis::cmd("CLUSTER")
        .arg("SETSLOT")
        .arg(slot)
        .arg("IMPORTING")
        .arg(&source_id)
        .query(&mut node(&cluster, target))
        .unwrap();
    let _: () = redis::cmd("CLUSTER")
        .arg("SETSLOT")
        .arg(slot)
        .arg("MIGRATING")
        .arg(&target_id)
        .query(&mut node(&cluster, source))
        .unwrap();
    loop {
        let keys: Vec<String> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(slot)
            .arg(100)
            .query(&mut node(&cluster, source))
            .unwrap();
        if keys.is_empty() {
            break;
        }
        let _: () = redis::cmd("MIGRATE")
            .arg("127.0.0.1")
            .arg(target_port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("KEYS")
            .arg(&keys)
            .query(&mut node(&cluster, source))
            .unwrap();
    }
    for index in 0..3 {
        let _: () = redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg("NODE")
            .arg(&target_id)
            .query(&mut node(&cluster, index))
            .unwrap();
    }
    println!("moved slot {slot} of math.Math from node {source} to node {target}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);

    let (mut succeeded, mut calls) = (0, 0);
    for caller in callers {
        for (outcome, took) in caller.await.unwrap() {
            calls += 1;
            assert!(
                took < Duration::from_secs(11),
                "no call outlived its deadline: {took:?}"
            );
            match outcome {
                Ok(_) => succeeded += 1,
                Err(status) => assert!(
                    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded),
                    "a failure is a clean status: {status}"
                ),
            }
        }
    }
    println!("{succeeded} of {calls} calls succeeded while the slot moved");
    assert!(
        calls > 100 && succeeded * 10 > calls * 9,
        "most calls go through a resharding: {succeeded} of {calls}"
    );
    assert_eq!(owner(&cluster, queue), target, "the slot moved");
    // The bus recovered by itself: calls go through on the new node.
    for i in 0..20 {
        assert_eq!(math.sum(SumRequest { a: -i, b: 0 }).await.unwrap().sum, -i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_replica_slows_confirmed_writes_but_fails_no_call() {
    stalled_replica(false).await;
}

/// A replica that attaches after the worker's connection learned its
/// node's replicas (none then) is waited for within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_attaches_late_is_waited_for_too() {
    stalled_replica(true).await;
}

/// Calls while the replica of math's master is stopped (SIGSTOP): every
/// take and acknowledgement waits for it in vain, then asks the master
/// whether it still is one, and stands. With `attaches_late`, the replica is
/// cut off before the bus connects and comes back after the first call.
async fn stalled_replica(attaches_late: bool) {
    let cluster = RedisCluster::builder()
        .replicas(1)
        .start()
        .expect("a 3-master cluster with replicas starts");
    let master = owner(&cluster, "rb:{test:math.Math@1}:queue");
    let replica = cluster
        .replica_of(cluster.nodes()[master].port())
        .expect("math's master has a replica");
    let signal = |name: &str| {
        let sent = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(cluster.nodes()[replica].pid().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name}");
    };
    let listed = || {
        let role: Vec<redis::Value> = redis::cmd("ROLE")
            .query(&mut node(&cluster, master))
            .unwrap();
        match role.get(2) {
            Some(redis::Value::Array(replicas)) => replicas.len(),
            other => panic!("ROLE of a master: {other:?}"),
        }
    };
    let wait_until_listed = |count: usize| {
        let started = std::time::Instant::now();
        while listed() != count {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{count} replicas listed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    if attaches_late {
        signal("STOP");
        let _: redis::Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("replica")
            .query(&mut node(&cluster, master))
            .unwrap();
        wait_until_listed(0);
    }
    let bus = Bus::connect(&cluster_url(&cluster), "test").await.unwrap();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(10));
    math.sum(SumRequest { a: 1, b: 1 }).await.unwrap();
    if attaches_late {
        signal("CONT");
        wait_until_listed(1);
        // The worker asks its node's replicas again once a second.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        math.sum(SumRequest { a: 1, b: 1 }).await.unwrap();
    }

    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut node(&cluster, master))
        .unwrap();
    signal("STOP");
    for a in 2..5 {
        let reply = math.sum(SumRequest { a, b: 1 }).await;
        assert_eq!(reply.map(|reply| reply.sum), Ok(a + 1));
    }
    signal("CONT");

    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut node(&cluster, master))
        .unwrap();
    let calls = |command: &str| -> u64 {
        stats
            .lines()
            .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
            .and_then(|rest| rest.split(',').next()?.parse().ok())
            .unwrap_or(0)
    };
    // Each call: a take and its acknowledgements, each confirmed; every
    // take moved a request, which the stopped replica never copied, so
    // the master was asked again at least once a call.
    assert!(calls("wait") >= 6, "{stats}");
    assert!(calls("role") >= 3, "the master was asked again: {stats}");
}
