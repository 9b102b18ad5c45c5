//! Descriptors as proto-like text, for `describe`: the service with its
//! rpcs and their options, then every message and enum the rpcs use, each
//! once, with fields, types and numbers.
//!
//! Comments from the proto files are shown above what they describe, when
//! the descriptors kept them (`proto_comments`).
//!
//! Types are written with their full names (`math.SumRequest`), since the
//! messages of one service may come from several packages. Well-known
//! `google.protobuf` types are not spelled out: a comment says how they
//! look in JSON, which is what someone typing a request needs.

use std::collections::{HashSet, VecDeque};
use std::fmt::Write;

use prost_reflect::{
    Cardinality, DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Syntax,
};
use redis_bus::{MethodInfo, ServiceInfo};

use crate::proto_comments;

/// The service block: its version and each rpc (of `only` when given)
/// with its options, and the comments that `pool` has for them.
pub(crate) fn service(info: &ServiceInfo, pool: &DescriptorPool, only: Option<&str>) -> String {
    let descriptor = pool.get_service_by_name(info.name);
    let comment = |path: Option<(prost_reflect::FileDescriptor, Vec<i32>)>, indent: &str| {
        path.map(|(file, path)| proto_comments::above(&file, &path, indent))
            .unwrap_or_default()
    };
    let mut out = comment(
        descriptor
            .as_ref()
            .map(|d| (d.parent_file(), d.path().to_vec())),
        "",
    );
    let _ = writeln!(out, "service {} {{", info.name);
    let _ = writeln!(out, "  option (redis_bus.version) = {:?};", info.version);
    if !info.methods.is_empty() {
        out.push('\n');
    }
    let mut first = true;
    for method in info.methods {
        if only.is_some_and(|only| only != method.name) {
            continue;
        }
        let rpc = descriptor
            .as_ref()
            .and_then(|d| d.methods().find(|m| m.name() == method.name));
        let above = comment(rpc.map(|m| (m.parent_file(), m.path().to_vec())), "  ");
        // A commented rpc is set apart from the one before, as in a proto.
        if !first && !above.is_empty() {
            out.push('\n');
        }
        first = false;
        out.push_str(&above);
        let stream = |streaming: bool| if streaming { "stream " } else { "" };
        let signature = format!(
            "  rpc {}({}{}) returns ({}{})",
            method.name,
            stream(method.client_streaming),
            method.request_type,
            stream(method.server_streaming),
            method.reply_type
        );
        let options = rpc_options(method);
        if options.is_empty() {
            let _ = writeln!(out, "{signature};");
        } else {
            let _ = writeln!(out, "{signature} {{");
            for option in options {
                let _ = writeln!(out, "    {option};");
            }
            out.push_str("  }\n");
        }
    }
    out.push_str("}\n");
    out
}

/// The rpc's options that are set, as proto option statements.
fn rpc_options(method: &MethodInfo) -> Vec<String> {
    let mut options = Vec::new();
    if let Some(key) = method.cache_key {
        options.push(format!("option (redis_bus.cache_key) = {key:?}"));
    }
    if let Some(ttl) = method.cache_ttl_seconds {
        options.push(format!("option (redis_bus.cache_ttl_seconds) = {ttl}"));
    }
    if let Some(timeout) = method.timeout_ms {
        options.push(format!("option (redis_bus.timeout_ms) = {timeout}"));
    }
    if method.idempotent {
        options.push("option (redis_bus.idempotent) = true".to_owned());
    }
    options
}

/// What the definitions list: a message or an enum.
enum Definition {
    /// A message.
    Message(MessageDescriptor),
    /// An enum.
    Enum(EnumDescriptor),
}

/// The definitions of `roots` and of every message and enum they use,
/// directly or not, each once, in the order they are first met; a blank
/// line between definitions.
pub(crate) fn messages(roots: impl IntoIterator<Item = MessageDescriptor>) -> String {
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<Definition> = VecDeque::new();
    for root in roots {
        if seen.insert(root.full_name().to_owned()) {
            queue.push_back(Definition::Message(root));
        }
    }
    let mut blocks = Vec::new();
    while let Some(definition) = queue.pop_front() {
        match definition {
            Definition::Enum(descriptor) => blocks.push(enum_block(&descriptor)),
            Definition::Message(descriptor) => {
                if let Some(json) = well_known_json(&descriptor) {
                    blocks.push(format!(
                        "// {} (well-known type): in JSON, {json}\n",
                        descriptor.full_name()
                    ));
                    continue;
                }
                blocks.push(message_block(&descriptor));
                for used in used_types(&descriptor) {
                    let name = match &used {
                        Definition::Message(m) => m.full_name().to_owned(),
                        Definition::Enum(e) => e.full_name().to_owned(),
                    };
                    if seen.insert(name) {
                        queue.push_back(used);
                    }
                }
            }
        }
    }
    blocks.join("\n")
}

