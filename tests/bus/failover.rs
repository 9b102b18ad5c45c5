//! High availability as users deploy it: under load (a worker and a client,
//! calls in a loop from several tasks), the master fails over, through
//! Redis Sentinel (`SENTINEL FAILOVER`, SIGKILL of the master) and on a
//! Redis Cluster with replicas (`CLUSTER FAILOVER` on a replica of the
//! service's master). Each scenario checks that every call completes or
//! fails with a status (none hangs past its deadline), that a
//! non-idempotent call never runs twice, and that the bus serves every call
//! again by itself within a bound; it reports how long recovery took.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis_bus::{Bus, CallOptions, Code, RunningServer, Server, Status};
use redis_bus_testing::{RedisCluster, RedisSentinel};
use tokio::time::Instant;

/// Each call's deadline.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// A call not back this long after its deadline hangs.
const HANG_MARGIN: Duration = Duration::from_secs(2);

/// How long the load keeps running after the fault.
const LOAD_AFTER_FAULT: Duration = Duration::from_secs(10);

/// Calls started this long after the fault must all succeed: the bus has
/// healed by itself by then.
const HEALED_WITHIN: Duration = Duration::from_secs(8);

/// How many tasks call in a loop.
const CALLERS: i64 = 6;

/// The math service, counting how often `Now` ran for each seed (each call
/// uses a seed of its own, so a count above one is a call run twice).
#[derive(Clone, Default)]
struct Counted {
    now_runs: Arc<Mutex<HashMap<i64, usize>>>,
}

#[redis_bus::codegen::async_trait]
impl Math for Counted {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        Ok(SumReply {
            sum: request.a + request.b,
        })
    }

    async fn now(&self, request: NowRequest) -> Result<NowReply, Status> {
        *self
            .now_runs
            .lock()
            .unwrap()
            .entry(request.seed)
            .or_default() += 1;
        Ok(NowReply { time: None })
    }
}

/// One call's outcome: when it started and ended (seconds from the fault,
/// negative before), which method, the seed or summand, and its status code
/// if it failed.
struct Outcome {
    started: f64,
    ended: f64,
    now: bool,
    key: i64,
    failed: Option<Code>,
}

/// The load: tasks calling `Sum` and `Now` (past the cache) in turn until
/// told to stop.
struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<(Vec<Outcome>, usize)>>,
    fault: Arc<Mutex<Option<Instant>>>,
}

impl Load {
    fn start(bus: &Bus) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let fault: Arc<Mutex<Option<Instant>>> = Arc::default();
        let math = MathClient::new(bus)
            .with_options(CallOptions::new().timeout(CALL_TIMEOUT).bypass_cache(true));
        let tasks = (0..CALLERS)
            .map(|caller| {
                let (math, stop, fault) = (math.clone(), stop.clone(), fault.clone());
                tokio::spawn(async move {
                    let (mut outcomes, mut hangs) = (Vec::new(), 0);
                    let mut i = 0;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        let key = caller * 1_000_000 + i;
                        let now = i % 2 == 0;
                        let started = Instant::now();
                        let call = async {
                            if now {
                                math.now(NowRequest { seed: key }).await.map(drop)
                            } else {
                                let reply = math.sum(SumRequest { a: key, b: 1 }).await?;
                                assert_eq!(reply.sum, key + 1, "a correct sum");
                                Ok(())
                            }
                        };
                        let failed =
                            match tokio::time::timeout(CALL_TIMEOUT + HANG_MARGIN, call).await {
                                Ok(Ok(())) => None,
                                Ok(Err(status)) => Some(status.code()),
                                Err(_hung) => {
                                    hangs += 1;
                                    None
                                }
                            };
                        let since_fault = |instant: Instant| match *fault.lock().unwrap() {
                            Some(at) if instant >= at => (instant - at).as_secs_f64(),
                            Some(at) => -(at - instant).as_secs_f64(),
                            None => -1.0,
                        };
                        outcomes.push(Outcome {
                            started: since_fault(started),
                            ended: since_fault(Instant::now()),
                            now,
                            key,
                            failed,
                        });
                        if failed.is_some() {
                            // As a caller would: not a tight loop on errors.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                    (outcomes, hangs)
                })
            })
            .collect();
        Load { stop, tasks, fault }
    }

    /// Marks the moment of the fault.
    fn fault(&self) {
        *self.fault.lock().unwrap() = Some(Instant::now());
    }

