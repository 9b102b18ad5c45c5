//! Generates the echo service twice: for redis-bus, the way users generate
//! theirs, and for tonic, the peer it is compared with. Neither needs a
//! system `protoc`: both compile the protos with protox. Also records the
//! rustc version for the report.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    redis_bus_build::compile_protos(&["proto/echo.proto"], &["proto"])?;
    // tonic's own generator, fed protox's descriptors instead of protoc's.
    let descriptors = protox::compile(["proto/grpc_echo.proto"], ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    // The report names the compiler that built what it measured.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|_| "rustc (unknown version)".into());
    println!("cargo:rustc-env=BENCH_RUSTC_VERSION={version}");
    Ok(())
}
