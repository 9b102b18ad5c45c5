//! Server-streaming rpcs: messages in order and exactly once, the final
//! status after them, flow control that bounds what Redis holds, the
//! deadline over the whole stream, cancellation, a worker or a caller that
//! dies mid-stream, and a connection killed mid-stream.

use super::numbers::{self, Numbers};
use crate::common::{self, on_each_bus};

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use generated_examples::random::random_bus::RandomClient;
use generated_examples::random::{UuidReply, UuidsRequest};
use redis::Commands;
use redis_bus::{CallOptions, Code, MAX_STREAM_WINDOW, Status, Streaming, wire};
use redis_bus_testing::RedisServer;

/// The numbers a stream of `count` with `interval_ms` brings, and how it
/// ended (`None`: well).
async fn read_all(
    random: &RandomClient,
    count: u32,
    interval_ms: u32,
) -> (Vec<u32>, Option<Status>) {
    let mut stream = random
        .uuids(UuidsRequest { count, interval_ms })
        .await
        .expect("the stream opens");
    let mut numbers = Vec::new();
    let mut ended = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(reply) => numbers.push(reply.uuid.parse().expect("a number")),
            Err(status) => {
                ended = Some(status);
                break;
            }
        }
    }
    assert!(stream.next().await.is_none(), "nothing after the end");
    assert_eq!(stream.received(), numbers.len() as u64);
    (numbers, ended)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_in_order_then_the_stream_ends_well() {
    on_each_bus(|bus| async move {
        let numbers = Numbers::default();
        let _server = numbers.serve(&bus).await;
        let random = RandomClient::new(&bus).with_options(
            CallOptions::new()
                .metadata("tenant", "acme")
                .stream_window(16),
        );
        let (got, ended) = read_all(&random, 5000, 0).await;
        assert_eq!(ended, None);
        assert_eq!(got, (1..=5000).collect::<Vec<_>>());
        assert!(
            numbers.tenant_seen.load(Ordering::SeqCst),
            "every message is made inside the call's context"
        );
        let (none, ended) = read_all(&random, 0, 0).await;
        assert!(
            none.is_empty() && ended.is_none(),
            "an empty stream ends well"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_error_ends_the_stream_after_the_messages_before_it() {
    on_each_bus(|bus| async move {
        let numbers = Numbers {
            fail_after: Some(5),
            ..Numbers::default()
        };
        let _server = numbers.serve(&bus).await;
        let random = RandomClient::new(&bus);
        let (got, ended) = read_all(&random, 100, 0).await;
        assert_eq!(got, [1, 2, 3, 4, 5]);
        let ended = ended.expect("the stream fails");
        assert_eq!(ended.code(), Code::NotFound);
        assert_eq!(ended.message(), "no number after 5");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_covers_the_whole_stream() {
    on_each_bus(|bus| async move {
        let numbers = Numbers::default();
        let _server = numbers.serve(&bus).await;
        let random = RandomClient::new(&bus).with_timeout(Duration::from_millis(1000));
        let started = tokio::time::Instant::now();
        let (got, ended) = read_all(&random, 100, 100).await;
        let took = started.elapsed();
        let ended = ended.expect("the deadline ends the stream");
        assert_eq!(ended.code(), Code::DeadlineExceeded, "{ended}");
        assert!(
            (5..=11).contains(&got.len()),
            "about ten messages in one second, got {}",
            got.len()
        );
        assert_eq!(got, (1..=got.len() as u32).collect::<Vec<_>>());
        assert!(
            ended
                .message()
                .contains(&format!("({} messages came)", got.len())),
            "{ended}"
        );
        assert!(
            took < Duration::from_millis(1500),
            "ended at the deadline: {took:?}"
        );
        common::eventually(Duration::from_secs(3), "the handler stops", || {
            numbers.dropped.load(Ordering::SeqCst)
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_the_handler_and_leaves_nothing_in_redis() {
    on_each_bus(|bus| async move {
        let numbers = Numbers::default();
        let _server = numbers.serve(&bus).await;
        let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(60));
        let mut stream = random
            .uuids(UuidsRequest {
                count: 1_000_000,
                interval_ms: 1,
            })
            .await
            .unwrap();
        for expected in 1..=3u32 {
            let message = stream.message().await.unwrap().expect("a message");
            assert_eq!(message.uuid, expected.to_string());
        }
        drop(stream);
        // The worker looks at the caller at least once a second.
        common::eventually(
            Duration::from_secs(3),
            "the handler's stream is dropped",
            || numbers.dropped.load(Ordering::SeqCst),
        )
        .await;
        let made = numbers.made.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            numbers.made.load(Ordering::SeqCst),
            made,
            "nothing more is made"
        );
    })
    .await;

    // On Redis, the cancellation mark expires and the reply list is read.
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    let mut stream = RandomClient::new(&bus)
        .uuids(UuidsRequest {
            count: 1_000_000,
            interval_ms: 0,
        })
        .await
        .unwrap();
    stream.message().await.unwrap().expect("a message");
    drop(stream);
    let mut inspect = common::inspect(&redis);
    common::eventually(Duration::from_secs(8), "the stream's keys are gone", || {
        inspect
            .keys::<_, Vec<String>>("rb:{test:client:*:stream:*")
            .unwrap()
            .is_empty()
    })
    .await;
}

/// Reads the numbers 1 to `count` of `stream` at ten a second; returns the
/// most replies Redis held for the bus's clients meanwhile.
async fn read_slowly(
    stream: &mut Streaming<UuidReply>,
    inspect: &mut redis::Connection,
    count: u32,
) -> usize {
    let mut most_held = 0;
    for expected in 1..=count {
        let message = stream.message().await.unwrap().expect("a message");
        // Padded messages carry their number first.
        assert_eq!(message.uuid.trim_end(), expected.to_string());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let held: usize = inspect
            .keys::<_, Vec<String>>("rb:{test:client:*}:replies")
            .unwrap()
            .iter()
            .map(|key| inspect.llen::<_, usize>(key).unwrap())
            .sum();
        most_held = most_held.max(held);
    }
    most_held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_bounds_what_redis_and_the_worker_hold() {
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    let mut inspect = common::inspect(&redis);
    let memory = |inspect: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("memory").query(inspect).unwrap();
        info.lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("used_memory")
    };
    let before = memory(&mut inspect);
    let window = 32;
    let random = RandomClient::new(&bus).with_options(
        CallOptions::new()
            .timeout(Duration::from_secs(60))
            .stream_window(window),
    );
    // A producer of a million messages, a reader of ten a second.
    let mut stream = random
        .uuids(UuidsRequest {
            count: 1_000_000,
            interval_ms: 0,
        })
        .await
        .unwrap();
    let most_held = read_slowly(&mut stream, &mut inspect, 20).await;
    let made = numbers.made.load(Ordering::SeqCst);
    let grown = memory(&mut inspect).saturating_sub(before);
    drop(stream);
    assert!(
        most_held <= window as usize,
        "Redis held {most_held} messages, more than the window of {window}"
    );
    // What was read and a window ahead: the worker takes a message from
    // the handler only when the window has room for it.
    assert!(
        made <= 20 + u64::from(window),
        "the handler made {made} messages for a reader of 20"
    );
    assert!(grown < 1 << 20, "Redis grew by {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_of_large_messages_makes_redis_hold_about_a_megabyte() {
    let (redis, bus) = common::redis_and_bus().await;
    // 64 KiB messages, the default window of 1024 messages: 64 MiB if the
    // window counted messages only.
    let numbers = Numbers {
        padding: 64 << 10,
        ..Numbers::default()
    };
    let _server = numbers.serve(&bus).await;
    let mut inspect = common::inspect(&redis);
    let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(60));
    let mut stream = random
        .uuids(UuidsRequest {
            count: 10_000,
            interval_ms: 0,
        })
        .await
        .unwrap();
    let most_held = read_slowly(&mut stream, &mut inspect, 10).await;
    let made = numbers.made.load(Ordering::SeqCst);
    drop(stream);
    // 1 MiB is 16 messages; one more may go when the window is just under.
    assert!(
        most_held <= 17,
        "Redis held {most_held} messages of 64 KiB, more than about 1 MiB"
    );
    assert!(
        made <= 10 + 17,
        "the handler made {made} messages for a reader of 10"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_loses_duplicates_and_reorders_nothing() {
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(60));
    // Read slowly enough that the stream outlasts the faults.
    let reading = tokio::spawn(async move {
        let stream = random
            .uuids(UuidsRequest {
                count: 50_000,
                interval_ms: 0,
            })
            .await
            .expect("the stream opens");
        numbers::paced(stream, 25).collect::<Vec<_>>().await
    });
    let mut inspect = common::inspect(&redis);
    numbers::kill_every_connection(&mut inspect).await;
    assert!(
        !reading.is_finished(),
        "the connections were killed mid-stream"
    );
    let got = tokio::time::timeout(Duration::from_secs(50), reading)
        .await
        .expect("the stream finishes")
        .unwrap();
    assert_eq!(got.len(), 50_000);
    assert!(
        got.into_iter()
            .zip(1..)
            .all(|(got, expected)| got.expect("no error").uuid == expected.to_string()),
        "every message once, in order, and the stream ends well"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_dies_mid_stream_stops_its_worker() {
    let (redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let _server = numbers.serve(&bus).await;
    // A caller that queues a streaming request and never acknowledges
    // anything, as one killed right after sending it.
    let request = wire::Request {
        method: "Uuids".to_owned(),
        payload: prost::Message::encode_to_vec(&UuidsRequest {
            count: 1_000_000,
            interval_ms: 0,
        })
        .into(),
        reply_client: "ghost".to_owned(),
        stream_window: u32::MAX,
        ..Default::default()
    };
    let mut inspect = common::inspect(&redis);
    numbers::queue_as_a_dead_caller(&mut inspect, 7, &request);
    common::eventually(
        Duration::from_secs(6),
        "the worker stops streaming to a caller that is gone",
        || numbers.dropped.load(Ordering::SeqCst),
    )
    .await;
    // The messages of the window, and the final reply that says why the
    // worker stopped.
    let held: usize = inspect.llen("rb:{test:client:ghost}:replies").unwrap();
    assert!(
        held <= MAX_STREAM_WINDOW as usize + 1,
        "a window of u32::MAX is capped: {held} replies held"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_fails_the_stream_saying_how_much_came() {
    let redis = RedisServer::start().expect("redis-server starts");
    let bus = common::connect(&redis, "test").await;
    let mut doomed = numbers::spawn_worker(&redis.url());
    let random = RandomClient::new(&bus).with_timeout(Duration::from_secs(30));
    let mut stream = random
        .uuids(UuidsRequest {
            count: 1000,
            interval_ms: 20,
        })
        .await
        .unwrap();
    for _ in 0..5 {
        stream.message().await.unwrap().expect("a message");
    }
    doomed.kill().expect("SIGKILL the worker");
    doomed.wait().unwrap();
    // Another worker reclaims the call and, since a stream is never run
    // again, fails it.
    let numbers = Numbers::default();
    let _survivor = numbers.serve(&bus).await;
    let started = tokio::time::Instant::now();
    let ended = loop {
        match stream.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a stream cut short must not end well"),
            Err(status) => break status,
        }
    };
    assert_eq!(ended.code(), Code::Unavailable, "{ended}");
    let came = stream.received();
    assert!(came >= 5, "{came}");
    assert!(
        ended.message().contains(&format!("({came} messages came)")),
        "{ended}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        numbers.made.load(Ordering::SeqCst),
        0,
        "the survivor never reruns a stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_rpcs_are_discovered_counted_and_called_dynamically() {
    let (_redis, bus) = common::redis_and_bus().await;
    let numbers = Numbers::default();
    let server = numbers.serve(&bus).await;
    let services = bus.discovery().services().await.unwrap();
    let random = services
        .iter()
        .find(|service| service.name == "random.Random")
        .expect("random.Random is live");
    let flags = |name: &str| {
        let method = random.methods.iter().find(|m| m.name == name).unwrap();
        (method.server_streaming, method.client_streaming)
    };
    assert_eq!(flags("Uuids"), (true, false));
    assert_eq!(flags("Pick"), (false, true));
    assert_eq!(flags("Uuid"), (false, false));

    // Without generated code, from the descriptors the worker published.
    let dynamic = redis_bus::DynamicClient::connect(&bus, "random.Random")
        .await
        .unwrap();
    let request = dynamic
        .request_from_json("Uuids", r#"{"count": 3}"#)
        .unwrap();
    let replies: Vec<String> = dynamic
        .call_server_streaming("Uuids", &request)
        .await
        .unwrap()
        .map(|reply| {
            let reply = reply.unwrap();
            reply
                .get_field_by_name("uuid")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
        .await;
    assert_eq!(replies, ["1", "2", "3"]);
    let picks: Vec<_> = (1..=4)
        .map(|n| {
            dynamic
                .request_from_json("Pick", &format!(r#"{{"item": "{n}"}}"#))
                .unwrap()
        })
        .collect();
    let picked = dynamic
        .call_client_streaming("Pick", futures_util::stream::iter(picks))
        .await
        .unwrap();
    assert_eq!(picked.get_field_by_name("count").unwrap().as_u64(), Some(4));
    // A unary call of a streaming rpc is refused before it goes out.
    let refused = dynamic.call("Uuids", &request).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused}");

    // Each stream counts as one call of its method.
    drop(server);
    bus.flush_stats().await.unwrap();
    let stats = bus.discovery().stats().await.unwrap();
    let calls = |method: &str| {
        stats
            .iter()
            .find(|stats| stats.method == method)
            .map_or(0, |stats| stats.calls)
    };
    assert_eq!(calls("random.Random/Uuids"), 1);
    assert_eq!(calls("random.Random/Pick"), 1);
}
