//! `ping`: each live instance of a service with its last heartbeat, so
//! that a worker that stopped beating stands out while the others beat on
//! time.

use std::time::Duration;

use generated_examples::math::math_bus::MathServer;
use generated_examples::services::MathService;
use redis_bus::{Bus, Server};
use redis_bus_testing::FaultProxy;

use crate::common::{BUS, eventually, redis_with_samples, run};

/// `ping --json`'s instances of math.Math: (id, last beat in ms).
async fn beats(redis: &redis_bus_testing::RedisServer) -> Vec<(String, u64)> {
    let out = run(redis, &["--json", "ping", "math.Math"]).await.ok();
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["service"], "math.Math");
    assert!(json["round_trip_us"].as_u64().is_some(), "{out}");
    json["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|instance| {
            let expires = instance["expires_in_ms"].as_u64().expect("expiry");
            let beat = instance["last_beat_ms"].as_u64().expect("last beat");
            assert_eq!(beat + expires, 5_000, "a registration lives 5 s: {out}");
            (instance["id"].as_str().expect("id").to_owned(), beat)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_shows_each_instance_and_a_late_one_stands_out() {
    let (redis, _bus, server) = redis_with_samples().await;
    // A second worker of math.Math, talking to Redis through a proxy that
    // can hold its heartbeats back.
    let proxy = FaultProxy::start(redis.addr()).expect("the proxy starts");
    let slow_bus = Bus::connect(&proxy.url(), BUS).await.expect("connects");
    let slow = Server::new(&slow_bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .expect("the second worker starts");

    let table = run(&redis, &["ping", "Math"]).await.ok();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("INSTANCE ") && lines[0].ends_with("  LAST BEAT  EXPIRES IN"),
        "{table}"
    );
    for id in [server.instance_id(), slow.instance_id()] {
        let row = lines
            .iter()
            .find(|line| line.starts_with(id))
            .expect("a row per instance");
        assert!(
            row.contains(" 1.2.0 ") && row.contains("ms ago  "),
            "{table}"
        );
    }
    assert!(
        lines[3].starts_with("2 live instances of math.Math beating; Redis round trip "),
        "{table}"
    );
    for (_, beat) in beats(&redis).await {
        assert!(beat < 2_000, "both beat every second");
    }

    proxy.pause_all();
    let slow_id = slow.instance_id().to_owned();
    let late = eventually("the held-back worker to be late", || async {
        let beats = beats(&redis).await;
        let late = beats.iter().find(|(id, _)| *id == slow_id)?.1;
        (late > 2_500).then_some(beats)
    })
    .await;
    let on_time = late
        .iter()
        .find(|(id, _)| id == server.instance_id())
        .expect("listed");
    assert!(on_time.1 < 2_000, "the other one beats on time: {late:?}");
    proxy.resume();
    tokio::time::sleep(Duration::from_millis(100)).await;
    slow.shutdown().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_of_a_service_with_no_live_worker_fails() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["ping", "math.math"]).await;
    assert_eq!(out.code, Some(69));
    assert_eq!(
        out.error(),
        "error: no live worker serves math.math on bus \"cli-test\"; did you mean math.Math?\n"
    );
    let out = run(&redis, &["ping", "billing.Billing"]).await;
    assert_eq!(
        out.error(),
        "error: no live worker serves billing.Billing on bus \"cli-test\" (live services: math.Math, random.Random)\n"
    );
}
