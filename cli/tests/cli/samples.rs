//! The sample workers (`examples/math.rs`, `random.rs`, `accounts.rs`) as
//! their users run them: the real binaries against a real redis-server,
//! called through the real `redis-bus` command. They say "serving" only
//! once registered, handle one request with `--once`, stop at a failing
//! handler with `--debug`, print errors in their `Display` form, write
//! colour only to a terminal without `NO_COLOR`, register their proto
//! comments for `describe`, and lose their own statistics row when killed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use expectrl::Expect;
use redis_bus_testing::RedisServer;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, Lines};
use tokio::process::{Child, Command};

use crate::common::{BUS, PATIENCE, redis_and_bus, run};

/// The directory cargo builds into (`target/debug` of the workspace).
fn profile_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_redis-bus"))
        .parent()
        .expect("the binary is in a directory")
}

/// The sample worker `name`, built (once per test run) as `cargo run
/// --example` would build it.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        let target = profile_dir().parent().expect("the target directory");
        let status = std::process::Command::new(env!("CARGO"))
            .current_dir(workspace)
            .args([
                "build",
                "--quiet",
                "--example",
                "math",
                "--example",
                "random",
            ])
            .args(["--example", "accounts", "--target-dir"])
            .arg(target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the examples build");
    });
    profile_dir().join("examples").join(name)
}

/// A sample worker with `args`, on the test's bus, its stderr piped.
fn worker(redis: &RedisServer, name: &str, args: &[&str]) -> Child {
    Command::new(example(name))
        .args(args)
        .env("REDIS_URL", redis.url())
        .env("REDIS_BUS", BUS)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the worker starts")
}

/// The lines of `child`'s stderr.
fn stderr_lines(child: &mut Child) -> Lines<BufReader<impl AsyncRead + use<>>> {
    BufReader::new(child.stderr.take().expect("piped")).lines()
}

