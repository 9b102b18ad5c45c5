//! `services` and `describe`: what is live on the bus, read from the
//! registry the workers keep.

use crate::common::{BUS, redis_and_bus, redis_with_samples, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_lists_live_services_and_cached_methods() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["services"]).await.ok();
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        lines.contains(&vec![
            "math.Math",
            "1.2.0",
            "(1",
            "instance)",
            "1",
            "Sum,",
            "Now"
        ]),
        "{out}"
    );
    assert!(
        lines.contains(&vec![
            "random.Random",
            "1.0.0",
            "(1",
            "instance)",
            "1",
            "Uuid,",
            "Password,",
            "Uuids,",
            "Pick,",
            "Error"
        ]),
        "{out}"
    );
    assert!(
        lines.contains(&vec!["CACHED", "METHOD", "KEY", "TTL"]),
        "{out}"
    );
    assert!(
        lines.contains(&vec!["math.Math/Sum", "{a}/{b}", "1h"]),
        "{out}"
    );
    assert!(
        lines.contains(&vec!["math.Math/Now", "{seed}", "no", "expiry"]),
        "{out}"
    );
    assert!(
        !out.contains("random.Random/"),
        "random caches nothing: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_reads_the_bus_from_the_environment() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_redis-bus"))
        .arg("services")
        .env("REDIS_URL", redis.url())
        .env("REDIS_BUS", BUS)
        .output()
        .await
        .expect("redis-bus runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("math.Math"), "{stdout}");

    let other_bus = tokio::process::Command::new(env!("CARGO_BIN_EXE_redis-bus"))
        .args(["services", "--url", &redis.url(), "--bus", "elsewhere"])
        .output()
        .await
        .expect("redis-bus runs");
    assert_eq!(
        String::from_utf8_lossy(&other_bus.stdout),
        "no live services on bus \"elsewhere\"\n",
        "other buses see nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_rpcs_options_messages_and_instances() {
    let (redis, _bus, server) = redis_with_samples().await;
    let out = run(&redis, &["describe", "math.Math"]).await.ok();
    for expected in [
        // The proto's comments, from the descriptor the worker registered.
        "// Arithmetic and time, with cached results.\nservice math.Math {\n  \
         option (redis_bus.version) = \"1.2.0\";",
        "  }\n\n  // The current time, cached per seed: a seed keeps its time until its \
         cache\n  // entry is cleared.\n  rpc Now(",
        "  rpc Sum(math.SumRequest) returns (math.SumReply) {\n    \
         option (redis_bus.cache_key) = \"{a}/{b}\";\n    \
         option (redis_bus.cache_ttl_seconds) = 3600;\n    \
         option (redis_bus.idempotent) = true;\n  }",
        "message math.SumRequest {\n  int64 a = 1;\n  int64 b = 2;\n}",
        "message math.NowReply {\n  // When the worker computed the reply.\n  \
         google.protobuf.Timestamp time = 1;\n}",
        "// google.protobuf.Timestamp (well-known type): in JSON, an RFC 3339 string",
        "live instances: 1\nINSTANCE",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
    let instance = out
        .lines()
        .find(|line| line.starts_with(server.instance_id()))
        .unwrap_or_else(|| panic!("a row for {}:\n{out}", server.instance_id()));
    let cells: Vec<&str> = instance.split_whitespace().collect();
    assert_eq!(cells[1], "1.2.0", "{instance}");
    assert_eq!(
        cells[3],
        std::process::id().to_string(),
        "the worker's pid: {instance}"
    );

    let out = run(&redis, &["describe", "random.Random"]).await.ok();
    for expected in [
        "  rpc Password(random.PasswordRequest) returns (random.PasswordReply) {\n    \
         option (redis_bus.timeout_ms) = 2000;\n  }",
        "  rpc Error(random.ErrorRequest) returns (random.ErrorReply);",
        "message random.PasswordRequest {\n  \
         // How many characters; 12 when unset, at least 1 and at most 1024.\n  \
         optional uint32 length = 1;\n}",
        "message random.UuidRequest {}",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_of_an_unknown_service_names_the_live_ones() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let error = run(&redis, &["describe", "nope.Nope"]).await.error();
    assert_eq!(
        error,
        format!(
            "error: no live worker serves nope.Nope on bus \"{BUS}\" \
             (live services: math.Math, random.Random)\n"
        )
    );
    let (empty, _bus) = redis_and_bus().await;
    let error = run(&empty, &["describe", "math.Math"]).await.error();
    assert!(error.contains("(live services: none)"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_shows_services_and_instances_coming_and_going() {
    use generated_examples::random::random_bus::RandomServer;
    use generated_examples::services::RandomService;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let (redis, bus) = redis_and_bus().await;
    let mut child = crate::common::command(&redis, &["watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the watch starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    let banner: String = next(&mut stderr).await;
    assert_eq!(banner, format!("watching bus \"{BUS}\"; Ctrl-C to stop"));

    let server = redis_bus::Server::new(&bus)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .expect("the worker starts");
    let id = server.instance_id().to_owned();
    let event = |line: String| -> serde_json::Value { serde_json::from_str(&line).expect("JSON") };
    let up = event(next(&mut stdout).await);
    assert_eq!(up["event"], "service_up");
    assert_eq!(up["service"], "random.Random");
    let instance = event(next(&mut stdout).await);
    assert_eq!(instance["event"], "instance_up");
    assert_eq!(instance["id"], id.as_str());
    assert_eq!(instance["version"], "1.0.0");

    server.shutdown().await.expect("the worker stops");
    let down = event(next(&mut stdout).await);
    assert_eq!(down["event"], "instance_down");
    assert_eq!(down["id"], id.as_str());
    assert_eq!(event(next(&mut stdout).await)["event"], "service_down");
}

/// The next line of a child's output, within `PATIENCE`.
async fn next<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut tokio::io::Lines<R>) -> String {
    tokio::time::timeout(crate::common::PATIENCE, lines.next_line())
        .await
        .expect("a line in time")
        .expect("readable")
        .expect("a line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_one_method_or_one_message() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let sum = run(&redis, &["describe", "Math/Sum"]).await.ok();
    assert_eq!(
        sum,
        r#"// Arithmetic and time, with cached results.
service math.Math {
  option (redis_bus.version) = "1.2.0";

  // Adds two numbers. Pure, so each sum is computed once and cached for an
  // hour.
  rpc Sum(math.SumRequest) returns (math.SumReply) {
    option (redis_bus.cache_key) = "{a}/{b}";
    option (redis_bus.cache_ttl_seconds) = 3600;
    option (redis_bus.idempotent) = true;
  }
}

message math.SumRequest {
  int64 a = 1;
  int64 b = 2;
}

message math.SumReply {
  // a + b.
  int64 sum = 1;
}
"#
    );
    let request = run(&redis, &["describe", "random.PasswordRequest"])
        .await
        .ok();
    assert_eq!(
        request,
        "message random.PasswordRequest {\n  \
         // How many characters; 12 when unset, at least 1 and at most 1024.\n  \
         optional uint32 length = 1;\n}\n"
    );
    let json = run(&redis, &["--json", "describe", "math.SumRequest"])
        .await
        .ok();
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["message"], "math.SumRequest");
    assert_eq!(json["fields"][1]["name"], "b");
    assert_eq!(json["fields"][1]["type"], "int64");
    let method = run(&redis, &["--json", "describe", "math.Math/Now"])
        .await
        .ok();
    assert!(method.contains(r#""cache_key":"{seed}""#), "{method}");
    // Scripts get the comments too, as plain text.
    let method: serde_json::Value = serde_json::from_str(&method).expect("JSON");
    assert_eq!(
        method["comment"],
        "The current time, cached per seed: a seed keeps its time until its cache\n\
         entry is cleared."
    );
    let message = run(&redis, &["--json", "describe", "random.PasswordRequest"])
        .await
        .ok();
    let message: serde_json::Value = serde_json::from_str(&message).expect("JSON");
    assert_eq!(
        message["fields"][0]["comment"],
        "How many characters; 12 when unset, at least 1 and at most 1024."
    );
    assert_eq!(
        message["comment"],
        serde_json::Value::Null,
        "no comment above it"
    );
    let service = run(&redis, &["--json", "describe", "random.Random"])
        .await
        .ok();
    let service: serde_json::Value = serde_json::from_str(&service).expect("JSON");
    assert_eq!(
        service["comment"],
        "Random values: identifiers and passwords."
    );

    let typo = run(&redis, &["describe", "math.SumRequst"]).await;
    assert_eq!(typo.code, Some(69));
    assert_eq!(
        typo.error(),
        "error: no live service or message is called math.SumRequst on bus \"cli-test\"; did you mean math.SumRequest?\n"
    );
    let method = run(&redis, &["describe", "math.Math/Sun"]).await;
    assert_eq!(method.code, Some(69));
    assert!(method.error().contains("did you mean Sum?"));
}
