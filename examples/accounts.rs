//! The accounts sample as a worker process, serving until Ctrl-C:
//! `cargo run --example accounts`. Its handler calls the random and math
//! services, so start their workers too.

mod support;

use generated_examples::accounts::accounts_bus::AccountsServer;
use generated_examples::services::AccountsService;
use redis_bus::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::log();
    let bus = support::connect().await?;
    eprintln!(
        "serving accounts.Accounts on bus {:?} at {}",
        support::bus_name(),
        support::url()
    );
    Server::new(&bus)
        .add_service(AccountsServer::new(AccountsService::new(&bus)))
        .serve()
        .await?;
    Ok(())
}
