fn main() -> Result<(), redis_bus_build::Error> {
    redis_bus_build::compile_protos(&["proto/math.proto"], &["proto"])
}
