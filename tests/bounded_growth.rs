//! Nothing grows without bound: after 100k calls, the queues, the requests
//! filed under workers and the reply lists are back to empty, and nothing
//! but the live workers' registrations is left in Redis.

mod common;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use redis::Commands;
use redis_bus::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_100k_calls_redis_holds_only_registrations() {
    let (redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    const CALLERS: i64 = 256;
    const CALLS_EACH: i64 = 100_000 / CALLERS + 1;
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let math = math.clone();
            tokio::spawn(async move {
                for i in 0..CALLS_EACH {
                    let reply = math
                        .sum(SumRequest { a: caller, b: i })
                        .await
                        .expect("answered");
                    assert_eq!(reply.sum, caller + i);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("every call succeeded");
    }

    let mut inspect = common::inspect(&redis);
    let keys: Vec<String> = inspect.keys("*").unwrap();
    assert_eq!(
        keys,
        vec!["rb:{test:math.Math@1}:instances".to_owned()],
        "{keys:?}"
    );
    server.shutdown().await.unwrap();
    let keys: Vec<String> = inspect.keys("*").unwrap();
    assert!(
        keys.is_empty(),
        "a stopped worker leaves nothing behind: {keys:?}"
    );
}
