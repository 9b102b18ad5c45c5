//! The report: medians over rounds per system and payload size, where the
//! CPU time of a call goes, redis-bus divided by each peer, the performance
//! targets met or not, and every round's throughput under the heaviest load
//! (to judge the noise). All of it is Markdown, to paste into
//! `BENCHMARKS.md` as printed.
//!
//! Layout: `medians` (summing rounds up), `tables` (the tables of figures),
//! `streams` (the streaming systems' tables, in messages per second),
//! `targets` (the targets and their verdicts).

mod medians;
mod streams;
mod tables;
mod targets;

use std::fmt::{self, Write as _};

use crate::orchestrator::RunArgs;
use crate::sample::{DISTURBED_CORES, Sample};
use crate::systems::System;

/// The report of a run.
pub struct Report<'a> {
    /// Every sample of the run.
    samples: &'a [Sample],
    /// The unary systems that ran, in report order.
    systems: Vec<System>,
    /// The streaming systems that ran, in report order.
    streaming: Vec<System>,
    /// The payload sizes.
    payloads: &'a [usize],
    /// The loaded measurements' calls in flight (1 is the sequential one).
    in_flight: Vec<usize>,
    /// The heaviest load: targets and peak RSS are about it.
    heaviest: usize,
    /// The streaming systems' concurrent streams (1 is the sequential
    /// measurement), ascending.
    streams: Vec<usize>,
    /// Seconds of each streaming measurement.
    stream_seconds: f64,
    /// Flow-control window of the redis-bus streams, in messages.
    stream_window: u32,
}

impl<'a> Report<'a> {
    /// The report of `samples`.
    pub fn new(samples: &'a [Sample], systems: &[System], args: &'a RunArgs) -> Report<'a> {
        let in_flight = loads(&args.in_flight);
        let heaviest = in_flight.last().copied().unwrap_or(1);
        // Report order, whatever the order on the command line.
        let (streaming, systems) = System::ALL
            .into_iter()
            .filter(|system| systems.contains(system))
            .partition(|system| system.is_streaming());
        Report {
            samples,
            systems,
            streaming,
            payloads: &args.payloads,
            in_flight,
            heaviest,
            streams: loads(&args.streams),
            stream_seconds: args.stream_seconds,
            stream_window: args.stream_window,
        }
    }
}

/// 1 (the sequential measurement) and `loaded`, ascending, so that the
/// heaviest load comes last.
fn loads(loaded: &[usize]) -> Vec<usize> {
    let mut loads = vec![1];
    loads.extend(loaded.iter().copied());
    loads.sort_unstable();
    loads.dedup();
    loads
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let busiest = self
            .samples
            .iter()
            .map(Sample::elsewhere_cores)
            .fold(0.0, f64::max);
        let disturbed = self.samples.iter().filter(|s| s.disturbed()).count();
        writeln!(
            f,
            "- runs disturbed by other processes (more than {DISTURBED_CORES} cores): {disturbed} \
             of {}; the busiest used {busiest:.2} cores\n",
            self.samples.len()
        )?;
        if !self.systems.is_empty() {
            for &payload in self.payloads {
                self.medians_table(f, payload)?;
            }
            for &payload in self.payloads {
                self.cpu_table(f, payload)?;
            }
            for &payload in self.payloads {
                self.ratios_table(f, payload)?;
            }
            self.targets_table(f)?;
            self.rounds_table(f)?;
            writeln!(f)?;
        }
        if !self.streaming.is_empty() {
            for &payload in self.payloads {
                self.streams_table(f, payload)?;
            }
            for &payload in self.payloads {
                self.stream_ratios_table(f, payload)?;
            }
            self.stream_rounds_table(f)?;
        }
        Ok(())
    }
}

/// A one-line summary of a sample, for progress.
pub fn one_line(sample: &Sample) -> String {
    // A streaming system's rates are of messages: streams times messages.
    let messages = f64::from(sample.system.messages_per_call());
    let (unit, load) = if sample.system.is_streaming() {
        (" msgs", "streams")
    } else {
        ("", "in flight")
    };
    let mut line = format!(
        "seq p50 {:.0} us, p99 {:.0} us, {}{unit}",
        sample.sequential.p50_us,
        sample.sequential.p99_us,
        rate(sample.sequential.calls_per_s * messages)
    );
    for loaded in &sample.loaded {
        let _ = write!(
            line,
            "; {} {load} {}{unit}",
            loaded.in_flight,
            rate(loaded.calls_per_s * messages)
        );
    }
    let rss = &sample.peak_rss;
    if let Some(worker) = rss.worker_kib {
        let _ = write!(line, "; worker RSS {}", mib(worker as f64));
    }
    let _ = write!(line, "; client RSS {}", mib(rss.client_kib as f64));
    if sample.disturbed() {
        let elsewhere = sample.elsewhere_cores();
        let _ = write!(
            line,
            "; DISTURBED: other processes used {elsewhere:.2} cores"
        );
    }
    line
}

/// `12.3k/s`.
fn rate(calls_per_s: f64) -> String {
    format!("{:.1}k/s", calls_per_s / 1000.0)
}

/// `12.3 MiB`, from KiB.
fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

/// `ours ÷ theirs` as `1.23x`.
fn ratio(ours: f64, theirs: f64) -> String {
    format!("{:.2}x", ours / theirs)
}
