//! Keeps the layers of `lib.rs`'s layout map true: reads every source file
//! of the crate and fails when a module names a module of a layer above its
//! own, or when one transport names the other.
//!
//! The rule, from the top down (a module may name its own layer and the
//! layers below it):
//!
//! 1. the public API: `api`, `codegen`;
//! 2. the transports: `redis`, `memory` (neither names the other);
//! 3. the seam: `seam`, the traits a transport implements and the data both
//!    sides share.
//!
//! Outside `lib.rs`, modules name what they use by its module path
//! (`crate::seam::status::Status`), never through the crate root's
//! re-exports, which would hide which layer a name comes from.

use std::path::{Path, PathBuf};

/// The layer of a top-level module: its rank (higher is further up) and,
/// for the transports, which one it is.
fn layer(top: &str) -> Option<(u8, &'static str)> {
    match top {
        "api" | "codegen" => Some((3, "the public API")),
        "redis" => Some((2, "the Redis transport")),
        "memory" => Some((2, "the in-memory transport")),
        "seam" => Some((1, "the seam")),
        _ => None,
    }
}

/// The module path of a source file (`src/redis/worker/core.rs` is
/// `redis::worker::core`; a `mod.rs` is its directory's module).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("files are under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source directory reads") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The first module each path in `code` names from the crate root:
/// `crate::a::b` and `crate::{a::b, c}` name `a` (and `c`); `super::` paths
/// are resolved against `module`.
fn named_tops(code: &str, module: &[String]) -> Vec<String> {
    let mut tops = Vec::new();
    let bytes = code.as_bytes();
    let ident = |from: usize| -> String {
        code[from..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut at = 0;
    while let Some(found) = code[at..].find("crate::") {
        let start = at + found;
        at = start + "crate::".len();
        // `$crate::` in a macro names the crate from outside it.
        if start > 0 && (bytes[start - 1] == b'$' || bytes[start - 1].is_ascii_alphanumeric()) {
            continue;
        }
        if code[at..].starts_with('{') {
            // The first name of each item at the group's own depth.
            let mut depth = 0;
            let mut item_start = true;
            for (offset, c) in code[at..].char_indices() {
                match c {
                    '{' => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    c if item_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        tops.push(ident(at + offset));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            tops.push(ident(at));
        }
    }
    let mut at = 0;
    while let Some(found) = code[at..].find("super::") {
        let start = at + found;
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b':') {
            at = start + "super::".len();
            continue;
        }
        let mut path = module.to_vec();
        let mut rest = start;
        while code[rest..].starts_with("super::") {
            path.pop();
            rest += "super::".len();
        }
        at = rest;
        match path.first() {
            Some(top) => tops.push(top.clone()),
            None => tops.push(ident(rest)),
        }
    }
    tops
}

/// The code of a file without its comments (doc links are not imports).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(comment) => &line[..comment],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_module_names_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let module = module_path(&src, file);
        let Some(own_top) = module.first() else {
            continue; // lib.rs: the root wires the layers together.
        };
        if own_top == "layers" {
            continue;
        }
        let (own_rank, own_name) = layer(own_top)
            .unwrap_or_else(|| panic!("{} is in no layer: add it to `layer`", file.display()));
        let text = std::fs::read_to_string(file).expect("a source file reads");
        let shown = file.strip_prefix(&src).unwrap_or(file).display();
        for top in named_tops(&without_comments(&text), &module) {
            match layer(&top) {
                None => problems.push(format!(
                    "src/{shown} names `crate::{top}` through the crate root; name its module"
                )),
                Some((rank, name)) if rank > own_rank => problems.push(format!(
                    "src/{shown} ({own_name}) names `{top}` ({name}), a layer above it"
                )),
                Some((rank, name)) if rank == 2 && own_rank == 2 && top != *own_top => problems
                    .push(format!(
                        "src/{shown} ({own_name}) names `{top}` ({name}): one transport never \
                         names the other"
                    )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the layers of lib.rs's layout map are broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_grouped_and_relative_paths() {
    let module = ["redis".to_owned(), "worker".to_owned(), "core".to_owned()];
    let code = "use crate::{api::{bus::Bus, client}, seam::status};\nuse super::super::keys;\nlet x = $crate::Bus;";
    let mut tops = named_tops(code, &module);
    tops.sort();
    assert_eq!(tops, vec!["api", "redis", "seam"]);
    let root = ["seam".to_owned()];
    assert_eq!(named_tops("use super::api::bus;", &root), vec!["api"]);
}
