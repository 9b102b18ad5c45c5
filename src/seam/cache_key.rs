//! Turns a request into the text of its cache key, as the method's
//! `cache_key` template says.
//!
//! Two distinct requests never get the same key. Within a method, each
//! placeholder has a fixed type, so values only need to be unambiguous
//! among themselves and against the template's literal text:
//! - inside a value, `%`, `~`, every character the template uses as literal
//!   text, and anything that is not printable ASCII are percent-encoded, so a
//!   value never contains the text that separates it from the next one (the
//!   generator refuses placeholders with nothing between them);
//! - an unset field (an unset message on a dotted path, or an unset
//!   `optional` field) is written `~`, which no value can be;
//! - bytes are written in lowercase hex; numbers in Rust's shortest
//!   round-trip form, so `0.1` and `0.10000000000000002` differ (`-0.0` is
//!   written as `0`, which proto3 does not tell apart, and a NaN with its
//!   bits).
//!
//! proto3 fields without `optional` have no presence: an empty string and an
//! unset one are the same request on the wire, and get the same key.

use std::fmt::{self, Write};

use prost_reflect::{DynamicMessage, ReflectMessage, Value};

/// Builds the text of one cache key; generated `Method::cache_key` code
/// calls it field by field.
#[derive(Debug)]
pub struct CacheKeyWriter {
    /// The key so far.
    key: String,
    /// The characters the template uses as literal text.
    reserved: String,
}

impl CacheKeyWriter {
    /// A writer for keys of `template`.
    pub fn new(template: &str) -> Self {
        let mut reserved = String::new();
        let mut in_placeholder = false;
        for c in template.chars() {
            match c {
                '{' => in_placeholder = true,
                '}' => in_placeholder = false,
                c if !in_placeholder && !reserved.contains(c) => reserved.push(c),
                _ => {}
            }
        }
        CacheKeyWriter {
            key: String::with_capacity(template.len() + 16),
            reserved,
        }
    }

    /// Appends literal template text.
    pub fn literal(&mut self, text: &str) {
        self.key.push_str(text);
    }

    /// Appends a field's value, escaped.
    pub fn value<V: CacheKeyValue + ?Sized>(&mut self, value: &V) {
        let mut escaped = Escaped {
            key: &mut self.key,
            reserved: &self.reserved,
        };
        // Writing into a String cannot fail.
        let _ = value.write_value(&mut escaped);
    }

    /// Appends a value that may be unset: `~` when it is.
    pub fn optional<V: CacheKeyValue + ?Sized>(&mut self, value: Option<&V>) {
        match value {
            Some(value) => self.value(value),
            None => self.key.push('~'),
        }
    }

    /// The finished key text.
    pub fn finish(self) -> String {
        self.key
    }
}

/// Escapes everything written through it into the key.
struct Escaped<'a> {
    key: &'a mut String,
    reserved: &'a str,
}

impl Write for Escaped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for c in text.chars() {
            if c == '%' || c == '~' || !c.is_ascii_graphic() || self.reserved.contains(c) {
                let mut utf8 = [0; 4];
                for byte in c.encode_utf8(&mut utf8).bytes() {
                    write!(self.key, "%{byte:02X}")?;
                }
            } else {
                self.key.push(c);
            }
        }
        Ok(())
    }
}

/// A field type that can stand in a cache key: the scalar types of prost
/// messages (enums are their `i32` number).
pub trait CacheKeyValue {
    /// Writes the value's text; the writer escapes it.
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result;
}

macro_rules! display_values {
    ($($ty:ty),*) => {
        $(
            impl CacheKeyValue for $ty {
                fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
                    write!(out, "{self}")
                }
            }
        )*
    };
}

display_values!(i32, i64, u32, u64, bool, str, String);

macro_rules! float_values {
    ($($ty:ty),*) => {
        $(
            impl CacheKeyValue for $ty {
                fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
                    if self.is_nan() {
                        // NaNs differ by their bits on the wire.
                        write!(out, "NaN({:x})", self.to_bits())
                    } else if *self == 0.0 {
                        // -0.0 and 0.0 are the same request: proto3 encodes
                        // neither.
                        out.write_str("0")
                    } else {
                        write!(out, "{self}")
                    }
                }
            }
        )*
    };
}

float_values!(f32, f64);

impl CacheKeyValue for [u8] {
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        self.iter().try_for_each(|byte| write!(out, "{byte:02x}"))
    }
}

impl CacheKeyValue for Vec<u8> {
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        self.as_slice().write_value(out)
    }
}

impl CacheKeyValue for bytes::Bytes {
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        self.as_ref().write_value(out)
    }
}

