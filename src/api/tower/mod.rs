//! `tower` interop (feature `tower`): the layers tonic users already have
//! (`ConcurrencyLimitLayer`, `RateLimitLayer`, `TimeoutLayer`,
//! `LoadShedLayer`, their own) wrap a server's services
//! ([`Server::layer`](crate::Server::layer)) or a bus handle's calls
//! ([`Bus::layer`](crate::Bus::layer)).
//!
//! A layer wraps a `tower::Service<CallRequest, Response = CallReply>`.
//! On a server, the layers wrap all its services together (one
//! concurrency limit for the server, as with tonic), outside its
//! interceptors; on a bus handle they wrap every call made through it,
//! inside its interceptors, around the transport (and so cache hits too).
//! Layers wrap unary calls: streaming calls pass by them. The first layer added is the
//! outermost. A layer's error becomes the call's status: a `Status` as it
//! is, tower's timeout `DEADLINE_EXCEEDED`, load shedding's
//! `RESOURCE_EXHAUSTED`, anything else `UNKNOWN` with its message.
//!
//! Layout: `call` (the request and reply layers see, and errors),
//! `stack` (layers made into one shared service), `server` and `client`
//! (the innermost services and where they plug in).

pub(crate) mod call;
pub(crate) mod client;
pub(crate) mod server;
pub(crate) mod stack;