    /// Runs until [`LOAD_AFTER_FAULT`] after the fault, then checks the
    /// outcomes against the handler's runs and reports recovery.
    /// Ends the load and checks it; `reruns` is how many non-idempotent
    /// calls may have run twice (see `ASYNC_REPLICATION_RERUNS`).
    async fn finish(self, scenario: &str, handler: &Counted, reruns: usize) {
        let at = self.fault.lock().unwrap().expect("the fault was marked");
        tokio::time::sleep_until(at + LOAD_AFTER_FAULT).await;
        self.stop.store(true, Ordering::SeqCst);
        let (mut outcomes, mut hangs) = (Vec::new(), 0);
        for task in self.tasks {
            let (some, hung) = task.await.unwrap();
            outcomes.extend(some);
            hangs += hung;
        }
        let mut failures: HashMap<String, usize> = HashMap::new();
        for outcome in outcomes.iter().filter(|o| o.failed.is_some()) {
            *failures
                .entry(format!("{:?}", outcome.failed.unwrap()))
                .or_default() += 1;
        }
        let first_failure = outcomes
            .iter()
            .filter(|o| o.failed.is_some())
            .map(|o| o.started)
            .fold(f64::INFINITY, f64::min);
        let last_failure = outcomes
            .iter()
            .filter(|o| o.failed.is_some())
            .map(|o| o.started)
            .fold(f64::NEG_INFINITY, f64::max);
        let served_late = outcomes
            .iter()
            .filter(|o| o.failed.is_none() && o.started > HEALED_WITHIN.as_secs_f64())
            .count();
        // Recovery: the end of the last stretch after the fault longer
        // than 250 ms in which no call succeeded (calls wait or fail
        // meanwhile); the longest such stretch is the outage.
        let mut successes: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.failed.is_none() && o.ended > 0.0)
            .map(|o| o.ended)
            .collect();
        successes.sort_by(f64::total_cmp);
        let (mut gap, mut recovered, mut previous) = (0.0, 0.0, 0.0);
        for ended in successes {
            gap = f64::max(gap, ended - previous);
            if ended - previous > 0.25 {
                recovered = ended;
            }
            previous = ended;
        }
        eprintln!(
            "{scenario}: {} calls, {hangs} hung, failed by code {failures:?}; \
             failures from {first_failure:+.2} s to {last_failure:+.2} s after the fault; \
             longest stretch without a success {gap:.2} s; served again {recovered:.2} s \
             after the fault",
            outcomes.len(),
        );
        assert!(
            recovered < HEALED_WITHIN.as_secs_f64(),
            "{scenario}: calls succeed again within {HEALED_WITHIN:?} of the fault"
        );
        assert_eq!(hangs, 0, "{scenario}: no call hangs past its deadline");
        assert!(
            last_failure < HEALED_WITHIN.as_secs_f64(),
            "{scenario}: every call started {HEALED_WITHIN:?} after the fault succeeds; \
             one started {last_failure:.2} s after it failed"
        );
        assert!(
            served_late > 10,
            "{scenario}: the bus serves calls after healing ({served_late})"
        );
        let runs = handler.now_runs.lock().unwrap();
        for outcome in outcomes.iter().filter(|o| o.now) {
            let ran = runs.get(&outcome.key).copied().unwrap_or(0);
            if outcome.failed.is_none() {
                assert!(ran >= 1, "{scenario}: an answered Now ran");
            }
        }
        let twice: Vec<_> = runs.iter().filter(|(_, ran)| **ran > 1).collect();
        eprintln!("{scenario}: non-idempotent calls that ran twice: {twice:?}");
        assert!(
            twice.iter().all(|(_, ran)| **ran == 2) && twice.len() <= reruns,
            "{scenario}: at most {reruns} non-idempotent calls ran twice: {twice:?}"
        );
    }
}

/// How many non-idempotent calls a Sentinel failover may run twice: a take
/// on the old master whose move had not reached the replica when it was
/// promoted leaves the request queued on the new master (replication is
/// asynchronous; seen once in about 8 000 calls at one failover). A
/// cluster's manual failover waits for the replica to catch up: none.
const ASYNC_REPLICATION_RERUNS: usize = 3;

/// A worker (serving `handler`) and a client, each a bus of its own on `url`.
async fn worker_and_client(url: &str, handler: &Counted) -> (RunningServer, Bus) {
    let worker = Bus::connect(url, "test")
        .await
        .expect("the worker connects");
    let server = Server::new(&worker)
        .add_service(MathServer::new(handler.clone()))
        .start()
        .await
        .expect("the worker starts");
    let client = Bus::connect(url, "test")
        .await
        .expect("the client connects");
    let math = MathClient::new(&client);
    assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum, 3);
    (server, client)
}

