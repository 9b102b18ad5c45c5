//! The checked-in generated code must be exactly what the generator emits
//! today. After a deliberate change, re-bless it with
//! `REDIS_BUS_BLESS=1 cargo test -p redis-bus-build --test generator drift::`.

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Compares (or, when blessing, writes) every file `builder` generates for
/// `protos` against the checked-in copy in `dir`.
fn check(builder: redis_bus_build::Builder, protos: &[&str], includes: &[&str], dir: &str) {
    let root = root();
    let protos: Vec<PathBuf> = protos.iter().map(|p| root.join(p)).collect();
    let includes: Vec<PathBuf> = includes.iter().map(|p| root.join(p)).collect();
    let files = builder
        .emit_rerun_if_changed(false)
        .generate(&protos, &includes)
        .expect("the checked-in protos compile");
    assert!(!files.is_empty(), "the generator produced no file");
    let bless = std::env::var_os("REDIS_BUS_BLESS").is_some();
    for file in files {
        let path = root.join(dir).join(&file.name);
        if bless {
            std::fs::write(&path, &file.content).expect("write the blessed file");
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == file.content,
            "{dir}/{} is out of date with the generator; re-bless it with \
             `REDIS_BUS_BLESS=1 cargo test -p redis-bus-build --test generator drift::` \
             and review the diff",
            file.name
        );
    }
}

#[test]
fn sample_services_match_the_checked_in_code() {
    check(
        redis_bus_build::configure(),
        &[
            "generated-examples/proto/accounts.proto",
            "generated-examples/proto/math.proto",
            "generated-examples/proto/random.proto",
        ],
        &["generated-examples/proto"],
        "generated-examples/src",
    );
}

#[test]
fn wire_envelope_matches_the_checked_in_code() {
    check(
        redis_bus_build::configure()
            .bus_crate("crate::seam::wire")
            .bytes(["."]),
        &["proto/redis_bus/wire.proto"],
        &["proto"],
        "src/seam/wire",
    );
}