/// The definitions of `roots`, enums alone (they use nothing).
pub(crate) fn enums(roots: impl IntoIterator<Item = EnumDescriptor>) -> String {
    roots
        .into_iter()
        .map(|descriptor| enum_block(&descriptor))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The messages and enums that `message`'s fields use, in field order
/// (for a map, its value type).
fn used_types(message: &MessageDescriptor) -> Vec<Definition> {
    message
        .fields()
        .filter_map(|field| {
            let kind = if field.is_map() {
                map_entry(&field)?.1.kind()
            } else {
                field.kind()
            };
            match kind {
                Kind::Message(m) => Some(Definition::Message(m)),
                Kind::Enum(e) => Some(Definition::Enum(e)),
                _ => None,
            }
        })
        .collect()
}

/// `message name { fields }`, with real oneofs grouped where their first
/// field stands.
fn message_block(message: &MessageDescriptor) -> String {
    let fields: Vec<FieldDescriptor> = message.fields().collect();
    let file = message.parent_file();
    let mut out = proto_comments::above(&file, message.path(), "");
    if fields.is_empty() {
        let _ = writeln!(out, "message {} {{}}", message.full_name());
        return out;
    }
    let _ = writeln!(out, "message {} {{", message.full_name());
    let mut oneofs_done: HashSet<String> = HashSet::new();
    for field in &fields {
        match field
            .containing_oneof()
            .filter(|oneof| !oneof.is_synthetic())
        {
            None => {
                out.push_str(&proto_comments::above(&file, field.path(), "  "));
                let _ = writeln!(out, "  {}", field_line(field));
            }
            Some(oneof) => {
                if !oneofs_done.insert(oneof.name().to_owned()) {
                    continue;
                }
                let _ = writeln!(out, "  oneof {} {{", oneof.name());
                for member in oneof.fields() {
                    out.push_str(&proto_comments::above(&file, member.path(), "    "));
                    let _ = writeln!(out, "    {}", field_line(&member));
                }
                out.push_str("  }\n");
            }
        }
    }
    out.push_str("}\n");
    out
}

/// `repeated string tags = 3;`, with the JSON name in a comment when it
/// differs from the field name.
fn field_line(field: &FieldDescriptor) -> String {
    let in_real_oneof = field
        .containing_oneof()
        .is_some_and(|oneof| !oneof.is_synthetic());
    let proto2 = field.parent_file().syntax() == Syntax::Proto2;
    let type_name = match map_entry(field) {
        Some((key, value)) => format!(
            "map<{}, {}>",
            kind_name(&key.kind()),
            kind_name(&value.kind())
        ),
        None => {
            let label = match field.cardinality() {
                Cardinality::Repeated => "repeated ",
                Cardinality::Required => "required ",
                Cardinality::Optional if in_real_oneof => "",
                Cardinality::Optional if proto2 => "optional ",
                // proto3 `optional`: a synthetic oneof gives the field
                // presence.
                Cardinality::Optional if field.containing_oneof().is_some() => "optional ",
                Cardinality::Optional => "",
            };
            format!("{label}{}", kind_name(&field.kind()))
        }
    };
    let mut line = format!("{type_name} {} = {};", field.name(), field.number());
    if field.json_name() != field.name() {
        let _ = write!(line, "  // JSON: {}", field.json_name());
    }
    line
}

/// The key and value fields of a map field, `None` for any other field.
fn map_entry(field: &FieldDescriptor) -> Option<(FieldDescriptor, FieldDescriptor)> {
    if !field.is_map() {
        return None;
    }
    let Kind::Message(entry) = field.kind() else {
        return None;
    };
    Some((entry.map_entry_key_field(), entry.map_entry_value_field()))
}

/// `enum name { VALUE = n; ... }`.
fn enum_block(descriptor: &EnumDescriptor) -> String {
    let file = descriptor.parent_file();
    let mut out = proto_comments::above(&file, descriptor.path(), "");
    let _ = writeln!(out, "enum {} {{", descriptor.full_name());
    for value in descriptor.values() {
        out.push_str(&proto_comments::above(&file, value.path(), "  "));
        let _ = writeln!(out, "  {} = {};", value.name(), value.number());
    }
    out.push_str("}\n");
    out
}

/// The proto name of a field type (`string`, `math.SumRequest`).
pub(crate) fn kind_name(kind: &Kind) -> String {
    let scalar = match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Message(message) => return message.full_name().to_owned(),
        Kind::Enum(descriptor) => return descriptor.full_name().to_owned(),
    };
    scalar.to_owned()
}

