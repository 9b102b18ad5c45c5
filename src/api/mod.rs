//! The top layer: what users hold. [`bus::Bus`] connects, [`client::Client`]
//! calls (generated clients wrap it; [`streaming::Streaming`] is what a
//! server-streaming call returns), [`server::Server`] serves,
//! [`discovery::Discovery`] looks at what is live, and
//! [`dynamic::DynamicClient`] calls from descriptors, without generated code;
//! [`interceptor::Interceptor`]s run around calls on either side.
//!
//! The API reaches a transport only through `seam::transport::Transport`;
//! `bus` is the one module that names the transports, to construct them.

pub(crate) mod bus;
pub(crate) mod call_options;
pub(crate) mod call_trace;
pub(crate) mod client;
pub(crate) mod discovery;
pub(crate) mod dynamic;
pub(crate) mod intercepted;
pub(crate) mod interceptor;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
pub(crate) mod server;
pub(crate) mod streaming;
#[cfg(feature = "tower")]
pub(crate) mod tower;
pub(crate) mod watch;
