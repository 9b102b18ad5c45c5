//! Real Redis for tests: [`RedisServer`] starts a `redis-server` process,
//! [`RedisCluster`] a Redis Cluster of them, [`RedisSentinel`] a master
//! with replicas and sentinels, all killed on drop, and
//! [`FaultProxy`] stands between a client and a server to inject network
//! faults (a silent pause, a cut, latency).
//!
//! The bus's own integration tests use it, and so can yours, as a
//! dev-dependency (it does not depend on `redis-bus` itself; the crates are
//! not published, so point at a checkout of this repository):
//!
//! ```toml
//! [dev-dependencies]
//! redis-bus-testing = { path = "../redis-bus/testing" }
//! ```
//!
//! ```no_run
//! use redis_bus_testing::RedisServer;
//!
//! let server = RedisServer::start()?;
//! let mut connection = redis::Client::open(server.url())?.get_connection()?;
//! let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut connection)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What every server gets, so tests never interfere with each other or with
//! a Redis the machine already runs:
//! - a port on 127.0.0.1 that was free at start (never an assumed 6379),
//!   retried on another port if some other process takes it first;
//! - no persistence (`--save "" --appendonly no`) and its own temporary
//!   directory (`--dir`, `--logfile`), removed on drop;
//! - a start that polls until the server answers, with a deadline, never a
//!   fixed sleep; a failed start reports the server's log;
//! - its log printed to stderr when it is dropped during a panic, so a
//!   failing test shows what the server saw.
//!
//! To test how a client lives through the network failing, connect it
//! through a [`FaultProxy`] and break the path while it runs:
//!
//! ```no_run
//! use std::time::Duration;
//! use redis_bus_testing::{FaultProxy, RedisServer};
//!
//! let server = RedisServer::start()?;
//! let proxy = FaultProxy::start(server.addr())?;
//! let mut connection = redis::Client::open(proxy.url())?.get_connection()?;
//!
//! proxy.set_latency(Duration::from_millis(50)); // a slow link
//! proxy.pause(); // open connections hang silently, new ones work
//! proxy.resume(); // what was held is delivered
//! proxy.cut(); // open connections close
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Needs `redis-server` (and `redis-cli` for clusters) on PATH; on
//! Debian/Ubuntu `apt-get install redis-server` brings both.
//!
//! To kill your own worker processes in a test, start them with
//! [`spawn_ready`], which waits (with a bound) for the line they print once
//! they serve.
//!
//! Layout: `server` (one process and its builder), `cluster` (several
//! processes formed into a cluster), `sentinel` (a master, replicas and
//! sentinels), `proxy` (a TCP proxy that injects faults), `process`
//! (processes of the test's own), `ready` (readiness checks), `port` (free
//! ports), `error` (why a start failed).

mod cluster;
mod error;
mod port;
mod process;
mod proxy;
mod ready;
mod sentinel;
mod server;

pub use cluster::{RedisCluster, RedisClusterBuilder, master_port_seen_by};
pub use error::HarnessError;
pub use port::free_port;
pub use process::spawn_ready;
pub use proxy::FaultProxy;
pub use ready::ReadyCheck;
pub use sentinel::{RedisSentinel, RedisSentinelBuilder};
pub use server::{RedisServer, RedisServerBuilder};
