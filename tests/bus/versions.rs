//! Version checks, enforced: clients reach only workers of their own major
//! version; a client with no compatible live worker hears which versions
//! are live; a worker whose schema breaks the wire with the live workers of
//! its major version refuses to start, naming the method and the field; a
//! client built from an incompatible schema is told so on first use.

use crate::common;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use redis_bus::{Bus, Code, ErrorKind, Server, Status};
use redis_bus_test_services::{
    v1_cache_changed, v1_compatible, v1_incompatible, v1_method_removed, v2,
};
use redis_bus_testing::RedisServer;

/// A 2.0.0 math service: sums its terms, times ten so that a test can tell
/// which major version answered.
struct MathV2;

#[redis_bus::codegen::async_trait]
impl v2::math::math_bus::Math for MathV2 {
    async fn sum(&self, request: v2::math::SumRequest) -> Result<v2::math::SumReply, Status> {
        Ok(v2::math::SumReply {
            sum: request.terms.iter().sum::<i64>() * 10,
        })
    }

    async fn now(&self, _request: v2::math::NowRequest) -> Result<v2::math::NowReply, Status> {
        Ok(v2::math::NowReply { time: None })
    }
}

/// Implements a 1.x variant of math; the tests only start them, so every
/// method answers a default reply.
macro_rules! math_v1_variant {
    ($name:ident, $module:ident $(, $method:ident : $request:ident -> $reply:ident)*) => {
        struct $name;

        #[redis_bus::codegen::async_trait]
        impl $module::math::math_bus::Math for $name {
            $(
                async fn $method(
                    &self,
                    _request: $module::math::$request,
                ) -> Result<$module::math::$reply, Status> {
                    Ok($module::math::$reply::default())
                }
            )*
        }
    };
}

math_v1_variant!(
    Compatible,
    v1_compatible,
    sum: SumRequest -> SumReply,
    product: SumRequest -> SumReply,
    now: NowRequest -> NowReply
);
math_v1_variant!(Incompatible, v1_incompatible, sum: SumRequest -> SumReply, now: NowRequest -> NowReply);
math_v1_variant!(CacheChanged, v1_cache_changed, sum: SumRequest -> SumReply, now: NowRequest -> NowReply);
math_v1_variant!(MethodRemoved, v1_method_removed, sum: SumRequest -> SumReply);

