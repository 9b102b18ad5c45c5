//! The comments of a proto declaration, from its file's source info, as
//! `//` lines for `describe`. The descriptors that `redis-bus-build`
//! registers keep the comments of declarations; a descriptor without
//! source info simply has no comment.

use prost_reflect::FileDescriptor;

/// The comments above (leading) and after (trailing) the
/// declaration at `path` in `file`, as `// ` lines indented by `indent`;
/// empty without any.
pub(crate) fn above(file: &FileDescriptor, path: &[i32], indent: &str) -> String {
    let mut out = String::new();
    for line in lines(file, path) {
        if line.is_empty() {
            out.push_str(&format!("{indent}//\n"));
        } else {
            out.push_str(&format!("{indent}// {line}\n"));
        }
    }
    out
}

/// The same comments as plain text, one line per comment line, for
/// `--json`; `None` without any.
pub(crate) fn text(file: &FileDescriptor, path: &[i32]) -> Option<String> {
    let lines = lines(file, path);
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The lines of the leading, then trailing, comments of the declaration
/// at `path`.
fn lines(file: &FileDescriptor, path: &[i32]) -> Vec<String> {
    let proto = file.file_descriptor_proto();
    let Some(location) = proto
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|location| location.path == path))
    else {
        return Vec::new();
    };
    let texts = [location.leading_comments(), location.trailing_comments()];
    texts
        .into_iter()
        .filter(|text| !text.trim().is_empty())
        .flat_map(|text| text.trim_end().lines())
        // Comments are kept as written, less the one space after `//`
        // that the source info keeps.
        .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned())
        .collect()
}
