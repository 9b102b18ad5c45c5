//! What the command's tests share: a real redis-server per test, the
//! sample services served in this process as real workers, and running
//! the real `redis-bus` binary against them.

#![allow(dead_code)]

use std::future::Future;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use generated_examples::math::math_bus::MathServer;
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::{MathService, RandomService};
use redis_bus::{Bus, RunningServer, Server};
use redis_bus_testing::RedisServer;
use tokio::process::Command;

/// The bus the tests use (each test has its own Redis).
pub const BUS: &str = "cli-test";

/// How long a test waits for something that should happen soon (workers
/// send their statistics every second).
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A fresh redis-server and a bus on it.
pub async fn redis_and_bus() -> (RedisServer, Bus) {
    let redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .expect("the start does not panic")
        .expect("redis-server starts");
    let bus = Bus::connect(&redis.url(), BUS).await.expect("bus connects");
    (redis, bus)
}

/// Serves the sample math and random services on `bus`.
pub async fn serve_samples(bus: &Bus) -> RunningServer {
    Server::new(bus)
        .add_service(MathServer::new(MathService))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .expect("the workers start")
}

/// A fresh redis-server with the sample services served on it.
pub async fn redis_with_samples() -> (RedisServer, Bus, RunningServer) {
    let (redis, bus) = redis_and_bus().await;
    let server = serve_samples(&bus).await;
    (redis, bus, server)
}

/// `redis-bus --url <redis> --bus <BUS> <args>`, with stdin closed and no
/// Redis settings from the environment.
pub fn command(redis: &RedisServer, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redis-bus"));
    command
        .args(["--url", &redis.url(), "--bus", BUS])
        .args(args)
        .env_remove("REDIS_URL")
        .env_remove("REDIS_BUS")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// What a run of the command gave.
#[derive(Debug)]
pub struct Run {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its exit status (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Its stdout, after checking that it succeeded without a word on
    /// stderr.
    pub fn ok(self) -> String {
        assert!(self.success, "the command failed: {self:?}");
        assert_eq!(self.stderr, "", "nothing on stderr");
        self.stdout
    }

    /// Its one-line error, after checking that it failed with nothing on
    /// stdout.
    pub fn error(self) -> String {
        assert!(!self.success, "the command succeeded: {self:?}");
        assert_eq!(self.stdout, "", "nothing on stdout");
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "one line: {:?}",
            self.stderr
        );
        self.stderr
    }
}

/// Runs `redis-bus` with `args` against `redis` and waits for it.
pub async fn run(redis: &RedisServer, args: &[&str]) -> Run {
    command(redis, args)
        .output()
        .await
        .expect("redis-bus runs")
        .into()
}

/// Runs `redis-bus` with `args` against `redis`, with `stdin` as its
/// standard input, and waits for it.
pub async fn run_with_stdin(redis: &RedisServer, args: &[&str], stdin: &str) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut child = command(redis, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-bus runs");
    let mut input = child.stdin.take().expect("piped");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("redis-bus reads");
    drop(input);
    child
        .wait_with_output()
        .await
        .expect("redis-bus ends")
        .into()
}

/// Polls `check` until it gives a value or `PATIENCE` runs out, then
/// fails naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `field` of the JSON `text`, as a string.
pub fn json_field(text: &str, field: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(text).expect("the output is JSON");
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string in {text}"))
        .to_owned()
}
