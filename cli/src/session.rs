//! `Session`: the bus a command works on, how its calls are made, and how
//! the names typed are matched to what is live.

use std::time::Duration;

use redis_bus::{Bus, CallOptions, Code, DynamicClient};

use crate::args::Connection;
use crate::failure::Failure;
use crate::names::{self, Resolved};
use crate::target::Target;

/// How long connecting may take without `--timeout`: long enough for a
/// far Redis, short enough that a port that never answers is told soon.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected bus, with the options that every command of the session
/// uses.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The bus.
    bus: Bus,
    /// The deadline given with `--timeout`, when one was.
    timeout: Option<Duration>,
    /// Whether output is JSON (`--json`).
    json: bool,
}

impl Session {
    /// Connects to the bus within `--timeout` (else 10 s); the error names
    /// the URL (password hidden).
    pub(crate) async fn connect(connection: &Connection) -> Result<Session, Failure> {
        let timeout = connection.timeout.map(Duration::from_millis);
        let limit = timeout.unwrap_or(CONNECT_TIMEOUT);
        let bus = Bus::builder(&connection.url, &connection.bus)
            .connect_timeout(limit)
            .connect()
            .await?;
        Ok(Session {
            bus,
            timeout,
            json: connection.json,
        })
    }

    /// The bus.
    pub(crate) fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Whether output is to be JSON.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// A client of `service` (a full name, or a short one that only one
    /// live service has) as its newest live version describes itself, read
    /// from the registry now (so a service started a moment ago is found).
    /// Fails when no worker serves it, naming the live services and the
    /// one that was probably meant.
    pub(crate) async fn client(&self, service: &str) -> Result<DynamicClient, Failure> {
        let live: Vec<String> = self
            .bus
            .discovery()
            .services()
            .await?
            .into_iter()
            .map(|summary| summary.name)
            .collect();
        let service = match names::resolve(service, &live) {
            Resolved::Found(name) => name,
            Resolved::Suggest(name) => {
                return Err(Failure::with_code(
                    Code::NotFound,
                    format!(
                        "no live worker serves {service} on bus {:?}; did you mean {name}?",
                        self.bus.name()
                    ),
                ));
            }
            Resolved::Ambiguous(names) => {
                return Err(Failure::usage(format!(
                    "{service} is ambiguous: {}; give the full name",
                    names.join(", ")
                )));
            }
            // The runtime's error names the live services.
            Resolved::Unknown => service.to_owned(),
        };
        let client = DynamicClient::connect(&self.bus, &service).await?;
        Ok(match self.timeout {
            Some(timeout) => client.with_options(CallOptions::new().timeout(timeout)),
            None => client,
        })
    }

    /// A client of `target`'s service and the method as the service names
    /// it, with short names and suggestions as for [`Session::client`].
    pub(crate) async fn method(&self, target: &Target) -> Result<(DynamicClient, Target), Failure> {
        let client = self.client(&target.service).await?;
        let info = client.info();
        let methods: Vec<String> = info.methods.iter().map(|m| m.name.to_owned()).collect();
        let method = match names::resolve(&target.method, &methods) {
            Resolved::Found(name) => name,
            other => {
                // The runtime's refusal names the methods; add the guess.
                let status = client
                    .request_type(&target.method)
                    .err()
                    .unwrap_or_else(|| redis_bus::Status::not_found("unknown method"));
                let message = match other {
                    Resolved::Suggest(name) => {
                        format!("{}; did you mean {name}?", status.message())
                    }
                    _ => status.message().to_owned(),
                };
                return Err(Failure::with_code(status.code(), message));
            }
        };
        let resolved = Target {
            service: info.name.to_owned(),
            method,
        };
        Ok((client, resolved))
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
