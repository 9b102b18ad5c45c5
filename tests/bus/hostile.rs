//! The worker trusts nothing a request says, tried as an attacker would:
//! raw Redis commands, hand-built `wire` envelopes, real ACL users. After
//! each attack the worker answers the next real call, cached values are
//! right, and what an application may not do is refused by Redis.

use crate::acl::{add_user, bus_as, client_rules, worker_rules};
use crate::common::{self, near_cache_bus, sum_entry};

use std::collections::BTreeMap;
use std::process::Child;
use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use generated_examples::services::MathService;
use proptest::prelude::*;
use redis::Commands;
use redis_bus::codegen::prost::Message;
use redis_bus::codegen::prost::encoding::{WireType, encode_key, encode_varint};
use redis_bus::{CallOptions, Code, Server, wire};
use redis_bus_testing::RedisServer;

/// The math queue of bus `test`.
const QUEUE: &str = "rb:{test:math.Math@1}:queue";

/// A queued element: a 16-byte id, then `request`, then `extra` raw bytes
/// (fields the envelope no longer has, as an old or hostile client sends).
fn element(id: u8, request: &wire::Request, extra: &[u8]) -> Vec<u8> {
    let mut element = vec![id; 16];
    element.extend(request.encode_to_vec());
    element.extend_from_slice(extra);
    element
}

/// A hand-built request of math's `method` with `payload`, answered to the
/// reply list of client `client`.
fn request(method: &str, payload: Vec<u8>, client: &str) -> wire::Request {
    wire::Request {
        method: method.to_owned(),
        payload: payload.into(),
        reply_client: client.to_owned(),
        ..Default::default()
    }
}

/// The removed fields 8 (`cache_key`) and 9 (`cache_generation`), encoded
/// by hand: what the worker used to trust.
fn legacy_cache_fields(entry: &str, generation: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_key(8, WireType::LengthDelimited, &mut bytes);
    encode_varint(entry.len() as u64, &mut bytes);
    bytes.extend_from_slice(entry.as_bytes());
    encode_key(9, WireType::Varint, &mut bytes);
    encode_varint(generation, &mut bytes);
    bytes
}

/// Waits for the reply that a hand-built request got on client `client`'s
/// reply list.
fn reply_to(redis: &RedisServer, client: &str) -> wire::Reply {
    let list = format!("rb:{{test:client:{client}}}:replies");
    let (_, reply): (String, Vec<u8>) = common::inspect(redis)
        .blpop(list, 10.0)
        .expect("a reply arrives");
    wire::Reply::decode(&reply[..]).expect("the reply decodes")
}

/// Asserts that math on `bus` answers real calls.
async fn still_serves(bus: &redis_bus::Bus) {
    let math = MathClient::new(bus).with_timeout(Duration::from_secs(5));
    for a in 0..20 {
        let reply = math.sum(SumRequest { a, b: 1000 }).await;
        assert_eq!(reply.expect("the worker answers").sum, a + 1000);
    }
}

