//! Generates each variant of the math service into its own directory, since
//! they share a package name.

use std::path::PathBuf;

/// The variants, each a directory under `proto/`.
const VARIANTS: [&str; 6] = [
    "keys",
    "v1_compatible",
    "v1_incompatible",
    "v1_cache_changed",
    "v1_method_removed",
    "v2",
];

/// The proto package (and file) of a variant.
fn package(variant: &str) -> &'static str {
    if variant == "keys" { "keys" } else { "math" }
}

fn main() -> Result<(), redis_bus_build::Error> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for variant in VARIANTS {
        let dir = out_dir.join(variant);
        std::fs::create_dir_all(&dir).expect("create the variant's output directory");
        let proto_dir = format!("proto/{variant}");
        redis_bus_build::configure().out_dir(dir).compile_protos(
            &[format!("{proto_dir}/{}.proto", package(variant))],
            &[proto_dir],
        )?;
    }
    Ok(())
}
