//! Every call has a deadline: the per-call timeout, else the method's
//! `timeout_ms`, else the bus default. The remaining budget travels with the
//! request; a request whose deadline passed while queued is never run, and a
//! handler still running at the deadline is cancelled.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use generated_examples::random::random_bus::{Random, RandomClient, RandomServer};
use generated_examples::random::{
    ErrorReply, ErrorRequest, PasswordReply, PasswordRequest, PickReply, PickRequest, UuidReply,
    UuidRequest, UuidsRequest,
};
use redis::Commands;
use redis_bus::{Bus, CallContext, CallOptions, Code, ReplyStream, Server, Status, Streaming};

/// Records the deadline budget its handlers see.
#[derive(Clone, Default)]
struct Probe {
    /// The remaining budget when the last handler started.
    seen: Arc<Mutex<Option<Duration>>>,
    /// The bus to call random on from `sum`, if any.
    bus: Option<Bus>,
    /// Set when a `now` handler is dropped before finishing.
    cancelled: Arc<AtomicBool>,
}

impl Probe {
    fn record(&self) {
        let remaining = CallContext::current()
            .expect("handlers run in a call context")
            .remaining();
        *self.seen.lock().unwrap() = Some(remaining);
    }

    fn seen(&self) -> Duration {
        self.seen.lock().unwrap().expect("a handler ran")
    }
}

/// Sets a flag when dropped unfinished.
struct DropFlag(Arc<AtomicBool>, bool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

#[redis_bus::codegen::async_trait]
impl Math for Probe {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        self.record();
        if let Some(bus) = &self.bus {
            RandomClient::new(bus).uuid(UuidRequest {}).await?;
        }
        Ok(SumReply {
            sum: request.a + request.b,
        })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        let mut flag = DropFlag(Arc::clone(&self.cancelled), false);
        tokio::time::sleep(Duration::from_secs(5)).await;
        flag.1 = true;
        Ok(NowReply { time: None })
    }
}

#[redis_bus::codegen::async_trait]
impl Random for Probe {
    async fn uuid(&self, _request: UuidRequest) -> Result<UuidReply, Status> {
        self.record();
        Ok(UuidReply {
            uuid: String::new(),
        })
    }

    async fn password(&self, _request: PasswordRequest) -> Result<PasswordReply, Status> {
        Err(Status::unimplemented("not probed"))
    }

    async fn uuids(&self, _request: UuidsRequest) -> Result<ReplyStream<UuidReply>, Status> {
        Err(Status::unimplemented("not probed"))
    }

    async fn pick(&self, _request: Streaming<PickRequest>) -> Result<PickReply, Status> {
        Err(Status::unimplemented("not probed"))
    }

    async fn error(&self, _request: ErrorRequest) -> Result<ErrorReply, Status> {
        Err(Status::unimplemented("not probed"))
    }
}

#[tokio::test]
async fn remaining_budget_travels_with_the_request() {
    let (_redis, bus) = common::redis_and_bus().await;
    let probe = Probe::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(probe.clone()))
        .start()
        .await
        .unwrap();

    MathClient::new(&bus)
        .with_timeout(Duration::from_secs(7))
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .unwrap();
    let seen = probe.seen();
    assert!(seen <= Duration::from_secs(7), "{seen:?}");
    assert!(
        seen > Duration::from_secs(6),
        "the handler got the caller's budget: {seen:?}"
    );
}

#[tokio::test]
async fn nested_calls_inherit_the_callers_deadline() {
    let (redis, bus) = common::redis_and_bus().await;
    let inner = Probe::default();
    let outer = Probe {
        bus: Some(common::connect(&redis, "test").await),
        ..Probe::default()
    };
    let _server = Server::new(&bus)
        .add_service(MathServer::new(outer))
        .add_service(RandomServer::new(inner.clone()))
        .start()
        .await
        .unwrap();

    MathClient::new(&bus)
        .with_timeout(Duration::from_secs(3))
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .unwrap();
    // random.Random/Uuid alone would get the 30 s bus default.
    let seen = inner.seen();
    assert!(
        seen <= Duration::from_secs(3),
        "the nested call kept the outer deadline: {seen:?}"
    );
}

#[tokio::test]
async fn per_call_timeout_overrides_the_method_and_bus_defaults() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(Probe::default()))
        .start()
        .await
        .unwrap();

    let status = MathClient::new(&bus)
        .with_timeout(Duration::from_millis(150))
        .now(NowRequest { seed: 1 })
        .await
        .expect_err("the handler takes 5 s");
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(
        status
            .message()
            .contains("math.Math/Now did not answer within its deadline of 150 ms"),
        "{status}"
    );
}

#[tokio::test]
async fn method_timeout_option_is_the_default_deadline() {
    let (_redis, bus) = common::redis_and_bus().await;
    // Nobody serves random: the waiting call runs into random.Password's
    // `timeout_ms = 2000`.
    let status = RandomClient::new(&bus)
        .with_options(CallOptions::new().wait_for_worker(true))
        .password(PasswordRequest { length: None })
        .await
        .expect_err("nobody answers");
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(
        status.message().contains("within its deadline of 2000 ms"),
        "{status}"
    );
}

#[tokio::test]
async fn bus_default_applies_when_the_method_sets_none() {
    let (_redis, bus) = common::redis_and_bus().await;
    let bus = bus.with_default_timeout(Duration::from_millis(250));
    let status = MathClient::new(&bus)
        .with_options(CallOptions::new().wait_for_worker(true))
        .now(NowRequest { seed: 1 })
        .await
        .expect_err("nobody answers");
    assert!(
        status.message().contains("within its deadline of 250 ms"),
        "{status}"
    );
}

#[tokio::test]
async fn request_whose_deadline_passed_in_the_queue_is_never_run() {
    let (redis, bus) = common::redis_and_bus().await;
    let status = MathClient::new(&bus)
        .with_options(
            CallOptions::new()
                .wait_for_worker(true)
                .timeout(Duration::from_millis(200)),
        )
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .expect_err("no worker in time");
    assert_eq!(status.code(), Code::DeadlineExceeded);

    let calculator = common::Calculator::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let mut inspect = common::inspect(&redis);
    common::eventually(
        Duration::from_secs(5),
        "the worker drained the queue",
        || {
            let queued: usize = inspect.llen("rb:{test:math.Math@1}:queue").unwrap();
            let filed: Vec<String> = inspect.keys("rb:{test:math.Math@1}:taken:*").unwrap();
            queued == 0 && filed.is_empty()
        },
    )
    .await;
    assert_eq!(
        calculator.runs(),
        0,
        "the expired request was skipped, not run"
    );
    // The worker still serves fresh calls.
    assert_eq!(
        MathClient::new(&bus)
            .sum(SumRequest { a: 2, b: 2 })
            .await
            .unwrap()
            .sum,
        4
    );
    assert_eq!(calculator.runs(), 1);
}

#[tokio::test]
async fn handler_still_running_at_the_deadline_is_cancelled() {
    let (_redis, bus) = common::redis_and_bus().await;
    let probe = Probe::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(probe.clone()))
        .start()
        .await
        .unwrap();

    MathClient::new(&bus)
        .with_timeout(Duration::from_millis(200))
        .now(NowRequest { seed: 1 })
        .await
        .expect_err("the handler takes 5 s");
    common::eventually(
        Duration::from_secs(3),
        "the worker dropped the handler",
        || probe.cancelled.load(Ordering::SeqCst),
    )
    .await;
}
