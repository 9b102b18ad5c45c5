//! `stats`: per-method counts that every client and worker sends in, as
//! the command reads them back.

use crate::common::{eventually, redis_with_samples, run};

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
    assert!(sum[6] != "-" && sum[7] != "-", "latencies: {table}");
    let error = row(&table, "random.Random/Error").expect("a row");
    assert_eq!(error[1..6], ["1", "1", "1", "0", "0"], "{table}");
    assert_eq!(error[8..], ["UNKNOWN:", "boom"], "{table}");

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
