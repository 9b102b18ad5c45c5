//! The user's path: `build.rs` calls `redis_bus_build::compile_protos` and
//! the crate pulls the result in with `redis_bus::include_proto!`. It must
//! compile and be the very code that is checked in.

/// The math package as `build.rs` generated it; the tests below touch only
/// part of it.
#[allow(dead_code)]
mod built {
    pub mod math {
        redis_bus::include_proto!("math");
    }
}

#[test]
fn build_script_output_is_the_checked_in_code() {
    let built = include_str!(concat!(env!("OUT_DIR"), "/math.rs"));
    let checked_in = include_str!("../src/math.rs");
    assert_eq!(built, checked_in);
}

#[test]
fn included_package_exposes_messages_and_service_modules() {
    let request = built::math::SumRequest { a: 1, b: 2 };
    assert_eq!(request.a + request.b, 3);
    assert_eq!(built::math::math_bus::SERVICE.name, "math.Math");
    assert_eq!(
        built::math::math_bus::SERVICE,
        generated_examples::math::math_bus::SERVICE
    );
}
