//! Compiles `.proto` services into Rust for [redis-bus]: prost message
//! types, and per service an async server trait, a server, a typed client
//! and metadata constants.
//!
//! No `protoc` is needed: [protox] compiles the files, prost-build writes the
//! messages, and this crate writes the services. `redis_bus/options.proto`
//! (the options for versions, cache keys, deadlines) is embedded, so protos
//! import it without copying it.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), redis_bus_build::Error> {
//!     redis_bus_build::compile_protos(&["proto/math.proto"], &["proto"])
//! }
//! ```
//!
//! and in the crate: `redis_bus::include_proto!("math");`.
//!
//! Only the services of the files named are generated; imported files give
//! messages. Problems in the protos fail the build with the file, service,
//! method and field named: a cache key naming an unknown or non-scalar
//! field, a version that is not semver, a bidirectional streaming method
//! (unless [`Builder::skip_streaming_methods`]; server- and client-streaming
//! rpcs are generated), a cached streaming rpc, a Rust name that the generated code
//! would define twice (the naming scheme is in the README's "Build"
//! section).
//!
//! [redis-bus]: https://docs.rs/redis-bus
//! [protox]: https://docs.rs/protox
//!
//! Layout: `builder` runs the pipeline (`prost_options` records what it
//! passes to prost-build, `include_file` nests the packages); `model` checks
//! each service (`options`, `cache_key`, `fingerprint`) and `clashes` the
//! Rust names they would take; `comments` makes proto comments safe for
//! rustdoc; `emit` writes the tokens; `names` spells Rust names like
//! prost-build; `embedded` serves our protos.

mod builder;
mod cache_key;
mod clashes;
mod comments;
mod embedded;
mod emit;
mod error;
mod fingerprint;
mod include_file;
mod kept_comments;
mod model;
mod names;
mod options;
mod prost_options;

use std::path::Path;

pub use builder::{Builder, GeneratedFile};
pub use error::Error;

/// Compiles `protos`, looked up in `includes`, into `OUT_DIR`, one Rust file
/// per proto package; include them with `redis_bus::include_proto!`.
pub fn compile_protos(
    protos: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
) -> Result<(), Error> {
    configure().compile_protos(protos, includes)
}

/// A [`Builder`] with the default settings, to adjust before compiling.
pub fn configure() -> Builder {
    Builder::default()
}