async fn serve_math(bus: &redis_bus::Bus) -> redis_bus::RunningServer {
    Server::new(bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .expect("the worker starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cannot_choose_where_its_reply_goes() {
    let (redis, bus) = common::redis_and_bus().await;
    let _server = serve_math(&bus).await;
    let mut inspect = common::inspect(&redis);
    // A client reply list that is not a list: the reply to it fails, alone.
    let _: () = inspect
        .set("rb:{test:client:evil}:replies", "a string")
        .unwrap();
    let sum = SumRequest { a: 3, b: 4 }.encode_to_vec();
    let mut hostile = vec![element(1, &request("Sum", sum.clone(), "evil"), &[])];
    // Names that would reach the worker's own keys, another bus, or none.
    for client in [
        "x}:queue",
        "}:instances",
        "../math.Math@1}:instance",
        "a:b",
        "{other}",
        "",
        &"c".repeat(129),
    ] {
        hostile.push(element(2, &request("Sum", sum.clone(), client), &[]));
    }
    let _: () = inspect.rpush(QUEUE, hostile).unwrap();

    still_serves(&bus).await;
    let evil: String = inspect.get("rb:{test:client:evil}:replies").unwrap();
    assert_eq!(evil, "a string", "nothing was written over it");
    let instances = "rb:{test:math.Math@1}:instances";
    let ttl: i64 = inspect.pttl(instances).unwrap();
    assert_eq!(ttl, -1, "the worker's own keys get no expiry");
    let kind: String = redis::cmd("TYPE")
        .arg(instances)
        .query(&mut inspect)
        .unwrap();
    assert_eq!(kind, "zset");
    let keys: Vec<String> = inspect.keys("*").unwrap();
    for key in &keys {
        assert!(
            !key.contains("x}:queue") && !key.contains("{other}") && !key.contains("../"),
            "a request named {key}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cannot_choose_its_cache_entry_or_generation() {
    let (redis, bus) = common::redis_and_bus().await;
    let _server = serve_math(&bus).await;
    let math = MathClient::new(&bus);
    assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum, 3);
    let generation = "rb:{test:cache:math.Math/Sum}:generation";
    // Sum(500, 5), claiming to be the entry of Sum(1, 2) with a huge
    // generation, then claiming the method's generation counter.
    let payload = SumRequest { a: 500, b: 5 }.encode_to_vec();
    let poison = [
        legacy_cache_fields(&sum_entry(1, 2), 1 << 60),
        legacy_cache_fields(generation, 1 << 60),
    ];
    for (id, extra) in poison.iter().enumerate() {
        let sum = request("Sum", payload.clone(), "raw");
        let _: () = common::inspect(&redis)
            .rpush(QUEUE, element(id as u8, &sum, extra))
            .unwrap();
        let reply = reply_to(&redis, "raw");
        assert!(
            matches!(reply.outcome, Some(wire::reply::Outcome::Payload(_))),
            "the request itself is answered: {reply:?}"
        );
    }
    math.clear_cache().sum_all().await.unwrap();
    assert_eq!(
        math.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum,
        3,
        "the entry of Sum(1, 2) holds Sum(1, 2)"
    );
    assert_eq!(
        math.sum(SumRequest { a: 500, b: 5 }).await.unwrap().sum,
        505
    );
    let counter: String = common::inspect(&redis).get(generation).unwrap();
    assert_eq!(counter, "1", "the generation counts clears, nothing else");
    math.clear_cache().sum_all().await.expect("clear-all works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_may_only_push_to_the_queues_it_calls() {
    let redis = RedisServer::start().expect("redis-server starts");
    let queue = "rb:{prod:math.Math@1}:queue";
    add_user(&redis, "math-worker", &worker_rules("prod", "math.Math"));
    add_user(
        &redis,
        "billing",
        &client_rules("prod", "math.Math", "billing"),
    );
    let worker = bus_as(&redis, "math-worker", "math-worker").await.unwrap();
    let server = Server::new(&worker)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let app = bus_as(&redis, "billing", "billing").await.unwrap();
    let math = MathClient::new(&app);
    assert_eq!(math.sum(SumRequest { a: 2, b: 2 }).await.unwrap().sum, 4);
    assert_eq!(math.sum(SumRequest { a: 2, b: 2 }).await.unwrap().sum, 4);
    app.flush_stats().await.expect("reports are pushed");

    let client = redis::Client::open(format!(
        "redis://billing:billing@127.0.0.1:{}/",
        redis.port()
    ))
    .unwrap();
    let mut attacker = client.get_connection().unwrap();
    let entry = "rb:{prod:cache:math.Math/Sum}:0000000000000000:1/2";
    let attacks: Vec<(&str, redis::Cmd)> = vec![
        (
            "read the queue",
            redis::cmd("LRANGE").arg(queue).arg(0).arg(-1).clone(),
        ),
        (
            "remove requests",
            redis::cmd("LREM").arg(queue).arg(0).arg("x").clone(),
        ),
        ("pop requests", redis::cmd("LPOP").arg(queue).clone()),
        (
            "steal requests",
            redis::cmd("BLMOVE")
                .arg(queue)
                .arg("rb:{prod:client:billing-x}:loot")
                .arg("LEFT")
                .arg("RIGHT")
                .arg(0.1)
                .clone(),
        ),
        ("delete the queue", redis::cmd("DEL").arg(queue).clone()),
        (
            "rename the queue",
            redis::cmd("RENAME")
                .arg(queue)
                .arg("rb:{prod:client:billing-x}:loot")
                .clone(),
        ),
        (
            "write statistics",
            redis::cmd("HINCRBY")
                .arg("rb:{prod:stats}:method:math.Math/Sum")
                .arg("calls")
                .arg(1000)
                .clone(),
        ),
        (
            "write a cache entry",
            redis::cmd("SET").arg(entry).arg("0:x").clone(),
        ),
        (
            "register as the service",
            redis::cmd("HSET")
                .arg("rb:{prod:math.Math@1}:instance:fake")
                .arg("version")
                .arg("1.2.0")
                .clone(),
        ),
        (
            "join as a live worker",
            redis::cmd("ZADD")
                .arg("rb:{prod:math.Math@1}:instances")
                .arg(i64::MAX)
                .arg("fake")
                .clone(),
        ),
        (
            "answer another client",
            redis::cmd("RPUSH")
                .arg("rb:{prod:client:victim}:replies")
                .arg("forged")
                .clone(),
        ),
    ];
    for (attack, command) in attacks {
        let refused = command
            .query::<redis::Value>(&mut attacker)
            .expect_err(attack);
        assert_eq!(refused.code(), Some("NOPERM"), "{attack}: {refused}");
    }
    // What it may do: push to the queue (junk is dropped by the worker).
    let _: () = attacker.rpush(queue, "junk").expect("an app may push");
    assert_eq!(math.sum(SumRequest { a: 40, b: 2 }).await.unwrap().sum, 42);

    // With no live worker it is told UNAVAILABLE at once, without LREM.
    server.shutdown().await.unwrap();
    let status = math.sum(SumRequest { a: 7, b: 7 }).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replies_cannot_answer_a_call() {
    let (redis, _) = common::redis_and_bus().await;
    let victim = redis_bus::Bus::builder(&redis.url(), "test")
        .client_name("victim")
        .connect()
        .await
        .unwrap();
    let calculator = common::Calculator {
        sum_delay: Duration::from_millis(500),
        ..Default::default()
    };
    let _server = Server::new(&victim)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&victim);
    let call = tokio::spawn(async move { math.sum(SumRequest { a: 20, b: 22 }).await });
    common::eventually(Duration::from_secs(5), "the call runs", || {
        calculator.runs() == 1
    })
    .await;
    // The reply list is no secret (here it is read from the request the
    // worker holds); the call's id is. Guesses in the style of counters and
    // of small numbers all miss.
    let mut inspect = common::inspect(&redis);
    let filed: Vec<String> = inspect.keys("rb:{test:math.Math@1}:landing:*").unwrap();
    let taken: Vec<String> = inspect.keys("rb:{test:math.Math@1}:taken:*").unwrap();
    let mut held: Vec<Vec<u8>> = Vec::new();
    for key in filed {
        held.extend(inspect.lrange::<_, Vec<Vec<u8>>>(key, 0, -1).unwrap());
    }
    for key in taken {
        held.extend(inspect.hvals::<_, Vec<Vec<u8>>>(key).unwrap());
    }
    let victim_request =
        wire::Request::decode(&held.first().expect("the worker holds the call")[16..]).unwrap();
    let list = format!("rb:{{test:client:{}}}:replies", victim_request.reply_client);
    let forged: Vec<Vec<u8>> = (0u64..2000)
        .map(|guess| {
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(&guess.to_be_bytes());
            id[..8].copy_from_slice(&(guess >> 3).to_be_bytes());
            wire::Reply {
                id: id.to_vec().into(),
                outcome: Some(wire::reply::Outcome::Payload(
                    generated_examples::math::SumReply { sum: -1 }
                        .encode_to_vec()
                        .into(),
                )),
                ..Default::default()
            }
            .encode_to_vec()
        })
        .collect();
    let _: () = inspect.rpush(&list, forged).unwrap();
    let reply = call.await.unwrap().expect("the real reply arrives");
    assert_eq!(reply.sum, 42, "no forged reply answered the call");
}

/// A read of `INFO commandstats`: how many times `command` ran.
fn command_calls(inspect: &mut redis::Connection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(inspect)
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stampede_waiters_hold_no_permit_and_back_off() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .max_concurrency(4)
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    let mut inspect = common::inspect(&redis);
    let scripts_before = command_calls(&mut inspect, "evalsha");
    // Four identical misses of a Now that takes 3 s: one runs, three wait.
    let misses: Vec<_> = (0..4)
        .map(|_| {
            let math = math.clone();
            tokio::spawn(async move { math.now(NowRequest { seed: -3000 }).await })
        })
        .collect();
    common::eventually(Duration::from_secs(5), "the first miss runs", || {
        calculator.runs() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // An unrelated call gets a permit while they wait.
    let sum = math.sum(SumRequest { a: 1, b: 1 }).await.unwrap();
    assert_eq!(sum.sum, 2);
    assert!(
        misses.iter().all(|miss| !miss.is_finished()),
        "the unrelated call was answered while the misses still waited"
    );
    let times: Vec<_> = futures_util::future::join_all(misses)
        .await
        .into_iter()
        .map(|miss| miss.unwrap().unwrap().time)
        .collect();
    assert!(times.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(calculator.runs(), 2, "the handler ran once for the four");
    let scripts = command_calls(&mut inspect, "evalsha") - scripts_before;
    // Three waiters looking every 5 ms for 3 s would be about 1800 looks;
    // backing off to 200 ms makes it about 20 each.
    assert!(
        scripts < 120,
        "{scripts} scripts ran while three calls waited"
    );
}

/// Kills a worker process and reaps it.
fn kill(mut worker: Child) {
    worker.kill().unwrap();
    worker.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_lock_holder_dies_its_followers_take_over_within_the_lease() {
    let (redis, bus) = common::redis_and_bus().await;
    let busy = common::process::WorkerOptions {
        concurrency: Some(1),
        ..Default::default()
    };
    let holder = common::process::spawn_worker(&redis.url(), "test", Duration::ZERO, &busy);
    // Now is cached and not idempotent: the holder's own call is never
    // re-run, so only the lock's lease can free the entry.
    let slow = NowRequest { seed: -3000 };
    let first = tokio::spawn({
        let math = MathClient::new(&bus).with_timeout(Duration::from_secs(30));
        async move { math.now(slow).await }
    });
    let mut inspect = common::inspect(&redis);
    common::eventually(Duration::from_secs(5), "the holder takes the lock", || {
        !inspect
            .keys::<_, Vec<String>>("rb:{test:cache:math.Math/Now}:lock:*")
            .unwrap()
            .is_empty()
    })
    .await;
    let follower = common::process::spawn_math_worker(&redis.url(), "test", Duration::ZERO);
    // The holder has no free permit: the follower takes the second call,
    // and waits for the entry.
    let second = tokio::spawn({
        let math = MathClient::new(&bus).with_timeout(Duration::from_secs(15));
        async move { math.now(slow).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill(holder);
    let status = first.await.unwrap().expect_err("its worker died");
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    // Before leases, the dead holder's lock lasted the first call's whole
    // budget (30 s), past the second call's deadline.
    let reply = second.await.unwrap().expect("the follower took over");
    assert!(reply.time.is_some());
    kill(follower);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_kills_its_workers_fails_after_max_deliveries() {
    let (redis, bus) = common::redis_and_bus().await;
    let poisoned = common::process::WorkerOptions {
        abort_on: Some(-666),
        max_deliveries: Some(2),
        ..Default::default()
    };
    let mut workers: Vec<Child> = (0..3)
        .map(|_| common::process::spawn_worker(&redis.url(), "test", Duration::ZERO, &poisoned))
        .collect();
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(30));
    let status = math
        .sum(SumRequest { a: -666, b: 1 })
        .await
        .expect_err("the request kills every worker that runs it");
    assert_eq!(status.code(), Code::Internal, "{status}");
    assert!(
        status.message().contains("was delivered 3 times"),
        "{status}"
    );
    let dead = workers
        .iter_mut()
        .filter_map(|worker| worker.try_wait().unwrap())
        .count();
    assert_eq!(dead, 2, "two workers ran it and died; the third refused it");
    assert_eq!(math.sum(SumRequest { a: 1, b: 1 }).await.unwrap().sum, 2);
    for worker in workers {
        let _ = kill_if_alive(worker);
    }
}

fn kill_if_alive(mut worker: Child) -> std::io::Result<()> {
    if worker.try_wait()?.is_none() {
        worker.kill()?;
    }
    worker.wait().map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_never_reads_what_it_cleared_from_its_near_cache() {
    let redis = RedisServer::start().expect("redis-server starts");
    let bus = near_cache_bus(&redis).await;
    let _server = serve_math(&bus).await;
    let math = MathClient::new(&bus);
    let request = NowRequest { seed: 5 };
    for round in 0..50 {
        let before = math.now(request).await.unwrap().time;
        assert_eq!(math.now(request).await.unwrap().time, before, "cached");
        if round % 2 == 0 {
            math.clear_cache().now_all().await.unwrap();
        } else {
            math.clear_cache().now(&request).await.unwrap();
        }
        let after = math.now(request).await.unwrap().time;
        assert_ne!(after, before, "round {round}: read a cleared entry");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn junk_is_logged_at_a_bounded_rate() {
    let (logs, _capturing) = common::logs::capture();
    let (redis, bus) = common::redis_and_bus().await;
    let _server = serve_math(&bus).await;
    let mut inspect = common::inspect(&redis);
    for _ in 0..10 {
        let junk: Vec<&str> = vec!["junk"; 1000];
        let _: () = inspect.rpush(QUEUE, junk).unwrap();
    }
    // Queued behind the junk: answered once all of it was dropped.
    still_serves(&bus).await;
    let logged = logs.text();
    let lines = logged
        .lines()
        .filter(|line| line.contains("not a redis-bus request"))
        .count();
    assert_eq!(lines, 1, "10 000 junk entries, one line: {logged}");
}

/// Every key of the bus that hostile requests must leave as it was, with
/// its value: the cache, the registry, other buses, keys of no bus.
fn protected(inspect: &mut redis::Connection) -> BTreeMap<String, Vec<u8>> {
    let keys: Vec<String> = inspect.keys("*").unwrap();
    keys.into_iter()
        .filter(|key| {
            // What a worker changes while it serves: its own bookkeeping,
            // statistics, events, and clients' reply lists.
            !(key.starts_with("rb:{test:math.Math@1}:")
                || key.starts_with("rb:{test:stats}")
                || key == "rb:{test:registry}:events"
                || (key.starts_with("rb:{test:client:")
                    && key != "rb:{test:client:victim}:replies"))
        })
        .map(|key| {
            let dump: Vec<u8> = redis::cmd("DUMP").arg(&key).query(inspect).unwrap();
            (key, dump)
        })
        .collect()
}

/// One hostile element: random bytes, or a real request mutated.
fn hostile_element() -> impl Strategy<Value = Vec<u8>> {
    let clients = prop::sample::select(vec![
        "victim",
        "x}:queue",
        "raw",
        "",
        "a:b",
        "{test:cache",
        "ok-client",
    ]);
    let methods = prop::sample::select(vec!["Sum", "Now", "Nope", ""]);
    let mutated = (
        methods,
        clients,
        prop::collection::vec(any::<u8>(), 0..24),
        any::<bool>(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        any::<Option<usize>>(),
    )
        .prop_map(|(method, client, payload, refresh, flips, cut)| {
            let mut request = request(method, payload, client);
            request.cache_refresh = refresh;
            let mut bytes = element(7, &request, &legacy_cache_fields(&sum_entry(1, 2), 99));
            for (at, value) in flips {
                let at = at % bytes.len();
                bytes[at] ^= value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut % (bytes.len() + 1));
            }
            bytes
        });
    prop_oneof![prop::collection::vec(any::<u8>(), 0..64), mutated]
}

#[test]
fn random_and_mutated_envelopes_change_nothing_they_may_not() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (redis, bus, _server) = runtime.block_on(async {
        let (redis, bus) = common::redis_and_bus().await;
        let server = serve_math(&bus).await;
        (redis, bus, server)
    });
    let inspect = std::cell::RefCell::new(common::inspect(&redis));
    let mut admin = common::inspect(&redis);
    let inspect_ref = &inspect;
    runtime.block_on(async {
        let math = MathClient::new(&bus);
        assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum, 3);
    });
    let _: () = admin.set("not-the-bus", "untouched").unwrap();
    let _: () = admin
        .set("rb:{test:client:victim}:replies", "a string")
        .unwrap();
    let _: () = admin
        .rpush("rb:{other:math.Math@1}:queue", "theirs")
        .unwrap();
    let before = protected(&mut admin);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let batch = prop::collection::vec(hostile_element(), 1..30);
    runner
        .run(&batch, |batch| {
            let _: () = inspect_ref.borrow_mut().rpush(QUEUE, batch).unwrap();
            runtime.block_on(async {
                let math = MathClient::new(&bus)
                    .with_options(CallOptions::new().timeout(Duration::from_secs(5)));
                // Behind the batch in the queue: answered after it.
                let reply = math.sum(SumRequest { a: 40, b: 2 }).await;
                prop_assert_eq!(reply.map(|r| r.sum), Ok(42));
                let cached = math.sum(SumRequest { a: 1, b: 2 }).await;
                prop_assert_eq!(cached.map(|r| r.sum), Ok(3));
                Ok(())
            })?;
            let now = protected(&mut inspect_ref.borrow_mut());
            // A hostile Sum may be cached under its own arguments' entry,
            // as any caller's is; nothing else in the cache may change.
            let changed: Vec<&String> = now
                .iter()
                .filter(|(key, dump)| {
                    let new_cache_entry =
                        key.starts_with("rb:{test:cache:") && !before.contains_key(*key);
                    !new_cache_entry && before.get(*key) != Some(*dump)
                })
                .map(|(key, _)| key)
                .chain(before.keys().filter(|key| !now.contains_key(*key)))
                .collect();
            prop_assert!(changed.is_empty(), "changed: {:?}", changed);
            Ok(())
        })
        .unwrap();
}
