//! Generates the corpus the way teams do: the platform protos with a
//! nesting include file and prost-build options, then the health and
//! keyword protos (health's `Watch` streams its replies).

fn main() -> Result<(), redis_bus_build::Error> {
    redis_bus_build::configure()
        .include_file("acme.rs")
        .type_attribute(
            ".acme.platform.common.v1.ItemKey",
            "#[derive(PartialOrd, Ord)]",
        )
        .btree_map([".acme.platform.inventory.v1.Item.labels"])
        .compile_protos(
            &[
                "proto/acme/platform/inventory/v1/inventory.proto",
                "proto/acme/wkt/v1/wkt.proto",
            ],
            &["proto"],
        )?;
    redis_bus_build::configure().compile_protos(
        &[
            "proto/acme/health/v1/health.proto",
            "proto/my/type/v1/keywords.proto",
        ],
        &["proto"],
    )
}
