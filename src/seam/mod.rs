//! The middle layer: the seam between the public API and the transports
//! that carry calls, and the plain data both sides share.
//!
//! Nothing here imports from `api` (above) or from a transport (below):
//! the API hands a transport an [`call::OutgoingCall`] or a list of
//! [`service::Service`]s through [`transport::Transport`], and reads back
//! statuses, instances and statistics, all defined here.
//!
//! Layout: `transport` (the traits a transport implements) and `call` (a
//! call on its way out); `info`, `cache_key` and `service` (what the
//! generator emits and servers run); `status` and `error` (failures);
//! `instance`, `versions` and `compat` (what is registered, and the version
//! rules); `server_config`, `context` and `metadata` (what a handler knows
//! of its call), `stream` (streamed replies), `trace` (and `otel`, the
//! feature `opentelemetry`), `stats`, `debug_report`;
//! `wire` (the envelopes in Redis).

pub(crate) mod cache_key;
pub(crate) mod call;
pub(crate) mod compat;
pub(crate) mod context;
pub(crate) mod debug_report;
pub(crate) mod error;
pub(crate) mod heartbeat;
pub(crate) mod info;
pub(crate) mod instance;
pub(crate) mod metadata;
#[cfg(feature = "opentelemetry")]
pub(crate) mod otel;
pub(crate) mod queue_depth;
pub(crate) mod server_config;
pub(crate) mod service;
pub(crate) mod stats;
pub(crate) mod status;
pub(crate) mod stream;
pub(crate) mod trace;
pub(crate) mod transport;
pub(crate) mod versions;
pub mod wire;
