//! What generated code uses, and nothing else: generated code names only
//! `redis_bus::codegen::...`, so users depend on `redis-bus` alone (no
//! direct `prost` or `async-trait` dependency).

pub use async_trait::async_trait;
pub use prost;
pub use prost_types;

pub use crate::bus::Bus;
pub use crate::cache_key::CacheKeyWriter;
pub use crate::call_options::CallOptions;
pub use crate::client::Client;
pub use crate::info::{Method, MethodInfo, ServiceInfo};
pub use crate::service::{Service, handle, unknown_method};
pub use crate::status::Status;
