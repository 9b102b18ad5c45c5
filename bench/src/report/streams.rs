//! The streaming systems' tables: messages per second (streams completed
//! per second times the messages of a stream) with 1 and with N concurrent
//! streams, next to the same messages sent as redis-bus unary calls; each
//! redis-bus stream divided by its peers; and every round, to judge the
//! noise.

use std::fmt::{self, Write as _};

use super::medians::Medians;
use super::{Report, mib, rate, ratio};
use crate::systems::{STREAM_COMPARISONS, STREAM_MESSAGES, System};

/// One row's figures, in messages.
struct PerMessage {
    /// Messages per second one at a time: 1 stream, or 1 unary call in
    /// flight.
    alone: Option<f64>,
    /// Messages per second under the heaviest load.
    loaded: Option<f64>,
    /// CPU time per message under the heaviest load, microseconds:
    /// client, worker, daemon.
    cpu_us: [Option<f64>; 3],
}

impl PerMessage {
    /// The figures of `medians` of `system`, per message.
    fn of(system: System, medians: &Medians) -> PerMessage {
        let messages = f64::from(system.messages_per_call());
        let first = medians.calls_per_s.first().copied().flatten();
        let last = medians.calls_per_s.last().copied().flatten();
        PerMessage {
            alone: first.map(|calls| calls * messages),
            loaded: last.map(|calls| calls * messages),
            cpu_us: medians.heaviest_cpu_us.map(|us| us.map(|us| us / messages)),
        }
    }

    /// Total CPU time per message under the heaviest load.
    fn cpu_total(&self) -> f64 {
        self.cpu_us.iter().flatten().sum()
    }
}

impl Report<'_> {
    /// Concurrent streams of the heaviest streaming load.
    fn heaviest_streams(&self) -> usize {
        self.streams.last().copied().unwrap_or(1)
    }

    /// Messages per second of the streaming systems at `payload`, and of
    /// redis-bus unary calls of the same messages.
    pub(super) fn streams_table(&self, f: &mut fmt::Formatter<'_>, payload: usize) -> fmt::Result {
        let n = self.heaviest_streams();
        writeln!(
            f,
            "### Streams, {payload} B: messages per second (medians; {STREAM_MESSAGES} messages \
             per stream, {} s per measurement)\n",
            self.stream_seconds
        )?;
        writeln!(
            f,
            "| system | 1 stream | {n} streams | one stream (p50) | CPU per message at {n} \
             streams: client | worker | Redis | total | worker peak RSS | client peak RSS |"
        )?;
        writeln!(f, "| --- |{}", " ---: |".repeat(9))?;
        let mut rows: Vec<System> = self.streaming.clone();
        if self.systems.contains(&System::RedisBus) {
            rows.push(System::RedisBus);
        }
        for system in rows {
            let Some(m) = self.medians(system, payload) else {
                writeln!(f, "| {} | not run |", system.label())?;
                continue;
            };
            let figures = PerMessage::of(system, &m);
            let label = if system.is_streaming() {
                label(system).to_owned()
            } else {
                format!(
                    "{} (1 and {} calls in flight)",
                    label(system),
                    self.heaviest
                )
            };
            let cell = |rate_per_s: Option<f64>| rate_per_s.map_or("-".into(), rate);
            let mut row = format!(
                "| {label} | {} | {} | {} |",
                cell(figures.alone),
                cell(figures.loaded),
                duration(m.p50_us)
            );
            for us in figures.cpu_us {
                let _ = write!(row, " {} |", us.map_or("-".into(), |us| format!("{us:.2}")));
            }
            let worker = m.worker_kib.map_or_else(|| "-".into(), mib);
            let _ = write!(
                row,
                " {:.2} | {worker} | {} |",
                figures.cpu_total(),
                mib(m.client_kib)
            );
            writeln!(f, "{row}")?;
        }
        writeln!(
            f,
            "\n(a stream is one call of the load generator: messages per second are streams per \
             second times {STREAM_MESSAGES}; \"one stream\" is the time of a whole stream, one \
             at a time; every message is checked; redis-bus streams use a window of {} \
             messages; peak RSS under {n} streams)\n",
            self.stream_window
        )
    }

    /// Each redis-bus stream divided by its peers at `payload`, in messages
    /// per second.
    pub(super) fn stream_ratios_table(
        &self,
        f: &mut fmt::Formatter<'_>,
        payload: usize,
    ) -> fmt::Result {
        let pairs: Vec<_> = STREAM_COMPARISONS
            .iter()
            .filter_map(|&(ours, peer)| {
                let us = PerMessage::of(ours, &self.medians(ours, payload)?);
                let them = PerMessage::of(peer, &self.medians(peer, payload)?);
                Some((ours, peer, us, them))
            })
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        let n = self.heaviest_streams();
        writeln!(f, "### Streams ÷ peer, {payload} B (messages per second)\n")?;
        writeln!(
            f,
            "Messages per second: higher is better; CPU per message: lower is better. Against \
             unary calls, 1 stream is divided by 1 call in flight and {n} streams by {} calls in \
             flight.\n",
            self.heaviest
        )?;
        writeln!(
            f,
            "| ours ÷ peer | 1 stream | {n} streams | CPU per message at {n} streams |"
        )?;
        writeln!(f, "| --- | ---: | ---: | ---: |")?;
        for (ours, peer, us, them) in pairs {
            let divided = |ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
                (Some(ours), Some(theirs)) => small_ratio(ours, theirs),
                _ => "-".into(),
            };
            writeln!(
                f,
                "| {} ÷ {} | {} | {} | {} |",
                label(ours),
                label(peer),
                divided(us.alone, them.alone),
                divided(us.loaded, them.loaded),
                small_ratio(us.cpu_total(), them.cpu_total())
            )?;
        }
        writeln!(f)
    }
}

