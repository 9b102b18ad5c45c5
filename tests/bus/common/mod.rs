//! What the integration tests share: a real redis-server per test, a bus on
//! it, and implementations of the sample services.

#![allow(dead_code)]

pub mod logs;
pub mod process;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use generated_examples::math::math_bus::Math;
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis_bus::codegen::prost_types::Timestamp;
use redis_bus::{Bus, Status};
use redis_bus_testing::RedisServer;

/// A fresh redis-server and a bus on it, with a fast heartbeat so that
/// dead workers are noticed within a second.
pub async fn redis_and_bus() -> (RedisServer, Bus) {
    let redis = RedisServer::start().expect("redis-server starts");
    let bus = connect(&redis, "test").await;
    (redis, bus)
}

/// Another handle on bus `name` of `redis`, as another process would have.
pub async fn connect(redis: &RedisServer, name: &str) -> Bus {
    connect_url(&redis.url(), name).await
}

/// A handle on bus `name` at `url`, with the tests' fast heartbeat.
pub async fn connect_url(url: &str, name: &str) -> Bus {
    Bus::builder(url, name)
        .heartbeat(Duration::from_millis(100), Duration::from_millis(600))
        .block_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("the bus connects")
}

/// How many times the calculator's methods ran.
impl Calculator {
    pub fn runs(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Polls `check` every 10 ms until it holds, failing after `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs `test` on a bus over Redis and on an in-memory bus: what a unit
/// test sees on the one it must see on the other.
pub async fn on_each_bus<F, Fut>(test: F)
where
    F: Fn(Bus) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (_redis, bus) = redis_and_bus().await;
    test(bus).await;
    test(Bus::in_memory()).await;
}

/// A bus named `test` on `redis`, with the near cache on.
pub async fn near_cache_bus(redis: &RedisServer) -> Bus {
    Bus::builder(&redis.url(), "test")
        .near_cache(true)
        .connect()
        .await
        .unwrap()
}

/// The Redis key of math's cached Sum for `a`/`b`, on bus `test`.
pub fn sum_entry(a: i64, b: i64) -> String {
    let fingerprint = generated_examples::math::math_bus::methods::SUM.schema_fingerprint;
    format!("rb:{{test:cache:math.Math/Sum}}:{fingerprint}:{a}/{b}")
}

/// A synchronous connection to `redis`, to look at keys.
pub fn inspect(redis: &RedisServer) -> redis::Connection {
    redis::Client::open(redis.url())
        .and_then(|client| client.get_connection())
        .expect("connect to the test redis")
}

/// The math service as a test double: it counts its calls, `Sum` takes
/// `sum_delay`, `Now` sleeps `-seed` milliseconds for a negative seed and
/// panics for seed 666; an overflowing sum fails with details.
#[derive(Default, Clone)]
pub struct Calculator {
    /// How many calls ran (started).
    pub calls: Arc<AtomicUsize>,
    /// How many of them were `Now`.
    pub nows: Arc<AtomicUsize>,
    /// How long each `Sum` takes.
    pub sum_delay: Duration,
    /// A `Sum` whose `a` is this aborts the process (worker processes
    /// only).
    pub abort_on: Option<i64>,
}

#[redis_bus::codegen::async_trait]
impl Math for Calculator {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.abort_on == Some(request.a) {
            std::process::abort();
        }
        if !self.sum_delay.is_zero() {
            tokio::time::sleep(self.sum_delay).await;
        }
        let sum = request.a.checked_add(request.b).ok_or_else(|| {
            Status::out_of_range(format!("{} + {} overflows", request.a, request.b))
                .with_details(&b"overflow"[..])
        })?;
        Ok(SumReply { sum })
    }

    async fn now(&self, request: NowRequest) -> Result<NowReply, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.nows.fetch_add(1, Ordering::SeqCst);
        if request.seed < 0 {
            tokio::time::sleep(Duration::from_millis(request.seed.unsigned_abs())).await;
        }
        if request.seed == 666 {
            panic!("the number of the beast");
        }
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        Ok(NowReply {
            time: Some(Timestamp {
                seconds: since_epoch.as_secs() as i64,
                nanos: since_epoch.subsec_nanos() as i32,
            }),
        })
    }
}
