//! What scripts rely on: requests from a file or stdin, JSON lines in and
//! out, `--json` output, exit statuses that carry the status code, a
//! connect timeout, and names that are found or suggested.

use std::time::{Duration, Instant};

use crate::common::{BUS, json_field, redis_with_samples, run, run_with_stdin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_reads_the_request_from_a_file_or_stdin() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("request.json");
    std::fs::write(&file, "{\n  \"a\": 40,\n  \"b\": 2\n}\n").expect("written");
    let data = format!("@{}", file.display());
    let out = run(&redis, &["call", "math.Math/Sum", "-d", &data])
        .await
        .ok();
    assert_eq!(json_field(&out, "sum"), "42");
    let out = run_with_stdin(
        &redis,
        &["call", "math.Math/Sum", "-d", "@-"],
        r#"{"a": 1, "b": 1}"#,
    )
    .await
    .ok();
    assert_eq!(json_field(&out, "sum"), "2");
    let missing = run(
        &redis,
        &["call", "math.Math/Sum", "-d", "@/nonexistent/r.json"],
    )
    .await;
    assert_eq!(missing.code, Some(1));
    assert!(
        missing
            .error()
            .starts_with("error: cannot read the request from /nonexistent/r.json: "),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_give_one_result_per_request_in_order() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let input = "{\"length\": 5}\n\n{\"length\": 0}\n{\"length\": 7}\n";
    let run = run_with_stdin(
        &redis,
        &["call", "random.Random/Password", "--lines"],
        input,
    )
    .await;
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(
        lines[0]["reply"]["password"].as_str().map(str::len),
        Some(5)
    );
    assert_eq!(lines[1]["error"]["code"], "INVALID_ARGUMENT");
    assert_eq!(
        lines[2]["reply"]["password"].as_str().map(str::len),
        Some(7)
    );
    assert_eq!(run.code, Some(64 + 3), "the first failure's status");
    assert_eq!(
        run.stderr,
        "error: 1 of 3 calls of random.Random/Password failed\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_on_every_command_that_prints_data() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(
        &redis,
        &["--json", "call", "math.Math/Sum", r#"{"a": 1, "b": 2}"#],
    )
    .await
    .ok();
    assert_eq!(out, "{\"sum\":\"3\"}\n", "one line");
    let services: serde_json::Value =
        serde_json::from_str(&run(&redis, &["services", "--json"]).await.ok()).expect("JSON");
    assert_eq!(services[0]["name"], "math.Math");
    assert_eq!(services[0]["methods"][0]["cache_key"], "{a}/{b}");
    let described: serde_json::Value = serde_json::from_str(
        &run(&redis, &["describe", "random.Random", "--json"])
            .await
            .ok(),
    )
    .expect("JSON");
    assert_eq!(described["methods"][1]["name"], "Password");
    assert_eq!(described["methods"][1]["timeout_ms"], 2000);
    assert_eq!(described["instances"].as_array().map(Vec::len), Some(1));
    let stats: serde_json::Value =
        serde_json::from_str(&run(&redis, &["stats", "math.Math", "--json"]).await.ok())
            .expect("JSON");
    assert_eq!(stats[0]["method"], "math.Math/Sum");
    assert_eq!(stats[0]["cache_misses"], 1);
    let cleared = run(&redis, &["--json", "cache", "clear", "math.Math/Sum"])
        .await
        .ok();
    assert_eq!(
        cleared,
        "{\"cleared\":\"all\",\"method\":\"math.Math/Sum\"}\n"
    );

    let failed = run(
        &redis,
        &[
            "--json",
            "call",
            "random.Random/Error",
            r#"{"message": "boom"}"#,
        ],
    )
    .await;
    assert_eq!(failed.code, Some(64 + 2));
    let error: serde_json::Value = serde_json::from_str(&failed.error()).expect("JSON");
    assert_eq!(error["error"]["code"], "UNKNOWN");
    assert_eq!(
        error["error"]["message"],
        "random.Random/Error failed: UNKNOWN: boom"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_statuses_tell_failures_apart() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let failed = run(&redis, &["call", "random.Random/Error", "{}"]).await;
    assert_eq!(failed.code, Some(64 + 2), "UNKNOWN");
    let refused = run(
        &redis,
        &["call", "random.Random/Password", r#"{"length": 0}"#],
    )
    .await;
    assert_eq!(refused.code, Some(64 + 3), "INVALID_ARGUMENT");
    let usage = run(&redis, &["call"]).await;
    assert_eq!(usage.code, Some(2), "a command line that does not parse");
    let port = redis_bus_testing::free_port().expect("a free port");
    let url = format!("redis://127.0.0.1:{port}");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_redis-bus"))
        .args(["--url", &url, "services"])
        .output()
        .await
        .expect("redis-bus runs");
    assert_eq!(output.status.code(), Some(3), "Redis unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_is_bound_by_the_timeout() {
    // A port that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!("redis://{}", listener.local_addr().expect("an address"));
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_redis-bus"))
        .args(["--url", &url, "--timeout", "300", "services"])
        .output()
        .await
        .expect("redis-bus runs");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("error: cannot connect to Redis at {url}: no answer within 300ms\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_names_are_found_and_typos_get_a_suggestion() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["call", "Math/Sum", r#"{"a": 2, "b": 2}"#])
        .await
        .ok();
    assert_eq!(json_field(&out, "sum"), "4");
    let typo = run(&redis, &["call", "math.math/Sum", "{}"]).await;
    assert_eq!(typo.code, Some(64 + 5), "NOT_FOUND");
    assert_eq!(
        typo.error(),
        format!(
            "error: no live worker serves math.math on bus \"{BUS}\"; did you mean math.Math?\n"
        )
    );
    let method = run(&redis, &["call", "Math/sum", "{}"]).await.error();
    assert!(method.ends_with("; did you mean Sum?\n"), "{method}");
    let misfit = run(&redis, &["call", "math.Math/Sum", r#"{"c": 1}"#])
        .await
        .error();
    assert!(
        misfit.ends_with(" (a request looks like {\"a\": \"0\", \"b\": \"0\"})\n"),
        "{misfit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_shows_the_bus_variable_only_when_set() {
    let help = |bus: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_redis-bus"));
        command.arg("--help").env_remove("REDIS_BUS");
        if let Some(bus) = bus {
            command.env("REDIS_BUS", bus);
        }
        String::from_utf8(command.output().expect("runs").stdout).expect("UTF-8")
    };
    let unset = help(None);
    assert!(
        unset.contains("[env: REDIS_BUS]") && !unset.contains("REDIS_BUS="),
        "{unset}"
    );
    assert!(help(Some("orders")).contains("[env: REDIS_BUS=orders]"));
}
