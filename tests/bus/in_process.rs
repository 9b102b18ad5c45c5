//! The generated traits and clients work end to end over the in-memory bus:
//! a user implements the math trait and calls it through the generated
//! client, with encoding, deadlines and errors as on Redis.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use generated_examples::math::math_bus::{Math, MathClient, MathServer, methods};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis_bus::{Bus, CallOptions, Code, Method, Server, Status};

/// The math service, counting the sums it computes.
#[derive(Default)]
struct Calculator {
    sums: AtomicUsize,
}

#[redis_bus::codegen::async_trait]
impl Math for Calculator {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        self.sums.fetch_add(1, Ordering::Relaxed);
        let sum = request.a.checked_add(request.b).ok_or_else(|| {
            Status::out_of_range(format!("{} + {} overflows", request.a, request.b))
        })?;
        Ok(SumReply { sum })
    }

    async fn now(&self, request: NowRequest) -> Result<NowReply, Status> {
        if request.seed < 0 {
            // Sleeps past any reasonable deadline, to test deadlines.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Ok(NowReply { time: None })
    }
}

#[tokio::test]
async fn generated_client_calls_the_implemented_trait() {
    let bus = Bus::in_memory();
    let server = Server::new(&bus)
        .add_service(MathServer::new(Calculator::default()))
        .start()
        .await
        .expect("the server starts");
    let math = MathClient::new(&bus);

    let reply = math.sum(SumRequest { a: 1, b: 2 }).await.expect("1 + 2");
    assert_eq!(reply.sum, 3);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn handler_errors_reach_the_caller_unchanged() {
    let bus = Bus::in_memory();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(Calculator::default()))
        .start()
        .await
        .expect("the server starts");

    let status = MathClient::new(&bus)
        .sum(SumRequest { a: i64::MAX, b: 1 })
        .await
        .expect_err("overflow fails");
    assert_eq!(status.code(), Code::OutOfRange);
    assert_eq!(status.message(), "9223372036854775807 + 1 overflows");
}

#[tokio::test]
async fn call_fails_fast_without_live_instance() {
    let bus = Bus::in_memory();
    let status = MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .expect_err("nobody serves math");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status
            .message()
            .contains("no live worker serves math.Math 1.x"),
        "{status}"
    );
}

#[tokio::test]
async fn call_waits_for_a_worker_when_asked_to() {
    let bus = Bus::in_memory();
    let math = MathClient::new(&bus).with_options(CallOptions::new().wait_for_worker(true));
    let call = tokio::spawn(async move { math.sum(SumRequest { a: 2, b: 2 }).await });
    tokio::task::yield_now().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(Calculator::default()))
        .start()
        .await
        .expect("the server starts");
    assert_eq!(
        call.await
            .expect("no panic")
            .expect("served once a worker appears")
            .sum,
        4
    );
}

#[tokio::test]
async fn call_past_its_deadline_gets_deadline_exceeded() {
    let bus = Bus::in_memory();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(Calculator::default()))
        .start()
        .await
        .expect("the server starts");

    let status = MathClient::new(&bus)
        .with_timeout(Duration::from_millis(20))
        .now(NowRequest { seed: -1 })
        .await
        .expect_err("the handler outlives the deadline");
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(status.message().contains("math.Math/Now"), "{status}");
}

#[tokio::test]
async fn stopped_server_is_no_longer_reachable() {
    let bus = Bus::in_memory();
    let server = Server::new(&bus)
        .add_service(MathServer::new(Calculator::default()))
        .start()
        .await
        .expect("the server starts");
    server.shutdown().await.expect("clean shutdown");
    let status = MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .expect_err("the only instance stopped");
    assert_eq!(status.code(), Code::Unavailable);
}

#[test]
fn generated_metadata_carries_the_proto_options() {
    let sum = methods::Sum::INFO;
    assert_eq!(sum.full_name, "math.Math/Sum");
    assert_eq!(sum.cache_key, Some("{a}/{b}"));
    assert_eq!(sum.cache_ttl_seconds, Some(3600));
    assert!(sum.idempotent);
    assert_eq!(sum.schema_fingerprint.len(), 16);
    let now = methods::Now::INFO;
    assert_eq!(now.cache_key, Some("{seed}"));
    assert_eq!(now.cache_ttl_seconds, None);
    assert!(!now.idempotent);
    assert_ne!(sum.schema_fingerprint, now.schema_fingerprint);
    let service = methods::Sum::SERVICE;
    assert_eq!(
        (service.name, service.version, service.major_version()),
        ("math.Math", "1.2.0", 1)
    );
    assert_eq!(service.method("Now"), Some(&service.methods[1]));
}

#[test]
fn generated_cache_key_follows_the_template() {
    let mut key = redis_bus::CacheKeyWriter::new("{a}/{b}");
    methods::Sum::cache_key(&SumRequest { a: -1, b: 20 }, &mut key);
    assert_eq!(key.finish(), "-1/20");
}

#[test]
fn published_descriptors_keep_the_custom_options() {
    let pool = methods::Sum::SERVICE
        .descriptor_pool()
        .expect("the descriptor set decodes next to the well-known types");
    let service = pool
        .get_service_by_name("math.Math")
        .expect("math.Math is described");
    let sum = service
        .methods()
        .find(|m| m.name() == "Sum")
        .expect("Sum is described");
    let cache_key = pool
        .get_extension_by_name("redis_bus.cache_key")
        .expect("the options file travels along");
    assert_eq!(
        sum.options().get_extension(&cache_key).as_str(),
        Some("{a}/{b}")
    );
}
