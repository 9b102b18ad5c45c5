//! Static descriptions of services and their rpcs, generated from protos:
//! names, version, options and schema fingerprints.

use prost::Message;
use prost_reflect::{DescriptorError, DescriptorPool};

use crate::seam::cache_key::CacheKeyWriter;

/// What the bus knows about a service at compile time. Generated as the
/// `SERVICE` constant of each service module.
///
/// Non-exhaustive, so that a new field breaks no generated code: generated
/// code builds it with the hidden `service_info` constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// The full proto name, e.g. `math.Math`.
    pub name: &'static str,
    /// The semantic version from the `redis_bus.version` option (`0.0.0`
    /// when unset).
    pub version: &'static str,
    /// The rpcs, in declaration order.
    pub methods: &'static [MethodInfo],
    /// The encoded `FileDescriptorSet` of the service's proto file and its
    /// imports (without `google/protobuf/*`), custom options and the
    /// comments of declarations included.
    pub file_descriptor_set: &'static [u8],
}

impl ServiceInfo {
    /// The rpc called `name` (its proto name, e.g. `Sum`).
    pub fn method(&self, name: &str) -> Option<&'static MethodInfo> {
        self.methods.iter().find(|method| method.name == name)
    }

    /// The service's descriptors, decoded into a pool that also holds the
    /// well-known `google.protobuf` types (which the published set leaves
    /// out): for dynamic calls, JSON and schema checks.
    pub fn descriptor_pool(&self) -> Result<DescriptorPool, DescriptorError> {
        let mut pool = DescriptorPool::global();
        pool.decode_file_descriptor_set(self.file_descriptor_set)?;
        Ok(pool)
    }

    /// The major version: requests are routed per major version, so that
    /// clients only reach compatible workers.
    pub fn major_version(&self) -> u64 {
        crate::seam::versions::major_of(self.version)
    }
}

/// What the bus knows about one rpc at compile time. Generated as a
/// constant in each service's `methods` module.
///
/// Non-exhaustive like [`ServiceInfo`]: generated code builds it with the
/// hidden `method_info` constructor and `with_*` calls, one per option
/// the rpc sets, so an option added later needs no change to old code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodInfo {
    /// The proto name inside the service, e.g. `Sum`.
    pub name: &'static str,
    /// `package.Service/Method`, e.g. `math.Math/Sum`.
    pub full_name: &'static str,
    /// The full proto name of the request message.
    pub request_type: &'static str,
    /// The full proto name of the reply message.
    pub reply_type: &'static str,
    /// The `redis_bus.cache_key` template, when replies are cached.
    pub cache_key: Option<&'static str>,
    /// The `redis_bus.cache_ttl_seconds` option.
    pub cache_ttl_seconds: Option<u32>,
    /// The `redis_bus.timeout_ms` option: the default deadline.
    pub timeout_ms: Option<u32>,
    /// The `redis_bus.idempotent` option: whether running the method twice
    /// for one request is harmless.
    pub idempotent: bool,
    /// Whether the rpc streams its reply (`returns (stream Reply)`): the
    /// handler returns a stream of messages and the caller reads them one
    /// by one.
    pub server_streaming: bool,
    /// Whether the rpc takes a stream of requests (`(stream Request)`): the
    /// caller sends messages one by one and the handler reads them.
    pub client_streaming: bool,
    /// A hash of the wire shape of the request and reply types (16 hex
    /// digits); it changes with any field of either.
    pub schema_fingerprint: &'static str,
}

/// Builds a [`ServiceInfo`]; for generated code only.
#[doc(hidden)]
pub const fn service_info(
    name: &'static str,
    version: &'static str,
    methods: &'static [MethodInfo],
    file_descriptor_set: &'static [u8],
) -> ServiceInfo {
    ServiceInfo {
        name,
        version,
        methods,
        file_descriptor_set,
    }
}

/// Builds the [`MethodInfo`] of an rpc without options; the `with_*`
/// methods add them. For generated code only.
#[doc(hidden)]
pub const fn method_info(
    name: &'static str,
    full_name: &'static str,
    request_type: &'static str,
    reply_type: &'static str,
    schema_fingerprint: &'static str,
) -> MethodInfo {
    MethodInfo {
        name,
        full_name,
        request_type,
        reply_type,
        cache_key: None,
        cache_ttl_seconds: None,
        timeout_ms: None,
        idempotent: false,
        server_streaming: false,
        client_streaming: false,
        schema_fingerprint,
    }
}

impl MethodInfo {
    /// The rpc's `cache_key` template and `cache_ttl_seconds`; for generated
    /// code only.
    #[doc(hidden)]
    pub const fn with_cache(mut self, key: &'static str, ttl_seconds: Option<u32>) -> Self {
        self.cache_key = Some(key);
        self.cache_ttl_seconds = ttl_seconds;
        self
    }

    /// The rpc's `timeout_ms`; for generated code only.
    #[doc(hidden)]
    pub const fn with_timeout_ms(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = Some(timeout_ms);
        self
    }

    /// Marks the rpc server-streaming; for generated code only.
    #[doc(hidden)]
    pub const fn with_server_streaming(mut self) -> Self {
        self.server_streaming = true;
        self
    }

    /// Marks the rpc client-streaming; for generated code only.
    #[doc(hidden)]
    pub const fn with_client_streaming(mut self) -> Self {
        self.client_streaming = true;
        self
    }

    /// The rpc's `idempotent` option; for generated code only.
    #[doc(hidden)]
    pub const fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }
}

/// One rpc as a type, tying its messages to its metadata. The generator
/// implements it for each rpc (`math_bus::methods::Sum`); the bus runtime
/// calls through it.
pub trait Method: Send + Sync + 'static {
    /// The request message.
    type Request: Message + Default + Send + Sync + 'static;
    /// The reply message.
    type Reply: Message + Default + Send + Sync + 'static;
    /// The service the rpc belongs to.
    const SERVICE: &'static ServiceInfo;
    /// The rpc's metadata.
    const INFO: &'static MethodInfo;

    /// Writes the cache key of `request` as the method's `cache_key`
    /// template says. Only called for methods that have one.
    fn cache_key(request: &Self::Request, key: &mut CacheKeyWriter) {
        let _ = (request, key);
    }
}
