//! The generator's tests, in one binary: `checks` (every build-time rule
//! and its message) and `drift` (the checked-in generated code is what the
//! generator emits today) and `protos` (the protos teams already have:
//! well-known types, imports, streaming, name clashes, builder options).
//! Run one part with
//! `cargo test -p redis-bus-build --test generator checks::`.

mod checks;
mod drift;
mod protos;
