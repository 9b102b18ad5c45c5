//! The redis-bus benchmark: the same echo call over Redis PING, a
//! hand-written list RPC, redis-bus, NATS request-reply and tonic, side by
//! side, in interleaved rounds, with redis-bus's and tonic's streams next
//! to them; and two separate modes, scaling (1, 2, 4... worker and client
//! processes) and Redis Cluster. See `BENCHMARKS.md` for how to read it.
//!
//! One command runs the comparison: `cargo run --release -p
//! redis-bus-bench`. It starts its own `redis-server` and `nats-server` on
//! free loopback ports and re-executes itself for every worker (`serve`)
//! and every client (`measure`, or `share` in the two modes), so that each
//! has its own runtime and its own peak RSS.
//!
//! Layout: `orchestrator` (rounds, one run of a system), `fleet` (many
//! workers and clients at once), `scaling` and `cluster` (the two modes
//! built on it), `subprocess` (the processes it starts of itself), `worker`
//! and `client` (the two kinds of such process), `daemons` (redis-server,
//! nats-server), `systems` (one module per system compared), `load` (the
//! load generator), `sample` and `stats` (what is measured, and how it is
//! summed up), `memory` (peak RSS), `cpu` (CPU time per call), `report`
//! (the tables), `machine` (what ran it).

mod client;
mod cluster;
mod cpu;
mod daemons;
mod failures;
mod fleet;
mod load;
mod machine;
mod memory;
mod orchestrator;
mod report;
mod sample;
mod scaling;
mod stats;
mod subprocess;
mod systems;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command line of the benchmark.
#[derive(Debug, Parser)]
#[command(
    name = "redis-bus-bench",
    about = "Benchmarks redis-bus against Redis PING, a hand-written list RPC, NATS \
             request-reply and tonic gRPC (unary and streaming), on loopback; or, with --scale \
             or --cluster, how its throughput grows with processes or over a Redis Cluster"
)]
struct Cli {
    /// A hidden subcommand when the benchmark runs one of its own worker or
    /// client processes; none for a benchmark run.
    #[command(subcommand)]
    command: Option<Command>,
    /// How to run the benchmark.
    #[command(flatten)]
    run: orchestrator::RunArgs,
}

/// The processes the benchmark starts of itself.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serves one system until standard input closes (a worker process).
    #[command(hide = true)]
    Serve(worker::ServeArgs),
    /// Measures one system and prints the sample as JSON (a client process).
    #[command(hide = true)]
    Measure(client::MeasureArgs),
    /// Loads one system as one client of a fleet and prints its share as
    /// JSON (a client process of the scaling and cluster modes).
    #[command(hide = true)]
    Share(client::ShareArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every process, workers and clients alike, gets the same 2-thread
    // runtime, as the comparison requires.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("redis-bus-bench: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Serve(args)) => worker::serve(args).await,
            Some(Command::Measure(args)) => client::measure_and_print(args).await,
            Some(Command::Share(args)) => client::share_and_print(args).await,
            None => orchestrator::run_until_interrupted(cli.run).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("redis-bus-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
