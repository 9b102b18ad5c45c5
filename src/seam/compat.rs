//! Wire compatibility between two schemas of one service and major version.
//!
//! The rules (also in docs/ARCHITECTURE.md). Comparing a registered schema
//! (a live worker's) with a new one (a worker about to join, or a client
//! about to call):
//! - a method the registered schema has must exist in the new one (for a
//!   client: the method it calls must exist in the registered one);
//! - a method's request and reply types must keep their names;
//! - a method's cache key template must not change (both would share cached
//!   replies under different keys);
//! - in the request and reply messages, and every message inside them, every
//!   field number the registered schema uses must still exist, with the
//!   same type (scalar kind, or message or enum name) and the same
//!   cardinality (singular, repeated, map).
//!
//! Adding fields, methods or messages, renaming fields, and changing a
//! method's deadline or idempotence are compatible.

use std::collections::HashSet;

use prost_reflect::{Cardinality, DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};

use crate::seam::info::{MethodInfo, ServiceInfo};
use crate::seam::instance::{Instance, MethodRecord};

/// Why a worker may not join the live instances of its service.
pub(crate) fn check_joining(registered: &Instance, joining: &ServiceInfo) -> Result<(), String> {
    let (old, new) = pools(registered, joining)?;
    for method in &registered.methods {
        let Some(info) = joining.method(&method.name) else {
            return Err(format!(
                "method {} was removed (the live instances serve it)",
                method.name
            ));
        };
        compare_method(&old, method, &new, joining, info)?;
    }
    Ok(())
}

/// Why a client may not call `method` on a live instance.
pub(crate) fn check_call(
    registered: &Instance,
    client: &ServiceInfo,
    method: &MethodInfo,
) -> Result<(), String> {
    let Some(record) = registered.methods.iter().find(|m| m.name == method.name) else {
        return Err(format!(
            "method {} does not exist in the live instances' schema",
            method.name
        ));
    };
    let (old, new) = pools(registered, client)?;
    compare_method(&old, record, &new, client, method)
}

/// The registered and the new descriptor pools.
fn pools(
    registered: &Instance,
    new: &ServiceInfo,
) -> Result<(DescriptorPool, DescriptorPool), String> {
    let old = registered
        .descriptor_pool()
        .map_err(|error| format!("the registered descriptors do not decode: {error}"))?;
    let new = new
        .descriptor_pool()
        .map_err(|error| format!("the compiled-in descriptors do not decode: {error}"))?;
    Ok((old, new))
}

fn compare_method(
    old: &DescriptorPool,
    record: &MethodRecord,
    new: &DescriptorPool,
    service: &ServiceInfo,
    info: &MethodInfo,
) -> Result<(), String> {
    let context = |what: String| format!("method {}: {what}", info.name);
    if record.cache_key.as_deref() != info.cache_key {
        return Err(context(format!(
            "the cache key template changed from {} to {}",
            shown(record.cache_key.as_deref()),
            shown(info.cache_key)
        )));
    }
    let old_method = old
        .get_service_by_name(service.name)
        .and_then(|s| s.methods().find(|m| m.name() == info.name))
        .ok_or_else(|| context("the registered descriptors do not describe it".to_owned()))?;
    for (role, old_type, new_type) in [
        ("request", old_method.input(), info.request_type),
        ("reply", old_method.output(), info.reply_type),
    ] {
        if old_type.full_name() != new_type {
            return Err(context(format!(
                "the {role} type changed from {} to {new_type}",
                old_type.full_name()
            )));
        }
        let new_type = new
            .get_message_by_name(new_type)
            .ok_or_else(|| context(format!("{new_type} is not described")))?;
        compare_messages(&old_type, &new_type, &mut HashSet::new()).map_err(context)?;
    }
    Ok(())
}

/// Compares a registered message with its new version, and every message
/// inside it.
fn compare_messages(
    old: &MessageDescriptor,
    new: &MessageDescriptor,
    seen: &mut HashSet<String>,
) -> Result<(), String> {
    if !seen.insert(old.full_name().to_owned()) {
        return Ok(());
    }
    for old_field in old.fields() {
        let Some(new_field) = new.get_field(old_field.number()) else {
            return Err(format!(
                "field {} (`{}`) of {} was removed",
                old_field.number(),
                old_field.name(),
                old.full_name()
            ));
        };
        let (old_type, new_type) = (type_name(&old_field), type_name(&new_field));
        if old_type != new_type {
            return Err(format!(
                "field {} (`{}`) of {} changed type from {old_type} to {new_type}",
                old_field.number(),
                old_field.name(),
                old.full_name()
            ));
        }
        if let (Kind::Message(old_inner), Kind::Message(new_inner)) =
            (old_field.kind(), new_field.kind())
        {
            compare_messages(&old_inner, &new_inner, seen)?;
        }
    }
    Ok(())
}

/// A field's type as proto spells it: `int64`, `repeated string`,
/// `math.User`, `map<string, int64>`.
fn type_name(field: &FieldDescriptor) -> String {
    if field.is_map() {
        if let Kind::Message(entry) = field.kind() {
            let key = entry.map_entry_key_field();
            let value = entry.map_entry_value_field();
            return format!(
                "map<{}, {}>",
                kind_name(&key.kind()),
                kind_name(&value.kind())
            );
        }
    }
    let kind = kind_name(&field.kind());
    match field.cardinality() {
        Cardinality::Repeated => format!("repeated {kind}"),
        _ => kind,
    }
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(message) => message.full_name().to_owned(),
        Kind::Enum(enumeration) => enumeration.full_name().to_owned(),
        scalar => format!("{scalar:?}").to_lowercase(),
    }
}

/// A template as shown in messages.
fn shown(template: Option<&str>) -> String {
    template.map_or_else(|| "none".to_owned(), |t| format!("\"{t}\""))
}
