//! The tables of figures: medians, CPU per call, each redis-bus system
//! divided by its peers, and every round under the heaviest load.

use std::fmt::{self, Write as _};

use super::{Report, mib, rate, ratio};
use crate::systems::COMPARISONS;
use crate::systems::System;

impl Report<'_> {
    /// The table of medians at `payload`.
    pub(super) fn medians_table(&self, f: &mut fmt::Formatter<'_>, payload: usize) -> fmt::Result {
        let rounds = self
            .systems
            .iter()
            .filter_map(|&system| self.medians(system, payload).map(|m| m.rounds))
            .max()
            .unwrap_or(0);
        writeln!(f, "### {payload} B payload: medians of {rounds} rounds\n")?;
        let loads: String = self
            .in_flight
            .iter()
            .map(|n| format!(" {n} in flight |"))
            .collect();
        writeln!(
            f,
            "| system | seq p50 | seq p99 |{loads} worker peak RSS | client peak RSS |"
        )?;
        writeln!(
            f,
            "| --- | ---: | ---: |{} ---: | ---: |",
            " ---: |".repeat(self.in_flight.len())
        )?;
        for &system in &self.systems {
            let Some(m) = self.medians(system, payload) else {
                writeln!(f, "| {} | not run |", system.label())?;
                continue;
            };
            let mut row = format!(
                "| {} | {:.0} us | {:.0} us |",
                system.label(),
                m.p50_us,
                m.p99_us
            );
            for calls in &m.calls_per_s {
                let _ = write!(row, " {} |", calls.map_or("-".into(), rate));
            }
            let worker = m.worker_kib.map_or_else(|| "-".into(), mib);
            let _ = write!(row, " {worker} | {} |", mib(m.client_kib));
            writeln!(f, "{row}")?;
        }
        writeln!(
            f,
            "\n(1 in flight is the sequential run; peak RSS under {} in flight)\n",
            self.heaviest
        )
    }

    /// Where the CPU time of a call goes, one at a time and under the
    /// heaviest load.
    pub(super) fn cpu_table(&self, f: &mut fmt::Formatter<'_>, payload: usize) -> fmt::Result {
        let n = self.heaviest;
        writeln!(f, "### CPU per call, {payload} B (us, medians)\n")?;
        writeln!(
            f,
            "| system | seq: client | worker | Redis / NATS | total | {n} in flight: client | \
             worker | Redis / NATS | total |"
        )?;
        writeln!(f, "| --- |{}", " ---: |".repeat(8))?;
        for &system in &self.systems {
            let Some(m) = self.medians(system, payload) else {
                continue;
            };
            let mut row = format!("| {} |", system.label());
            for cpu in [m.sequential_cpu_us, m.heaviest_cpu_us] {
                for us in cpu {
                    let _ = write!(row, " {} |", us.map_or("-".into(), |us| format!("{us:.1}")));
                }
                let total: f64 = cpu.iter().flatten().sum();
                let _ = write!(row, " {total:.1} |");
            }
            writeln!(f, "{row}")?;
        }
        writeln!(
            f,
            "\n(CPU time of each process divided by the calls it served; with 2 cores shared, \
             throughput is bounded by about 2 s / total)\n"
        )
    }

    /// Each redis-bus system divided by the peers it is compared with, at
    /// `payload`.
    pub(super) fn ratios_table(&self, f: &mut fmt::Formatter<'_>, payload: usize) -> fmt::Result {
        let pairs: Vec<_> = COMPARISONS
            .iter()
            .filter_map(|&(ours, peer)| {
                Some((
                    ours,
                    peer,
                    self.medians(ours, payload)?,
                    self.medians(peer, payload)?,
                ))
            })
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        writeln!(f, "### redis-bus ÷ peer, {payload} B\n")?;
        writeln!(
            f,
            "Latency and RSS: lower is better; throughput: higher is better.\n"
        )?;
        let loads: String = self
            .in_flight
            .iter()
            .map(|n| format!(" {n} in flight |"))
            .collect();
        writeln!(
            f,
            "| ours ÷ peer | seq p50 |{loads} worker RSS | client RSS |"
        )?;
        writeln!(
            f,
            "| --- | ---: |{} ---: | ---: |",
            " ---: |".repeat(self.in_flight.len())
        )?;
        for (ours, peer, us, them) in pairs {
            let mut row = format!(
                "| {} ÷ {} | {} |",
                ours.label(),
                peer.label(),
                ratio(us.p50_us, them.p50_us)
            );
            for (ours, theirs) in us.calls_per_s.iter().zip(&them.calls_per_s) {
                let cell = match (ours, theirs) {
                    (Some(ours), Some(theirs)) => ratio(*ours, *theirs),
                    _ => "-".into(),
                };
                let _ = write!(row, " {cell} |");
            }
            let worker = match (us.worker_kib, them.worker_kib) {
                (Some(ours), Some(theirs)) => ratio(ours, theirs),
                _ => "-".into(),
            };
            let _ = write!(
                row,
                " {worker} | {} |",
                ratio(us.client_kib, them.client_kib)
            );
            writeln!(f, "{row}")?;
        }
        writeln!(f)
    }

    /// Every round's throughput under the heaviest load.
    pub(super) fn rounds_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.heaviest;
        writeln!(f, "### {n} in flight, every round (calls/s)\n")?;
        self.every_round(f, &self.systems, n)
    }

    /// The rows of `systems` at `n` in flight (calls or streams), one rate
    /// per round, in messages per second (a unary call is one message).
    pub(super) fn every_round(
        &self,
        f: &mut fmt::Formatter<'_>,
        systems: &[System],
        n: usize,
    ) -> fmt::Result {
        let sizes: String = self.payloads.iter().map(|p| format!(" {p} B |")).collect();
        writeln!(f, "| system |{sizes}")?;
        writeln!(f, "| --- |{}", " --- |".repeat(self.payloads.len()))?;
        for &system in systems {
            let messages = f64::from(system.messages_per_call());
            let mut row = format!("| {} |", system.label());
            for &payload in self.payloads {
                let rounds: Vec<String> = self
                    .samples
                    .iter()
                    .filter(|s| s.system == system && s.payload == payload)
                    .filter_map(|s| s.loaded.iter().find(|l| l.in_flight == n))
                    .map(|loaded| rate(loaded.calls_per_s * messages))
                    .collect();
                let _ = write!(row, " {} |", rounds.join(", "));
            }
            writeln!(f, "{row}")?;
        }
        Ok(())
    }
}
