//! `call`: dynamic calls from JSON through the descriptors the workers
//! published, and every way a call can fail, each with a one-line error.

use crate::common::{BUS, json_field, redis_with_samples, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_reply_as_json() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["call", "math.Math/Sum", r#"{"a": 1, "b": 2}"#])
        .await
        .ok();
    // The protobuf JSON mapping writes 64-bit integers as strings.
    assert_eq!(out, "{\n  \"sum\": \"3\"\n}\n");

    let zero = run(&redis, &["call", "math.Math/Sum", "{}"]).await.ok();
    assert_eq!(zero, "{\n  \"sum\": \"0\"\n}\n", "default values are shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_have_the_asked_length() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["call", "random.Random/Password", "{}"])
        .await
        .ok();
    assert_eq!(json_field(&out, "password").chars().count(), 12, "{out}");
    let out = run(
        &redis,
        &["call", "random.Random/Password", r#"{"length": 20}"#],
    )
    .await
    .ok();
    assert_eq!(json_field(&out, "password").chars().count(), 20, "{out}");
    // Without JSON the request is empty.
    let out = run(&redis, &["call", "random.Random/Uuid"]).await.ok();
    assert_eq!(json_field(&out, "uuid").len(), 36, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_service_names_the_live_ones() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let error = run(&redis, &["call", "nope.Nope/Sum", "{}"]).await.error();
    assert_eq!(
        error,
        format!(
            "error: no live worker serves nope.Nope on bus \"{BUS}\" \
             (live services: math.Math, random.Random)\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_method_names_the_known_ones() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let error = run(&redis, &["call", "math.Math/Divide", "{}"])
        .await
        .error();
    assert_eq!(
        error,
        "error: math.Math 1.2.0 has no method \"Divide\" (its methods: Sum, Now)\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_that_does_not_fit_names_the_field() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let error = run(&redis, &["call", "math.Math/Sum", r#"{"a": 1, "c": 2}"#])
        .await
        .error();
    assert_eq!(
        error,
        "error: the JSON does not fit math.SumRequest: field `c`: unrecognized field name 'c' \
         (a request looks like {\"a\": \"0\", \"b\": \"0\"})\n"
    );
    let error = run(&redis, &["call", "math.Math/Sum", r#"{"a": "one"}"#])
        .await
        .error();
    assert!(error.contains("field `a`"), "{error}");
    let error = run(&redis, &["call", "math.Math/Sum", r#"{"a": 1,"#])
        .await
        .error();
    assert!(
        error.starts_with("error: the JSON does not fit math.SumRequest: "),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_shows_its_status_code_and_message() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let error = run(
        &redis,
        &["call", "random.Random/Error", r#"{"message": "boom"}"#],
    )
    .await
    .error();
    assert_eq!(error, "error: random.Random/Error failed: UNKNOWN: boom\n");
    let error = run(
        &redis,
        &["call", "random.Random/Password", r#"{"length": 0}"#],
    )
    .await
    .error();
    assert_eq!(
        error,
        "error: random.Random/Password failed: INVALID_ARGUMENT: \
         length must be between 1 and 1024, not 0\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_service_is_no_longer_callable() {
    let (redis, _bus, server) = redis_with_samples().await;
    server.shutdown().await.expect("the workers stop");
    let error = run(&redis, &["call", "math.Math/Sum", "{}"]).await.error();
    assert!(
        error.contains("no live worker serves math.Math")
            && error.contains("(live services: none)"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_names_the_url() {
    let port = redis_bus_testing::free_port().expect("a free port");
    let url = format!("redis://127.0.0.1:{port}");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_redis-bus"))
        .args(["--url", &url, "call", "math.Math/Sum", "{}"])
        .output()
        .await
        .expect("redis-bus runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        stderr.starts_with(&format!("error: cannot connect to Redis at {url}")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_without_a_method_is_a_usage_error() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let run = run(&redis, &["call", "math.Math", "{}"]).await;
    assert!(!run.success);
    assert!(
        run.stderr.contains("expected SERVICE/METHOD"),
        "{}",
        run.stderr
    );
}
