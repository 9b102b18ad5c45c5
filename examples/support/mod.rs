//! What the sample workers share: connecting to the bus named by the
//! environment, with a helpful message when Redis is not there.

// Each example uses the part it needs.
#![allow(dead_code)]

use redis_bus::Bus;

/// The Redis URL: `REDIS_URL`, or a local Redis.
pub fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The bus name: `REDIS_BUS`, or `default` (the `redis-bus` command's
/// default too).
pub fn bus_name() -> String {
    std::env::var("REDIS_BUS").unwrap_or_else(|_| "default".to_owned())
}

/// Connects to the bus, or explains how to get a Redis.
pub async fn connect() -> Result<Bus, Box<dyn std::error::Error>> {
    let (url, name) = (url(), bus_name());
    match Bus::connect(&url, &name).await {
        Ok(bus) => Ok(bus),
        Err(error) if error.is_connection() => Err(format!(
            "{error}\nStart a Redis (e.g. `redis-server --port 6379 --save \"\"`) or point \
             REDIS_URL at one."
        )
        .into()),
        Err(error) => Err(error.into()),
    }
}

/// Logs to stderr at `info`, so that a worker says what it does.
pub fn log() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
}
