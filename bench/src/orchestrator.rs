//! The benchmark run: starts the daemons, then measures every system at
//! every payload size once per round, and prints the medians. The scaling
//! and cluster modes (`scaling`, `cluster`) start from here too.
//!
//! Systems are interleaved, and their order rotates from round to round, so
//! that a drift of the (shared, noisy) machine spreads over every system
//! instead of favouring the ones measured first. Each run of a system gets a
//! fresh worker process and a fresh client process, and an empty Redis.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::daemons::Daemons;
use crate::failures::Failures;
use crate::machine::Machine;
use crate::sample::Sample;
use crate::subprocess::Subprocess;
use crate::systems::{DEFAULT_BUS, System};
use crate::worker::READY;
use crate::{cluster, report, scaling};

/// How long a worker may take to start serving (or to stop, gracefully).
pub const WORKER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take beyond its planned measurements: connecting,
/// and the calls in flight finishing at the end of each measurement.
pub const CLIENT_SLACK: Duration = Duration::from_secs(60);

/// How long to wait before measuring a disturbed run again: long enough
/// for a short burst elsewhere (a test, a link) to end.
const BUSY_PAUSE: Duration = Duration::from_secs(3);

/// How to run the benchmark.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Rounds: every system is measured once per round and payload size;
    /// the report shows the medians over rounds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Seconds of each measurement (after its warm-up).
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Seconds of warm-up before each measurement.
    #[arg(long, default_value_t = 0.5)]
    pub warmup: f64,
    /// The systems to measure, comma separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = System::ALL)]
    pub systems: Vec<System>,
    /// Payload sizes in bytes, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 4096])]
    pub payloads: Vec<usize>,
    /// Calls in flight of the throughput measurements, comma separated
    /// (1 in flight is the sequential measurement). Peak RSS is measured
    /// under the largest.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 256])]
    pub in_flight: Vec<usize>,
    /// How many times a run is measured again when other processes took
    /// part of the machine during it (the last attempt is kept either way).
    #[arg(long, default_value_t = 1)]
    pub busy_retries: u32,
    /// Concurrent streams of the streaming systems' loaded measurement (1
    /// stream is their sequential one), comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [16])]
    pub streams: Vec<usize>,
    /// Seconds of each measurement of a streaming system (after its
    /// warm-up): shorter than `--seconds`, since one stream already carries
    /// many messages and the default run must stay short.
    #[arg(long, default_value_t = 1.0)]
    pub stream_seconds: f64,
    /// Flow-control window of the redis-bus streams: how many messages one
    /// side may send ahead of those the other has read.
    #[arg(long, default_value_t = redis_bus::DEFAULT_STREAM_WINDOW,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(redis_bus::MAX_STREAM_WINDOW)))]
    pub stream_window: u32,
    /// Instead of the comparison: the scaling mode, with this many worker
    /// processes and as many client processes per configuration, comma
    /// separated (e.g. `1,2,4`).
    #[arg(long, value_delimiter = ',', conflicts_with = "cluster")]
    pub scale: Vec<usize>,
    /// Instead of the comparison: the Redis Cluster mode, several services
    /// on a 3-master cluster started for it, next to the same services on
    /// one redis-server.
    #[arg(long)]
    pub cluster: bool,
    /// Calls in flight of each client process in the scaling and cluster
    /// modes.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub client_in_flight: u32,
}

impl RunArgs {
    /// How `system` is measured: seconds per measurement, and the calls in
    /// flight of its loaded measurements (streams, for a streaming system).
    pub fn load_of(&self, system: System) -> (f64, &[usize]) {
        if system.is_streaming() {
            (self.stream_seconds, &self.streams)
        } else {
            (self.seconds, &self.in_flight)
        }
    }

    /// How long measuring `system` takes, roughly: its measurements and
    /// their warm-ups.
    fn planned_seconds(&self, system: System) -> f64 {
        let (seconds, in_flight) = self.load_of(system);
        (self.warmup + seconds) * (1 + in_flight.len()) as f64
    }
}

/// Runs the benchmark until it ends or Ctrl-C; either way, every process it
/// started is killed before this returns (dropping them kills them).
pub async fn run_until_interrupted(args: RunArgs) -> Result<()> {
    tokio::select! {
        result = run(args) => result,
        interrupted = tokio::signal::ctrl_c() => {
            interrupted.context("cannot listen for Ctrl-C")?;
            bail!("interrupted; stopped every server and worker it started")
        }
    }
}

/// Runs the mode asked for: the comparison, or the scaling or cluster
/// mode.
async fn run(args: RunArgs) -> Result<()> {
    check(&args)?;
    if !args.scale.is_empty() {
        return scaling::run(&args).await;
    }
    if args.cluster {
        return cluster::run(&args).await;
    }
    compare(args).await
}

