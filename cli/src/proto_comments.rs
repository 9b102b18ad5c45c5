//! The comments of a proto declaration, from its file's source info, as
//! `//` lines for `describe`. The descriptors that `redis-bus-build`
//! registers keep the comments of declarations; a descriptor without
//! source info simply has no comment.

use prost_reflect::FileDescriptor;

/// The comments above (leading) and after (trailing) the
/// declaration at `path` in `file`, as `// ` lines indented by `indent`;
/// empty without any.
pub(crate) fn above(file: &FileDescriptor, path: &[i32], indent: &str) -> String {
    let proto = file.file_descriptor_proto();
    let Some(location) = proto
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|location| location.path == path))
    else {
        return String::new();
    };
    let mut out = String::new();
    let texts = [location.leading_comments(), location.trailing_comments()];
    for text in texts.into_iter().filter(|text| !text.trim().is_empty()) {
        for line in text.trim_end().lines() {
            // Comments are kept as written, less the one space after `//`
            // that the source info keeps.
            let line = line.strip_prefix(' ').unwrap_or(line).trim_end();
            if line.is_empty() {
                out.push_str(&format!("{indent}//\n"));
            } else {
                out.push_str(&format!("{indent}// {line}\n"));
            }
        }
    }
    out
}
