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
//! # Layout
//!
//! The crate is built in layers; a module imports only from its own layer
//! or the layers below it (a test, `layers`, keeps it so):
//!
//! | layer | modules | what |
//! | --- | --- | --- |
//! | the public API | `api` (`bus`, `client`, `call_options`, `interceptor`, `server`, `discovery`, `watch`, `dynamic`), `codegen` | what users and generated code hold |
//! | the transports | `redis`, `memory` | what carries calls: Redis, or this process for unit tests; neither knows the other |
//! | the seam | `seam` (`transport`, `call`, `info`, `service`, `status`, `error`, `instance`, `metadata`, `versions`, `compat`, `server_config`, `context`, `trace`, `stats`, `cache_key`, `debug_report`, `wire`) | the traits a transport implements and the plain data both sides share |
//!
//! The API holds a `dyn seam::transport::Transport` and never names Redis
//! (only `api::bus` constructs a transport); the transports implement the
//! seam's traits with the seam's data and never name the API.

mod api;
#[doc(hidden)]
pub mod codegen;
#[cfg(test)]
mod layers;
mod memory;
mod redis;
mod seam;

pub use api::bus::{Bus, BusBuilder};
pub use api::call_options::CallOptions;
pub use api::client::Client;
pub use api::discovery::Discovery;
pub use api::dynamic::DynamicClient;
pub use api::interceptor::{InterceptedCall, Interceptor};
pub use api::server::{RunningServer, Server};
pub use api::watch::{Change, Watch};
pub use seam::cache_key::{CacheKeyValue, CacheKeyWriter};
pub use seam::call::DEFAULT_TIMEOUT;
pub use seam::context::CallContext;
pub use seam::error::{Error, ErrorKind};
pub use seam::info::{Method, MethodInfo, ServiceInfo};
pub use seam::instance::{Instance, MethodRecord, ServiceSummary};
pub use seam::metadata::Metadata;
pub use seam::service::Service;
pub use seam::stats::MethodStats;
pub use seam::status::{Code, Status};
pub use seam::wire;

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
