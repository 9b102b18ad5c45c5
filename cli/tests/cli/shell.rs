//! `shell`, driven through its line interface (stdin not a terminal): the
//! same commands as the command line, calls typed as `SERVICE/METHOD JSON`,
//! errors that do not end it, and services started after it that become
//! callable and completable.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{BUS, PATIENCE, command, redis_and_bus, redis_with_samples};
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::RandomService;
use redis_bus::Server;
use redis_bus_testing::RedisServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

/// A running `redis-bus shell`, fed line by line.
struct Shell {
    /// The process.
    child: Child,
    /// Its stdin; dropping it ends the shell's input.
    stdin: Option<ChildStdin>,
    /// Its stdout, line by line.
    stdout: mpsc::UnboundedReceiver<String>,
    /// Its stderr, line by line.
    stderr: mpsc::UnboundedReceiver<String>,
}

/// Forwards each line of `output` to a channel.
fn lines(
    output: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(output).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

impl Shell {
    /// Starts `redis-bus shell` on the test bus of `redis`.
    fn start(redis: &RedisServer) -> Shell {
        let mut child = command(redis, &["shell"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the shell starts");
        let stdout = lines(child.stdout.take().expect("piped"));
        let stderr = lines(child.stderr.take().expect("piped"));
        Shell {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
        }
    }

    /// Types `line`.
    async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("input still open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("the shell reads");
        stdin.flush().await.expect("the shell reads");
    }

    /// Reads stdout until a line satisfies `wanted`, within `patience`;
    /// returns that line, or `None` when the time is up.
    async fn stdout_within(
        &mut self,
        patience: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<String> {
        read_until(&mut self.stdout, patience, wanted).await
    }

    /// Reads stdout until a line satisfies `wanted`; fails after `PATIENCE`.
    async fn expect_stdout(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        self.stdout_within(PATIENCE, wanted)
            .await
            .unwrap_or_else(|| panic!("no line of stdout was {what}"))
    }

    /// Reads stderr until a line satisfies `wanted`; fails after `PATIENCE`.
    async fn expect_stderr(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        read_until(&mut self.stderr, PATIENCE, wanted)
            .await
            .unwrap_or_else(|| panic!("no line of stderr was {what}"))
    }

    /// Ends the input and waits for the shell to exit; whether it exited
    /// with status 0.
    async fn finish(mut self) -> bool {
        drop(self.stdin.take());
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the shell exits at the end of its input")
            .expect("the shell is waited for")
            .success()
    }
}

/// Reads `lines` until one satisfies `wanted`, within `patience`.
async fn read_until(
    lines: &mut mpsc::UnboundedReceiver<String>,
    patience: Duration,
    wanted: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, lines.recv()).await {
            Ok(Some(line)) if wanted(&line) => return Some(line),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_runs_calls_and_commands_from_its_input() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let mut shell = Shell::start(&redis);
    shell.send("services").await;
    shell
        .expect_stdout("the math row", |l| {
            l.starts_with("math.Math ") && l.contains("Sum, Now")
        })
        .await;
    shell.send(r#"math.Math/Sum {"a": 1, "b": 2}"#).await;
    shell
        .expect_stdout("the sum", |l| l == r#"  "sum": "3""#)
        .await;
    shell.send(r#"call math.Math/Sum '{"a": 2, "b": 2}'"#).await;
    shell
        .expect_stdout("the sum", |l| l == r#"  "sum": "4""#)
        .await;
    shell.send("describe random.Random").await;
    shell
        .expect_stdout("a message", |l| l == "message random.PasswordRequest {")
        .await;
    shell
        .send(r#"cache clear math.Math/Sum {"a": 1, "b": 2}"#)
        .await;
    shell
        .expect_stdout("the clear", |l| {
            l == r#"cleared the cached reply of math.Math/Sum for {"a": 1, "b": 2}"#
        })
        .await;
    // The shell sends its statistics after each call: the misses are in.
    shell.send("stats math.Math").await;
    shell
        .expect_stdout("the stats row", |l| l.starts_with("math.Math/Sum "))
        .await;
    shell.send("help").await;
    shell.expect_stdout("the help", |l| l == "Commands:").await;
    shell.send("exit").await;
    assert!(shell.finish().await, "every line went through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_in_one_line_do_not_end_the_shell() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let mut shell = Shell::start(&redis);
    shell.send("nope.Nope/Sum {}").await;
    shell
        .expect_stderr("the unknown service", |l| {
            l == format!(
                "error: line 1: no live worker serves nope.Nope on bus \"{BUS}\" \
                 (live services: math.Math, random.Random)"
            )
        })
        .await;
    shell.send(r#"math.Math/Sum {"c": 1}"#).await;
    shell
        .expect_stderr("the misfit field", |l| {
            l.starts_with("error: line 2: the JSON does not fit math.SumRequest: field `c`")
        })
        .await;
    shell.send("frobnicate").await;
    shell
        .expect_stderr("the unknown command", |l| {
            l.starts_with("error: line 3: ") && l.contains("frobnicate")
        })
        .await;
    shell.send("cleanup").await;
    shell
        .expect_stderr("the refused cleanup", |l| {
            l.starts_with("error: line 4: refusing to remove") && l.contains("pass --yes")
        })
        .await;
    shell
        .send(r#"random.Random/Error {"message": "boom"}"#)
        .await;
    shell
        .expect_stderr("the failed call", |l| {
            l == "error: line 5: random.Random/Error failed: UNKNOWN: boom"
        })
        .await;
    shell.send(r#"math.Math/Sum {"a": 2, "b": 3}"#).await;
    shell
        .expect_stdout("the sum", |l| l == r#"  "sum": "5""#)
        .await;
    shell.send("# comments and blank lines are fine").await;
    shell.send("").await;
    drop(shell.stdin.take());
    shell
        .expect_stderr("the summary", |l| l == "error: 5 of 8 lines failed")
        .await;
    assert!(
        !shell.finish().await,
        "a script whose lines failed exits non-zero"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_started_after_the_shell_is_callable_and_completable() {
    let (redis, bus) = redis_and_bus().await;
    let mut shell = Shell::start(&redis);
    shell.send("services").await;
    shell
        .expect_stdout("an empty bus", |l| {
            l == format!("no live services on bus \"{BUS}\"")
        })
        .await;

    let _server = Server::new(&bus)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .expect("the worker starts");
    // Calls read the registry each time: callable at once.
    shell.send(r#"random.Random/Password {"length": 20}"#).await;
    let line = shell
        .expect_stdout("the password", |l| l.starts_with(r#"  "password": ""#))
        .await;
    assert_eq!(line.len(), r#"  "password": """#.len() + 20, "{line}");

    // Completion follows the registry's changes: poll until it has seen
    // the new service.
    let deadline = Instant::now() + PATIENCE;
    loop {
        shell.send("complete random.Random/Pa").await;
        let seen = shell
            .stdout_within(Duration::from_millis(200), |l| {
                l == "random.Random/Password"
            })
            .await;
        if seen.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new service is never completed"
        );
    }
    shell.send(r#"complete random.Random/Password {"le"#).await;
    shell
        .expect_stdout("the field", |l| l == r#"random.Random/Password {"length":"#)
        .await;
    shell.send("complete describe ").await;
    shell
        .expect_stdout("the service", |l| l == "describe random.Random")
        .await;
    shell.send("exit").await;
    assert!(shell.finish().await);
}
