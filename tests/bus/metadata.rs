//! Metadata travels with a call to its handler, interceptors on both sides
//! read, set and refuse, and nested calls carry metadata along only when
//! asked. Every test runs on Redis and on the in-memory bus.

use crate::common::{self, on_each_bus};

use std::sync::Mutex;
use std::time::Duration;

use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis::Commands;
use redis_bus::codegen::prost::Message;
use redis_bus::codegen::prost_types::Timestamp;
use redis_bus::{
    Bus, CallContext, CallOptions, Code, InterceptedCall, Interceptor, Server, Status, wire,
};
use redis_bus_testing::RedisServer;

/// Math for one tenant: `Sum` answers only calls whose `tenant` metadata
/// is `acme`; `Now` calls `Sum` on the same bus (propagating metadata when
/// its seed is odd) and answers its sum as the time's seconds.
struct Tenanted {
    bus: Bus,
}

#[redis_bus::codegen::async_trait]
impl Math for Tenanted {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        let context = CallContext::current().expect("handlers run in their call's context");
        match context.metadata().get("tenant") {
            Some("acme") => Ok(SumReply {
                sum: request.a + request.b,
            }),
            other => Err(Status::permission_denied(format!("tenant {other:?}"))),
        }
    }

    async fn now(&self, request: NowRequest) -> Result<NowReply, Status> {
        // Past the cache: a cached reply is shared by every caller, whatever
        // its metadata.
        let options = CallOptions::new()
            .propagate_metadata(request.seed % 2 == 1)
            .bypass_cache(true);
        let nested = MathClient::new(&self.bus)
            .with_options(options)
            .sum(SumRequest { a: 40, b: 2 })
            .await?;
        Ok(NowReply {
            time: Some(Timestamp {
                seconds: nested.sum,
                nanos: 0,
            }),
        })
    }
}

async fn serve(bus: &Bus, server: impl FnOnce(Server) -> Server) -> redis_bus::RunningServer {
    let service = MathServer::new(Tenanted { bus: bus.clone() });
    server(Server::new(bus).add_service(service))
        .start()
        .await
        .expect("the worker starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_reaches_the_handler_and_nested_calls_only_when_asked() {
    on_each_bus(|bus| async move {
        let _server = serve(&bus, |server| server).await;
        let math = MathClient::new(&bus);
        let status = math.sum(SumRequest { a: 1, b: 2 }).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(status.message(), "tenant None");
        let acme = math
            .clone()
            .with_options(CallOptions::new().metadata("tenant", "acme"));
        // Sum(3, 4) is cached per arguments: a fresh one for each bus.
        assert_eq!(acme.sum(SumRequest { a: 3, b: 4 }).await.unwrap().sum, 7);
        // Odd seeds propagate the metadata into the nested Sum, even ones not.
        let propagated = acme.now(NowRequest { seed: 1 }).await.unwrap();
        assert_eq!(propagated.time.unwrap().seconds, 42);
        let kept = acme.now(NowRequest { seed: 2 }).await.unwrap_err();
        assert_eq!(kept.code(), Code::PermissionDenied, "{kept}");
    })
    .await;
}

/// Refuses calls without the token, as a server's interceptor.
struct RequireToken;

#[redis_bus::codegen::async_trait]
impl Interceptor for RequireToken {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        match call.metadata.get("authorization") {
            Some("Bearer s3cret") => {
                // What the handler may rely on: the interceptor vouches.
                call.metadata.insert("tenant", "acme").expect("a valid key");
                Ok(())
            }
            _ => Err(Status::unauthenticated(format!(
                "{} needs a valid authorization token",
                call.method.full_name
            ))),
        }
    }
}

/// Adds the token to every call, as a client's interceptor, and records
/// what it saw after each call.
#[derive(Default)]
struct SendToken {
    seen: Mutex<Vec<String>>,
}

