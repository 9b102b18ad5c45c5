//! Generates the samples the way users do, into `OUT_DIR`, so that a test
//! can check that `include_proto!` works and matches the checked-in code.

fn main() -> Result<(), redis_bus_build::Error> {
    redis_bus_build::compile_protos(
        &[
            "proto/accounts.proto",
            "proto/math.proto",
            "proto/random.proto",
        ],
        &["proto"],
    )
}
