//! What the generator knows about each service before it writes any code:
//! names, options and fingerprints, all checked.
//!
//! Every rule is checked here, up front, for every service of every file, so
//! that one build reports every problem at once and nothing is half-generated.

use std::collections::HashMap;

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FileDescriptor, MethodDescriptor, ReflectMessage,
    ServiceDescriptor,
};

use crate::cache_key::CacheKeyTemplate;
use crate::fingerprint::schema_fingerprint;
use crate::kept_comments::kept;
use crate::options::{MethodOptions, OptionReader};

/// The version of a service that declares none.
pub(crate) const DEFAULT_VERSION: &str = "0.0.0";

/// A service, ready to be emitted.
#[derive(Debug, Clone)]
pub(crate) struct ServiceModel {
    /// `package.Service`, e.g. `math.Math`.
    pub full_name: String,
    /// The service's name in the proto, e.g. `Math`.
    pub proto_name: String,
    /// The proto package, e.g. `math`.
    pub package: String,
    /// Where the service is declared, `file:line:column`, for messages.
    pub location: String,
    /// `option deprecated = true` on the service.
    pub deprecated: bool,
    /// The `redis_bus.version` option, checked to be semver.
    pub version: String,
    /// The service's rpcs, in declaration order.
    pub methods: Vec<MethodModel>,
    /// The encoded FileDescriptorSet of the service's file and its imports
    /// (except google/protobuf/*, which every tool already has), with our
    /// custom options kept, so tools can call the service without this code.
    pub file_descriptor_set: Vec<u8>,
}

/// One rpc, ready to be emitted.
#[derive(Debug, Clone)]
pub(crate) struct MethodModel {
    /// The rpc's name in the proto, e.g. `Sum`.
    pub proto_name: String,
    /// `package.Service/Method`, e.g. `math.Math/Sum`.
    pub full_name: String,
    /// Where the rpc is declared, `file:line:column`, for messages.
    pub location: String,
    /// `option deprecated = true` on the rpc.
    pub deprecated: bool,
    /// The request message's full proto name.
    pub request_type: String,
    /// The reply message's full proto name.
    pub reply_type: String,
    /// The redis-bus options of the rpc.
    pub options: MethodOptions,
    /// The parsed `cache_key` template, when the rpc has one.
    pub cache_key: Option<CacheKeyTemplate>,
    /// The schema fingerprint of request and reply (see `fingerprint`).
    pub schema_fingerprint: String,
    /// `returns (stream Reply)`: the reply is a stream of messages.
    pub server_streaming: bool,
    /// `(stream Request)`: the request is a stream of messages.
    pub client_streaming: bool,
}

/// The checked services of a build, and the rpcs left out of them.
#[derive(Debug, Default)]
pub(crate) struct Models {
    /// The services, keyed by full name.
    pub services: HashMap<String, ServiceModel>,
    /// One line per bidirectional streaming rpc that was skipped,
    /// naming it and where it is declared (for `cargo:warning`).
    pub skipped: Vec<String>,
}

