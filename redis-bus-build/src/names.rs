//! Rust names for proto names, as prost-build spells them.
//!
//! The generated cache-key code reads request fields by name, so it must
//! spell them exactly as prost-build does (prost keeps its own helper
//! private): snake case with heck, then keywords made raw (`r#type`) or
//! suffixed (`self_`).

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// The Rust field of a proto field, e.g. `userId` -> `user_id`.
pub(crate) fn field_ident(proto_name: &str) -> Ident {
    ident(&sanitize(proto_name.to_snake_case()))
}

/// A Rust type name for a proto name, e.g. `get_user` -> `GetUser`.
pub(crate) fn type_ident(proto_name: &str) -> Ident {
    ident(&sanitize(proto_name.to_upper_camel_case()))
}

/// A Rust constant name for a proto name, e.g. `GetUser` -> `GET_USER`.
pub(crate) fn const_ident(proto_name: &str) -> Ident {
    ident(&sanitize(heck::ToShoutySnakeCase::to_shouty_snake_case(
        proto_name,
    )))
}

/// A Rust function or module name for a proto name, e.g. `GetUser` -> `get_user`.
pub(crate) fn snake_ident(proto_name: &str) -> Ident {
    ident(&sanitize(proto_name.to_snake_case()))
}

/// An identifier, raw when `name` is spelled `r#...`.
fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Makes `name` a legal identifier the way prost-build does.
fn sanitize(name: String) -> String {
    match name.as_str() {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{name}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{name}_"),
        s if s.starts_with(|c: char| c.is_numeric()) => format!("_{name}"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_spelled_like_prost() {
        assert_eq!(field_ident("userId").to_string(), "user_id");
        assert_eq!(field_ident("type").to_string(), "r#type");
        assert_eq!(field_ident("self").to_string(), "self_");
    }

    #[test]
    fn rpc_names_become_rust_names() {
        assert_eq!(snake_ident("GetUser").to_string(), "get_user");
        assert_eq!(const_ident("GetUser").to_string(), "GET_USER");
        assert_eq!(type_ident("get_user").to_string(), "GetUser");
    }
}
