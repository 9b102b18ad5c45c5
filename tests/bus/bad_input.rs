//! Bad input never stops a worker: garbage in the queue, an unknown method,
//! an undecodable or oversized request, a panicking handler. Each caller
//! that can be identified gets a precise status, and the worker goes on.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use redis::Commands;
use redis_bus::codegen::prost::Message;
use redis_bus::{Code, Server, wire};
use redis_bus_testing::RedisServer;

/// The math queue of bus `test`.
const QUEUE: &str = "rb:{test:math.Math@1}:queue";

/// Queues a hand-made request for math and returns the reply that arrives
/// on the reply list of client `raw`.
fn send_raw(redis: &RedisServer, method: &str, payload: Vec<u8>) -> wire::Reply {
    let mut connection = common::inspect(redis);
    let reply_to = "rb:{test:client:raw}:replies";
    let request = wire::Request {
        method: method.to_owned(),
        payload: payload.into(),
        reply_client: "raw".to_owned(),
        ..Default::default()
    };
    let mut element = vec![0xAB; 16];
    element.extend(request.encode_to_vec());
    let _: () = connection.rpush(QUEUE, element).unwrap();
    let (_, reply): (String, Vec<u8>) = connection.blpop(reply_to, 10.0).expect("a reply arrives");
    wire::Reply::decode(&reply[..]).expect("the reply decodes")
}

/// The status a hand-made request got.
fn status_of(reply: wire::Reply) -> wire::Status {
    match reply.outcome {
        Some(wire::reply::Outcome::Status(status)) => status,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Asserts that the worker on `bus` still answers.
async fn still_serves(bus: &redis_bus::Bus) {
    let reply = MathClient::new(bus).sum(SumRequest { a: 40, b: 2 }).await;
    assert_eq!(reply.expect("the worker goes on serving").sum, 42);
}

#[tokio::test(flavor = "current_thread")]
async fn garbage_pushed_with_redis_cli_is_dropped_and_the_worker_goes_on() {
    let (logs, _capturing) = common::logs::capture();
    let (redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    for garbage in ["hello", "this is definitely not a protobuf envelope at all"] {
        let status = Command::new("redis-cli")
            .args(["-p", &redis.port().to_string(), "RPUSH", QUEUE, garbage])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(status.success());
    }
    still_serves(&bus).await;
    let mut inspect = common::inspect(&redis);
    common::eventually(
        Duration::from_secs(5),
        "the garbage left the queue and the worker",
        || {
            let queued: usize = inspect.llen(QUEUE).unwrap();
            let filed: Vec<String> = inspect.keys("rb:{test:math.Math@1}:taken:*").unwrap();
            queued == 0 && filed.is_empty()
        },
    )
    .await;
    let logged = logs.text();
    assert!(
        logged.contains("dropping a queued element that is not a redis-bus request: 5 bytes is shorter than the 16-byte request id"),
        "{logged}"
    );
    assert!(logged.contains("the envelope does not decode"), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_method_gets_unimplemented_naming_the_methods() {
    let (redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let status = status_of(send_raw(&redis, "Divide", vec![]));
    assert_eq!(Code::from_i32(status.code), Code::Unimplemented);
    assert_eq!(
        status.message,
        "math.Math 1.2.0 has no method \"Divide\" (its methods: Sum, Now)"
    );
    still_serves(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_request_gets_invalid_argument_naming_the_type() {
    let (redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let status = status_of(send_raw(&redis, "Sum", vec![0xff, 0xff, 0xff]));
    assert_eq!(Code::from_i32(status.code), Code::InvalidArgument);
    assert!(
        status
            .message
            .starts_with("the request to math.Math/Sum does not decode as math.SumRequest"),
        "{}",
        status.message
    );
    assert_eq!(calculator.runs(), 0, "the handler never saw it");
    still_serves(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_gets_resource_exhausted() {
    let (redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .max_request_bytes(64)
        .start()
        .await
        .unwrap();
    let status = status_of(send_raw(&redis, "Sum", vec![0; 1000]));
    assert_eq!(Code::from_i32(status.code), Code::ResourceExhausted);
    assert_eq!(
        status.message,
        "the request to math.Math/Sum is 1000 bytes, over this worker's limit of 64 bytes"
    );
    still_serves(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_handler_gets_internal_and_the_worker_goes_on() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let status = MathClient::new(&bus)
        .now(NowRequest { seed: 666 })
        .await
        .expect_err("the handler panics");
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(
        status.message(),
        "the handler of math.Math/Now panicked: the number of the beast"
    );
    still_serves(&bus).await;
}
