//! Redis ACL users restrict who can do what on a bus: a client limited to
//! one service cannot call another, read its cache or register as it; each
//! refusal is a clear PERMISSION_DENIED naming the command and the key, and
//! the workers keep serving everyone else. The rules are those of
//! docs/ACL.md.

use crate::common;

use std::time::Duration;

use futures_util::StreamExt;
use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::random::{PickRequest, UuidRequest, UuidsRequest};
use generated_examples::services::{MathService, RandomService};
use redis_bus::{Bus, Code, DynamicClient, ErrorKind, Server};
use redis_bus_testing::RedisServer;

/// The commands every user of the bus needs to connect.
const CONNECT: &str = "+ping +hello +auth +client|setname +time";

/// The ACL rules of a worker of `service` on bus `bus` (docs/ACL.md).
pub(crate) fn worker_rules(bus: &str, service: &str) -> String {
    format!(
        "resetkeys ~rb:{{{bus}:{service}@*}}:* ~rb:{{{bus}:cache:{service}/*}}:* \
         ~rb:{{{bus}:client:*}}:replies ~rb:{{{bus}:client:*}}:stream:* \
         ~rb:{{{bus}:client:*}}:upload:* ~rb:{{{bus}:registry}}:* ~rb:{{{bus}:stats}}:* \
         -@all {CONNECT} +client|id +client|unblock +evalsha +eval +script|load \
         +lpop +lpush +rpush +lrem +lrange +lmove +blmove +llen +ltrim +rename +exists \
         +hset +hdel +hvals +hgetall +hincrby +pexpire +del \
         +zadd +zrem +zcount +zrangebyscore +zscore +sadd +smembers +xadd +xread +xtrim +get +set \
         +incr +multi +exec"
    )
}

/// The ACL rules of an application named `name` calling `service` on bus
/// `bus` (docs/ACL.md): it owns its reply lists, reads the registry and the
/// service's cache, and may only push to the service's queue and reports
/// (a selector: no other command reaches those keys).
pub(crate) fn client_rules(bus: &str, service: &str, name: &str) -> String {
    format!(
        "resetkeys ~rb:{{{bus}:client:{name}-* %R~rb:{{{bus}:{service}@*}}:instances \
         %R~rb:{{{bus}:{service}@*}}:instance:* %R~rb:{{{bus}:registry}}:* \
         %R~rb:{{{bus}:cache:{service}/*}}:* \
         -@all {CONNECT} +evalsha +eval +script|load +lrange +blmove +rename +exists +del \
         +zcount +zrangebyscore +smembers +hgetall +mget +set +xadd +xlen +pexpire \
         (%W~rb:{{{bus}:{service}@*}}:queue %W~rb:{{{bus}:{service}@*}}:reports +rpush)"
    )
}

/// Creates ACL user `user` with password `user` and `rules`.
pub(crate) fn add_user(redis: &RedisServer, user: &str, rules: &str) {
    let mut command = redis::cmd("ACL");
    command
        .arg("SETUSER")
        .arg(user)
        .arg("reset")
        .arg("on")
        .arg(format!(">{user}"));
    // A selector, `(...)`, is one argument however many rules it holds.
    let mut selector: Option<String> = None;
    for rule in rules.split_whitespace() {
        match &mut selector {
            Some(open) => {
                open.push(' ');
                open.push_str(rule);
            }
            None if rule.starts_with('(') => selector = Some(rule.to_owned()),
            None => {
                command.arg(rule);
            }
        }
        if selector.as_deref().is_some_and(|open| open.ends_with(')')) {
            command.arg(selector.take());
        }
    }
    let _: () = command
        .query(&mut common::inspect(redis))
        .expect("the ACL rules parse");
}

