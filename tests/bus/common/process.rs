//! Worker processes for tests that kill them: the test binary runs itself
//! as a worker (its `worker_process` entry point, ignored in normal runs).
//!
//! Each test file that uses this declares the entry point:
//!
//! ```ignore
//! #[test]
//! #[ignore = "entry point of the worker processes that tests start"]
//! fn worker_process() {
//!     common::process::worker_main();
//! }
//! ```

use std::process::{Child, Command};
use std::time::Duration;

use generated_examples::math::math_bus::MathServer;
use redis_bus::Server;

use super::{Calculator, connect_url};

/// The line a worker process prints once it serves.
const READY: &str = "worker-process-ready";

/// How long a worker process may take to start serving.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A worker process serving the math service on bus `bus` of `url`, whose
/// `Sum` takes `sum_delay`. Returns once it serves.
pub fn spawn_math_worker(url: &str, bus: &str, sum_delay: Duration) -> Child {
    spawn_worker(url, bus, sum_delay, &WorkerOptions::default())
}

/// How a worker process differs from the default one.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerOptions {
    /// A `Sum` whose `a` is this aborts the process, as a request that
    /// crashes its worker would.
    pub abort_on: Option<i64>,
    /// The server's `max_deliveries`.
    pub max_deliveries: Option<u32>,
    /// The server's `max_concurrency`.
    pub concurrency: Option<usize>,
}

/// A worker process as [`spawn_math_worker`], with `options`.
pub fn spawn_worker(url: &str, bus: &str, sum_delay: Duration, options: &WorkerOptions) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command
        .args(["--ignored", "--exact", "worker_process", "--nocapture"])
        .env("REDIS_BUS_TEST_URL", url)
        .env("REDIS_BUS_TEST_BUS", bus)
        .env(
            "REDIS_BUS_TEST_SUM_DELAY_MS",
            sum_delay.as_millis().to_string(),
        );
    if let Some(a) = options.abort_on {
        command.env("REDIS_BUS_TEST_ABORT_ON", a.to_string());
    }
    if let Some(limit) = options.max_deliveries {
        command.env("REDIS_BUS_TEST_MAX_DELIVERIES", limit.to_string());
    }
    if let Some(limit) = options.concurrency {
        command.env("REDIS_BUS_TEST_CONCURRENCY", limit.to_string());
    }
    redis_bus_testing::spawn_ready(&mut command, READY, START_LIMIT)
        .expect("the worker process serves")
}

/// The value of environment variable `name`, if it is set.
fn option<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .ok()
            .unwrap_or_else(|| panic!("{name}={value}")),
    )
}

/// The body of a worker process: serve math until killed.
pub fn worker_main() {
    let url = std::env::var("REDIS_BUS_TEST_URL").expect("started by spawn_math_worker");
    let bus = std::env::var("REDIS_BUS_TEST_BUS").expect("started by spawn_math_worker");
    let delay: u64 = std::env::var("REDIS_BUS_TEST_SUM_DELAY_MS")
        .expect("started by spawn_math_worker")
        .parse()
        .expect("a number of milliseconds");
    let abort_on: Option<i64> = option("REDIS_BUS_TEST_ABORT_ON");
    let max_deliveries: Option<u32> = option("REDIS_BUS_TEST_MAX_DELIVERIES");
    let concurrency: Option<usize> = option("REDIS_BUS_TEST_CONCURRENCY");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let bus = connect_url(&url, &bus).await;
        let calculator = Calculator {
            sum_delay: Duration::from_millis(delay),
            abort_on,
            ..Calculator::default()
        };
        let mut server = Server::new(&bus).add_service(MathServer::new(calculator));
        if let Some(limit) = max_deliveries {
            server = server.max_deliveries(limit);
        }
        if let Some(limit) = concurrency {
            server = server.max_concurrency(limit);
        }
        let server = server.start().await.expect("the worker starts");
        println!("{READY} {}", server.instance_id());
        std::future::pending::<()>().await;
    });
}