/// A redis-server with one math 1.2.0 worker, and its bus.
async fn with_v1_worker() -> (RedisServer, Bus, redis_bus::RunningServer) {
    let (redis, bus) = common::redis_and_bus().await;
    let worker = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .expect("math 1.2.0 starts");
    (redis, bus, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn major_versions_side_by_side_serve_only_their_own_clients() {
    let (_redis, bus, _v1) = with_v1_worker().await;
    let _v2 = Server::new(&bus)
        .add_service(v2::math::math_bus::MathServer::new(MathV2))
        .start()
        .await
        .expect("a new major version starts beside the old one");

    let v1_client = MathClient::new(&bus);
    let v2_client = v2::math::math_bus::MathClient::new(&bus);
    for _ in 0..20 {
        assert_eq!(
            v1_client.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum,
            3
        );
        let terms = vec![1, 2, 3];
        assert_eq!(
            v2_client
                .sum(v2::math::SumRequest { terms })
                .await
                .unwrap()
                .sum,
            60
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_compatible_live_worker_hears_the_live_versions() {
    let (redis, bus) = common::redis_and_bus().await;
    let mut workers = Vec::new();
    for _ in 0..3 {
        let worker_bus = common::connect(&redis, "test").await;
        workers.push(
            Server::new(&worker_bus)
                .add_service(v2::math::math_bus::MathServer::new(MathV2))
                .start()
                .await
                .unwrap(),
        );
    }
    let status = MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .expect_err("no 1.x worker is live");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("no live worker serves math.Math 1.x on bus \"test\" (this client is built for 1.2.0; live: 2.0.0 on 3 instances)"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_breaking_the_wire_refuses_to_start_naming_the_field() {
    let (_redis, bus, _v1) = with_v1_worker().await;
    let error = Server::new(&bus)
        .add_service(v1_incompatible::math::math_bus::MathServer::new(
            Incompatible,
        ))
        .start()
        .await
        .err()
        .expect("an incompatible 1.x worker is refused");
    assert_eq!(error.kind(), ErrorKind::Incompatible);
    assert_eq!(
        error.to_string(),
        "math.Math 1.3.0 cannot join the live math.Math (1.2.0 on 1 instance) on bus \"test\": \
         method Sum: field 2 (`b`) of math.SumRequest changed type from int64 to string"
    );
    assert_eq!(
        bus.discovery().instances("math.Math").await.unwrap().len(),
        1,
        "it never registered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_changing_a_cache_key_or_removing_a_method_refuses_to_start() {
    let (_redis, bus, _v1) = with_v1_worker().await;
    let error = Server::new(&bus)
        .add_service(v1_cache_changed::math::math_bus::MathServer::new(
            CacheChanged,
        ))
        .start()
        .await
        .err()
        .expect("a changed cache key is refused");
    assert!(
        error.to_string().ends_with(
            "method Sum: the cache key template changed from \"{a}/{b}\" to \"{b}/{a}\""
        ),
        "{error}"
    );
    let error = Server::new(&bus)
        .add_service(v1_method_removed::math::math_bus::MathServer::new(
            MethodRemoved,
        ))
        .start()
        .await
        .err()
        .expect("a removed method is refused");
    assert!(
        error
            .to_string()
            .ends_with("method Now was removed (the live instances serve it)"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compatible_worker_joins_and_serves() {
    let (_redis, bus, _v1) = with_v1_worker().await;
    let _compatible = Server::new(&bus)
        .add_service(v1_compatible::math::math_bus::MathServer::new(Compatible))
        .start()
        .await
        .expect("adding a field and a method is compatible");
    let versions = bus.discovery().services().await.unwrap()[0]
        .versions
        .clone();
    assert_eq!(
        versions,
        vec![("1.3.0".to_owned(), 1), ("1.2.0".to_owned(), 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_built_from_an_incompatible_schema_is_told_on_first_use() {
    let (_redis, bus, _v1) = with_v1_worker().await;
    let client = v1_incompatible::math::math_bus::MathClient::new(&bus);
    let status = client
        .sum(v1_incompatible::math::SumRequest {
            a: 1,
            b: "2".into(),
        })
        .await
        .expect_err("the schemas disagree on b");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "this client, built for math.Math 1.3.0, cannot call the live math.Math (1.2.0 on 1 instance) \
         on bus \"test\": method Sum: field 2 (`b`) of math.SumRequest changed type from int64 to string"
    );
    // A compatible client of a newer minor version calls fine.
    let newer = v1_compatible::math::math_bus::MathClient::new(&bus);
    let reply = newer
        .sum(v1_compatible::math::SumRequest { a: 1, b: 2, c: 0 })
        .await;
    assert_eq!(reply.expect("compatible").sum, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_incompatible_workers_starting_at_once_never_both_join() {
    let redis = RedisServer::start().expect("redis-server starts");
    for round in 0..20 {
        // A bus of its own per round: the race starts from nobody live.
        let bus = common::connect(&redis, &format!("race{round}")).await;
        let other = common::connect(&redis, &format!("race{round}")).await;
        let (current, incompatible) = tokio::join!(
            Server::new(&bus)
                .add_service(MathServer::new(common::Calculator::default()))
                .start(),
            Server::new(&other)
                .add_service(v1_incompatible::math::math_bus::MathServer::new(
                    Incompatible
                ))
                .start(),
        );
        let refused = match (&current, &incompatible) {
            (Ok(_), Err(error)) | (Err(error), Ok(_)) => error,
            _ => panic!(
                "round {round}: exactly one of two incompatible workers joins: {:?} {:?}",
                current.as_ref().err(),
                incompatible.as_ref().err()
            ),
        };
        assert_eq!(refused.kind(), ErrorKind::Incompatible, "{refused}");
        let live = bus.discovery().instances("math.Math").await.unwrap();
        assert_eq!(live.len(), 1, "round {round}: {live:?}");
    }
}
