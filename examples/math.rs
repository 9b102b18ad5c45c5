//! The math sample as a worker process, serving until Ctrl-C:
//! `cargo run --example math` (bus and Redis from `REDIS_BUS` and
//! `REDIS_URL`; `-- --once` for one request, `-- --debug` for debug mode).

mod support;

use std::process::ExitCode;

use generated_examples::math::math_bus::MathServer;
use generated_examples::services::MathService;
use redis_bus::Server;

#[tokio::main]
async fn main() -> ExitCode {
    let mode = support::mode();
    support::log();
    support::exit(run(mode).await)
}

async fn run(mode: support::Mode) -> Result<(), Box<dyn std::error::Error>> {
    let bus = support::connect().await?;
    let server = Server::new(&bus).add_service(MathServer::new(MathService));
    support::serve(&bus, server, "math.Math", mode).await
}
