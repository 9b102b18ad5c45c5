//! With the feature `tower`, tower's own layers wrap a server's services
//! (`Server::layer`) and a bus handle's calls (`Bus::layer`): a concurrency
//! limit holds, a rate limit delays calls as tower does (within their
//! deadline), a timeout is `DEADLINE_EXCEEDED`, load shedding
//! `RESOURCE_EXHAUSTED`, and a layer reads and changes the metadata.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis_bus::{CallContext, CallRequest, Code, Server, Status};
use tokio::time::Instant;
use tower::limit::{ConcurrencyLimitLayer, RateLimitLayer};
use tower::load_shed::LoadShedLayer;
use tower::timeout::TimeoutLayer;
use tower::util::MapRequestLayer;

/// A math service whose `sum` takes `a` milliseconds, counting the calls
/// running at once.
#[derive(Clone, Default)]
struct Slow {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

#[redis_bus::codegen::async_trait]
impl Math for Slow {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(request.a as u64)).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(SumReply {
            sum: request.a + request.b,
        })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        Ok(NowReply { time: None })
    }
}

/// A call of `sum` taking `ms` milliseconds; `n` tells calls apart (`sum`
/// is cached, and identical calls in flight run once).
fn taking(ms: i64, n: i64) -> SumRequest {
    SumRequest { a: ms, b: n }
}

#[tokio::test]
async fn a_server_concurrency_limit_holds() {
    let (_redis, bus) = common::redis_and_bus().await;
    let slow = Slow::default();
    let _server = Server::new(&bus)
        .layer(ConcurrencyLimitLayer::new(2))
        .add_service(MathServer::new(slow.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    let calls = (0..8).map(|n| math.sum(taking(100, n)));
    for reply in join_all(calls).await {
        reply.unwrap();
    }
    assert_eq!(
        slow.most.load(Ordering::SeqCst),
        2,
        "at most 2 at once, and 2 reached"
    );
}

#[tokio::test]
async fn a_client_concurrency_limit_holds() {
    let (_redis, bus) = common::redis_and_bus().await;
    let slow = Slow::default();
    let _server = Server::new(&bus)
        .add_service(MathServer::new(slow.clone()))
        .start()
        .await
        .unwrap();
    let limited = bus.clone().layer(ConcurrencyLimitLayer::new(3));
    // Clients made from the handle, and clones of it, share its limit.
    let (a, b) = (MathClient::new(&limited), MathClient::new(&limited.clone()));
    let calls = (0..6).flat_map(|n| [a.sum(taking(100, n)), b.sum(taking(100, -n - 1))]);
    for reply in join_all(calls).await {
        reply.unwrap();
    }
    assert_eq!(slow.most.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_rate_limit_delays_calls_within_their_deadline() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(Slow::default()))
        .start()
        .await
        .unwrap();
    let period = Duration::from_millis(500);
    let limited = bus.clone().layer(RateLimitLayer::new(2, period));
    let math = MathClient::new(&limited);
    let started = Instant::now();
    for n in 0..5 {
        math.sum(taking(0, n)).await.unwrap();
    }
    // 2 calls per period: the 5th waits for the third period.
    let took = started.elapsed();
    assert!(
        took >= 2 * period,
        "5 calls at 2 per {period:?} took {took:?}"
    );
    assert!(took < 4 * period, "took {took:?}");

    // The 6th call takes the last of the period; a 7th that would wait
    // past its deadline fails at its deadline.
    let impatient = math.clone().with_timeout(Duration::from_millis(150));
    impatient.sum(taking(0, 5)).await.unwrap();
    let started = Instant::now();
    let error = impatient.sum(taking(0, 6)).await.unwrap_err();
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error}");
    assert!(started.elapsed() < period, "failed at its deadline");
}

#[tokio::test]
async fn a_timeout_layer_is_deadline_exceeded_on_either_side() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .layer(TimeoutLayer::new(Duration::from_millis(100)))
        .add_service(MathServer::new(Slow::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    assert_eq!(math.sum(taking(10, 0)).await.unwrap().sum, 10);
    let error = math.sum(taking(2_000, 0)).await.unwrap_err();
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error}");
    assert!(error.message().contains("math.Math/Sum"), "{error}");

    let client_side = bus
        .clone()
        .layer(TimeoutLayer::new(Duration::from_millis(50)));
    let started = Instant::now();
    let error = MathClient::new(&client_side)
        .sum(taking(90, 0))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error}");
    assert!(started.elapsed() < Duration::from_millis(90));
}

#[tokio::test]
async fn load_shedding_refuses_what_is_over_the_limit() {
    let (_redis, bus) = common::redis_and_bus().await;
    let slow = Slow::default();
    let _server = Server::new(&bus)
        .layer(LoadShedLayer::new())
        .layer(ConcurrencyLimitLayer::new(1))
        .add_service(MathServer::new(slow.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    let replies = join_all((0..4).map(|n| math.sum(taking(200, n)))).await;
    let shed: Vec<_> = replies
        .iter()
        .filter_map(|reply| reply.as_ref().err())
        .collect();
    assert_eq!(replies.len() - shed.len(), 1, "one call runs: {replies:?}");
    for error in shed {
        assert_eq!(error.code(), Code::ResourceExhausted, "{error}");
    }
    assert_eq!(slow.most.load(Ordering::SeqCst), 1);
}

/// A math service whose `sum` answers with the number of metadata entries
/// `tenant` and `checked` it sees (0 to 2).
struct Tenants;

#[redis_bus::codegen::async_trait]
impl Math for Tenants {
    async fn sum(&self, _request: SumRequest) -> Result<SumReply, Status> {
        let context = CallContext::current().expect("a handler runs in its call's context");
        let metadata = context.metadata();
        let seen = [
            metadata.get("tenant") == Some("acme"),
            metadata.get("checked") == Some("yes"),
        ];
        Ok(SumReply {
            sum: seen.iter().filter(|seen| **seen).count() as i64,
        })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        Ok(NowReply { time: None })
    }
}

#[tokio::test]
async fn layers_read_and_change_the_metadata() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .layer(MapRequestLayer::new(|mut request: CallRequest| {
            if request.metadata.get("tenant").is_some() {
                request.metadata.insert("checked", "yes").unwrap();
            }
            request
        }))
        .add_service(MathServer::new(Tenants))
        .start()
        .await
        .unwrap();
    let tenant = bus
        .clone()
        .layer(MapRequestLayer::new(|mut request: CallRequest| {
            request.metadata.insert("tenant", "acme").unwrap();
            request
        }));
    let seen = MathClient::new(&tenant).sum(taking(0, 0)).await.unwrap();
    assert_eq!(
        seen.sum, 2,
        "the client's layer and the server's reach the handler"
    );
    let seen = MathClient::new(&bus).sum(taking(0, 1)).await.unwrap();
    assert_eq!(seen.sum, 0, "other handles on the bus have no layer");
}
