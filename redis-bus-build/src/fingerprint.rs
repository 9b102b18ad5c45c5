//! The schema fingerprint of a method: a short hash of the wire shape of its
//! request and reply types.
//!
//! It changes whenever a field is added, removed, renumbered, renamed or
//! retyped anywhere in either message tree, so that anything keyed by it (the
//! result cache) never hands out bytes of an older shape.

use std::collections::HashSet;
use std::fmt::Write;

use prost_reflect::{Cardinality, Kind, MessageDescriptor};
use sha2::{Digest, Sha256};

/// The fingerprint of a method with these request and reply types: 16
/// lowercase hex digits.
pub(crate) fn schema_fingerprint(request: &MessageDescriptor, reply: &MessageDescriptor) -> String {
    let mut canonical = String::new();
    canonical.push_str("request ");
    describe(request, &mut canonical, &mut HashSet::new());
    canonical.push_str(" reply ");
    describe(reply, &mut canonical, &mut HashSet::new());
    let digest = Sha256::digest(canonical.as_bytes());
    digest[..8]
        .iter()
        .fold(String::with_capacity(16), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Writes a canonical text of `message` and everything it contains. A
/// message already being described (a recursive type) is written by name.
fn describe(message: &MessageDescriptor, out: &mut String, open: &mut HashSet<String>) {
    let name = message.full_name().to_owned();
    if !open.insert(name.clone()) {
        let _ = write!(out, "ref({name})");
        return;
    }
    let _ = write!(out, "{name}{{");
    let mut fields: Vec<_> = message.fields().collect();
    fields.sort_by_key(|field| field.number());
    for field in fields {
        let label = match field.cardinality() {
            Cardinality::Repeated => "repeated",
            Cardinality::Required => "required",
            Cardinality::Optional if field.supports_presence() => "optional",
            Cardinality::Optional => "singular",
        };
        let _ = write!(out, "{}:{}:{label}:", field.number(), field.name());
        match field.kind() {
            Kind::Message(inner) => describe(&inner, out, open),
            Kind::Enum(enumeration) => {
                let _ = write!(out, "{}(", enumeration.full_name());
                for value in enumeration.values() {
                    let _ = write!(out, "{}={};", value.name(), value.number());
                }
                out.push(')');
            }
            scalar => {
                let _ = write!(out, "{scalar:?}");
            }
        }
        out.push(';');
    }
    out.push('}');
    open.remove(&name);
}