/// Runs every round of the comparison and prints the report.
async fn compare(args: RunArgs) -> Result<()> {
    let started = Instant::now();
    let (daemons, systems) = Daemons::start(&args.systems).await?;
    if systems.is_empty() {
        bail!("none of the systems asked for can run here");
    }
    let runs = args.rounds as usize * args.payloads.len() * systems.len();
    let mut failures = Failures::of(runs);
    let planned: f64 = systems.iter().map(|&s| args.planned_seconds(s)).sum();
    eprintln!(
        "{runs} runs ({} rounds x {} payload sizes x {} systems), about {:.0} s of \
         measurement per round and payload size",
        args.rounds,
        args.payloads.len(),
        systems.len(),
        planned
    );
    let mut samples = Vec::new();
    for round in 0..args.rounds as usize {
        // Rotating the order spreads each position over every system.
        let mut order = systems.clone();
        order.rotate_left(round % systems.len());
        for &payload in &args.payloads {
            for &system in &order {
                let what = format!("round {}, {system}, {payload} B", round + 1);
                match run_undisturbed(&daemons, system, payload, &args, &what).await {
                    Ok(sample) => samples.push(sample),
                    Err(error) => {
                        failures.record(&what, &error);
                    }
                }
            }
        }
    }
    println!("{}", Machine::describe());
    println!(
        "- {} rounds, {} s per measurement after {} s of warm-up",
        args.rounds, args.seconds, args.warmup
    );
    print!("{}", report::Report::new(&samples, &systems, &args));
    failures.finish(started)
}

/// Refuses arguments that would measure nothing.
fn check(args: &RunArgs) -> Result<()> {
    if !(args.seconds > 0.0 && args.stream_seconds > 0.0 && args.warmup >= 0.0) {
        bail!("--seconds and --stream-seconds must be positive, and --warmup not negative");
    }
    if args.payloads.is_empty() || args.systems.is_empty() {
        bail!("give at least one payload size and one system");
    }
    if args.in_flight.contains(&0) || args.streams.contains(&0) || args.scale.contains(&0) {
        bail!("--in-flight, --streams and --scale take no 0");
    }
    Ok(())
}

/// Measures `system` at `payload` bytes, again (after a pause) while other
/// processes disturb the measurement, at most `--busy-retries` times.
async fn run_undisturbed(
    daemons: &Daemons,
    system: System,
    payload: usize,
    args: &RunArgs,
    what: &str,
) -> Result<Sample> {
    let mut retries = args.busy_retries;
    loop {
        let sample = run_one(daemons, system, payload, args).await?;
        eprintln!("{what}: {}", report::one_line(&sample));
        if !sample.disturbed() || retries == 0 {
            return Ok(sample);
        }
        retries -= 1;
        eprintln!("{what}: measuring again in {BUSY_PAUSE:?}, when the machine may be quiet");
        tokio::time::sleep(BUSY_PAUSE).await;
    }
}

/// Measures `system` at `payload` bytes once: an empty Redis, a fresh
/// worker (when the system has one), a fresh client.
async fn run_one(
    daemons: &Daemons,
    system: System,
    payload: usize,
    args: &RunArgs,
) -> Result<Sample> {
    daemons.flush_redis().await?;
    let target = daemons.target(system)?;
    let worker = if system.has_worker() {
        Some(start_worker(system, &target, DEFAULT_BUS).await?)
    } else {
        None
    };
    let (target, worker_pid) = match &worker {
        Some((process, served_at)) => (served_at.clone(), Some(process.pid()?)),
        None => (target, None),
    };
    let pids = Pids {
        worker: worker_pid,
        daemon: daemons.pid(system),
    };
    let sample = measure(system, &target, payload, pids, args).await;
    let stopped = match worker {
        Some((process, _)) => process.finish(WORKER_TIMEOUT).await,
        None => Ok(()),
    };
    // A failed measurement explains more than the worker's stop after it.
    let sample = sample?;
    stopped?;
    Ok(sample)
}

/// Starts a worker of `system` serving at `target` (on bus `bus`, for a
/// redis-bus system); returns it with the target its clients use.
pub async fn start_worker(system: System, target: &str, bus: &str) -> Result<(Subprocess, String)> {
    let args = [
        "serve",
        "--system",
        &system.name(),
        "--target",
        target,
        "--bus",
        bus,
    ]
    .map(String::from);
    let mut worker = Subprocess::spawn(&args, format!("{system} worker"))?;
    let line = worker.next_line(WORKER_TIMEOUT).await?;
    let Some(served_at) = line.strip_prefix(READY) else {
        bail!("the {system} worker said {line:?} instead of {READY:?}<target>");
    };
    let served_at = served_at.to_owned();
    Ok((worker, served_at))
}

/// The processes a client watches besides itself.
struct Pids {
    /// The system's worker.
    worker: Option<u32>,
    /// The Redis or NATS server it goes through.
    daemon: Option<u32>,
}

/// Runs a client process that measures `system` at `target`.
async fn measure(
    system: System,
    target: &str,
    payload: usize,
    pids: Pids,
    args: &RunArgs,
) -> Result<Sample> {
    let (seconds, in_flight) = args.load_of(system);
    let in_flight: Vec<String> = in_flight.iter().map(ToString::to_string).collect();
    let mut command = vec![
        "measure".to_owned(),
        format!("--system={system}"),
        format!("--target={target}"),
        format!("--payload={payload}"),
        format!("--seconds={seconds}"),
        format!("--warmup={}", args.warmup),
        format!("--in-flight={}", in_flight.join(",")),
        format!("--stream-window={}", args.stream_window),
    ];
    command.extend(pids.worker.map(|pid| format!("--worker-pid={pid}")));
    command.extend(pids.daemon.map(|pid| format!("--daemon-pid={pid}")));
    let mut client = Subprocess::spawn(&command, format!("{system} client"))?;
    let within = Duration::from_secs_f64(args.planned_seconds(system)) + CLIENT_SLACK;
    let line = client.next_line(within).await?;
    let sample: Sample = serde_json::from_str(&line)
        .with_context(|| format!("the {system} client printed {line:?}, not a sample"))?;
    client.finish(CLIENT_SLACK).await?;
    Ok(sample)
}
