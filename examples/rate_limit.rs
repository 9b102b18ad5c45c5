//! Rate limits with `tower` (feature `tower`): a server sheds calls over
//! its rate (`RESOURCE_EXHAUSTED`), and a client that paces itself with
//! the same layer is never refused.
//!
//! `cargo run --example rate_limit --features tower` runs in this process
//! (`Bus::in_memory()`); with `REDIS_URL` set, over that Redis.

use std::time::{Duration, Instant};

use generated_examples::random::UuidRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::services::RandomService;
use redis_bus::{Bus, Code, Server};
use tower::limit::RateLimitLayer;
use tower::load_shed::LoadShedLayer;

/// Serves random at 3 calls per half second, then calls it too fast and at
/// a paced rate.
async fn run(bus: Bus) -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::new(&bus)
        // Over the rate, refuse at once rather than queue.
        .layer(LoadShedLayer::new())
        .layer(RateLimitLayer::new(3, Duration::from_millis(500)))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await?;

    let eager = RandomClient::new(&bus);
    let mut refused = 0;
    for _ in 0..6 {
        match eager.uuid(UuidRequest {}).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::ResourceExhausted => refused += 1,
            Err(status) => return Err(status.into()),
        }
    }
    println!("6 calls at once: {refused} refused");
    assert_eq!(refused, 3);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A little under the server's rate, so that the two clocks never meet.
    let pace = RateLimitLayer::new(3, Duration::from_millis(600));
    let paced = bus.clone().layer(pace);
    let started = Instant::now();
    for _ in 0..6 {
        RandomClient::new(&paced).uuid(UuidRequest {}).await?;
    }
    println!("6 paced calls: none refused, in {:?}", started.elapsed());

    server.shutdown().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = match std::env::var("REDIS_URL") {
        Ok(url) => Bus::connect(&url, "examples").await?,
        Err(_) => Bus::in_memory(),
    };
    run(bus).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn runs_in_memory_and_on_redis() {
        super::run(redis_bus::Bus::in_memory()).await.unwrap();
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let bus = redis_bus::Bus::connect(&redis.url(), "examples")
            .await
            .unwrap();
        super::run(bus).await.unwrap();
    }
}
