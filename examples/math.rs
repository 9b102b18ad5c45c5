//! The math sample as a worker process, serving until Ctrl-C:
//! `cargo run --example math` (bus and Redis from `REDIS_BUS` and
//! `REDIS_URL`).

mod support;

use generated_examples::math::math_bus::MathServer;
use generated_examples::services::MathService;
use redis_bus::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::log();
    let bus = support::connect().await?;
    eprintln!(
        "serving math.Math on bus {:?} at {}",
        support::bus_name(),
        support::url()
    );
    Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .serve()
        .await?;
    Ok(())
}
