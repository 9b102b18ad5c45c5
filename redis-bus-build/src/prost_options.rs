//! The prost-build options that [`Builder`](crate::Builder) passes through
//! unchanged: recorded in the order they were given, applied to
//! prost-build's `Config` before it writes the messages.
//!
//! They are recorded rather than applied at once because prost-build's
//! `Config` is neither `Clone` nor `Debug`, and the builder is both.

/// One prost-build option with its arguments.
#[derive(Debug, Clone)]
pub(crate) enum ProstOption {
    TypeAttribute(String, String),
    MessageAttribute(String, String),
    EnumAttribute(String, String),
    FieldAttribute(String, String),
    ExternPath(String, String),
    BtreeMap(Vec<String>),
    Bytes(Vec<String>),
    Boxed(String),
    DisableComments(Vec<String>),
    RetainEnumPrefix,
    EnableTypeNames,
}

impl ProstOption {
    /// Applies the option to prost-build's configuration.
    pub(crate) fn apply(&self, config: &mut prost_build::Config) {
        match self {
            ProstOption::TypeAttribute(path, attribute) => {
                config.type_attribute(path, attribute);
            }
            ProstOption::MessageAttribute(path, attribute) => {
                config.message_attribute(path, attribute);
            }
            ProstOption::EnumAttribute(path, attribute) => {
                config.enum_attribute(path, attribute);
            }
            ProstOption::FieldAttribute(path, attribute) => {
                config.field_attribute(path, attribute);
            }
            ProstOption::ExternPath(proto_path, rust_path) => {
                config.extern_path(proto_path, rust_path);
            }
            ProstOption::BtreeMap(paths) => {
                config.btree_map(paths);
            }
            ProstOption::Bytes(paths) => {
                config.bytes(paths);
            }
            ProstOption::Boxed(path) => {
                config.boxed(path);
            }
            ProstOption::DisableComments(paths) => {
                config.disable_comments(paths);
            }
            ProstOption::RetainEnumPrefix => {
                config.retain_enum_prefix();
            }
            ProstOption::EnableTypeNames => {
                config.enable_type_names();
            }
        }
    }
}

/// Whether a prost-build path (`"."`, `".pkg"`, `".pkg.Service"`, or a
/// name without the leading dot, matched as a suffix) selects the proto
/// element `full_name` (`pkg.Service` or `pkg.Service.Method`), the way
/// prost-build matches paths for messages and fields.
pub(crate) fn path_matches(path: &str, full_name: &str) -> bool {
    let full = format!(".{full_name}");
    if path == "." {
        return true;
    }
    if let Some(prefix) = path.strip_prefix('.') {
        let prefix = format!(".{prefix}");
        return full == prefix
            || full
                .strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with('.'));
    }
    full == format!(".{path}")
        || full
            .strip_suffix(path)
            .is_some_and(|rest| rest.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn paths_select_like_prost_build() {
        assert!(path_matches(".", "a.b.S"));
        assert!(path_matches(".a", "a.b.S.M"));
        assert!(path_matches(".a.b.S", "a.b.S"));
        assert!(!path_matches(".a.b.S", "a.b.Search"));
        assert!(path_matches("S.M", "a.b.S.M"));
        assert!(path_matches("M", "a.b.S.M"));
        assert!(!path_matches("M", "a.b.S.XM"));
    }
}
