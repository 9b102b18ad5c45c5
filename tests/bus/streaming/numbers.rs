//! The streaming tests' service: a `random.Random` whose `Uuids` streams
//! the numbers 1, 2, ... (as text) and whose `Pick` checks that the numbers
//! it reads come in order, each saying what it did; and a worker process
//! that serves it, for tests that kill one.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use generated_examples::random::random_bus::{Random, RandomServer};
use generated_examples::random::{
    ErrorReply, ErrorRequest, PasswordReply, PasswordRequest, PickReply, PickRequest, UuidReply,
    UuidRequest, UuidsRequest,
};
use redis_bus::{Bus, CallContext, ReplyStream, RunningServer, Server, Status, Streaming, wire};

/// What the service does and saw.
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    /// `Uuids` fails with `NOT_FOUND` after this many messages.
    pub fail_after: Option<u32>,
    /// `Uuids` pads each number with this many spaces (a stream of large
    /// messages).
    pub padding: usize,
    /// `Pick` answers after reading this many requests.
    pub pick_at_most: Option<u64>,
    /// `Pick` waits this long after each request.
    pub pick_pause: Duration,
    /// How many messages `Uuids` made, across calls.
    pub made: Arc<AtomicU64>,
    /// How many requests `Pick` read, across calls.
    pub picked: Arc<AtomicU64>,
    /// Set when a `Uuids` stream is dropped.
    pub dropped: Arc<AtomicBool>,
    /// Whether every message of `Uuids` saw the `tenant` metadata.
    pub tenant_seen: Arc<AtomicBool>,
    /// The status a `Pick`'s requests ended with, when one did.
    pub pick_ended: Arc<Mutex<Option<Status>>>,
    /// Set when a `Pick` returned or was dropped.
    pub pick_stopped: Arc<AtomicBool>,
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[redis_bus::codegen::async_trait]
impl Random for Numbers {
    async fn uuid(&self, _request: UuidRequest) -> Result<UuidReply, Status> {
        Err(Status::unimplemented("not used"))
    }

    async fn password(&self, _request: PasswordRequest) -> Result<PasswordReply, Status> {
        Err(Status::unimplemented("not used"))
    }

    async fn uuids(&self, request: UuidsRequest) -> Result<ReplyStream<UuidReply>, Status> {
        let interval = Duration::from_millis(request.interval_ms.into());
        let fail_after = self.fail_after;
        let padding = self.padding;
        let made = Arc::clone(&self.made);
        let flag = DropFlag(Arc::clone(&self.dropped));
        let tenant_seen = Arc::clone(&self.tenant_seen);
        tenant_seen.store(true, Ordering::SeqCst);
        let numbers = futures_util::stream::iter(1..=request.count).then(move |n| {
            let made = Arc::clone(&made);
            let tenant_seen = Arc::clone(&tenant_seen);
            let _flag = &flag;
            async move {
                if n > 1 && !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                let tenant = CallContext::current()
                    .and_then(|context| context.metadata().get("tenant").map(str::to_owned));
                if tenant.as_deref() != Some("acme") {
                    tenant_seen.store(false, Ordering::SeqCst);
                }
                if fail_after.is_some_and(|limit| n > limit) {
                    return Err(Status::not_found(format!("no number after {}", n - 1)));
                }
                made.fetch_add(1, Ordering::SeqCst);
                Ok(UuidReply {
                    uuid: format!("{n}{}", " ".repeat(padding)),
                })
            }
        });
        Ok(Box::pin(numbers))
    }

    async fn pick(&self, mut requests: Streaming<PickRequest>) -> Result<PickReply, Status> {
        let _stopped = DropFlag(Arc::clone(&self.pick_stopped));
        let mut count = 0;
        loop {
            if self.pick_at_most.is_some_and(|most| count >= most) {
                break;
            }
            let request = match requests.message().await {
                Ok(Some(request)) => request,
                Ok(None) => break,
                Err(status) => {
                    *self.pick_ended.lock().unwrap() = Some(status.clone());
                    return Err(status);
                }
            };
            count += 1;
            self.picked.fetch_add(1, Ordering::SeqCst);
            if request.item != count.to_string() {
                return Err(Status::data_loss(format!(
                    "request {count} is {:?}",
                    request.item
                )));
            }
            if !self.pick_pause.is_zero() {
                tokio::time::sleep(self.pick_pause).await;
            }
        }
        Ok(PickReply {
            item: count.to_string(),
            count,
        })
    }

    async fn error(&self, _request: ErrorRequest) -> Result<ErrorReply, Status> {
        Err(Status::unimplemented("not used"))
    }
}

impl Numbers {
    /// Serves the service on `bus`.
    pub async fn serve(&self, bus: &Bus) -> RunningServer {
        Server::new(bus)
            .add_service(RandomServer::new(self.clone()))
            .start()
            .await
            .expect("the server starts")
    }
}

/// The numbers 1 to `count` as `Pick` requests, counting in `made` how
/// many were taken.
pub fn pick_requests(
    count: u64,
    made: &Arc<AtomicU64>,
) -> impl futures_util::Stream<Item = PickRequest> + Send + 'static {
    let made = Arc::clone(made);
    futures_util::stream::iter(1..=count).map(move |n| {
        made.fetch_add(1, Ordering::SeqCst);
        PickRequest {
            item: n.to_string(),
        }
    })
}

/// `stream`, pausing a millisecond after every `every` items: a stream
/// that lasts (50 000 items, paused every 25, last over 2 s) across the
/// faults a test injects while it runs, however fast the bus.
pub fn paced<S>(stream: S, every: usize) -> impl futures_util::Stream<Item = S::Item> + Send
where
    S: futures_util::Stream + Send + 'static,
    S::Item: Send,
{
    stream.enumerate().then(move |(index, item)| async move {
        if (index + 1) % every == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        item
    })
}

/// Kills every connection to Redis but `inspect`'s (the workers', the
/// readers', the shared ones) five times, 150 ms apart.
pub async fn kill_every_connection(inspect: &mut redis::Connection) {
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _: redis::Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .arg("SKIPME")
            .arg("yes")
            .query(inspect)
            .unwrap();
    }
}

/// Queues `request` for random.Random on bus `test` under a call id of
/// sixteen `id` bytes, as a caller that died right after sending it would
/// have left it.
pub fn queue_as_a_dead_caller(inspect: &mut redis::Connection, id: u8, request: &wire::Request) {
    let mut element = vec![id; 16];
    element.extend(prost::Message::encode_to_vec(request));
    let _: () =
        redis::Commands::rpush(inspect, "rb:{test:random.Random@1}:queue", element).unwrap();
}

/// The line a worker process prints once it serves.
const READY: &str = "numbers-worker-ready";

/// A worker process serving [`Numbers`] (its `Pick` slow, a request per
/// 20 ms) on bus `test` of `url`.
pub fn spawn_worker(url: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--ignored",
            "--exact",
            "streaming::numbers::worker_process",
            "--nocapture",
        ])
        .env("REDIS_BUS_TEST_URL", url)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the worker process starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(READY) => break,
            Some(Ok(_)) => {}
            _ => panic!("the worker process exited before serving"),
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[test]
#[ignore = "entry point of the worker processes that tests start"]
fn worker_process() {
    let url = std::env::var("REDIS_BUS_TEST_URL").expect("started by spawn_worker");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let bus = common::connect_url(&url, "test").await;
        let numbers = Numbers {
            pick_pause: Duration::from_millis(20),
            ..Numbers::default()
        };
        let _server = numbers.serve(&bus).await;
        println!("{READY}");
        std::future::pending::<()>().await;
    });
}
