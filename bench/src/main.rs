//! The redis-bus benchmark (being written).

fn main() {}