impl Report<'_> {
    /// Every round's messages per second under the heaviest streaming load.
    pub(super) fn stream_rounds_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.heaviest_streams();
        writeln!(f, "### {n} streams, every round (messages/s)\n")?;
        self.every_round(f, &self.streaming, n)
    }
}

/// The name of `system` in these tables: redis-bus's unary calls are named
/// so, next to its streams.
fn label(system: System) -> &'static str {
    match system {
        System::RedisBus => "redis-bus unary",
        other => other.label(),
    }
}

/// `ours ÷ theirs` as `1.23x`, with a third decimal below 0.1x (a stream
/// one at a time can be a few thousandths of another's rate).
fn small_ratio(ours: f64, theirs: f64) -> String {
    let times = ours / theirs;
    if times < 0.1 {
        format!("{times:.3}x")
    } else {
        ratio(ours, theirs)
    }
}

/// `123 us`, or `12.3 ms` from 10 ms on.
fn duration(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} us")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::orchestrator::RunArgs;
    use crate::sample::{CpuUse, Loaded, PeakRss, Sample, Sequential};

    /// The benchmark's command line, to get the default arguments.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    /// CPU time per call of the client alone.
    fn cpu(client_us: f64) -> CpuUse {
        CpuUse {
            client_us,
            worker_us: Some(0.0),
            daemon_us: Some(0.0),
            elsewhere_cores: 0.0,
        }
    }

    /// A sample of `system` at 64 B: `alone` calls/s one at a time, and
    /// `(in flight, calls/s, client CPU per call)` for each load.
    fn sample(system: System, alone: f64, loads: &[(usize, f64, f64)]) -> Sample {
        Sample {
            system,
            payload: 64,
            sequential: Sequential {
                p50_us: 1e6 / alone,
                p99_us: 1e6 / alone,
                calls_per_s: alone,
                calls: 1,
                cpu: cpu(0.0),
            },
            loaded: loads
                .iter()
                .map(|&(in_flight, calls_per_s, client_us)| Loaded {
                    in_flight,
                    calls_per_s,
                    cpu: cpu(client_us),
                })
                .collect(),
            peak_rss: PeakRss {
                in_flight: 1,
                client_kib: 1024,
                worker_kib: Some(1024),
            },
        }
    }

    #[test]
    fn streams_are_reported_in_messages_and_divided_by_unary_calls() {
        let mut args = Cli::parse_from(["bench"]).run;
        args.payloads = vec![64];
        let samples = [
            // 20 streams/s alone, 300 under 16 streams: 20k and 300k msgs/s;
            // 1000 us of client CPU per stream: 1 us per message.
            sample(System::RedisBusStream, 20.0, &[(16, 300.0, 1000.0)]),
            sample(
                System::RedisBus,
                5000.0,
                &[(64, 50_000.0, 8.0), (256, 90_000.0, 4.0)],
            ),
        ];
        let systems = [System::RedisBusStream, System::RedisBus];
        let report = Report::new(&samples, &systems, &args).to_string();
        let row = |start: &str| {
            report
                .lines()
                .find(|line| line.starts_with(start))
                .unwrap_or_else(|| panic!("no row {start:?} in:\n{report}"))
                .to_owned()
        };
        assert!(
            row("| redis-bus stream |")
                .starts_with("| redis-bus stream | 20.0k/s | 300.0k/s | 50.0 ms | 1.00 |"),
            "{report}"
        );
        assert!(
            row("| redis-bus unary (1 and 256 calls in flight) |").contains("| 5.0k/s | 90.0k/s |"),
            "{report}"
        );
        // 20k ÷ 5k alone, 300k ÷ 90k loaded, 1 us ÷ 4 us of CPU per message.
        assert_eq!(
            row("| redis-bus stream ÷ redis-bus unary |"),
            "| redis-bus stream ÷ redis-bus unary | 4.00x | 3.33x | 0.25x |"
        );
        // The unary tables leave the streams out.
        assert!(
            !report.contains("| redis-bus stream | 50000 us"),
            "{report}"
        );
    }
}