impl CacheKeyWriter {
    /// The cache key text of a request known only by its descriptors (a
    /// dynamic call from a tool), written exactly as generated code writes
    /// it for the same request, so that both share cached replies. The
    /// error names the placeholder that does not fit the message.
    pub fn dynamic(template: &str, request: &DynamicMessage) -> Result<String, String> {
        dynamic_key_text(template, request)
    }
}

fn dynamic_key_text(template: &str, request: &DynamicMessage) -> Result<String, String> {
    let mut key = CacheKeyWriter::new(template);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        key.literal(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map(|close| open + close)
            .ok_or_else(|| format!("unbalanced braces in cache key template {template:?}"))?;
        write_path(&mut key, request, &rest[open + 1..close])?;
        rest = &rest[close + 1..];
    }
    key.literal(rest);
    Ok(key.finish())
}

/// Writes the value at a dotted `path` of `message`, or `~` where a field
/// with presence on the way is unset.
fn write_path(
    key: &mut CacheKeyWriter,
    message: &DynamicMessage,
    path: &str,
) -> Result<(), String> {
    let mut current = message.clone();
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let field = current
            .descriptor()
            .get_field_by_name(segment)
            .ok_or_else(|| {
                format!(
                    "placeholder {{{path}}}: no field `{segment}` in {}",
                    current.descriptor().full_name()
                )
            })?;
        let has_presence = field.supports_presence()
            && field.cardinality() != prost_reflect::Cardinality::Required;
        if has_presence && !current.has_field(&field) {
            key.optional::<str>(None);
            return Ok(());
        }
        let value = current.get_field(&field).into_owned();
        if segments.peek().is_some() {
            match value {
                Value::Message(inner) => current = inner,
                _ => {
                    return Err(format!(
                        "placeholder {{{path}}}: `{segment}` is not a message"
                    ));
                }
            }
            continue;
        }
        match value {
            Value::Bool(v) => key.value(&v),
            Value::I32(v) | Value::EnumNumber(v) => key.value(&v),
            Value::I64(v) => key.value(&v),
            Value::U32(v) => key.value(&v),
            Value::U64(v) => key.value(&v),
            Value::F32(v) => key.value(&v),
            Value::F64(v) => key.value(&v),
            Value::String(v) => key.value(v.as_str()),
            Value::Bytes(v) => key.value(&v),
            _ => {
                return Err(format!(
                    "placeholder {{{path}}}: `{segment}` is not a scalar"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(template: &str, build: impl FnOnce(&mut CacheKeyWriter)) -> String {
        let mut writer = CacheKeyWriter::new(template);
        build(&mut writer);
        writer.finish()
    }

    #[test]
    fn plain_values_read_as_the_template() {
        let text = key("{a}/{b}", |k| {
            k.value(&1i64);
            k.literal("/");
            k.value(&2i64);
        });
        assert_eq!(text, "1/2");
    }

    #[test]
    fn separators_inside_values_are_escaped() {
        let left = key("{a}/{b}", |k| {
            k.value("x/y");
            k.literal("/");
            k.value("z");
        });
        let right = key("{a}/{b}", |k| {
            k.value("x");
            k.literal("/");
            k.value("y/z");
        });
        assert_eq!(left, "x%2Fy/z");
        assert_ne!(left, right);
    }

    #[test]
    fn unset_differs_from_every_value() {
        let unset = key("{a}", |k| k.optional::<str>(None));
        let tilde = key("{a}", |k| k.optional(Some("~")));
        let empty = key("{a}", |k| k.optional(Some("")));
        assert_eq!(unset, "~");
        assert_eq!(tilde, "%7E");
        assert_eq!(empty, "");
    }

    #[test]
    fn floats_follow_the_wire() {
        assert_eq!(
            key("{f}", |k| k.value(&-0.0f64)),
            key("{f}", |k| k.value(&0.0f64))
        );
        let quiet = f64::from_bits(0x7ff8_0000_0000_0000);
        let other = f64::from_bits(0x7ff8_0000_0000_0001);
        assert_ne!(
            key("{f}", |k| k.value(&quiet)),
            key("{f}", |k| k.value(&other))
        );
        assert_eq!(key("{f}", |k| k.value(&1.5f32)), "1.5");
    }

    #[test]
    fn bytes_are_hex_and_non_ascii_is_percent_encoded() {
        assert_eq!(key("{b}", |k| k.value(&vec![0u8, 255])), "00ff");
        assert_eq!(key("{s}", |k| k.value("é x")), "%C3%A9%20x");
    }
}
