//! The integration tests of the runtime against real redis-server
//! processes, one module per capability, in one test binary (so that CI
//! links one binary, not one per capability). Run one capability's tests
//! with `cargo test --test bus <module>::`, e.g. `cargo test --test bus cache::`.

mod common;

mod acl;
mod bad_input;
mod both_buses;
mod bounded_growth;
mod cache;
mod cache_keys;
mod calls;
mod cleanup;
mod cluster;
mod deadlines;
mod discovery;
mod dynamic;
mod errors;
mod failover;
mod hostile;
mod in_process;
mod intercepted_streams;
mod metadata;
#[cfg(feature = "metrics")]
mod metrics;
mod no_live_worker;
#[cfg(feature = "opentelemetry")]
mod otel;
mod readme;
mod samples;
mod shutdown;
mod stats;
mod streaming;
mod tls;
#[cfg(feature = "tower")]
mod tower;
mod traces;
mod versions;

/// The entry point of the worker processes that tests start and kill: the
/// test binary runs itself with `--ignored --exact worker_process`.
#[test]
#[ignore = "entry point of the worker processes that tests start and kill"]
fn worker_process() {
    common::process::worker_main();
}
