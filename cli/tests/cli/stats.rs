//! `stats`: per-method counts that every client and worker sends in, as
//! the command reads them back.

use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::services::MathService;
use redis_bus::{Bus, Server};

use crate::common::{BUS, eventually, redis_and_bus, redis_with_samples, run};

/// The cells of `method`'s row in a `stats` table.
fn row(table: &str, method: &str) -> Option<Vec<String>> {
    table
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().is_some_and(|first| first == method))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_calls_errors_and_cache_use() {
    let (redis, _bus, _server) = redis_with_samples().await;
    for _ in 0..2 {
        run(&redis, &["call", "math.Math/Sum", r#"{"a": 1, "b": 2}"#])
            .await
            .ok();
    }
    run(
        &redis,
        &["call", "random.Random/Error", r#"{"message": "boom"}"#],
    )
    .await
    .error();

    // Workers send their counts every second, and add in the command's
    // report of its cache use: poll until they are in.
    let table = eventually("the workers' statistics", || async {
        let table = run(&redis, &["stats"]).await.ok();
        let sum = row(&table, "math.Math/Sum")?;
        let error = row(&table, "random.Random/Error")?;
        (sum[1] == "2" && sum[2] == "1" && error[1] == "1").then_some(table)
    })
    .await;
    assert!(
        table.starts_with("METHOD  ")
            && table.contains("  REQUESTS  HANDLER RUNS  ")
            && table.contains("  HANDLING P50  ")
            && table.contains(" LAST ERROR"),
        "{table}"
    );
    let sum = row(&table, "math.Math/Sum").expect("a row");
    // Requests, handler runs, errors, hits, misses: two requests, the
    // second answered from the cache, so the handler ran once.
    assert_eq!(sum[1..6], ["2", "1", "0", "1", "1"], "{table}");
    // Call p50 and p99 (as the command timed its calls), handling p50 and
    // p99.
    assert!(
        sum[6..10].iter().all(|cell| cell != "-"),
        "latencies: {table}"
    );
    let error = row(&table, "random.Random/Error").expect("a row");
    assert_eq!(error[1..6], ["1", "1", "1", "0", "0"], "{table}");
    assert_eq!(error[10..], ["UNKNOWN", "1", "UNKNOWN:", "boom"], "{table}");

    let math = run(&redis, &["stats", "math.Math"]).await.ok();
    assert!(row(&math, "math.Math/Sum").is_some(), "{math}");
    assert!(!math.contains("random.Random"), "only math: {math}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_without_calls_say_so() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["stats", "math.Math"]).await.ok();
    assert_eq!(out, "no statistics for math.Math on bus \"cli-test\" yet\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_shown_by_code_whoever_decided_them() {
    let (redis, bus) = redis_and_bus().await;
    // A worker that refuses requests over 16 bytes without running them.
    let server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .max_request_bytes(16)
        .start()
        .await
        .expect("the worker starts");
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    for b in [1, 2] {
        // The handler's OUT_OF_RANGE.
        math.sum(SumRequest { a: i64::MAX, b }).await.unwrap_err();
    }
    let huge = SumRequest {
        a: i64::MIN,
        b: i64::MIN,
    };
    // The worker's RESOURCE_EXHAUSTED.
    math.sum(huge).await.unwrap_err();
    server.shutdown().await.expect("the worker stops");

    let table = run(&redis, &["stats"]).await.ok();
    let sum = row(&table, "math.Math/Sum").expect("a row");
    assert_eq!(sum[3], "3", "{table}");
    assert_eq!(
        sum[10..14],
        ["OUT_OF_RANGE", "2,", "RESOURCE_EXHAUSTED", "1"],
        "the most frequent first: {table}"
    );
    let json = run(&redis, &["--json", "stats"]).await.ok();
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        json[0]["errors_by_code"],
        serde_json::json!({"OUT_OF_RANGE": 2, "RESOURCE_EXHAUSTED": 1}),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_per_instance_show_each_live_worker_and_drop_a_stopped_one() {
    let (redis, bus, first) = redis_with_samples().await;
    let other = Bus::connect(&redis.url(), BUS).await.expect("bus connects");
    let second = crate::common::serve_samples(&other).await;
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(5));
    for b in 0..30 {
        math.sum(SumRequest { a: 1, b }).await.expect("a sum");
    }
    let live = [
        first.instance_id().to_owned(),
        second.instance_id().to_owned(),
    ];
    // Workers send their counts every second.
    let table = eventually("both workers' counts", || async {
        let table = run(&redis, &["stats", "--instances", "math.Math"])
            .await
            .ok();
        let runs: u64 = table
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().nth(4)?.parse::<u64>().ok())
            .sum();
        (runs == 30).then_some(table)
    })
    .await;
    assert!(
        table.starts_with("METHOD  ")
            && table.contains("  INSTANCE  ")
            && table.contains("  HANDLER RUNS  ERRORS  HANDLING P50  HANDLING P99"),
        "{table}"
    );
    for line in table.lines().skip(1) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], "math.Math/Sum", "{table}");
        assert!(
            live.iter().any(|id| id == cells[1]),
            "a live worker: {table}"
        );
        assert_eq!(cells[3], std::process::id().to_string(), "its pid: {table}");
        assert!(cells[6] != "-", "{table}");
    }
    let json = run(&redis, &["--json", "stats", "--instances"]).await.ok();
    let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let rows = rows.as_array().expect("an array");
    assert!(
        rows.iter()
            .all(|row| row["handler_runs"].as_u64() > Some(0) && row["pid"] == std::process::id()),
        "{json}"
    );

    let gone = first.instance_id().to_owned();
    first.shutdown().await.expect("the worker stops");
    let after = run(&redis, &["stats", "--instances"]).await.ok();
    assert!(
        !after.contains(&gone),
        "a stopped worker has no row: {after}"
    );
    second.shutdown().await.expect("the worker stops");
    let none = run(&redis, &["stats", "--instances"]).await.ok();
    assert_eq!(
        none,
        format!("no live worker has statistics on bus {BUS:?}\n")
    );

    let both = run(&redis, &["stats", "--instances", "--window", "1s"]).await;
    assert_eq!(
        both.code,
        Some(2),
        "--instances and --window do not go together"
    );
}
