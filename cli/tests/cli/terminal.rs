//! `shell` in a real pseudo-terminal: lines typed or pasted while a call
//! runs are all run, in order; a bracketed paste at the prompt runs each
//! of its lines; Ctrl-C cancels the running call and the shell goes on.
//!
//! A call is kept running by pausing a fault proxy between the shell and
//! Redis (the workers talk to Redis directly). Lines are typed after the
//! call has started, as a person would: rustyline reads the terminal in
//! chunks, and what comes in the same chunk as the Enter of a line it
//! reads is its own (see cli/README.md).

use std::process::Command;
use std::time::Duration;

use expectrl::Expect;
use expectrl::session::OsSession as Session;
use redis_bus_testing::FaultProxy;
use tempfile::TempDir;

use crate::common::{BUS, redis_with_samples};

/// Enter, as a terminal sends it.
const ENTER: &str = "\r";

/// `redis-bus shell` in a pseudo-terminal, on the bus behind `url`, with
/// its history in `state`; returns once it shows its banner.
fn start_shell(url: &str, state: &TempDir) -> Session {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redis-bus"));
    command
        .args(["--url", url, "--bus", BUS, "shell"])
        .env_remove("REDIS_URL")
        .env_remove("REDIS_BUS")
        .env("XDG_STATE_HOME", state.path())
        .env("TERM", "xterm");
    let mut shell = expectrl::Session::spawn(command).expect("the shell starts in a pty");
    shell.set_expect_timeout(Some(Duration::from_secs(15)));
    shell.expect("Ctrl-D to leave").expect("the banner");
    shell
}

/// `math.Math/Sum` of 1 and `b`, as typed.
fn sum(a: i64, b: i64) -> String {
    format!(r#"math.Math/Sum {{"a": {a}, "b": {b}}}"#)
}

/// Waits for the reply `"sum": "<n>"`, after what was already read.
fn expect_sum(shell: &mut Session, n: i64) {
    shell
        .expect(format!(r#""sum": "{n}""#).as_str())
        .unwrap_or_else(|error| panic!("no sum {n}: {error}"));
}

/// Leaves with `exit` and checks that the shell ended by itself.
fn exit(shell: &mut Session) {
    shell.send(format!("exit{ENTER}")).expect("typed");
    let status = shell.get_process().wait().expect("the shell ends");
    assert!(
        format!("{status:?}").ends_with(", 0)"),
        "the shell exits with status 0: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_typed_or_pasted_during_a_call_all_run_in_order() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let proxy = FaultProxy::start(redis.addr()).expect("the proxy starts");
    let state = TempDir::new().expect("a temp dir");
    let url = proxy.url();
    tokio::task::spawn_blocking(move || {
        let mut shell = start_shell(&url, &state);
        // The first call hangs until the proxy resumes; meanwhile two
        // lines are typed and two more pasted (bracketed, as terminals
        // paste), and the start of a sixth is typed.
        proxy.pause_all();
        shell.send(format!("{}{ENTER}", sum(1, 1))).expect("typed");
        std::thread::sleep(Duration::from_millis(300));
        shell.send(format!("{}{ENTER}", sum(1, 2))).expect("typed");
        shell.send(format!("{}{ENTER}", sum(1, 3))).expect("typed");
        shell
            .send(format!("\x1b[200~{}\r{}\r\x1b[201~", sum(1, 4), sum(1, 5)))
            .expect("pasted");
        shell.send(r#"math.Math/Sum {"a": 3,"#).expect("typed");
        std::thread::sleep(Duration::from_millis(300));
        proxy.resume();
        for n in 2..=5 {
            expect_sum(&mut shell, n);
        }
        // The unfinished line is back at the prompt, to be finished.
        shell.send(format!(r#" "b": 3}}{ENTER}"#)).expect("typed");
        expect_sum(&mut shell, 6);

        // A paste at the prompt: shown whole, each line run on Enter.
        std::thread::sleep(Duration::from_millis(200));
        shell
            .send(format!("\x1b[200~{}\n{}\n\x1b[201~", sum(3, 4), sum(4, 4)))
            .expect("pasted");
        shell.send(ENTER).expect("typed");
        expect_sum(&mut shell, 7);
        expect_sum(&mut shell, 8);
        exit(&mut shell);
        // Every line is in the history, in order.
        let history = std::fs::read_to_string(state.path().join("redis-bus/history"))
            .expect("the history is kept");
        let wanted: Vec<String> = [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]
            .iter()
            .map(|&(a, b)| sum(a, b))
            .chain([
                r#"math.Math/Sum {"a": 3, "b": 3}"#.to_owned(),
                sum(3, 4),
                sum(4, 4),
                "exit".to_owned(),
            ])
            .collect();
        let kept: Vec<&str> = history
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect();
        assert_eq!(kept, wanted);
    })
    .await
    .expect("the session does not panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_running_call_and_the_shell_goes_on() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let proxy = FaultProxy::start(redis.addr()).expect("the proxy starts");
    let state = TempDir::new().expect("a temp dir");
    let url = proxy.url();
    tokio::task::spawn_blocking(move || {
        let mut shell = start_shell(&url, &state);
        proxy.pause_all();
        shell.send(format!("{}{ENTER}", sum(1, 1))).expect("typed");
        // A person's next line, typed once the call runs.
        std::thread::sleep(Duration::from_millis(200));
        shell.send(format!("{}{ENTER}", sum(1, 2))).expect("typed");
        std::thread::sleep(Duration::from_millis(100));
        shell.send("\x03").expect("Ctrl-C");
        shell
            .expect("cancelled; 1 queued line not run (Up recalls them)")
            .expect("the cancel is told");
        proxy.resume();
        shell.send(format!("{}{ENTER}", sum(3, 4))).expect("typed");
        expect_sum(&mut shell, 7);
        exit(&mut shell);
    })
    .await
    .expect("the session does not panic");
}
