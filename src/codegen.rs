//! What generated code uses, and nothing else: generated code names only
//! `redis_bus::codegen::...`, so users depend on `redis-bus` alone (no
//! direct `prost` or `async-trait` dependency).

pub use async_trait::async_trait;
pub use prost;
pub use prost_types;

pub use crate::api::bus::Bus;
pub use crate::api::call_options::CallOptions;
pub use crate::api::client::Client;
pub use crate::api::streaming::{Streaming, handle_client_stream};
pub use crate::seam::cache_key::CacheKeyWriter;
pub use crate::seam::info::{Method, MethodInfo, ServiceInfo, method_info, service_info};
pub use crate::seam::service::{Service, cache_key_of, handle, handle_stream, unknown_method};
pub use crate::seam::status::Status;
pub use crate::seam::stream::{EncodedMessages, ReplyStream};
pub use futures_util::Stream;