/// Builds the models of every service declared in `files` (by proto file
/// name), or every problem found in them. Streaming rpcs are problems,
/// unless `skip_streaming`: then they are left out and listed.
/// (Bidirectional ones; the others are carried.)
pub(crate) fn build_models(
    pool: &DescriptorPool,
    files: &[String],
    skip_streaming: bool,
) -> Result<Models, Vec<String>> {
    let reader = OptionReader::new(pool);
    let mut models = Models::default();
    let mut problems = Vec::new();
    for file in files.iter().filter_map(|name| pool.get_file_by_name(name)) {
        for service in file.services() {
            let checks = Checks {
                reader: &reader,
                file: &file,
                skip_streaming,
            };
            match checks.service(&service, &mut models.skipped) {
                Ok(model) => {
                    models.services.insert(model.full_name.clone(), model);
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
    }
    if problems.is_empty() {
        Ok(models)
    } else {
        Err(problems)
    }
}

/// The checks of one file's services, with the build's settings.
struct Checks<'a> {
    reader: &'a OptionReader,
    file: &'a FileDescriptor,
    skip_streaming: bool,
}

impl Checks<'_> {
    fn service(
        &self,
        service: &ServiceDescriptor,
        skipped: &mut Vec<String>,
    ) -> Result<ServiceModel, Vec<String>> {
        let (reader, file) = (self.reader, self.file);
        let mut problems = Vec::new();
        let version = reader
            .service_version(&service.options())
            .unwrap_or_else(|| DEFAULT_VERSION.to_owned());
        if let Err(error) = semver::Version::parse(&version) {
            problems.push(format!(
                "{}: service {}: version \"{version}\" is not a semantic version \
             (MAJOR.MINOR.PATCH, e.g. \"1.2.0\"): {error}",
                location(file, service.path()),
                service.full_name(),
            ));
        }
        let mut methods = Vec::new();
        for method in service.methods() {
            match self.method(service, &method) {
                Ok(Some(model)) => methods.push(model),
                Ok(None) => skipped.push(format!(
                    "{}: skipped {}/{}: it is {}, and redis-bus carries unary, \
                     server-streaming and client-streaming rpcs only",
                    location(file, method.path()),
                    service.full_name(),
                    method.name(),
                    unsupported_streaming(&method).unwrap_or("streaming"),
                )),
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ServiceModel {
            full_name: service.full_name().to_owned(),
            proto_name: service.name().to_owned(),
            package: service.package_name().to_owned(),
            location: location(file, service.path()),
            deprecated: service
                .service_descriptor_proto()
                .options
                .as_ref()
                .is_some_and(|options| options.deprecated()),
            version,
            methods,
            file_descriptor_set: encode_descriptor_set(file),
        })
    }

    /// The model of one rpc; `None` for a bidirectional streaming rpc the
    /// build skips.
    fn method(
        &self,
        service: &ServiceDescriptor,
        method: &MethodDescriptor,
    ) -> Result<Option<MethodModel>, String> {
        let (reader, file) = (self.reader, self.file);
        let context = format!(
            "{}: service {}, method {}",
            location(file, method.path()),
            service.full_name(),
            method.name()
        );
        if let Some(kind) = unsupported_streaming(method) {
            if self.skip_streaming {
                return Ok(None);
            }
            return Err(format!(
                "{context}: the method is {kind}, and redis-bus carries unary, \
             server-streaming and client-streaming rpcs only (`stream` before the request \
             or the reply type, not both); split it into a client-streaming and a \
             server-streaming rpc, or leave such methods of the build out with \
             `Builder::skip_streaming_methods(true)`"
            ));
        }
        let options = reader.method(&method.options());
        if let Some(kind) = streaming_kind(method).filter(|_| options.cache_key.is_some()) {
            return Err(format!(
                "{context}: cache_key is set, but the replies of a {kind} rpc are not cached; \
             remove the cache_key option or make the rpc unary"
            ));
        }
        let cache_key = match &options.cache_key {
            Some(template) => Some(
                CacheKeyTemplate::parse(template, &method.input())
                    .map_err(|why| format!("{context}: cache_key \"{template}\": {why}"))?,
            ),
            None => None,
        };
        if options.cache_ttl_seconds.is_some() && cache_key.is_none() {
            return Err(format!(
                "{context}: cache_ttl_seconds is set but cache_key is not; \
             declare a cache_key to cache the method"
            ));
        }
        Ok(Some(MethodModel {
            proto_name: method.name().to_owned(),
            full_name: format!("{}/{}", service.full_name(), method.name()),
            location: location(file, method.path()),
            deprecated: method
                .method_descriptor_proto()
                .options
                .as_ref()
                .is_some_and(|options| options.deprecated()),
            request_type: method.input().full_name().to_owned(),
            reply_type: method.output().full_name().to_owned(),
            options,
            cache_key,
            schema_fingerprint: schema_fingerprint(&method.input(), &method.output()),
            server_streaming: method.is_server_streaming(),
            client_streaming: method.is_client_streaming(),
        }))
    }
}

/// What kind of streaming an rpc does that redis-bus does not carry
/// (bidirectional), or `None`.
fn unsupported_streaming(method: &MethodDescriptor) -> Option<&'static str> {
    (method.is_client_streaming() && method.is_server_streaming())
        .then_some("bidirectional streaming")
}

/// What kind of streaming an rpc does, or `None` for a unary one.
fn streaming_kind(method: &MethodDescriptor) -> Option<&'static str> {
    match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => None,
        (true, false) => Some("client-streaming"),
        (false, true) => Some("server-streaming"),
        (true, true) => Some("bidirectional streaming"),
    }
}

/// `file:line:column` of the declaration at `path`, or the file name alone
/// when the pool has no source info.
pub(crate) fn location(file: &FileDescriptor, path: &[i32]) -> String {
    let span = file
        .file_descriptor_proto()
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|location| location.path == path))
        .map(|location| location.span.clone());
    match span.as_deref() {
        Some([line, column, ..]) => format!("{}:{}:{}", file.name(), line + 1, column + 1),
        _ => file.name().to_owned(),
    }
}

/// The field number of `source_code_info` in `FileDescriptorProto`.
const SOURCE_CODE_INFO: u32 = 9;

/// Encodes `file` and its imports, dependencies first, as a
/// FileDescriptorSet, leaving out google/protobuf/* files. Of the source
/// info only the comments of declarations are kept (`kept_comments`), for
/// tools to show; spans and the rest would triple its size.
///
/// The files go through prost-reflect's `DynamicMessage`, which keeps our
/// extension options as it found them; prost's own descriptor types would
/// drop them.
fn encode_descriptor_set(file: &FileDescriptor) -> Vec<u8> {
    let mut ordered = Vec::new();
    collect_dependencies(file, &mut ordered);
    let file_type = prost_types::FileDescriptorProto::default().descriptor();
    let mut set = Vec::new();
    for file in ordered {
        let mut message =
            DynamicMessage::decode(file_type.clone(), file.encode_to_vec().as_slice())
                .expect("a file descriptor from the pool decodes");
        message.clear_field_by_name("source_code_info");
        let mut bytes = message.encode_to_vec();
        // A field appended to an encoded message is read as part of it.
        if let Some(comments) = kept(file.file_descriptor_proto().source_code_info.as_ref()) {
            encode_key(SOURCE_CODE_INFO, WireType::LengthDelimited, &mut bytes);
            encode_varint(comments.encoded_len() as u64, &mut bytes);
            comments.encode(&mut bytes).expect("a Vec grows as needed");
        }
        encode_key(1, WireType::LengthDelimited, &mut set);
        encode_varint(bytes.len() as u64, &mut set);
        set.extend_from_slice(&bytes);
    }
    set
}

/// Appends `file` after its dependencies, each once, in topological order.
fn collect_dependencies(file: &FileDescriptor, ordered: &mut Vec<FileDescriptor>) {
    if file.name().starts_with("google/protobuf/") || ordered.contains(file) {
        return;
    }
    for dependency in file.dependencies() {
        collect_dependencies(&dependency, ordered);
    }
    ordered.push(file.clone());
}
