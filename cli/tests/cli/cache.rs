//! `cache clear`: cached replies forgotten for one request or for a whole
//! method, as the seed's session shows with `math.Math/Now`.

use crate::common::{Run, json_field, redis_with_samples, run};
use redis_bus_testing::RedisServer;

/// The time `math.Math/Now` gives for `seed`.
async fn now(redis: &RedisServer, seed: u32) -> String {
    let request = format!(r#"{{"seed": {seed}}}"#);
    let out = run(redis, &["call", "math.Math/Now", &request]).await.ok();
    json_field(&out, "time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_one_request_gives_it_a_new_time() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let first = now(&redis, 1).await;
    assert_eq!(now(&redis, 1).await, first, "cached");
    let other = now(&redis, 2).await;
    assert_ne!(other, first, "each seed has its own time");

    let out = run(
        &redis,
        &["cache", "clear", "math.Math/Now", r#"{"seed": 1}"#],
    )
    .await
    .ok();
    assert_eq!(
        out,
        "cleared the cached reply of math.Math/Now for {\"seed\": 1}\n"
    );
    assert_ne!(now(&redis, 1).await, first, "seed 1 computed again");
    assert_eq!(now(&redis, 2).await, other, "seed 2 untouched");

    let out = run(
        &redis,
        &["cache", "clear", "math.Math/Now", r#"{"seed": 3}"#],
    )
    .await
    .ok();
    assert_eq!(out, "math.Math/Now had no cached reply for {\"seed\": 3}\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_method_forgets_every_reply() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let (one, two) = (now(&redis, 1).await, now(&redis, 2).await);
    let out = run(&redis, &["cache", "clear", "math.Math/Now"]).await.ok();
    assert_eq!(out, "cleared every cached reply of math.Math/Now\n");
    assert_ne!(now(&redis, 1).await, one);
    assert_ne!(now(&redis, 2).await, two);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncached_methods_and_misfit_requests_are_refused() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let error = run(&redis, &["cache", "clear", "random.Random/Password"])
        .await
        .error();
    assert_eq!(error, "error: random.Random/Password caches no replies\n");
    let error = run(
        &redis,
        &["cache", "clear", "math.Math/Now", r#"{"sed": 1}"#],
    )
    .await
    .error();
    assert!(error.contains("field `sed`"), "{error}");
    let Run { success, .. } = run(&redis, &["cache", "clear", "nope.Nope/X"]).await;
    assert!(!success);
}
