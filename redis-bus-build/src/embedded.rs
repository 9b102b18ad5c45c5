//! The protos that ship inside this crate, so users import them without
//! copying: `import "redis_bus/options.proto";`.

use protox::file::{File, FileResolver};

/// The name under which `.proto` files import redis-bus's options.
pub(crate) const OPTIONS_PROTO: &str = "redis_bus/options.proto";

/// Serves the embedded redis-bus protos by their import name.
///
/// It is chained after the user's include paths, so a project that keeps its
/// own copy of the file shadows the embedded one.
pub(crate) struct EmbeddedProtos;

impl FileResolver for EmbeddedProtos {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match name {
            OPTIONS_PROTO => {
                File::from_source(name, include_str!("../proto/redis_bus/options.proto"))
            }
            _ => Err(protox::Error::file_not_found(name)),
        }
    }
}
