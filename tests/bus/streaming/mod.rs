//! Streaming rpcs on a real redis-server (and, where a unit test could
//! see it, on the in-memory bus): server streaming (`server`) and client
//! streaming (`client`), against the service in `numbers`.

mod client;
mod intercepted;
mod numbers;
mod server;
