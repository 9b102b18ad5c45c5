//! `call` of streaming rpcs: a server stream prints one JSON line per
//! reply as it comes; a client stream sends one request per line of JSON
//! (argument, `-d`, or standard input); a bad line cancels the call naming
//! the line; a stream that fails exits with its status after the replies.

use crate::common::{json_field, redis_with_samples, run, run_with_stdin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stream_prints_one_json_line_per_reply() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["call", "random.Random/Uuids", r#"{"count": 3}"#])
        .await
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for line in lines {
        let reply: serde_json::Value = serde_json::from_str(line).expect("one JSON per line");
        assert_eq!(reply["uuid"].as_str().map(str::len), Some(36), "{line}");
    }
    let empty = run(&redis, &["call", "random.Random/Uuids", r#"{"count": 0}"#])
        .await
        .ok();
    assert_eq!(empty, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stream_exits_with_its_status() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let failed = run(
        &redis,
        &["call", "random.Random/Uuids", r#"{"count": 20000000}"#],
    )
    .await;
    // 64 + INVALID_ARGUMENT.
    assert_eq!(failed.code, Some(67), "{failed:?}");
    assert!(
        failed.error().contains("count must be at most 10000000"),
        "the handler's message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_stream_reads_json_lines_from_stdin() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let stdin = "{\"item\": \"apple\"}\n\n{\"item\": \"pear\"}\n{\"item\": \"plum\"}\n";
    let out = run_with_stdin(&redis, &["call", "random.Random/Pick"], stdin)
        .await
        .ok();
    assert_eq!(json_field(&out, "count"), "3", "{out}");
    let item = json_field(&out, "item");
    assert!(["apple", "pear", "plum"].contains(&item.as_str()), "{out}");

    // Or from the argument, one request per line.
    let out = run(
        &redis,
        &[
            "call",
            "random.Random/Pick",
            "{\"item\": \"a\"}\n{\"item\": \"b\"}",
        ],
    )
    .await
    .ok();
    assert_eq!(json_field(&out, "count"), "2", "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_cancels_the_client_stream_naming_the_line() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let stdin = "{\"item\": \"apple\"}\n{\"colour\": \"red\"}\n";
    let error = run_with_stdin(&redis, &["call", "random.Random/Pick"], stdin)
        .await
        .error();
    assert!(error.starts_with("error: line 2: "), "{error}");
    assert!(error.contains("colour"), "{error}");
}
