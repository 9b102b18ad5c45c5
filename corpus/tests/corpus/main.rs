//! The corpus's tests, in one binary: `wkt` (every well-known type as a
//! request and a reply, over a real Redis, through the generated client and
//! as JSON through `DynamicClient`) and `shape` (what was generated, and
//! what was left out). Run one part with
//! `cargo test -p redis-bus-corpus --test corpus wkt::`.

mod shape;
mod wkt;
