//! Variants of the sample `math.Math` service (generated-examples), for the
//! tests of version checks: each differs from `math.Math 1.2.0` in one way.
//!
//! - [`v1_compatible`]: 1.3.0 adds a request field and a method;
//! - [`v1_incompatible`]: 1.3.0 turns field `b` of `SumRequest` into a string;
//! - [`v1_cache_changed`]: 1.3.0 changes `Sum`'s cache key template;
//! - [`v1_method_removed`]: 1.3.0 drops `Now`;
//! - [`v2`]: 2.0.0 sums a list of terms, a breaking change as a new major.
//!
//! And [`keys`], a cached method whose key template mixes every kind of
//! placeholder, for the property test of collision-free cache keys.

/// A cached method with string, optional, nested, bytes and float
/// placeholders.
pub mod keys {
    include!(concat!(env!("OUT_DIR"), "/keys/keys.rs"));
}

macro_rules! variant {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub mod $name {
            /// The variant's generated `math` package.
            pub mod math {
                include!(concat!(env!("OUT_DIR"), "/", stringify!($name), "/math.rs"));
            }
        }
    };
}

variant!(
    /// 1.3.0: adds `SumRequest.c` and the `Product` method.
    v1_compatible
);
variant!(
    /// 1.3.0: `SumRequest.b` becomes a string.
    v1_incompatible
);
variant!(
    /// 1.3.0: `Sum` is cached under `{b}/{a}`.
    v1_cache_changed
);
variant!(
    /// 1.3.0: without `Now`.
    v1_method_removed
);
variant!(
    /// 2.0.0: `Sum` adds a list of terms.
    v2
);