/// Reads lines until one contains `wanted`; gives every line read.
async fn until(lines: &mut Lines<BufReader<impl AsyncRead + Unpin>>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.expect("stderr reads") {
            let done = line.contains(wanted);
            seen.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no line with {wanted:?} in {seen:#?}");
    seen
}

/// Waits for `child` to exit, within `PATIENCE`, and gives its status.
async fn exit_code(child: &mut Child) -> Option<i32> {
    tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the worker exits by itself")
        .expect("the worker is waited for")
        .code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_serves_one_request_after_saying_serving_once_registered() {
    let (redis, bus) = redis_and_bus().await;
    let mut math = worker(&redis, "math", &["--once"]);
    let pid = math.id().expect("running");
    let mut lines = stderr_lines(&mut math);
    let seen = until(&mut lines, "serving math.Math").await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some(
            format!(
                "serving math.Math for one request on bus {BUS:?} at {}",
                redis.url()
            )
            .as_str()
        )
    );
    // Said once registered: callers find it at once.
    let instances = bus
        .discovery()
        .instances("math.Math")
        .await
        .expect("the registry reads");
    assert!(instances.iter().any(|i| i.pid == pid), "{instances:?}");
    let reply = run(&redis, &["call", "math.Math/Sum", r#"{"a": 40, "b": 2}"#])
        .await
        .ok();
    assert!(reply.contains(r#""sum": "42""#), "{reply}");
    assert_eq!(
        exit_code(&mut math).await,
        Some(0),
        "one request, then exit"
    );
    let gone = bus
        .discovery()
        .instances("math.Math")
        .await
        .expect("the registry reads");
    assert!(gone.is_empty(), "deregistered: {gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_reports_the_failing_call_and_stops() {
    let (redis, _bus) = redis_and_bus().await;
    let mut random = worker(&redis, "random", &["--debug"]);
    let mut lines = stderr_lines(&mut random);
    until(&mut lines, "serving random.Random in debug mode on bus").await;
    // Calls that go through are served one at a time; the first failure
    // stops the worker with a report.
    let ok = run(
        &redis,
        &["call", "random.Random/Password", r#"{"length": 12}"#],
    )
    .await
    .ok();
    assert!(ok.contains("password"), "{ok}");
    let failed = run(
        &redis,
        &["call", "random.Random/Error", r#"{"message": "boom"}"#],
    )
    .await;
    assert_eq!(failed.code, Some(66), "{failed:?}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("ends")
    {
        rest.push(line);
    }
    let text = rest.join("\n");
    assert!(
        text.contains("redis-bus debug: random.Random/Error failed"),
        "{text}"
    );
    assert!(
        text.contains(r#"request (random.ErrorRequest): {"message":"boom"}"#),
        "{text}"
    );
    assert!(text.contains("  error: UNKNOWN: boom"), "{text}");
    let last = rest.last().expect("a last line");
    assert!(
        last.starts_with("error: ") && last.contains("boom"),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "no colour on a pipe: {text:?}");
    assert!(
        !text.contains("Error {") && !text.contains("\\n"),
        "Display, not Debug: {text}"
    );
    assert_eq!(exit_code(&mut random).await, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_read_as_messages() {
    let mut refused = Command::new(example("accounts"))
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("REDIS_BUS", BUS)
        .output()
        .await
        .expect("the worker runs");
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: cannot connect to Redis at redis://127.0.0.1:1"),
        "{stderr}"
    );
    assert_eq!(
        lines.last(),
        Some(
            &"Start a Redis (e.g. `redis-server --port 6379 --save \"\"`) or point REDIS_URL at one."
        ),
        "{stderr}"
    );
    refused.stderr.clear();

    let wrong = Command::new(example("math"))
        .arg("--dbug")
        .output()
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&wrong.stderr).into_owned();
    assert_eq!(wrong.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: unknown argument \"--dbug\"\nusage: "),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_serves_once_too() {
    let (redis, _bus) = redis_and_bus().await;
    let mut accounts = worker(&redis, "accounts", &["--once"]);
    let mut lines = stderr_lines(&mut accounts);
    until(&mut lines, "serving accounts.Accounts for one request").await;
    let services = run(&redis, &["services"]).await.ok();
    assert!(services.contains("accounts.Accounts"), "{services}");
    accounts.kill().await.expect("stopped");
}

/// A worker's first lines on a terminal, with `NO_COLOR` set to `no_color`.
fn on_a_terminal(redis_url: &str, no_color: Option<&str>) -> String {
    let mut command = std::process::Command::new(example("math"));
    command
        .env("REDIS_URL", redis_url)
        .env("REDIS_BUS", BUS)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let mut session = expectrl::Session::spawn(command).expect("a pty");
    session.set_expect_timeout(Some(PATIENCE));
    let found = session.expect("serving math.Math").expect("serving");
    let mut text = String::from_utf8_lossy(found.before()).into_owned();
    text.push_str(&String::from_utf8_lossy(found.as_bytes()));
    let _ = session.get_process_mut().exit(true);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colour_only_on_a_terminal_without_no_color() {
    let (redis, _bus) = redis_and_bus().await;
    let url = redis.url();
    tokio::task::spawn_blocking(move || {
        let coloured = on_a_terminal(&url, None);
        assert!(
            coloured.contains("\x1b["),
            "colour on a terminal: {coloured:?}"
        );
        let plain = on_a_terminal(&url, Some("1"));
        assert!(!plain.contains("\x1b["), "NO_COLOR: {plain:?}");
        assert!(plain.contains("worker started"), "{plain:?}");
    })
    .await
    .expect("the sessions do not panic");
}

/// The rows of `stats --instances` as (pid, handler runs).
async fn instance_rows(redis: &RedisServer) -> Vec<(u32, u64)> {
    let json = run(redis, &["--json", "stats", "--instances", "math.Math"])
        .await
        .ok();
    let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|row| {
            let pid = row["pid"].as_u64().expect("a live worker's pid") as u32;
            (pid, row["handler_runs"].as_u64().expect("a count"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_own_statistics_go_with_its_registration() {
    let (redis, bus) = redis_and_bus().await;
    let mut workers = Vec::new();
    for _ in 0..2 {
        let mut math = worker(&redis, "math", &[]);
        let mut lines = stderr_lines(&mut math);
        until(&mut lines, "serving math.Math").await;
        workers.push((math, lines));
    }
    let math = generated_examples::math::math_bus::MathClient::new(&bus);
    for b in 0..20 {
        let sum = generated_examples::math::SumRequest { a: 1, b };
        math.sum(sum).await.expect("a sum");
    }
    // The workers send their counts every second.
    let rows = crate::common::eventually("both workers' counts", || async {
        let rows = instance_rows(&redis).await;
        (rows.iter().map(|(_, runs)| runs).sum::<u64>() == 20).then_some(rows)
    })
    .await;
    let (victim, _) = rows[0];
    let (child, _) = workers
        .iter_mut()
        .find(|(child, _)| child.id() == Some(victim))
        .expect("a row names one of the workers");
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("the worker is gone");
    // Killed, it never deregistered: its row goes when its registration
    // lapses (5 s), by itself.
    let after = crate::common::eventually("the killed worker's row to go", || async {
        let rows = instance_rows(&redis).await;
        rows.iter().all(|(pid, _)| *pid != victim).then_some(rows)
    })
    .await;
    let survivors: Vec<u32> = rows
        .iter()
        .map(|(pid, _)| *pid)
        .filter(|pid| *pid != victim)
        .collect();
    assert_eq!(
        after.iter().map(|(pid, _)| *pid).collect::<Vec<_>>(),
        survivors,
        "the live worker keeps its row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_the_proto_comments_the_sample_binaries_registered() {
    let (redis, _bus) = redis_and_bus().await;
    let mut started = Vec::new();
    for name in ["math", "random"] {
        let mut sample = worker(&redis, name, &[]);
        let mut lines = stderr_lines(&mut sample);
        until(&mut lines, "serving").await;
        started.push((sample, lines));
    }
    let service = run(&redis, &["describe", "random.Random"]).await.ok();
    assert!(
        service
            .starts_with("// Random values: identifiers and passwords.\nservice random.Random {"),
        "{service}"
    );
    let method = run(&redis, &["describe", "Math/Sum"]).await.ok();
    assert!(
        method.contains(
            "  // Adds two numbers. Pure, so each sum is computed once and cached for an\n  \
             // hour.\n  rpc Sum("
        ),
        "{method}"
    );
    let message = run(&redis, &["describe", "random.PasswordRequest"])
        .await
        .ok();
    assert_eq!(
        message,
        "message random.PasswordRequest {\n  \
         // How many characters; 12 when unset, at least 1 and at most 1024.\n  \
         optional uint32 length = 1;\n}\n"
    );
}
