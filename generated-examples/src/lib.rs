//! The sample services of redis-bus, and the Rust that `redis-bus-build`
//! emits for them, checked in so that a reader sees exactly what users get.
//!
//! - [`random`] (`proto/random.proto`): UUIDs, passwords, and a method that
//!   always fails;
//! - [`math`] (`proto/math.proto`): a cached sum and a cached clock;
//! - [`accounts`] (`proto/accounts.proto`): a service whose handler calls
//!   the other two through their generated clients;
//! - [`services`]: hand-written implementations of all three, as a team
//!   would write them.
//!
//! `src/accounts.rs`, `src/math.rs` and `src/random.rs` are generated: never
//! edit them. After changing the generator or a proto, re-bless them with
//! `REDIS_BUS_BLESS=1 cargo test -p redis-bus-build --test generator drift::`.

pub mod services;

/// Generated from `proto/accounts.proto`.
pub mod accounts {
    include!("accounts.rs");
}

/// Generated from `proto/math.proto`.
pub mod math {
    include!("math.rs");
}

/// Generated from `proto/random.proto`.
pub mod random {
    include!("random.rs");
}
