//! The random sample as a worker process, serving until Ctrl-C:
//! `cargo run --example random` (bus and Redis from `REDIS_BUS` and
//! `REDIS_URL`).

mod support;

use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::RandomService;
use redis_bus::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::log();
    let bus = support::connect().await?;
    eprintln!(
        "serving random.Random on bus {:?} at {}",
        support::bus_name(),
        support::url()
    );
    Server::new(&bus)
        .add_service(RandomServer::new(RandomService))
        .serve()
        .await?;
    Ok(())
}
