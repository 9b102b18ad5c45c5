//! The client side of a benchmark process: the hidden `measure` subcommand,
//! which measures one system along a plan and prints the sample as one JSON
//! line on standard output, for the orchestrator; and the hidden `share`
//! subcommand, one client of a fleet (the scaling and cluster modes), which
//! prints its share of the fleet's load the same way.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use clap::Args;

use crate::load::{Plan, SharePlan};
use crate::systems::{self, System};

/// Arguments of `measure`.
#[derive(Debug, Args)]
pub struct MeasureArgs {
    /// The system to measure.
    #[arg(long, value_enum)]
    pub system: System,
    /// Where its calls go: the daemon's URL or the worker's address.
    #[arg(long)]
    pub target: String,
    /// Payload bytes per call.
    #[arg(long)]
    pub payload: usize,
    /// Seconds of each measurement.
    #[arg(long)]
    pub seconds: f64,
    /// Seconds of warm-up before each measurement.
    #[arg(long)]
    pub warmup: f64,
    /// Calls in flight of the loaded measurements.
    #[arg(long, value_delimiter = ',')]
    pub in_flight: Vec<usize>,
    /// The worker process, whose peak RSS and CPU time are measured too.
    #[arg(long)]
    pub worker_pid: Option<u32>,
    /// The Redis or NATS server, whose CPU time is measured too.
    #[arg(long)]
    pub daemon_pid: Option<u32>,
    /// Flow-control window of a redis-bus stream, in messages.
    #[arg(long, default_value_t = redis_bus::DEFAULT_STREAM_WINDOW)]
    pub stream_window: u32,
}

/// Measures the system of `args` and prints the sample as one JSON line.
pub async fn measure_and_print(args: MeasureArgs) -> Result<()> {
    let plan = Plan {
        payload: args.payload,
        warmup: Duration::try_from_secs_f64(args.warmup).context("bad --warmup")?,
        duration: Duration::try_from_secs_f64(args.seconds).context("bad --seconds")?,
        in_flight: args.in_flight,
        worker_pid: args.worker_pid,
        daemon_pid: args.daemon_pid,
        stream_window: args.stream_window,
    };
    let sample = systems::measure(args.system, &args.target, &plan).await?;
    println!("{}", serde_json::to_string(&sample)?);
    Ok(())
}

/// Arguments of `share`.
#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The system to load.
    #[arg(long, value_enum)]
    pub system: System,
    /// Where its calls go: the daemon's URL.
    #[arg(long)]
    pub target: String,
    /// The bus of a redis-bus system.
    #[arg(long)]
    pub bus: String,
    /// Payload bytes per call.
    #[arg(long)]
    pub payload: usize,
    /// Calls in flight of this process.
    #[arg(long)]
    pub in_flight: usize,
    /// When the fleet's measurement starts, in milliseconds since the Unix
    /// epoch (every client of the fleet gets the same).
    #[arg(long)]
    pub start_at_ms: u64,
    /// Seconds of the measurement.
    #[arg(long)]
    pub seconds: f64,
}

/// Loads the system of `args` as one client of a fleet and prints its share
/// as one JSON line.
pub async fn share_and_print(args: ShareArgs) -> Result<()> {
    let plan = SharePlan {
        payload: args.payload,
        in_flight: args.in_flight,
        start_at: SystemTime::UNIX_EPOCH + Duration::from_millis(args.start_at_ms),
        duration: Duration::try_from_secs_f64(args.seconds).context("bad --seconds")?,
    };
    let share = systems::share(args.system, &args.target, &args.bus, &plan).await?;
    println!("{}", serde_json::to_string(&share)?);
    Ok(())
}
