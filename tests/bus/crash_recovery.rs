//! A request taken by a worker that dies (a killed process, not a clean
//! exit) is reclaimed by another worker: run again when the method is
//! idempotent, otherwise answered with UNAVAILABLE naming the cause.

use crate::common;

use std::time::Duration;

use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use redis::Commands;
use redis_bus::{Code, Server};

/// How many requests are filed under some worker of math.Math 1.x.
fn filed_requests(connection: &mut redis::Connection) -> usize {
    let keys: Vec<String> = connection
        .keys("rb:{test:math.Math@1}:taken:*")
        .expect("list taken hashes");
    keys.iter()
        .map(|key| connection.hlen::<_, usize>(key).expect("HLEN"))
        .sum::<usize>()
        + connection
            .keys::<_, Vec<String>>("rb:{test:math.Math@1}:landing:*")
            .expect("list landing lists")
            .iter()
            .map(|key| connection.llen::<_, usize>(key).expect("LLEN"))
            .sum::<usize>()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_requests_are_rerun_when_idempotent_and_refused_otherwise() {
    let (redis, bus) = common::redis_and_bus().await;
    let mut inspect = common::inspect(&redis);
    // The doomed worker: every sum takes long enough to kill it mid-call.
    let mut doomed =
        common::process::spawn_math_worker(&redis.url(), "test", Duration::from_secs(30));
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(20));

    let sum = tokio::spawn({
        let math = math.clone();
        async move { math.sum(SumRequest { a: 20, b: 22 }).await }
    });
    let now = tokio::spawn({
        let math = math.clone();
        async move { math.now(NowRequest { seed: -30_000 }).await }
    });
    common::eventually(
        Duration::from_secs(10),
        "the worker took both calls",
        || filed_requests(&mut inspect) == 2,
    )
    .await;

    doomed.kill().expect("kill the worker");
    doomed.wait().expect("reap the worker");
    let survivor = common::Calculator::default();
    let server = Server::new(&bus)
        .add_service(MathServer::new(survivor.clone()))
        .start()
        .await
        .expect("the second worker starts");

    let sum = sum
        .await
        .expect("no panic")
        .expect("the idempotent sum is run again");
    assert_eq!(sum.sum, 42);
    let now = now
        .await
        .expect("no panic")
        .expect_err("the non-idempotent call is refused");
    assert_eq!(now.code(), Code::Unavailable);
    assert!(
        now.message()
            .contains("stopped while handling this call of math.Math/Now"),
        "{now}"
    );
    assert!(now.message().contains("not idempotent"), "{now}");
    assert_eq!(survivor.runs(), 1, "only the idempotent sum ran again");
    assert_eq!(
        filed_requests(&mut inspect),
        0,
        "nothing stays filed under any worker"
    );
    server.shutdown().await.expect("clean shutdown");
}
