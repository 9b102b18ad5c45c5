//! Reads redis-bus's custom options (`redis_bus.version`, `redis_bus.cache_key`,
//! ...) from the descriptor pool that protox built.
//!
//! prost-build's own `Service` and `Method` structs drop custom option values
//! (prost keeps no unknown fields), so the generator reads them here, through
//! prost-reflect, which keeps extensions.

use prost_reflect::{DescriptorPool, DynamicMessage, ExtensionDescriptor, Value};

/// The method options that redis-bus defines, as declared in one rpc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MethodOptions {
    /// `redis_bus.cache_key`: the raw template text, when set.
    pub cache_key: Option<String>,
    /// `redis_bus.cache_ttl_seconds`, when set.
    pub cache_ttl_seconds: Option<u32>,
    /// `redis_bus.timeout_ms`, when set.
    pub timeout_ms: Option<u32>,
    /// `redis_bus.idempotent` (false when unset).
    pub idempotent: bool,
}

/// Looks up our extensions once per pool.
pub(crate) struct OptionReader {
    version: Option<ExtensionDescriptor>,
    cache_key: Option<ExtensionDescriptor>,
    cache_ttl_seconds: Option<ExtensionDescriptor>,
    timeout_ms: Option<ExtensionDescriptor>,
    idempotent: Option<ExtensionDescriptor>,
}

impl OptionReader {
    /// Finds the extensions in `pool`. A pool whose files never import
    /// `redis_bus/options.proto` has none of them, and every option reads as
    /// unset.
    pub(crate) fn new(pool: &DescriptorPool) -> Self {
        let find = |name: &str| pool.get_extension_by_name(&format!("redis_bus.{name}"));
        OptionReader {
            version: find("version"),
            cache_key: find("cache_key"),
            cache_ttl_seconds: find("cache_ttl_seconds"),
            timeout_ms: find("timeout_ms"),
            idempotent: find("idempotent"),
        }
    }

    /// The `redis_bus.version` of a service, when set.
    pub(crate) fn service_version(&self, options: &DynamicMessage) -> Option<String> {
        match get(options, &self.version)? {
            Value::String(version) => Some(version),
            _ => None,
        }
    }

    /// The redis-bus options of a method.
    pub(crate) fn method(&self, options: &DynamicMessage) -> MethodOptions {
        MethodOptions {
            cache_key: match get(options, &self.cache_key) {
                Some(Value::String(template)) => Some(template),
                _ => None,
            },
            cache_ttl_seconds: get(options, &self.cache_ttl_seconds).and_then(|v| v.as_u32()),
            timeout_ms: get(options, &self.timeout_ms).and_then(|v| v.as_u32()),
            idempotent: get(options, &self.idempotent)
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    }
}

/// The value of `extension` in `options`, only when it is explicitly set.
fn get(options: &DynamicMessage, extension: &Option<ExtensionDescriptor>) -> Option<Value> {
    let extension = extension.as_ref()?;
    options
        .has_extension(extension)
        .then(|| options.get_extension(extension).into_owned())
}
