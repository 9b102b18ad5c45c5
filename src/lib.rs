//! Typed, code-generated RPC between Rust services, carried by Redis.
//!
//! Services are declared in `.proto` files; `redis-bus-build` turns them into
//! message types, an async server trait, a server and a typed client per
//! service. A [`Bus`] carries the calls; a [`Server`] runs implementations.
//!
//! ```ignore
//! pub mod math {
//!     redis_bus::include_proto!("math");
//! }
//! use math::math_bus::{Math, MathClient, MathServer};
//!
//! let bus = redis_bus::Bus::in_memory();
//! let _server = redis_bus::Server::new(&bus).add_service(MathServer::new(MyMath)).start().await?;
//! let math = MathClient::new(&bus);
//! let reply = math.sum(math::SumRequest { a: 1, b: 2 }).await?;
//! ```
//!
//! Layout: `bus` (the handle), `client` and `call_options` (calling),
//! `server` and `service` (serving), `transport` (the seam to what carries
//! calls) with `memory` (in-process); `status` and `error` (failures);
//! `info` and `cache_key` (what the generator emits metadata for);
//! `context` (the call a handler serves); `wire` (envelopes); `codegen`
//! (what generated code imports); `testing` (real redis-server processes
//! for tests, behind the `testing` feature).

mod bus;
mod cache_key;
mod call_options;
mod client;
#[doc(hidden)]
pub mod codegen;
mod context;
mod debug_report;
mod discovery;
mod dynamic;
mod error;
mod info;
mod memory;
mod redis;
mod server;
mod service;
mod stats;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
mod trace;
mod transport;
pub mod wire;

pub use bus::{Bus, BusBuilder, DEFAULT_TIMEOUT};
pub use cache_key::{CacheKeyValue, CacheKeyWriter};
pub use call_options::CallOptions;
pub use client::Client;
pub use context::CallContext;
pub use discovery::{Change, Discovery, Instance, MethodRecord, ServiceSummary, Watch};
pub use dynamic::DynamicClient;
pub use error::{Error, ErrorKind};
pub use info::{Method, MethodInfo, ServiceInfo};
pub use server::{RunningServer, Server};
pub use service::Service;
pub use stats::MethodStats;
pub use status::{Code, Status};

/// Includes the Rust that `redis_bus_build::compile_protos` generated for a
/// proto package, from `OUT_DIR`, in place; give the package a module:
///
/// ```ignore
/// pub mod math {
///     redis_bus::include_proto!("math");
/// }
/// ```
#[macro_export]
macro_rules! include_proto {
    ($package:tt) => {
        include!(concat!(env!("OUT_DIR"), "/", $package, ".rs"));
    };
}