/// How a well-known type is written in JSON (the protobuf JSON mapping
/// gives them special forms), or `None` for any other message.
fn well_known_json(message: &MessageDescriptor) -> Option<&'static str> {
    if message.package_name() != "google.protobuf" {
        return None;
    }
    Some(match message.name() {
        "Timestamp" => "an RFC 3339 string, e.g. \"2024-05-01T12:00:00Z\"",
        "Duration" => "a string of seconds, e.g. \"1.5s\"",
        "Empty" => "{}",
        "FieldMask" => "a string of comma-separated paths, e.g. \"user.id,name\"",
        "Struct" => "any JSON object",
        "Value" => "any JSON value",
        "ListValue" => "any JSON array",
        "Any" => "an object with \"@type\" naming the type, and its fields",
        "DoubleValue" | "FloatValue" | "Int64Value" | "UInt64Value" | "Int32Value"
        | "UInt32Value" | "BoolValue" | "StringValue" | "BytesValue" => {
            "the wrapped value itself, or null"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use generated_examples::math::math_bus;
    use prost_reflect::DescriptorPool;

    use super::*;

    #[test]
    fn streaming_rpcs_read_with_their_stream_keyword() {
        let random = &generated_examples::random::random_bus::SERVICE;
        let text = service(random, &random.descriptor_pool().expect("decodes"), None);
        assert!(
            text.contains("  rpc Uuids(random.UuidsRequest) returns (stream random.UuidReply);\n"),
            "{text}"
        );
        assert!(
            text.contains("  rpc Pick(stream random.PickRequest) returns (random.PickReply);\n"),
            "{text}"
        );
    }

    #[test]
    fn services_read_as_proto_with_their_options() {
        assert_eq!(
            service(
                &math_bus::SERVICE,
                &math_bus::SERVICE.descriptor_pool().expect("decodes"),
                None
            ),
            r#"// Arithmetic and time, with cached results.
service math.Math {
  option (redis_bus.version) = "1.2.0";

  // Adds two numbers. Pure, so each sum is computed once and cached for an
  // hour.
  rpc Sum(math.SumRequest) returns (math.SumReply) {
    option (redis_bus.cache_key) = "{a}/{b}";
    option (redis_bus.cache_ttl_seconds) = 3600;
    option (redis_bus.idempotent) = true;
  }

  // The current time, cached per seed: a seed keeps its time until its cache
  // entry is cleared.
  rpc Now(math.NowRequest) returns (math.NowReply) {
    option (redis_bus.cache_key) = "{seed}";
  }
}
"#
        );
    }

    #[test]
    fn imported_well_known_types_say_how_they_look_in_json() {
        let pool = math_bus::SERVICE.descriptor_pool().expect("decodes");
        let roots = ["math.NowRequest", "math.NowReply"]
            .map(|name| pool.get_message_by_name(name).expect("described"));
        assert_eq!(
            messages(roots),
            r#"message math.NowRequest {
  // Any number: each seed has its own cached time.
  int64 seed = 1;
}

message math.NowReply {
  // When the worker computed the reply.
  google.protobuf.Timestamp time = 1;
}

// google.protobuf.Timestamp (well-known type): in JSON, an RFC 3339 string, e.g. "2024-05-01T12:00:00Z"
"#
        );
    }

    /// Compiles `source` as `shop.proto` into a pool.
    fn compile(source: &str) -> DescriptorPool {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("shop.proto"), source).expect("written");
        let mut compiler = protox::Compiler::new([dir.path()]).expect("compiler");
        compiler.open_file("shop.proto").expect("compiles");
        compiler.descriptor_pool()
    }

    #[test]
    fn every_kind_of_field_is_written_out_once() {
        let pool = compile(
            r#"syntax = "proto3";
package shop;
message Order {
  repeated Line lines = 1;
  map<string, Line> by_sku = 2;
  optional string note = 3;
  oneof payment { string card = 4; Voucher voucher = 5; }
  Status status = 6;
  Order previous = 7;
  message Voucher { string code = 1; }
}
message Line { string sku = 1; uint32 quantity = 2; }
enum Status { STATUS_UNSPECIFIED = 0; PAID = 1; }
"#,
        );
        let order = pool.get_message_by_name("shop.Order").expect("described");
        assert_eq!(
            messages([order]),
            r#"message shop.Order {
  repeated shop.Line lines = 1;
  map<string, shop.Line> by_sku = 2;  // JSON: bySku
  optional string note = 3;
  oneof payment {
    string card = 4;
    shop.Order.Voucher voucher = 5;
  }
  shop.Status status = 6;
  shop.Order previous = 7;
}

message shop.Line {
  string sku = 1;
  uint32 quantity = 2;
}

message shop.Order.Voucher {
  string code = 1;
}

enum shop.Status {
  STATUS_UNSPECIFIED = 0;
  PAID = 1;
}
"#
        );
    }

    #[test]
    fn comments_of_the_proto_files_are_kept() {
        let pool = compile(
            r#"syntax = "proto3";
package shop;

// An order, as the shop keeps it.
//
// Orders are never deleted.
message Order {
  // What was bought.
  repeated string skus = 1;
  uint32 total = 2; // In cents.
  Status status = 3;
}

// Where an order is.
enum Status {
  // Not paid yet.
  STATUS_UNSPECIFIED = 0;
  PAID = 1;
}
"#,
        );
        let order = pool.get_message_by_name("shop.Order").expect("described");
        assert_eq!(
            messages([order]),
            r#"// An order, as the shop keeps it.
//
// Orders are never deleted.
message shop.Order {
  // What was bought.
  repeated string skus = 1;
  // In cents.
  uint32 total = 2;
  shop.Status status = 3;
}

// Where an order is.
enum shop.Status {
  // Not paid yet.
  STATUS_UNSPECIFIED = 0;
  PAID = 1;
}
"#
        );
    }
}
