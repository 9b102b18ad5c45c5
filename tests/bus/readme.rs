//! The README's section on metadata, interceptors, tower, OpenTelemetry and
//! metrics prints the examples' code as it is: each of its Rust snippets is
//! a run of lines of a file in `examples/` (which compiles, and whose test
//! runs it), indented there as the code around it needs.

use std::path::Path;

/// The Rust snippets of the README's section `heading`.
fn snippets(readme: &str, heading: &str) -> Vec<Vec<String>> {
    let start = readme.find(heading).expect("the README has the section");
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut snippets = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line == "```rust" {
            let snippet = lines.by_ref().take_while(|line| *line != "```");
            snippets.push(snippet.map(str::to_owned).collect());
        }
    }
    snippets
}

/// Whether `file` has the lines of `snippet` in a row, all indented by the
/// same amount.
fn contains(file: &str, snippet: &[String]) -> bool {
    let lines: Vec<&str> = file.lines().collect();
    (0..lines.len()).any(|at| {
        let Some(indent) = lines[at].strip_suffix(snippet[0].as_str()) else {
            return false;
        };
        indent.bytes().all(|b| b == b' ')
            && snippet.iter().enumerate().all(|(offset, line)| {
                lines.get(at + offset).is_some_and(|there| {
                    there.strip_prefix(indent) == Some(line.as_str())
                        || (line.is_empty() && there.is_empty())
                })
            })
    })
}

#[test]
fn the_readme_prints_the_examples_as_they_are() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples: Vec<String> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let snippets = snippets(&readme, "## Metadata and interceptors");
    assert!(snippets.len() >= 7, "{snippets:?}");
    for snippet in snippets {
        assert!(
            examples.iter().any(|file| contains(file, &snippet)),
            "README.md prints code that no example has as it is:\n{}",
            snippet.join("\n")
        );
    }
}
