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

use crate::load::{self, Plan, SharePlan};
use crate::sample::{Sample, Share};

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
    /// redis-bus server streaming: one call streams 1000
    /// (`STREAM_MESSAGES`) echoes of the payload from the worker.
    RedisBusStream,
    /// redis-bus client streaming: one call uploads 1000
    /// (`STREAM_MESSAGES`) messages of the payload to the worker, which
    /// checks and counts them.
    RedisBusUpload,
    /// tonic server streaming over loopback TCP: one call streams 1000
    /// (`STREAM_MESSAGES`) echoes of the payload.
    TonicStream,
}

/// Messages in one call of a streaming system: the load generator counts
/// calls (whole streams), the report multiplies them by this. Large enough
/// that opening and closing a stream weighs little against its messages.
pub const STREAM_MESSAGES: u32 = 1000;

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

/// The pairs the streaming report divides, in messages per second: each
/// redis-bus stream against tonic's, and against the same messages sent as
/// redis-bus unary calls.
pub const STREAM_COMPARISONS: [(System, System); 3] = [
    (System::RedisBusStream, System::TonicStream),
    (System::RedisBusStream, System::RedisBus),
    (System::RedisBusUpload, System::RedisBus),
];

/// The bus of the redis-bus systems, unless a mode spreads services over
/// several buses (the cluster mode).
pub const DEFAULT_BUS: &str = "bench";

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
    pub const ALL: [System; 11] = [
        System::Ping,
        System::List,
        System::RedisBus,
        System::Nats,
        System::Tonic,
        System::Get,
        System::CacheHit,
        System::NearCacheHit,
        System::RedisBusStream,
        System::RedisBusUpload,
        System::TonicStream,
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
            System::RedisBusStream => "redis-bus stream",
            System::RedisBusUpload => "redis-bus upload",
            System::TonicStream => "tonic stream",
        }
    }

    /// Messages one call carries: [`STREAM_MESSAGES`] for a streaming
    /// system, 1 for a unary one.
    pub fn messages_per_call(self) -> u32 {
        if self.is_streaming() {
            STREAM_MESSAGES
        } else {
            1
        }
    }

    /// Whether one call is a stream of messages (reported in messages per
    /// second, with its own number of calls in flight).
    pub fn is_streaming(self) -> bool {
        matches!(
            self,
            System::RedisBusStream | System::RedisBusUpload | System::TonicStream
        )
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
            | System::NearCacheHit
            | System::RedisBusStream
            | System::RedisBusUpload => Daemon::Redis,
            System::Nats => Daemon::Nats,
            System::Tonic | System::TonicStream => Daemon::None,
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

/// The client side of a system: makes one echo call (for a streaming
/// system, one stream of [`STREAM_MESSAGES`] messages).
pub trait Caller: Clone + Send + Sync + 'static {
    /// Sends `payload`, waits for the echo, and checks that it is the same
    /// bytes (a benchmark that does not check its answers measures nothing);
    /// for a stream, checks every message.
    fn call(&self, payload: &Bytes) -> impl Future<Output = Result<()>> + Send;
}

/// Serves `system` at `target` (the daemon's URL, or for tonic the address
/// to listen on), on bus `bus` for a redis-bus system, until `stop`
/// completes. Calls `ready` with the target that clients should use once
/// calls can be served.
pub async fn serve(
    system: System,
    target: &str,
    bus: &str,
    ready: impl FnOnce(&str) + Send,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    match system {
        System::Ping | System::Get => {
            bail!("{} has no worker: Redis answers it", system.label())
        }
        System::List => list::serve(target, ready, stop).await,
        System::RedisBus
        | System::CacheHit
        | System::NearCacheHit
        | System::RedisBusStream
        | System::RedisBusUpload => bus::serve(target, bus, ready, stop).await,
        System::Nats => nats::serve(target, ready, stop).await,
        System::Tonic | System::TonicStream => grpc::serve(target, ready, stop).await,
    }
}

/// Connects a client of `system` at `target` and measures it along `plan`.
pub async fn measure(system: System, target: &str, plan: &Plan) -> Result<Sample> {
    match system {
        System::Ping => load::measure(system, ping::connect(target).await?, plan).await,
        System::List => load::measure(system, list::connect(target).await?, plan).await,
        System::RedisBus => {
            let caller = bus::connect(target, DEFAULT_BUS).await?;
            load::measure(system, caller, plan).await
        }
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
        System::RedisBusStream => {
            let caller = bus::connect_stream(target, plan.stream_window).await?;
            load::measure(system, caller, plan).await
        }
        System::RedisBusUpload => {
            let caller = bus::connect_upload(target, plan.stream_window).await?;
            load::measure(system, caller, plan).await
        }
        System::TonicStream => {
            let caller = grpc::connect_stream(target).await?;
            load::measure(system, caller, plan).await
        }
    }
}

/// Whether the scaling mode can run `system`: the Redis-carried RPCs
/// and NATS, whose workers share one queue or subject.
pub fn scales(system: System) -> bool {
    matches!(system, System::List | System::RedisBus | System::Nats)
}

/// Connects one client process of a fleet (the scaling and cluster modes)
/// to `system` at `target`, on bus `bus` for redis-bus, and measures its
/// share of the load.
pub async fn share(system: System, target: &str, bus: &str, plan: &SharePlan) -> Result<Share> {
    match system {
        System::List => load::share(list::connect(target).await?, plan).await,
        System::RedisBus => load::share(bus::connect(target, bus).await?, plan).await,
        System::Nats => load::share(nats::connect(target).await?, plan).await,
        _ => bail!("{} has no scaling mode", system.label()),
    }
}

/// Fails unless `count` messages arrived of the [`STREAM_MESSAGES`] a
/// stream carries: a stream cut short must not count as a whole one.
fn check_count(count: u64) -> Result<()> {
    if count != u64::from(STREAM_MESSAGES) {
        bail!("the stream ended after {count} of its {STREAM_MESSAGES} messages");
    }
    Ok(())
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
