//! Generates the echo service the way users generate theirs.

fn main() -> Result<(), redis_bus_build::Error> {
    redis_bus_build::compile_protos(&["proto/echo.proto"], &["proto"])
}
