//! Parses a `redis_bus.cache_key` template such as `"{a}/{b}"` or
//! `"user/{user.id}"` and checks every placeholder against the request type.
//!
//! The runtime builds keys that never collide for distinct requests (see
//! `redis_bus::codegen::CacheKeyWriter`): it escapes, inside values, every
//! character that the template uses as literal text. That only works when
//! literal text separates neighbouring placeholders, so `"{a}{b}"` is refused
//! here rather than silently sharing keys at run time.

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};

/// A checked template: literal text and field paths, in order.
#[derive(Debug, Clone)]
pub(crate) struct CacheKeyTemplate {
    /// The pieces of the template, in order.
    pub parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// Text copied into every key.
    Literal(String),
    /// A placeholder: the fields from the request down to a scalar. Every
    /// step but the last is a singular message field.
    Field(Vec<FieldDescriptor>),
}

impl CacheKeyTemplate {
    /// Parses `template` and resolves its placeholders in `request`.
    ///
    /// The error says what is wrong with the template, naming the field; the
    /// caller adds the file, service and method.
    pub(crate) fn parse(template: &str, request: &MessageDescriptor) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut previous_placeholder: Option<&str> = None;
        let mut chars = template.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' => {
                    let end = loop {
                        match chars.next() {
                            Some((end, '}')) => break end,
                            Some((_, '{')) | None => {
                                return Err(format!(
                                    "unbalanced braces: the `{{` at offset {at} is never closed"
                                ));
                            }
                            Some(_) => {}
                        }
                    };
                    let name = &template[at + 1..end];
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    } else if let Some(previous) = previous_placeholder {
                        return Err(format!(
                            "placeholders {{{previous}}} and {{{name}}} have no text between them, \
                             so two different requests could share a key; separate them, \
                             e.g. \"{{{previous}}}/{{{name}}}\""
                        ));
                    }
                    parts.push(Part::Field(resolve(name, request)?));
                    previous_placeholder = Some(name);
                }
                '}' => {
                    return Err(format!(
                        "unbalanced braces: the `}}` at offset {at} closes no placeholder"
                    ));
                }
                c => {
                    literal.push(c);
                    previous_placeholder = None;
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(CacheKeyTemplate { parts })
    }
}

/// Resolves a dotted placeholder such as `user.id` into its fields.
fn resolve(path: &str, request: &MessageDescriptor) -> Result<Vec<FieldDescriptor>, String> {
    if path.is_empty() {
        return Err("empty placeholder `{}`: name a request field, e.g. {id}".to_owned());
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut message = request.clone();
    let mut fields = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        let Some(field) = message.get_field_by_name(segment) else {
            let known: Vec<String> = message.fields().map(|f| f.name().to_owned()).collect();
            let known = if known.is_empty() {
                "it has no fields".to_owned()
            } else {
                format!("its fields: {}", known.join(", "))
            };
            return Err(format!(
                "placeholder {{{path}}}: field `{segment}` does not exist in {} ({known})",
                message.full_name()
            ));
        };
        let is_last = index + 1 == segments.len();
        check_field(path, &field, is_last)?;
        if let Kind::Message(inner) = field.kind() {
            message = inner;
        }
        fields.push(field);
    }
    Ok(fields)
}

/// Checks that `field` can stand at its place in a placeholder path.
fn check_field(path: &str, field: &FieldDescriptor, is_last: bool) -> Result<(), String> {
    let name = field.name();
    let refuse = |why: String| Err(format!("placeholder {{{path}}}: {why}"));
    if field.is_map() {
        return refuse(format!(
            "`{name}` is a map field; a cache key can only use singular fields"
        ));
    }
    if field.cardinality() == Cardinality::Repeated {
        return refuse(format!(
            "`{name}` is a repeated field; a cache key can only use singular fields"
        ));
    }
    if let Some(oneof) = field
        .containing_oneof()
        .filter(|oneof| !oneof.is_synthetic())
    {
        return refuse(format!(
            "`{name}` belongs to oneof `{}`, which cache keys do not support",
            oneof.name()
        ));
    }
    match (field.kind(), is_last) {
        (Kind::Message(message), true) => {
            let example = message.fields().next().map_or_else(
                || format!("{path}.<field>"),
                |f| format!("{path}.{}", f.name()),
            );
            refuse(format!(
                "`{name}` is a message field ({}); name a scalar inside it, e.g. {{{example}}}",
                message.full_name()
            ))
        }
        (Kind::Message(_), false) => Ok(()),
        (kind, false) => refuse(format!(
            "`{name}` is a {} field, so the path cannot go on into it",
            kind_name(&kind)
        )),
        (_, true) => Ok(()),
    }
}

/// A proto-style name of a scalar kind, for messages.
fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Enum(e) => format!("enum ({})", e.full_name()),
        Kind::Message(m) => format!("message ({})", m.full_name()),
        other => format!("{other:?}").to_lowercase(),
    }
}
