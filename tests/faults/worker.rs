//! The suite's worker processes: the test binary runs itself as a worker
//! (its `worker_process` entry point, ignored in normal runs), serving the
//! math service and counting each handler run in the side channel, a Redis
//! that no fault touches (`INCR runs:sum:<a>` / `INCR runs:now:<seed>`).
//! A negative `b` of a sum, or a negative seed, makes that run take as
//! many more milliseconds (to pin a call on a worker while it is killed).
//! It stops gracefully on SIGTERM, and dies on SIGKILL like a crash.

use std::process::{Child, Command};
use std::time::Duration;

use generated_examples::math::math_bus::{Math, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis::aio::ConnectionManager;
use redis_bus::{Server, Status};

use crate::settings;

/// The line a worker process prints once it serves.
const READY: &str = "fault-worker-ready";

/// How long a worker process may take to start serving.
const START_LIMIT: Duration = Duration::from_secs(20);

/// How long a worker process may take to exit after SIGTERM or SIGKILL.
const EXIT_LIMIT: Duration = Duration::from_secs(20);

/// How a worker process is started.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The bus's URL.
    pub url: String,
    /// The side channel's URL.
    pub side: String,
    /// How long each handler run takes.
    pub delay: Duration,
    /// The server's `max_concurrency`, if not the default.
    pub concurrency: Option<usize>,
}

impl WorkerSpec {
    /// A worker of bus `test` at `url`, counting runs in `side`, whose
    /// handlers take `delay`.
    pub fn new(url: &str, side: &str, delay: Duration) -> Self {
        WorkerSpec {
            url: url.to_owned(),
            side: side.to_owned(),
            delay,
            concurrency: None,
        }
    }

    /// The same, with `limit` handler permits.
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = Some(limit);
        self
    }

    /// Starts the process; returns once it serves.
    pub fn spawn(&self) -> Worker {
        let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
        command
            .args(["--ignored", "--exact", "worker_process", "--nocapture"])
            .env("FAULTS_URL", &self.url)
            .env("FAULTS_SIDE", &self.side)
            .env("FAULTS_DELAY_MS", self.delay.as_millis().to_string());
        if let Some(limit) = self.concurrency {
            command.env("FAULTS_CONCURRENCY", limit.to_string());
        }
        let child = redis_bus_testing::spawn_ready(&mut command, READY, START_LIMIT)
            .expect("the worker process serves");
        Worker { child }
    }
}

/// A running worker process, killed on drop.
pub struct Worker {
    child: Child,
}

impl Worker {
    /// SIGKILL, as a crash: nothing is answered or deregistered.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        self.wait_for_exit();
    }

    /// SIGTERM: the worker stops taking calls, finishes those it runs and
    /// deregisters. Returns once it exited.
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "SIGTERM was sent");
        self.wait_for_exit();
    }

    /// Waits, with a bound, for the process to end.
    fn wait_for_exit(&mut self) {
        let started = std::time::Instant::now();
        while self
            .child
            .try_wait()
            .expect("wait for the worker")
            .is_none()
        {
            assert!(
                started.elapsed() < EXIT_LIMIT,
                "the worker process did not exit within {EXIT_LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The math service of a worker process: each run is counted in the side
/// channel before the handler does its work.
#[derive(Clone)]
struct Counted {
    side: ConnectionManager,
    delay: Duration,
}

impl Counted {
    /// Counts a run under `key`, then takes the worker's delay and `extra`.
    async fn ran(&self, key: String, extra: i64) {
        let mut side = self.side.clone();
        let _: i64 = redis::cmd("INCR")
            .arg(key)
            .query_async(&mut side)
            .await
            .expect("the side channel counts the run");
        let delay = self.delay + Duration::from_millis(extra.unsigned_abs());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[redis_bus::codegen::async_trait]
impl Math for Counted {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        self.ran(format!("runs:sum:{}", request.a), request.b.min(0))
            .await;
        Ok(SumReply {
            sum: request.a + request.b,
        })
    }

    async fn now(&self, request: NowRequest) -> Result<NowReply, Status> {
        self.ran(format!("runs:now:{}", request.seed), request.seed.min(0))
            .await;
        Ok(NowReply { time: None })
    }
}

/// The value of environment variable `name`, which the suite set.
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by WorkerSpec::spawn"))
}

/// The body of a worker process: serve until SIGTERM (then stop
/// gracefully) or SIGKILL.
pub fn worker_main() {
    let url = env("FAULTS_URL");
    let side = env("FAULTS_SIDE");
    let delay = Duration::from_millis(env("FAULTS_DELAY_MS").parse().expect("milliseconds"));
    let concurrency: Option<usize> = std::env::var("FAULTS_CONCURRENCY")
        .ok()
        .map(|limit| limit.parse().expect("a number of permits"));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        let side = redis::Client::open(side).expect("the side channel's URL");
        let side = ConnectionManager::new(side)
            .await
            .expect("the side channel connects");
        let bus = settings::connect(&url).await;
        let mut server = Server::new(&bus).add_service(MathServer::new(Counted { side, delay }));
        if let Some(limit) = concurrency {
            server = server.max_concurrency(limit);
        }
        let server = server.start().await.expect("the worker starts");
        println!("{READY} {}", server.instance_id());
        terminate.recv().await;
        server.shutdown().await.expect("a clean shutdown");
    });
}
