//! Nothing grows without bound: after 100k calls, the queues, the requests
//! filed under workers and the reply lists are back to empty; what is left
//! is the registry (bounded by the number of services and workers) and
//! per-method statistics (bounded by the number of methods).

use crate::common;

use std::time::Duration;

use generated_examples::random::UuidRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::services::RandomService;
use redis::Commands;
use redis_bus::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_100k_calls_only_the_registry_and_statistics_are_left() {
    let (redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();
    let random = RandomClient::new(&bus);
    const CALLERS: usize = 256;
    const CALLS_EACH: usize = 100_000 / CALLERS + 1;
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let random = random.clone();
            tokio::spawn(async move {
                for _ in 0..CALLS_EACH {
                    let reply = random.uuid(UuidRequest {}).await.expect("answered");
                    assert_eq!(reply.uuid.len(), 36);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("every call succeeded");
    }

    let mut inspect = common::inspect(&redis);
    let instance = format!(
        "rb:{{test:random.Random@1}}:instance:{}",
        server.instance_id()
    );
    let expected = [
        "rb:{test:random.Random@1}:instances".to_owned(),
        // One counter per service, for the atomic version check; the last
        // worker to stop deletes it.
        "rb:{test:random.Random@1}:joins".to_owned(),
        instance,
        "rb:{test:registry}:events".to_owned(),
        "rb:{test:registry}:services".to_owned(),
    ];
    let mut unexpected = Vec::new();
    // The reply reader deletes the batch it dispatched last at the latest
    // when its blocking wait for more times out (2 s after the last call).
    common::eventually(
        Duration::from_secs(5),
        "only expected keys are left",
        || {
            let keys: Vec<String> = inspect.keys("*").unwrap();
            unexpected = keys
                .into_iter()
                .filter(|key| !expected.contains(key) && !key.starts_with("rb:{test:stats}:"))
                .collect();
            unexpected.is_empty()
        },
    )
    .await;
    let events: usize = inspect.xlen("rb:{test:registry}:events").unwrap();
    assert!(events < 10, "{events} events");

    server.shutdown().await.unwrap();
    let left: Vec<String> = inspect.keys("rb:{test:random.Random@1}:*").unwrap();
    assert!(
        left.is_empty(),
        "a stopped worker leaves nothing of its own: {left:?}"
    );
}