/// A bus as ACL user `user`.
pub(crate) async fn bus_as(
    redis: &RedisServer,
    user: &str,
    client_name: &str,
) -> Result<Bus, redis_bus::Error> {
    Bus::builder(
        &format!("redis://{user}:{user}@127.0.0.1:{}/", redis.port()),
        "prod",
    )
    .heartbeat(Duration::from_millis(100), Duration::from_millis(600))
    .client_name(client_name)
    .connect()
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_limited_to_one_service_touches_no_other() {
    let redis = RedisServer::start().expect("redis-server starts");
    add_user(&redis, "math-worker", &worker_rules("prod", "math.Math"));
    add_user(
        &redis,
        "random-worker",
        &worker_rules("prod", "random.Random"),
    );
    add_user(
        &redis,
        "random-app",
        &client_rules("prod", "random.Random", "random-app"),
    );
    add_user(
        &redis,
        "math-app",
        &client_rules("prod", "math.Math", "math-app"),
    );

    let math_worker = bus_as(&redis, "math-worker", "math-worker").await.unwrap();
    let _math = Server::new(&math_worker)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let random_worker = bus_as(&redis, "random-worker", "random-worker")
        .await
        .unwrap();
    let _random = Server::new(&random_worker)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();

    // random-app may call random.Random.
    let app = bus_as(&redis, "random-app", "random-app").await.unwrap();
    let uuid = RandomClient::new(&app)
        .uuid(UuidRequest {})
        .await
        .expect("its own service");
    assert_eq!(uuid.uuid.len(), 36);
    // And its streaming rpcs, both ways.
    let random = RandomClient::new(&app);
    let uuids: Vec<_> = random
        .uuids(UuidsRequest {
            count: 100,
            interval_ms: 0,
        })
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(uuids.len(), 100);
    assert!(uuids.iter().all(Result::is_ok), "{:?}", uuids.last());
    let items = (0..100).map(|n| PickRequest {
        item: n.to_string(),
    });
    let picked = random
        .pick(futures_util::stream::iter(items))
        .await
        .expect("its own stream of requests");
    assert_eq!(picked.count, 100);

    // It may not call math.Math, whose cache it may not read either.
    let math = MathClient::new(&app);
    let status = math
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .expect_err("not its service");
    assert_eq!(status.code(), Code::PermissionDenied, "{status}");
    assert!(
        status
            .message()
            .starts_with("Redis refused MGET rb:{prod:cache:math.Math/Sum}:"),
        "{status}"
    );
    assert!(status.message().contains("no permissions"), "{status}");
    let dynamic = DynamicClient::connect(&app, "math.Math").await;
    assert!(dynamic.is_err(), "math.Math is not even visible to it");

    // An uncached method of another service is refused at its queue.
    let math_app = bus_as(&redis, "math-app", "math-app").await.unwrap();
    let status = RandomClient::new(&math_app)
        .uuid(UuidRequest {})
        .await
        .expect_err("math-app may not call random.Random");
    assert_eq!(status.code(), Code::PermissionDenied, "{status}");
    assert!(
        status
            .message()
            .starts_with("Redis refused RPUSH rb:{prod:random.Random@1}:queue for random.Random"),
        "{status}"
    );

    // It may not register as math.Math.
    let error = Server::new(&app)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .err()
        .expect("a client may not serve another service");
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error:?}");
    assert!(
        error.to_string().starts_with(
            "cannot register the worker: Redis refused HSET rb:{prod:math.Math@1}:instance:"
        ),
        "{error}"
    );

    // The workers kept serving everyone else.
    let sum = MathClient::new(&math_app)
        .sum(SumRequest { a: 40, b: 2 })
        .await
        .unwrap();
    assert_eq!(sum.sum, 42);
    assert_eq!(
        RandomClient::new(&app)
            .uuid(UuidRequest {})
            .await
            .unwrap()
            .uuid
            .len(),
        36
    );
}

/// The ACL rules of an operator of bus `bus` (docs/ACL.md).
fn operator_rules(bus: &str) -> String {
    format!("resetkeys ~rb:{{{bus}:* +@all -@dangerous +cluster|nodes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_and_cleans_up_the_bus_without_dangerous_commands() {
    let redis = RedisServer::start().expect("redis-server starts");
    add_user(&redis, "math-worker", &worker_rules("prod", "math.Math"));
    add_user(&redis, "operator", &operator_rules("prod"));
    let _: () = redis::cmd("SET")
        .arg("not-the-bus")
        .arg(1)
        .query(&mut common::inspect(&redis))
        .unwrap();
    let worker = bus_as(&redis, "math-worker", "math-worker").await.unwrap();
    let server = Server::new(&worker)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();

    let operator = bus_as(&redis, "operator", "operator").await.unwrap();
    let math = DynamicClient::connect(&operator, "math.Math")
        .await
        .expect("the operator sees math");
    let request = math
        .request_from_json("Sum", r#"{"a": 1, "b": 1}"#)
        .unwrap();
    math.call("Sum", &request).await.expect("and may call it");
    assert!(
        math.clear_cache("Sum", None).await.unwrap(),
        "and clear its cache"
    );
    operator.flush_stats().await.unwrap();
    assert!(!operator.discovery().stats().await.unwrap().is_empty());

    server.shutdown().await.unwrap();
    assert!(operator.cleanup().await.expect("cleanup needs no KEYS") > 0);
    assert_eq!(operator.count_keys().await.unwrap(), 0);
    let other: bool = redis::cmd("EXISTS")
        .arg("not-the-bus")
        .query(&mut common::inspect(&redis))
        .unwrap();
    assert!(other, "nothing outside the bus is touched");
}
