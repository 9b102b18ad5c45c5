//! The README's quick start is this crate, exactly: each of its files is
//! printed there as it is here (the dependencies' paths aside, which point
//! into this repository here and into a checkout next to the user's crate
//! there), and the program it makes runs.

use std::path::Path;
use std::process::Command;

/// The README of the repository.
fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(path).expect("the README reads")
}

/// A file of this crate.
fn file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(path).expect("the file reads")
}

#[test]
fn the_readme_prints_every_file_of_the_quick_start() {
    let readme = readme();
    for name in ["proto/math.proto", "build.rs", "src/main.rs"] {
        let text = file(name);
        assert!(
            readme.contains(&text),
            "README.md does not print quickstart/{name} as it is:\n{text}"
        );
    }
    let manifest = file("Cargo.toml");
    let dependencies = &manifest[manifest.find("[dependencies]").unwrap()..];
    let dependencies = &dependencies[..dependencies.find("[dev-dependencies]").unwrap()];
    let printed = dependencies
        .replace("path = \"..\"", "path = \"../redis-bus\"")
        .replace(
            "path = \"../redis-bus-build\"",
            "path = \"../redis-bus/redis-bus-build\"",
        );
    assert!(
        readme.contains(printed.trim_end()),
        "README.md does not print the quick start's dependencies as they are:\n{printed}"
    );
}

#[test]
fn the_readme_prints_the_streaming_code_as_it_is() {
    let readme = readme();
    let section = &readme[readme.find("## Streaming").expect("a streaming section")..];
    let section = &section[..section[3..].find("\n## ").expect("a next section") + 3];
    let sources = [
        file("../generated-examples/src/services/random.rs"),
        file("../examples/streaming.rs"),
    ];
    let blocks: Vec<&str> = section.split("```rust\n").skip(1).collect();
    assert_eq!(blocks.len(), 2, "two code blocks");
    for block in blocks {
        let code = &block[..block.find("```").expect("a closed block")];
        // Each function (or file) of the block, as the sources have it.
        for part in code.split("\n\n    async fn ") {
            assert!(
                sources
                    .iter()
                    .any(|source| source.contains(part.trim_start())),
                "README.md's streaming section prints code that is not in the sources:\n{part}"
            );
        }
    }
}

#[test]
fn the_quick_start_serves_and_calls() {
    let redis = redis_bus_testing::RedisServer::start().expect("redis-server starts");
    let output = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("REDIS_URL", redis.url())
        .output()
        .expect("the quick start runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "1 + 2 = 3\n");
}
