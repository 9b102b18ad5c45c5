//! `Session`: the bus a command works on, and how its calls are made.

use std::time::Duration;

use redis_bus::{Bus, CallOptions, DynamicClient};

use crate::args::Connection;
use crate::failure::Failure;

/// A connected bus, with the options that every call of the session uses.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The bus.
    bus: Bus,
    /// The deadline given with `--timeout`, when one was.
    timeout: Option<Duration>,
}

impl Session {
    /// Connects to the bus; the error names the URL (password hidden).
    pub(crate) async fn connect(connection: &Connection) -> Result<Session, Failure> {
        let bus = Bus::connect(&connection.url, &connection.bus).await?;
        Ok(Session {
            bus,
            timeout: connection.timeout.map(Duration::from_millis),
        })
    }

    /// The bus.
    pub(crate) fn bus(&self) -> &Bus {
        &self.bus
    }

    /// A client of `service` as its newest live version describes itself,
    /// read from the registry now (so a service started a moment ago is
    /// found). Fails when no worker serves it, naming the live services.
    pub(crate) async fn client(&self, service: &str) -> Result<DynamicClient, Failure> {
        let client = DynamicClient::connect(&self.bus, service).await?;
        Ok(match self.timeout {
            Some(timeout) => client.with_options(CallOptions::new().timeout(timeout)),
            None => client,
        })
    }

    /// Sends the statistics this process recorded (cache hits and misses
    /// are counted by callers), so they are not lost when it exits. A
    /// failure is only warned about: the command itself went through.
    pub(crate) async fn flush_stats(&self) {
        if let Err(error) = self.bus.flush_stats().await {
            eprintln!("warning: the statistics of this call were not recorded: {error}");
        }
    }
}
