//! The performance targets of `shared/DESIGN.md`, checked against the
//! medians: met or not, and by how much.

use std::fmt::{self, Write as _};

use super::Report;
use super::medians::Medians;
use crate::systems::System;

/// The most sequential p50 of redis-bus may be, in Redis PINGs.
const LATENCY_TARGET: f64 = 2.5;

/// The least throughput of redis-bus may be, in list RPC floors.
const FLOOR_TARGET: f64 = 0.8;

/// The most the sequential p50 of a cache hit may be, in Redis GETs.
const CACHE_HIT_TARGET: f64 = 1.3;

impl Report<'_> {
    /// The performance targets, met or not, per payload size.
    pub(super) fn targets_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.heaviest;
        writeln!(f, "### Targets ({n} in flight where it applies)\n")?;
        let sizes: String = self.payloads.iter().map(|p| format!(" {p} B |")).collect();
        writeln!(f, "| target |{sizes}")?;
        writeln!(f, "| --- |{}", " --- |".repeat(self.payloads.len()))?;
        let targets: [(String, System, System, Figure, Bound); 7] = [
            (
                format!("seq p50 ≤ {LATENCY_TARGET}x Redis PING"),
                System::RedisBus,
                System::Ping,
                Figure::SequentialP50,
                Bound::AtMost(LATENCY_TARGET),
            ),
            (
                format!("calls/s ≥ {FLOOR_TARGET}x list RPC floor"),
                System::RedisBus,
                System::List,
                Figure::HeaviestThroughput,
                Bound::AtLeast(FLOOR_TARGET),
            ),
            (
                "calls/s ≥ NATS request-reply".into(),
                System::RedisBus,
                System::Nats,
                Figure::HeaviestThroughput,
                Bound::AtLeast(1.0),
            ),
            (
                "calls/s ≥ tonic unary".into(),
                System::RedisBus,
                System::Tonic,
                Figure::HeaviestThroughput,
                Bound::AtLeast(1.0),
            ),
            (
                "worker peak RSS ≤ tonic server".into(),
                System::RedisBus,
                System::Tonic,
                Figure::WorkerRss,
                Bound::AtMost(1.0),
            ),
            (
                "client peak RSS ≤ tonic client".into(),
                System::RedisBus,
                System::Tonic,
                Figure::ClientRss,
                Bound::AtMost(1.0),
            ),
            (
                format!("cache hit seq p50 ≤ {CACHE_HIT_TARGET}x Redis GET"),
                System::CacheHit,
                System::Get,
                Figure::SequentialP50,
                Bound::AtMost(CACHE_HIT_TARGET),
            ),
        ];
        for (name, ours, peer, figure, bound) in &targets {
            let mut row = format!("| {name} |");
            for &payload in self.payloads {
                let bus = self.medians(*ours, payload);
                let them = self.medians(*peer, payload);
                let cell = match (bus, them) {
                    (Some(bus), Some(them)) => {
                        bound.verdict(bus.figure(*figure), them.figure(*figure))
                    }
                    _ => "not run".into(),
                };
                let _ = write!(row, " {cell} |");
            }
            writeln!(f, "{row}")?;
        }
        writeln!(f)
    }
}

/// A figure of the medians that a target is about.
#[derive(Debug, Clone, Copy)]
enum Figure {
    /// Sequential p50.
    SequentialP50,
    /// Throughput under the heaviest load.
    HeaviestThroughput,
    /// Worker peak RSS.
    WorkerRss,
    /// Client peak RSS.
    ClientRss,
}

impl Medians {
    /// The value of `figure`, if measured.
    fn figure(&self, figure: Figure) -> Option<f64> {
        match figure {
            Figure::SequentialP50 => Some(self.p50_us),
            Figure::HeaviestThroughput => self.calls_per_s.last().copied().flatten(),
            Figure::WorkerRss => self.worker_kib,
            Figure::ClientRss => Some(self.client_kib),
        }
    }
}

/// How redis-bus's figure must compare with a peer's.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// At most this many times the peer's.
    AtMost(f64),
    /// At least this many times the peer's.
    AtLeast(f64),
}

impl Bound {
    /// `1.23x: met`, or why it cannot be said.
    fn verdict(self, ours: Option<f64>, theirs: Option<f64>) -> String {
        let (Some(ours), Some(theirs)) = (ours, theirs) else {
            return "not measured".into();
        };
        let times = ours / theirs;
        let met = match self {
            Bound::AtMost(bound) => times <= bound,
            Bound::AtLeast(bound) => times >= bound,
        };
        format!("{times:.2}x: {}", if met { "met" } else { "NOT met" })
    }
}
