//! Typed, code-generated RPC between Rust services, carried by Redis.
//!
//! Services are declared in `.proto` files; `redis-bus-build` turns them into
//! message types, an async server trait, a server and a typed client per
//! service. A [`Bus`] carries the calls; a [`Server`] runs implementations.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The samples' generated code; yours comes from `include_proto!`:
//! // `pub mod math { redis_bus::include_proto!("math"); }`
//! use generated_examples::math::SumRequest;
//! use generated_examples::math::math_bus::{MathClient, MathServer};
//! use generated_examples::services::MathService;
//!
//! let bus = redis_bus::Bus::in_memory(); // or Bus::connect(url, name) for Redis
//! let _server = redis_bus::Server::new(&bus)
//!     .add_service(MathServer::new(MathService))
//!     .start()
//!     .await?;
//! let math = MathClient::new(&bus);
//! assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await?.sum, 3);
//!
//! // What is live, and calls from JSON without generated code:
//! let live = bus.discovery().services().await?;
//! assert_eq!(live[0].name, "math.Math");
//! let dynamic = redis_bus::DynamicClient::connect(&bus, "math.Math").await?;
//! let request = dynamic.request_from_json("Sum", r#"{"a": 2, "b": 3}"#)?;
//! let reply = dynamic.call("Sum", &request).await?;
//! assert_eq!(reply.get_field_by_name("sum").unwrap().as_i64(), Some(5));
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `metrics` | on | the `Metrics` interceptor and cache counters, through the `metrics` crate |
//! | `opentelemetry` | off | calls join OpenTelemetry traces through `tracing-opentelemetry` and the global propagator |
//! | `tower` | off | `Server::layer` and `Bus::layer`: tower layers around a server's services and a handle's calls |
//!
//! # Layout
//!
//! The crate is built in layers; a module imports only from its own layer
//! or the layers below it (a test, `layers`, keeps it so):
//!
//! | layer | modules | what |
//! | --- | --- | --- |
//! | the public API | `api` (`bus`, `client`, `call_options`, `call_trace`, `interceptor`, `metrics`, `tower`, `server`, `discovery`, `watch`, `dynamic`), `codegen` | what users and generated code hold |
//! | the transports | `redis`, `memory` | what carries calls: Redis, or this process for unit tests; neither knows the other |
//! | the seam | `seam` (`transport`, `call`, `info`, `service`, `status`, `error`, `instance`, `metadata`, `versions`, `compat`, `server_config`, `context`, `trace`, `otel`, `stats`, `cache_key`, `debug_report`, `wire`) | the traits a transport implements and the plain data both sides share |
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
#[cfg(feature = "metrics")]
pub use api::metrics::Metrics;
pub use api::server::{RunningServer, Server};
pub use api::streaming::Streaming;
#[cfg(feature = "tower")]
pub use api::tower::call::{BoxError, CallReply, CallRequest};
#[cfg(feature = "tower")]
pub use api::tower::stack::BoxCallService;
pub use api::watch::{Change, Watch};
pub use seam::cache_key::{CacheKeyValue, CacheKeyWriter};
pub use seam::call::DEFAULT_TIMEOUT;
pub use seam::context::CallContext;
pub use seam::error::{Error, ErrorKind};
pub use seam::heartbeat::Heartbeat;
pub use seam::info::{Method, MethodInfo, ServiceInfo};
pub use seam::instance::{Instance, MethodRecord, ServiceSummary};
pub use seam::metadata::Metadata;
pub use seam::queue_depth::QueueDepth;
pub use seam::service::Service;
pub use seam::stats::{InstanceStats, MethodStats};
pub use seam::status::{Code, Status};
pub use seam::stream::{DEFAULT_STREAM_WINDOW, EncodedMessages, MAX_STREAM_WINDOW, ReplyStream};
pub use seam::wire;

/// The attribute that service implementations put on their `impl` of a
/// generated trait (`#[redis_bus::async_trait]`), so that they need no
/// `async-trait` dependency of their own.
pub use async_trait::async_trait;
/// The protobuf well-known types (`Timestamp`, `Duration`, `Any`, ...) as
/// generated messages use them, so that they need no `prost-types`
/// dependency of their own.
pub use prost_types;

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
