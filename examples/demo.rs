//! The demo: the seed's session, end to end, on a real Redis.
//!
//! `cargo run --example demo`
//!
//! It uses the Redis at `REDIS_URL`, or a local one on port 6379, or, when
//! nothing answers there, starts a private `redis-server` (or says how to
//! install one). It serves the three samples on the bus `demo`, calls them
//! as the seed's session did, and removes the bus's keys at the end.

mod support;

use std::time::Duration;

use generated_examples::accounts::OpenRequest;
use generated_examples::accounts::accounts_bus::{AccountsClient, AccountsServer};
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::math::{NowRequest, SumRequest};
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::random::{ErrorRequest, PasswordRequest, UuidRequest};
use generated_examples::services::{AccountsService, MathService, RandomService};
use redis_bus::{Bus, Server};
use redis_bus_testing::RedisServer;

/// The bus the demo plays on; removed at the end.
const BUS: &str = "demo";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (bus, _private) = connect().await?;
    let servers = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .add_service(RandomServer::new(RandomService))
        .add_service(AccountsServer::new(AccountsService::new(&bus)))
        .start()
        .await?;

    println!("\n# services on bus {BUS:?}");
    for service in bus.discovery().services().await? {
        let methods: Vec<String> = service.methods.iter().map(|m| m.name.clone()).collect();
        let versions: Vec<String> = service
            .versions
            .iter()
            .map(|(v, n)| format!("{v} x{n}"))
            .collect();
        println!(
            "{:<24} {:<12} {}",
            service.name,
            versions.join(", "),
            methods.join(", ")
        );
    }

    let random = RandomClient::new(&bus);
    println!("\n# random");
    println!(
        "Uuid                 -> {}",
        random.uuid(UuidRequest {}).await?.uuid
    );
    let password = random
        .password(PasswordRequest { length: None })
        .await?
        .password;
    println!(
        "Password             -> {password} (default length {})",
        password.len()
    );
    let password = random
        .password(PasswordRequest { length: Some(20) })
        .await?
        .password;
    println!("Password {{length 20}} -> {password}");
    match random
        .error(ErrorRequest {
            message: "as asked".into(),
        })
        .await
    {
        Ok(_) => println!("Error                -> unexpectedly answered"),
        Err(status) => println!("Error                -> {status}"),
    }

    let math = MathClient::new(&bus);
    println!("\n# math (Now is cached per seed, Sum per a/b)");
    println!(
        "Sum {{1, 2}}           -> {}",
        math.sum(SumRequest { a: 1, b: 2 }).await?.sum
    );
    let now = |seed| {
        let math = math.clone();
        async move {
            let time = math
                .now(NowRequest { seed })
                .await?
                .time
                .unwrap_or_default();
            Ok::<_, redis_bus::Status>(time.to_string())
        }
    };
    println!("Now {{seed 1}}         -> {}", now(1).await?);
    tokio::time::sleep(Duration::from_millis(20)).await;
    println!(
        "Now {{seed 1}}         -> {} (the same: cached)",
        now(1).await?
    );
    println!(
        "Now {{seed 2}}         -> {} (another seed, another time)",
        now(2).await?
    );
    math.clear_cache().now(&NowRequest { seed: 1 }).await?;
    println!("cache clear seed 1");
    println!("Now {{seed 1}}         -> {} (a new time)", now(1).await?);

    println!("\n# accounts (calls random and math across the bus)");
    let account = AccountsClient::new(&bus)
        .open(OpenRequest {
            name: "ada".into(),
            password_length: Some(16),
        })
        .await?;
    println!(
        "Open {{ada}}           -> id {}, password {}, opened {}",
        account.id,
        account.password,
        account.opened_at.unwrap_or_default()
    );

    servers.shutdown().await?;
    println!(
        "\ncleanup: removed {} keys of bus {BUS:?}",
        bus.cleanup().await?
    );
    Ok(())
}

/// The demo's bus: on `REDIS_URL`, else a local Redis, else a private
/// `redis-server` that lives as long as the returned handle.
async fn connect() -> Result<(Bus, Option<RedisServer>), Box<dyn std::error::Error>> {
    let url = support::url();
    match Bus::connect(&url, BUS).await {
        Ok(bus) => {
            println!("using the Redis at {url}");
            return Ok((bus, None));
        }
        Err(error) if std::env::var_os("REDIS_URL").is_some() || !error.is_connection() => {
            return Err(error.into());
        }
        Err(_) => {}
    }
    let private = RedisServer::start().map_err(|error| {
        format!(
            "nothing answers at {url}, and no private redis-server could be started: {error}\n\
             Install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: \
             `brew install redis`) or set REDIS_URL."
        )
    })?;
    println!(
        "nothing answers at {url}: started a private redis-server at {}",
        private.url()
    );
    let bus = Bus::connect(&private.url(), BUS).await?;
    Ok((bus, Some(private)))
}
