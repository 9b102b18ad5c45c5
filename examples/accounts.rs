//! The accounts sample as a worker process, serving until Ctrl-C:
//! `cargo run --example accounts` (`-- --once` for one request, `-- --debug`
//! for debug mode). Its handler calls the random and math services, so
//! start their workers too.

mod support;

use std::process::ExitCode;

use generated_examples::accounts::accounts_bus::AccountsServer;
use generated_examples::services::AccountsService;
use redis_bus::Server;

#[tokio::main]
async fn main() -> ExitCode {
    let mode = support::mode();
    support::log();
    support::exit(run(mode).await)
}

async fn run(mode: support::Mode) -> Result<(), Box<dyn std::error::Error>> {
    let bus = support::connect().await?;
    let server = Server::new(&bus).add_service(AccountsServer::new(AccountsService::new(&bus)));
    support::serve(&bus, server, "accounts.Accounts", mode).await
}