#[redis_bus::codegen::async_trait]
impl Interceptor for &'static SendToken {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        call.metadata
            .insert("authorization", "Bearer s3cret")
            .map_err(Status::internal)
    }

    async fn after(&self, call: &InterceptedCall, outcome: Result<(), &Status>, _: Duration) {
        let code = outcome.err().map_or("OK", |status| status.code().as_str());
        let line = format!("{} {code}", call.method.full_name);
        self.seen.lock().unwrap().push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interceptors_authenticate_on_the_server_and_sign_on_the_client() {
    on_each_bus(|bus| async move {
        let _server = serve(&bus, |server| server.interceptor(RequireToken)).await;
        let status = MathClient::new(&bus)
            .sum(SumRequest { a: 1, b: 1 })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status}");
        assert_eq!(
            status.message(),
            "math.Math/Sum needs a valid authorization token"
        );
        let signer: &'static SendToken = Box::leak(Box::default());
        let signed = bus.clone().with_interceptor(signer);
        let math = MathClient::new(&signed);
        assert_eq!(math.sum(SumRequest { a: 20, b: 1 }).await.unwrap().sum, 21);
        assert_eq!(*signer.seen.lock().unwrap(), ["math.Math/Sum OK"]);
    })
    .await;
}

/// Lets `limit` calls through per method, then refuses.
struct RateLimit {
    limit: usize,
    calls: Mutex<usize>,
}

#[redis_bus::codegen::async_trait]
impl Interceptor for RateLimit {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls > self.limit {
            return Err(Status::resource_exhausted(format!(
                "{} allows {} calls",
                call.method.full_name, self.limit
            )));
        }
        call.metadata
            .insert("tenant", "acme")
            .map_err(Status::internal)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_refuses_calls_past_its_limit() {
    on_each_bus(|bus| async move {
        let limit = RateLimit {
            limit: 3,
            calls: Mutex::new(0),
        };
        let _server = serve(&bus, |server| server.interceptor(limit)).await;
        let math = MathClient::new(&bus);
        let mut codes = Vec::new();
        for a in 100..105 {
            let outcome = math.sum(SumRequest { a, b: 0 }).await;
            codes.push(outcome.map_or_else(|status| status.code(), |_| Code::Ok));
        }
        assert_eq!(
            codes,
            [
                Code::Ok,
                Code::Ok,
                Code::Ok,
                Code::ResourceExhausted,
                Code::ResourceExhausted
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_metadata_is_refused_naming_what_is_wrong() {
    on_each_bus(|bus| async move {
        let _server = serve(&bus, |server| server).await;
        let math = MathClient::new(&bus);
        for (options, expected) in [
            (
                CallOptions::new().metadata("Tenant", "acme"),
                "metadata key \"Tenant\": use lowercase letters, digits, '-', '_' and '.'",
            ),
            (
                CallOptions::new().metadata("rb-deadline", "1"),
                "metadata key \"rb-deadline\": keys starting with \"rb-\" are reserved for redis-bus",
            ),
            (
                CallOptions::new().metadata("big", "x".repeat(9000)),
                "the call carries 9003 bytes of metadata, over the limit of 8192",
            ),
        ] {
            let status = math
                .clone()
                .with_options(options)
                .sum(SumRequest { a: 1, b: 1 })
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument);
            assert_eq!(status.message(), expected);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_checks_the_metadata_of_hand_built_requests() {
    let (redis, bus) = common::redis_and_bus().await;
    let _server = serve(&bus, |server| server).await;
    let request = wire::Request {
        method: "Sum".to_owned(),
        payload: SumRequest { a: 1, b: 2 }.encode_to_vec().into(),
        reply_client: "raw".to_owned(),
        metadata: [("Bad Key".to_owned(), bytes::Bytes::from_static(b"x"))].into(),
        ..Default::default()
    };
    let mut element = vec![9u8; 16];
    element.extend(request.encode_to_vec());
    let mut inspect = common::inspect(&redis);
    let _: () = inspect
        .rpush("rb:{test:math.Math@1}:queue", element)
        .unwrap();
    let (_, reply): (String, Vec<u8>) =
        inspect.blpop("rb:{test:client:raw}:replies", 10.0).unwrap();
    let reply = wire::Reply::decode(&reply[..]).unwrap();
    let Some(wire::reply::Outcome::Status(status)) = reply.outcome else {
        panic!("expected a refusal: {reply:?}");
    };
    assert_eq!(status.code, Code::InvalidArgument.as_i32());
    assert!(
        status.message.starts_with(
            "the request to math.Math/Sum carries bad metadata: metadata key \"Bad Key\""
        ),
        "{}",
        status.message
    );
    let _keep: &RedisServer = &redis;
}
