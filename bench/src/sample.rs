//! What one client process measures of one system at one payload size: the
//! sample it prints as JSON, which the orchestrator collects.

use serde::{Deserialize, Serialize};

use crate::systems::System;

/// Cores used by processes outside the benchmark during a measurement
/// above which the run counts as disturbed: its figures are lower, and
/// noisier, than the machine can do.
pub const DISTURBED_CORES: f64 = 0.05;

/// One run of one system at one payload size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// The system measured.
    pub system: System,
    /// Payload bytes per call (each way).
    pub payload: usize,
    /// One call at a time.
    pub sequential: Sequential,
    /// Many calls at a time, by number in flight.
    pub loaded: Vec<Loaded>,
    /// Peak memory under the heaviest load.
    pub peak_rss: PeakRss,
}

impl Sample {
    /// The most cores that processes outside the benchmark used during one
    /// of the run's measurements.
    pub fn elsewhere_cores(&self) -> f64 {
        self.loaded
            .iter()
            .map(|loaded| loaded.cpu.elsewhere_cores)
            .fold(self.sequential.cpu.elsewhere_cores, f64::max)
    }

    /// Whether other processes took a noticeable share of the machine
    /// during the run.
    pub fn disturbed(&self) -> bool {
        self.elsewhere_cores() > DISTURBED_CORES
    }
}

/// Calls made one at a time, from one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sequential {
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Calls per second: the throughput at 1 call in flight.
    pub calls_per_s: f64,
    /// How many calls were timed.
    pub calls: usize,
    /// Where the CPU time went, per call.
    pub cpu: CpuUse,
}

/// Throughput with a fixed number of calls in flight.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Loaded {
    /// Calls in flight: as many tasks, each making one call after another.
    pub in_flight: usize,
    /// Calls completed per second.
    pub calls_per_s: f64,
    /// Where the CPU time went, per call.
    pub cpu: CpuUse,
}

/// Where the CPU time went during a measurement: per call, in each process
/// involved, and in the rest of the machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuUse {
    /// The client process.
    pub client_us: f64,
    /// The worker process; none for a system without one (PING).
    pub worker_us: Option<f64>,
    /// The Redis or NATS server; none for tonic, which has none.
    pub daemon_us: Option<f64>,
    /// Cores used meanwhile by processes outside the benchmark (a build
    /// running next to it, say): above a few hundredths, the figures of
    /// this measurement are lower than the machine can do.
    pub elsewhere_cores: f64,
}

/// Peak resident memory (`VmHWM`), reset just before the heaviest load so
/// that it is that load's peak.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeakRss {
    /// The load it was measured under (calls in flight).
    pub in_flight: usize,
    /// The client process, KiB.
    pub client_kib: u64,
    /// The worker process, KiB; none for a system without one (PING).
    pub worker_kib: Option<u64>,
}

/// What one client process of a fleet (the scaling and cluster modes)
/// measured: its calls during the window every client of the fleet shares.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Share {
    /// Calls completed during the window.
    pub calls: u64,
    /// How long the window lasted, as this process timed it.
    pub seconds: f64,
}

impl Share {
    /// Calls per second.
    pub fn calls_per_s(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
}
