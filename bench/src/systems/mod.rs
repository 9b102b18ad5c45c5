//! The systems compared, one module each, and the two things each one
//! provides: a worker (`serve`) and a client (`connect`, a [`Caller`]).
//!
//! To add a system: write a module with `serve` (if it has a worker of its
//! own) and `connect`, add a variant to [`System`], and one arm to each
//! `match` below. The orchestrator, the load generator and the report pick
//! it up from there; to compare it with another system, add the pair to
//! [`COMPARISONS`], and a target about the pair is one more row in
//! `report/targets.rs`.

mod bus;
mod get;
mod grpc;
mod list;
mod nats;
mod ping;

use std::fmt;
use std::future::Future;

use anyhow::{Result, bail};
use bytes::Bytes;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::load::{self, Plan};
use crate::sample::Sample;

/// A system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    /// Redis `PING <payload>`: one round trip, the floor of anything
    /// carried by Redis.
    Ping,
    /// A minimal hand-written RPC over Redis lists: the floor of an RPC over
    /// Redis, with none of redis-bus's guarantees.
    List,
    /// redis-bus itself: generated client and server, the real transport.
    RedisBus,
    /// NATS request-reply with async-nats.
    Nats,
    /// tonic unary gRPC over loopback TCP.
    Tonic,
    /// Redis `GET` of a value the size of the payload: the floor of a cache
    /// hit read from Redis.
    Get,
    /// redis-bus answering from its result cache in Redis: the generated
    /// client calling a cached method whose reply is stored.
    CacheHit,
    /// redis-bus answering from the near cache, in the client's process.
    NearCacheHit,
}

/// The pairs the report divides, redis-bus first: each redis-bus system and
/// the systems users would pick instead, or that bound it from below.
pub const COMPARISONS: [(System, System); 6] = [
    (System::RedisBus, System::Ping),
    (System::RedisBus, System::List),
    (System::RedisBus, System::Nats),
    (System::RedisBus, System::Tonic),
    (System::CacheHit, System::Get),
    (System::NearCacheHit, System::Get),
];

/// The server process a system needs besides its own worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    /// The benchmark's redis-server.
    Redis,
    /// The benchmark's nats-server.
    Nats,
    /// None: the worker listens itself.
    None,
}

impl System {
    /// Every system, in the order the report lists them.
    pub const ALL: [System; 8] = [
        System::Ping,
        System::List,
        System::RedisBus,
        System::Nats,
        System::Tonic,
        System::Get,
        System::CacheHit,
        System::NearCacheHit,
    ];

    /// The name in the report.
    pub fn label(self) -> &'static str {
        match self {
            System::Ping => "Redis PING",
            System::List => "list RPC floor",
            System::RedisBus => "redis-bus",
            System::Nats => "NATS request-reply",
            System::Tonic => "tonic unary",
            System::Get => "Redis GET",
            System::CacheHit => "redis-bus cache hit",
            System::NearCacheHit => "redis-bus near-cache hit",
        }
    }

    /// The name on the command line.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|value| value.get_name().to_owned())
            .unwrap_or_else(|| format!("{self:?}"))
    }

    /// Which server process it talks to.
    pub fn daemon(self) -> Daemon {
        match self {
            System::Ping
            | System::List
            | System::RedisBus
            | System::Get
            | System::CacheHit
            | System::NearCacheHit => Daemon::Redis,
            System::Nats => Daemon::Nats,
            System::Tonic => Daemon::None,
        }
    }

    /// Whether it has a worker process of its own (PING and GET are
    /// answered by Redis itself; a cache hit needs the worker for the first
    /// call, the miss that fills the cache).
    pub fn has_worker(self) -> bool {
        !matches!(self, System::Ping | System::Get)
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The client side of a system: makes one echo call.
pub trait Caller: Clone + Send + Sync + 'static {
    /// Sends `payload`, waits for the echo, and checks that it is the same
    /// bytes (a benchmark that does not check its answers measures nothing).
    fn call(&self, payload: &Bytes) -> impl Future<Output = Result<()>> + Send;
}

/// Serves `system` at `target` (the daemon's URL, or for tonic the address
/// to listen on) until `stop` completes. Calls `ready` with the target that
/// clients should use once calls can be served.
pub async fn serve(
    system: System,
    target: &str,
    ready: impl FnOnce(&str) + Send,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    match system {
        System::Ping | System::Get => {
            bail!("{} has no worker: Redis answers it", system.label())
        }
        System::List => list::serve(target, ready, stop).await,
        System::RedisBus | System::CacheHit | System::NearCacheHit => {
            bus::serve(target, ready, stop).await
        }
        System::Nats => nats::serve(target, ready, stop).await,
        System::Tonic => grpc::serve(target, ready, stop).await,
    }
}

/// Connects a client of `system` at `target` and measures it along `plan`.
pub async fn measure(system: System, target: &str, plan: &Plan) -> Result<Sample> {
    match system {
        System::Ping => load::measure(system, ping::connect(target).await?, plan).await,
        System::List => load::measure(system, list::connect(target).await?, plan).await,
        System::RedisBus => load::measure(system, bus::connect(target).await?, plan).await,
        System::Nats => load::measure(system, nats::connect(target).await?, plan).await,
        System::Tonic => load::measure(system, grpc::connect(target).await?, plan).await,
        System::Get => load::measure(system, get::connect(target).await?, plan).await,
        System::CacheHit => {
            let caller = bus::connect_cache_hit(target, false).await?;
            load::measure(system, caller, plan).await
        }
        System::NearCacheHit => {
            let caller = bus::connect_cache_hit(target, true).await?;
            load::measure(system, caller, plan).await
        }
    }
}

/// Fails unless `echoed` is `sent`.
fn check_echo(sent: &[u8], echoed: &[u8]) -> Result<()> {
    if sent != echoed {
        bail!(
            "the echo differs from the request: sent {} bytes, got {} bytes back",
            sent.len(),
            echoed.len()
        );
    }
    Ok(())
}
