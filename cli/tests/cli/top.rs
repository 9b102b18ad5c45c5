//! `top`: the live view in a real pseudo-terminal (drawn, sorted, filtered,
//! quit with the terminal restored), its one-frame and JSON forms, and
//! `stats --window`, all while the test keeps the sample workers busy.

use std::num::NonZeroU16;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::Expect;
use expectrl::session::OsSession as Session;
use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::MathClient;
use generated_examples::random::ErrorRequest;
use generated_examples::random::random_bus::RandomClient;
use redis_bus::Bus;
use tokio::task::JoinHandle;

use crate::common::{BUS, PATIENCE, redis_with_samples, run};

/// Calls the samples until aborted: sums that run (new keys) and sums that
/// hit the cache (the same key), and errors.
fn load(bus: &Bus) -> JoinHandle<()> {
    let math = MathClient::new(bus).with_timeout(Duration::from_secs(5));
    let random = RandomClient::new(bus).with_timeout(Duration::from_secs(5));
    tokio::spawn(async move {
        for n in 0.. {
            let _ = math.sum(SumRequest { a: n, b: 0 }).await;
            let _ = math.sum(SumRequest { a: -1, b: -1 }).await;
            if n % 4 == 0 {
                let error = ErrorRequest {
                    message: "boom".to_owned(),
                };
                let _ = random.error(error).await;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// The cells of `method`'s row in a table.
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

fn rate(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("a rate, not {cell:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_once_prints_one_frame_of_rates() {
    let (redis, bus, _server) = redis_with_samples().await;
    let load = load(&bus);
    // Let the first counts arrive, so that both samples see traffic.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let frame = run(&redis, &["top", "--once", "--interval", "2"])
        .await
        .ok();
    load.abort();
    let first = frame.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("bus {BUS:?}: 2 methods, 2 live instances, "))
            && first.ends_with("sorted by requests/s"),
        "{frame}"
    );
    assert!(
        frame
            .lines()
            .nth(1)
            .is_some_and(|titles| titles.starts_with("METHOD")
                && titles.contains("REQ/S  RUNS/S  ERR/S  HIT%")
                && titles
                    .contains("CALL P99  INST  QUEUE  REQ/S HISTORY  ERROR CODES  LAST ERROR")),
        "{frame}"
    );
    let sum = row(&frame, "math.Math/Sum").expect("a row for Sum");
    // METHOD REQ/S RUNS/S ERR/S HIT% P50 P99 CALL-P99 INST QUEUE HISTORY
    assert!(
        rate(&sum[1]) > rate(&sum[2]),
        "cache hits are requests: {frame}"
    );
    assert!(rate(&sum[2]) > 0.0, "{frame}");
    assert_eq!(sum[3], "0", "{frame}");
    let hit: f64 = sum[4].trim_end_matches('%').parse().expect("a percentage");
    assert!(hit > 10.0 && hit < 90.0, "{frame}");
    assert!(sum[5] != "-" && sum[6] != "-", "latencies: {frame}");
    assert!(
        sum[7] != "-",
        "the whole call, as the test's client timed it: {frame}"
    );
    assert_eq!(sum[8], "1", "one live instance: {frame}");
    assert_eq!(
        sum[9].chars().count(),
        1,
        "one interval of history: {frame}"
    );
    let error = row(&frame, "random.Random/Error").expect("a row for Error");
    assert!(rate(&error[3]) > 0.0, "{frame}");
    assert_eq!(error[11], "UNKNOWN", "the failures by code: {frame}");
    assert_eq!(error[13..], ["UNKNOWN:", "boom"], "{frame}");
    // The busiest method comes first.
    assert!(
        frame
            .lines()
            .nth(2)
            .unwrap_or_default()
            .starts_with("math.Math/Sum"),
        "{frame}"
    );

    let only = run(&redis, &["top", "--once", "--filter", "random"])
        .await
        .ok();
    assert!(
        only.contains("random.Random/Error") && !only.contains("math.Math"),
        "{only}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_json_prints_a_sample_per_interval() {
    let (redis, bus, _server) = redis_with_samples().await;
    let load = load(&bus);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = run(&redis, &["--json", "top", "--once", "--interval", "2"])
        .await
        .ok();
    load.abort();
    let sample: serde_json::Value = serde_json::from_str(&out).expect("one JSON line");
    let methods = sample["methods"].as_array().expect("methods");
    let sum = methods
        .iter()
        .find(|method| method["method"] == "math.Math/Sum")
        .expect("Sum");
    assert!(
        sum["requests_per_s"].as_f64() > sum["handler_runs_per_s"].as_f64(),
        "{out}"
    );
    assert!(sum["handling_p99_us"].as_u64().is_some(), "{out}");
    assert!(sum["call_p99_us"].as_u64().is_some(), "{out}");
    let error = methods
        .iter()
        .find(|method| method["method"] == "random.Random/Error")
        .expect("Error");
    assert!(
        error["errors_by_code"]["UNKNOWN"].as_u64() > Some(0),
        "{out}"
    );
    assert_eq!(sum["instances"], 1, "{out}");
    let ratio = sum["cache_hit_ratio"].as_f64().expect("a ratio");
    assert!(ratio > 0.1 && ratio < 0.9, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_refuses_to_draw_without_a_terminal() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["top"]).await;
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_eq!(
        out.error(),
        "error: top needs a terminal: use --once for one frame as text, or --json for samples\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_window_gives_rates() {
    let (redis, bus, _server) = redis_with_samples().await;
    let load = load(&bus);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let table = run(&redis, &["stats", "--window", "2s"]).await.ok();
    let json = run(&redis, &["--json", "stats", "math.Math", "--window", "2s"])
        .await
        .ok();
    load.abort();
    assert!(table.starts_with("over the last 2s:\nMETHOD "), "{table}");
    assert!(
        table.contains("  REQUESTS/S  HANDLER RUNS/S  ERRORS/S  CACHE HIT %  "),
        "{table}"
    );
    let sum = row(&table, "math.Math/Sum").expect("Sum");
    assert!(
        rate(&sum[1]) > rate(&sum[2]) && rate(&sum[2]) > 0.0,
        "{table}"
    );
    assert!(
        sum[5..9].iter().all(|cell| cell != "-"),
        "latencies: {table}"
    );
    assert_eq!(
        sum[9..],
        ["1", "0"],
        "one instance, nothing queued, no errors: {table}"
    );
    let error = row(&table, "random.Random/Error").expect("Error");
    assert!(rate(&error[3]) > 0.0, "{table}");
    assert_eq!(
        error[11], "UNKNOWN",
        "the window's failures by code: {table}"
    );
    let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let rows = rows.as_array().expect("an array");
    assert!(
        rows.iter().all(|row| row["method"]
            .as_str()
            .is_some_and(|m| m.starts_with("math.Math/"))),
        "{json}"
    );
    assert!(
        rows.iter()
            .any(|row| row["requests_per_s"].as_f64() > Some(0.0)),
        "{json}"
    );

    let out = run(&redis, &["stats", "--window", "10ms"]).await;
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.error(),
        "error: --window 10ms is out of range: give 1s to 1h (workers send statistics every second)\n"
    );
}

/// The size of the pseudo-terminal.
const ROWS: NonZeroU16 = NonZeroU16::new(30).expect("not zero");
const COLUMNS: NonZeroU16 = NonZeroU16::new(140).expect("not zero");

/// `redis-bus top` in a pseudo-terminal of `COLUMNS`×`ROWS`.
fn start_top(url: &str) -> Session {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redis-bus"));
    command
        .args(["--url", url, "--bus", BUS, "top"])
        .env_remove("REDIS_URL")
        .env_remove("REDIS_BUS")
        .env("TERM", "xterm");
    let mut top = expectrl::Session::spawn(command).expect("top starts in a pty");
    top.get_process_mut()
        .set_window_size(COLUMNS.get(), ROWS.get())
        .expect("the pty takes a size");
    top
}

/// What `top` drew, read through a terminal emulator.
struct Screen {
    parser: vt100::Parser,
    /// Every byte read, to check how the terminal was left.
    raw: Vec<u8>,
}

impl Screen {
    fn new() -> Screen {
        Screen {
            parser: vt100::Parser::new(ROWS, COLUMNS, 0),
            raw: Vec::new(),
        }
    }

    /// Reads until the screen shows every one of `wanted`, or fails after
    /// `PATIENCE` showing the screen.
    fn wait_for(&mut self, top: &mut Session, wanted: &[&str]) -> String {
        self.wait_until(top, &format!("{wanted:?}"), |contents| {
            wanted.iter().all(|text| contents.contains(text))
        })
    }

    /// Reads until the screen's contents pass `check`, or fails after
    /// `PATIENCE` saying `what` it waited for and showing the screen.
    fn wait_until(
        &mut self,
        top: &mut Session,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut buffer = [0u8; 8192];
        loop {
            let contents = self.parser.screen().contents();
            if check(&contents) {
                return contents;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}:\n{contents}"
            );
            match top.try_read(&mut buffer) {
                Ok(0) => std::thread::sleep(Duration::from_millis(20)),
                Ok(n) => {
                    self.parser.process(&buffer[..n]);
                    self.raw.extend_from_slice(&buffer[..n]);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Reads what is left until `top` ends (the terminal closes), and
    /// gives its exit status.
    fn wait_for_exit(&mut self, top: &mut Session) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut buffer = [0u8; 8192];
        loop {
            assert!(Instant::now() < deadline, "top did not quit");
            match top.try_read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => self.raw.extend_from_slice(&buffer[..n]),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                // EIO: the other side of the terminal is closed.
                Err(_) => break,
            }
        }
        format!("{:?}", top.get_process().wait().expect("top ended"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_draws_sorts_filters_and_quits_restoring_the_terminal() {
    let (redis, bus, _server) = redis_with_samples().await;
    let load = load(&bus);
    let url = redis.url();
    tokio::task::spawn_blocking(move || {
        let mut top = start_top(&url);
        let mut screen = Screen::new();
        let drawn = screen.wait_for(
            &mut top,
            &[
                "REQ/S",
                "RUNS/S",
                "math.Math/Sum",
                "random.Random/Error",
                "UNKNOWN: boom",
                "q quit",
            ],
        );
        assert!(drawn.contains("sorted by requests/s"), "{drawn}");
        // A history fills in, one bar a second.
        screen.wait_until(&mut top, "three bars of Sum's history", |contents| {
            contents
                .lines()
                .find(|line| line.starts_with("math.Math/Sum"))
                .is_some_and(|line| line.chars().filter(|c| ('▁'..='█').contains(c)).count() >= 3)
        });
        top.send("s").expect("typed");
        screen.wait_for(&mut top, &["sorted by runs/s"]);
        top.send("r").expect("typed");
        screen.wait_for(&mut top, &["sorted by runs/s (reversed)"]);
        top.send("/Err").expect("typed");
        screen.wait_for(&mut top, &["filter: Err_"]);
        top.send("\r").expect("typed");
        let filtered = screen.wait_until(&mut top, "the filter kept", |contents| {
            let header = contents.lines().next().unwrap_or_default().trim_end();
            header.ends_with("; filter: Err") && header.contains(": 1 method, ")
        });
        assert!(!filtered.contains("math.Math/Sum"), "{filtered}");
        top.send("q").expect("typed");
        let status = screen.wait_for_exit(&mut top);
        assert!(
            status.ends_with(", 0)"),
            "top exits with status 0: {status}"
        );
        let raw = String::from_utf8_lossy(&screen.raw);
        // The alternate screen was entered and left, and the cursor shown.
        assert!(
            raw.contains("\x1b[?1049h") && raw.contains("\x1b[?1049l"),
            "{raw:?}"
        );
        assert!(
            raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l"),
            "the cursor is back"
        );
    })
    .await
    .expect("the session does not panic");
    load.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_quits_top() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let url = redis.url();
    tokio::task::spawn_blocking(move || {
        let mut top = start_top(&url);
        let mut screen = Screen::new();
        screen.wait_for(&mut top, &["q quit"]);
        top.send("\x03").expect("Ctrl-C");
        let status = screen.wait_for_exit(&mut top);
        assert!(
            status.ends_with(", 0)"),
            "top exits with status 0: {status}"
        );
        assert!(String::from_utf8_lossy(&screen.raw).contains("\x1b[?1049l"));
    })
    .await
    .expect("the session does not panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_waiting_for_a_worker_show_as_queued() {
    let (redis, bus) = crate::common::redis_and_bus().await;
    // The worker talks to Redis through a proxy that can hold it back.
    let proxy = redis_bus_testing::FaultProxy::start(redis.addr()).expect("the proxy starts");
    let worker_bus = Bus::connect(&proxy.url(), BUS).await.expect("connects");
    let _server = crate::common::serve_samples(&worker_bus).await;
    let math = MathClient::new(&bus).with_timeout(Duration::from_secs(10));
    math.sum(SumRequest { a: 0, b: 0 }).await.expect("answers");
    bus.flush_stats().await.expect("sent");
    crate::common::eventually("Sum's statistics", || async {
        let stats = bus.discovery().stats().await.ok()?;
        stats
            .iter()
            .any(|s| s.method == "math.Math/Sum" && s.calls > 0)
            .then_some(())
    })
    .await;

    proxy.pause_all();
    let waiting: Vec<JoinHandle<()>> = (1..=5)
        .map(|n| {
            let math = math.clone();
            tokio::spawn(async move {
                let _ = math.sum(SumRequest { a: n, b: 0 }).await;
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = run(&redis, &["--json", "top", "--once", "--filter", "Sum"])
        .await
        .ok();
    proxy.resume();
    let sample: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(sample["methods"][0]["method"], "math.Math/Sum", "{out}");
    // The idle worker's blocking read may have taken the first one (in
    // Redis, its reply held back by the proxy): the others wait.
    let queued = sample["methods"][0]["queued"].as_u64().expect("a count");
    assert!((4..=5).contains(&queued), "{out}");
    for call in waiting {
        call.await.expect("the call ends");
    }
}
