//! Cleaning up a bus removes every one of its keys with SCAN and UNLINK
//! (never KEYS), and nothing of any other bus.

use crate::common;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::services::MathService;
use redis::Commands;
use redis_bus::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_removes_the_bus_and_nothing_else() {
    let (redis, bus) = common::redis_and_bus().await;
    let neighbour = common::connect(&redis, "neighbour").await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let other = Server::new(&neighbour)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    MathClient::new(&bus)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .unwrap();
    MathClient::new(&neighbour)
        .sum(SumRequest { a: 1, b: 2 })
        .await
        .unwrap();
    server.shutdown().await.unwrap();
    bus.flush_stats().await.unwrap();

    let mut inspect = common::inspect(&redis);
    let mine: Vec<String> = inspect.keys("rb:{test:*").unwrap();
    let theirs: Vec<String> = inspect.keys("rb:{neighbour:*").unwrap();
    assert!(!mine.is_empty() && !theirs.is_empty());
    assert_eq!(bus.count_keys().await.unwrap(), mine.len() as u64);

    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut inspect)
        .unwrap();
    assert_eq!(bus.cleanup().await.unwrap(), mine.len() as u64);
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut inspect)
        .unwrap();
    assert!(
        stats.contains("cmdstat_scan") && stats.contains("cmdstat_unlink"),
        "{stats}"
    );
    assert!(!stats.contains("cmdstat_keys"), "{stats}");
    let left: Vec<String> = inspect.keys("rb:{test:*").unwrap();
    assert!(left.is_empty(), "{left:?}");
    let still: Vec<String> = inspect.keys("rb:{neighbour:*").unwrap();
    assert_eq!(still.len(), theirs.len(), "the other bus is untouched");
    other.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_still_running_register_again_after_a_cleanup() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    assert!(bus.cleanup().await.unwrap() > 0);
    let discovery = bus.discovery();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while discovery.instances("math.Math").await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        discovery.instances("math.Math").await.unwrap()[0].id,
        server.instance_id()
    );
    let sum = MathClient::new(&bus)
        .sum(SumRequest { a: 2, b: 3 })
        .await
        .unwrap();
    assert_eq!(sum.sum, 5);
}
