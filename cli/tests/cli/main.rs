//! The tests of the `redis-bus` command: each runs the real binary against
//! a real redis-server with real sample workers. One module per command, in
//! one test binary; run one command's tests with
//! `cargo test -p redis-bus-cli --test cli <module>::`.

mod common;

mod cache;
mod call;
mod cleanup;
mod inspect;
mod ping;
mod samples;
mod scripts;
mod shell;
mod stats;
mod streaming;
mod terminal;
mod top;
mod top_load;
mod wkt;
