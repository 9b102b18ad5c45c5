//! Client-streaming rpcs: requests in order and exactly once, a handler
//! that answers before the end, flow control that bounds what Redis
//! holds, the deadline, a caller that cancels or dies, a worker that dies,
//! and connections killed mid-stream.

use super::numbers::{self, Numbers, pick_requests};
use crate::common::{self, on_each_bus};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use generated_examples::random::random_bus::RandomClient;
use redis::Commands;
use redis_bus::{Bus, CallOptions, Code, wire};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_arrive_in_order_and_the_handler_reads_them_all() {
    on_each_bus(|bus| async move {
        let numbers = Numbers::default();
        let _server = numbers.serve(&bus).await;
        let random = RandomClient::new(&bus).with_options(CallOptions::new().stream_window(16));
        let made = Arc::new(AtomicU64::new(0));
        let reply = random.pick(pick_requests(10_000, &made)).await.unwrap();
        assert_eq!(reply.count, 10_000, "every request, in order");
        let none = random.pick(pick_requests(0, &made)).await.unwrap();
        assert_eq!(none.count, 0, "an empty stream of requests");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_answers_early_stops_the_requests() {
    on_each_bus(|bus| async move {
        let numbers = Numbers {
            pick_at_most: Some(10),
            ..Numbers::default()
        };
        let _server = numbers.serve(&bus).await;
        let made = Arc::new(AtomicU64::new(0));
        let reply = RandomClient::new(&bus)
            .with_options(CallOptions::new().stream_window(32))
            .pick(pick_requests(u64::MAX, &made))
            .await
            .unwrap();
        assert_eq!(reply.count, 10);
        let taken = made.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(made.load(Ordering::SeqCst), taken, "nothing more is taken");
        assert!(
            taken <= 10 + 32 + 256,
            "{taken} requests taken for a handler that read 10"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_bounds_what_redis_and_the_caller_hold() {
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers {
        pick_pause: Duration::from_millis(100),
        ..Numbers::default()
    };
    let _server = numbers.serve(&bus).await;
    let window = 32;
    let made = Arc::new(AtomicU64::new(0));
    let random = RandomClient::new(&bus).with_options(
        CallOptions::new()
            .timeout(Duration::from_secs(60))
            .stream_window(window),
    );
    let call = tokio::spawn(async move { random.pick(pick_requests(1_000_000, &made)).await });
    let mut inspect = common::inspect(&redis);
    let mut most_held = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let held: usize = inspect
            .keys::<_, Vec<String>>("rb:{test:client:*}:upload:*")
            .unwrap()
            .iter()
            .map(|key| inspect.xlen::<_, usize>(key).unwrap())
            .sum();
        most_held = most_held.max(held);
    }
    call.abort();
    let picked = numbers.picked.load(Ordering::SeqCst);
    assert!(picked <= 25, "a reader of ten a second read {picked}");
    assert!(
        most_held <= window as usize,
        "Redis held {most_held} requests, more than the window of {window}"
    );
}

/// Calls `Pick` on `bus` with three requests and then none, gives up
/// after half a second, and waits for the handler to stop.
async fn give_up(bus: Bus) -> Numbers {
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(60));
    let made = Arc::new(AtomicU64::new(0));
    let requests =
        futures_util::StreamExt::chain(pick_requests(3, &made), futures_util::stream::pending());
    let gave_up = tokio::time::timeout(Duration::from_millis(500), random.pick(requests)).await;
    assert!(gave_up.is_err(), "the call was still waiting");
    // The worker looks at the caller once a second while no request comes.
    common::eventually(Duration::from_secs(3), "the handler stops", || {
        numbers.pick_stopped.load(Ordering::SeqCst)
    })
    .await;
    assert_eq!(numbers.picked.load(Ordering::SeqCst), 3);
    numbers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_stops_the_handler() {
    on_each_bus(|bus| async move {
        give_up(bus).await;
    })
    .await;
    // On Redis the handler reads why its requests ended.
    let (_redis, bus) = common::redis_and_bus().await;
    let numbers = give_up(bus).await;
    let ended = numbers.pick_ended.lock().unwrap().clone();
    let ended = ended.expect("the requests ended with a status");
    assert_eq!(ended.code(), Code::Cancelled, "{ended}");
    assert!(
        ended.message().contains("cancelled the call after 3"),
        "{ended}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_dies_ends_the_handlers_requests_within_the_bound() {
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    // A request queued by a caller that never writes its acknowledgement
    // nor a single request: one killed right after queueing.
    let request = wire::Request {
        method: "Pick".to_owned(),
        reply_client: "ghost".to_owned(),
        ..Default::default()
    };
    numbers::queue_as_a_dead_caller(&mut common::inspect(&redis), 9, &request);
    let started = tokio::time::Instant::now();
    common::eventually(Duration::from_secs(6), "the handler's requests end", || {
        numbers.pick_ended.lock().unwrap().is_some()
    })
    .await;
    let ended = numbers.pick_ended.lock().unwrap().clone().unwrap();
    assert_eq!(ended.code(), Code::Cancelled, "{ended}");
    assert!(ended.message().contains("the caller is gone"), "{ended}");
    // ACK_TTL (3 s) and one look (1 s).
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_bounds_a_call_whose_handler_reads_slowly() {
    on_each_bus(|bus| async move {
        let numbers = Numbers {
            pick_pause: Duration::from_millis(100),
            ..Numbers::default()
        };
        let _server = numbers.serve(&bus).await;
        let made = Arc::new(AtomicU64::new(0));
        let started = tokio::time::Instant::now();
        let failed = RandomClient::new(&bus)
            .with_timeout(Duration::from_millis(800))
            .pick(pick_requests(1000, &made))
            .await
            .unwrap_err();
        assert_eq!(failed.code(), Code::DeadlineExceeded, "{failed}");
        assert!(started.elapsed() < Duration::from_millis(1300));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_lose_duplicate_and_reorder_no_request() {
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(60));
    let made = Arc::new(AtomicU64::new(0));
    // Sent slowly enough that the stream outlasts the faults.
    let requests = numbers::paced(pick_requests(50_000, &made), 25);
    let call = tokio::spawn(async move { random.pick(requests).await });
    let mut inspect = common::inspect(&redis);
    numbers::kill_every_connection(&mut inspect).await;
    assert!(
        !call.is_finished(),
        "the connections were killed mid-stream"
    );
    let reply = tokio::time::timeout(Duration::from_secs(50), call)
        .await
        .expect("the call finishes")
        .unwrap()
        .expect("the call succeeds");
    // `Pick` fails with DATA_LOSS at the first request out of order.
    assert_eq!(reply.count, 50_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_fails_the_call_and_no_one_runs_it_again() {
    let (redis, bus) = common::redis_and_bus().await;
    let mut doomed = numbers::spawn_worker(&redis.url());
    let made = Arc::new(AtomicU64::new(0));
    let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(30));
    let call = tokio::spawn({
        let made = Arc::clone(&made);
        // Sent slowly enough that the worker is killed mid-stream.
        async move {
            random
                .pick(numbers::paced(pick_requests(1000, &made), 1))
                .await
        }
    });
    common::eventually(Duration::from_secs(5), "requests go out", || {
        made.load(Ordering::SeqCst) > 20
    })
    .await;
    doomed.kill().expect("SIGKILL the worker");
    doomed.wait().unwrap();
    let numbers = Numbers::default();
    let _survivor = numbers.serve(&bus).await;
    let failed = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the call ends within the reclaim time")
        .unwrap()
        .unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable, "{failed}");
    assert!(failed.message().contains("never run again"), "{failed}");
    assert_eq!(
        numbers.picked.load(Ordering::SeqCst),
        0,
        "the survivor reran nothing"
    );
}