/// Starts a Sentinel deployment off the async runtime (it blocks while the
/// sentinels meet).
async fn sentinel() -> RedisSentinel {
    tokio::task::spawn_blocking(|| RedisSentinel::start().expect("the deployment starts"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_under_load() {
    let deployment = sentinel().await;
    let handler = Counted::default();
    let (_server, client) = worker_and_client(&deployment.url(), &handler).await;
    let load = Load::start(&client);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let old = deployment.master_port().unwrap();
    let deployment = Arc::new(deployment);
    load.fault();
    let started = Instant::now();
    let new = tokio::task::spawn_blocking({
        let deployment = deployment.clone();
        move || {
            deployment.failover().unwrap();
            deployment
                .wait_for_new_master(old, Duration::from_secs(10))
                .unwrap()
        }
    })
    .await
    .unwrap();
    eprintln!(
        "SENTINEL FAILOVER: the sentinels name {new} instead of {old} after {:?}",
        started.elapsed()
    );
    load.finish("SENTINEL FAILOVER", &handler, ASYNC_REPLICATION_RERUNS)
        .await;
    // Nothing of the bus stayed on the demoted master: only the sentinels
    // are its clients.
    let old_node = deployment
        .nodes()
        .iter()
        .find(|node| node.port() == old)
        .unwrap();
    let clients: String = redis::Client::open(old_node.url())
        .and_then(|client| client.get_connection())
        .and_then(|mut c| {
            redis::cmd("CLIENT")
                .arg("LIST")
                .arg("TYPE")
                .arg("normal")
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
    let deployment = sentinel().await;
    let handler = Counted::default();
    let (_server, client) = worker_and_client(&deployment.url(), &handler).await;
    let load = Load::start(&client);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let deployment = Arc::new(Mutex::new(deployment));
    load.fault();
    let started = Instant::now();
    let (old, new) = tokio::task::spawn_blocking({
        let deployment = deployment.clone();
        move || {
            let mut deployment = deployment.lock().unwrap();
            let old = deployment.kill_master().unwrap();
            let new = deployment
                .wait_for_new_master(old, Duration::from_secs(15))
                .unwrap();
            (old, new)
        }
    })
    .await
    .unwrap();
    eprintln!(
        "SIGKILL of the master: the sentinels name {new} instead of {old} after {:?}",
        started.elapsed()
    );
    load.finish("SIGKILL of the master", &handler, ASYNC_REPLICATION_RERUNS)
        .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_failover_under_load() {
    let cluster = tokio::task::spawn_blocking(|| {
        RedisCluster::builder()
            .replicas(1)
            .start()
            .expect("a 3-master cluster with a replica each starts")
    })
    .await
    .unwrap();
    let nodes: Vec<String> = cluster
        .nodes()
        .iter()
        .map(|node| format!("127.0.0.1:{}", node.port()))
        .collect();
    let url = format!("redis+cluster://{}", nodes.join(","));
    let handler = Counted::default();
    let (_server, client) = worker_and_client(&url, &handler).await;
    let load = Load::start(&client);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The master of the service's slot, and a replica of it.
    let mut any = redis::Client::open(cluster.nodes()[0].url())
        .unwrap()
        .get_connection()
        .unwrap();
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg("rb:{test:math.Math@1}:queue")
        .query(&mut any)
        .unwrap();
    // Each entry of CLUSTER SLOTS: start, end, the master as [ip, port,
    // id], then its replicas.
    let master_port = |any: &mut redis::Connection| -> u16 {
        let slots: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER").arg("SLOTS").query(any).unwrap();
        let entry = slots
            .iter()
            .find(|entry| {
                let start: u16 = redis::from_redis_value(entry[0].clone()).unwrap();
                let end: u16 = redis::from_redis_value(entry[1].clone()).unwrap();
                (start..=end).contains(&slot)
            })
            .expect("every slot is served");
        let master: Vec<redis::Value> = redis::from_redis_value(entry[2].clone()).unwrap();
        redis::from_redis_value(master[1].clone()).unwrap()
    };
    let old = master_port(&mut any);
    let replica = cluster.replica_of(old).expect("the master has a replica");
    let mut promoted = redis::Client::open(cluster.nodes()[replica].url())
        .unwrap()
        .get_connection()
        .unwrap();
    load.fault();
    let started = Instant::now();
    let () = redis::cmd("CLUSTER")
        .arg("FAILOVER")
        .query(&mut promoted)
        .unwrap();
    // Until the nodes agree on the new owner of the slot.
    loop {
        if master_port(&mut any) == cluster.nodes()[replica].port() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the failover ends"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "CLUSTER FAILOVER: the slot moved from {old} to {} after {:?}",
        cluster.nodes()[replica].port(),
        started.elapsed()
    );
    load.finish("CLUSTER FAILOVER", &handler, 0).await;
}
