//! Summing the rounds up: the medians of one system at one payload size.

use super::Report;
use crate::sample::{CpuUse, Sample};
use crate::stats::median;
use crate::systems::System;

/// The medians of one system at one payload size.
pub(super) struct Medians {
    /// Sequential p50, microseconds.
    pub(super) p50_us: f64,
    /// Sequential p99, microseconds.
    pub(super) p99_us: f64,
    /// Calls per second by calls in flight (1 first; for a streaming
    /// system, by concurrent streams, each call a stream).
    pub(super) calls_per_s: Vec<Option<f64>>,
    /// Worker peak RSS under the heaviest load, KiB.
    pub(super) worker_kib: Option<f64>,
    /// Client peak RSS under the heaviest load, KiB.
    pub(super) client_kib: f64,
    /// CPU time per call one call at a time, microseconds: client, worker,
    /// daemon.
    pub(super) sequential_cpu_us: [Option<f64>; 3],
    /// CPU time per call under the heaviest load, microseconds: client,
    /// worker, daemon.
    pub(super) heaviest_cpu_us: [Option<f64>; 3],
    /// How many rounds it is the median of.
    pub(super) rounds: usize,
}

impl Report<'_> {
    /// The medians of `system` at `payload`; none if it never ran.
    pub(super) fn medians(&self, system: System, payload: usize) -> Option<Medians> {
        let runs: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|sample| sample.system == system && sample.payload == payload)
            .collect();
        // A streaming system has loads of its own (concurrent streams).
        let (loads, heaviest) = if system.is_streaming() {
            (&self.streams, self.streams.last().copied().unwrap_or(1))
        } else {
            (&self.in_flight, self.heaviest)
        };
        let calls_per_s = loads
            .iter()
            .map(|&in_flight| {
                median(runs.iter().filter_map(|sample| {
                    if in_flight == 1 {
                        return Some(sample.sequential.calls_per_s);
                    }
                    let loaded = sample.loaded.iter().find(|l| l.in_flight == in_flight);
                    loaded.map(|loaded| loaded.calls_per_s)
                }))
            })
            .collect();
        let heaviest = runs
            .iter()
            .filter_map(|sample| sample.loaded.iter().find(|l| l.in_flight == heaviest))
            .map(|loaded| &loaded.cpu);
        Some(Medians {
            p50_us: median(runs.iter().map(|s| s.sequential.p50_us))?,
            p99_us: median(runs.iter().map(|s| s.sequential.p99_us))?,
            calls_per_s,
            worker_kib: median(
                runs.iter()
                    .filter_map(|s| s.peak_rss.worker_kib.map(|kib| kib as f64)),
            ),
            client_kib: median(runs.iter().map(|s| s.peak_rss.client_kib as f64))?,
            sequential_cpu_us: cpu_medians(runs.iter().map(|s| &s.sequential.cpu)),
            heaviest_cpu_us: cpu_medians(heaviest),
            rounds: runs.len(),
        })
    }
}

/// The medians of the CPU times per call of each process in `cpu`.
fn cpu_medians<'a>(cpu: impl Iterator<Item = &'a CpuUse> + Clone) -> [Option<f64>; 3] {
    [
        median(cpu.clone().map(|cpu| cpu.client_us)),
        median(cpu.clone().filter_map(|cpu| cpu.worker_us)),
        median(cpu.filter_map(|cpu| cpu.daemon_us)),
    ]
}
