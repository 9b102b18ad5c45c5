//! Per-method statistics as tools read them: counters and latency buckets
//! that every client and worker of a bus add into, in batches; and each
//! live worker's own counts.

use std::time::Duration;

use crate::seam::status::Code;

/// The upper bounds of the latency buckets, in microseconds; a last bucket
/// holds everything slower.
pub(crate) const LATENCY_BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// The statistics of one method, summed over every process of the bus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodStats {
    /// `package.Service/Method`.
    pub method: String,
    /// Calls that workers handled (ran or refused).
    pub calls: u64,
    /// Calls that failed, whatever the reason.
    pub errors: u64,
    /// The failed calls by status code, the most frequent first: what the
    /// handlers returned and what the workers answered without running one
    /// (`DEADLINE_EXCEEDED` for a call whose caller had stopped waiting,
    /// `INVALID_ARGUMENT` for a request that does not decode, ...).
    pub errors_by_code: Vec<(Code, u64)>,
    /// How many calls took at most each bound (microseconds), and (`None`)
    /// how many took longer: the handling time on the workers.
    pub latency: Vec<(Option<u64>, u64)>,
    /// How long callers waited for their calls, bucketed as `latency`: the
    /// whole call as the clients timed it (queueing, cache hits and
    /// failures included), as they report it every second.
    pub call_latency: Vec<(Option<u64>, u64)>,
    /// The last failure, as `CODE: message`.
    pub last_error: Option<String>,
    /// Calls answered from the cache, without a worker.
    pub cache_hits: u64,
    /// Calls that looked in the cache and found nothing current.
    pub cache_misses: u64,
    /// Replies that workers stored in the cache.
    pub cache_stores: u64,
}

impl MethodStats {
    /// The latency that a fraction `quantile` (e.g. 0.99) of calls stayed
    /// within, rounded up to a bucket bound; `None` without calls, or when
    /// it falls in the last bucket (slower than the largest bound).
    pub fn latency_quantile(&self, quantile: f64) -> Option<Duration> {
        latency_quantile(&self.latency, quantile)
    }

    /// As [`MethodStats::latency_quantile`], for the whole call as callers
    /// waited for it (`call_latency`).
    pub fn call_latency_quantile(&self, quantile: f64) -> Option<Duration> {
        latency_quantile(&self.call_latency, quantile)
    }
}

/// What one live worker did for one method since it started: its own
/// handler runs, apart from the other workers'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceStats {
    /// The worker's id on the bus.
    pub instance: String,
    /// `package.Service/Method`.
    pub method: String,
    /// Calls the worker handled (ran or refused).
    pub calls: u64,
    /// Of those, calls that failed.
    pub errors: u64,
    /// Handling times, bucketed as in [`MethodStats::latency`].
    pub latency: Vec<(Option<u64>, u64)>,
}

impl InstanceStats {
    /// As [`MethodStats::latency_quantile`], for this worker's calls.
    pub fn latency_quantile(&self, quantile: f64) -> Option<Duration> {
        latency_quantile(&self.latency, quantile)
    }
}

/// The latency that a fraction `quantile` of the calls of `latency` stayed
/// within (see [`MethodStats::latency_quantile`]).
fn latency_quantile(latency: &[(Option<u64>, u64)], quantile: f64) -> Option<Duration> {
    let total: u64 = latency.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return None;
    }
    let wanted = (quantile.clamp(0.0, 1.0) * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (bound, count) in latency {
        seen += count;
        if seen >= wanted {
            return bound.map(Duration::from_micros);
        }
    }
    None
}

/// How many status codes there are (`OK` = 0 to `UNAUTHENTICATED` = 16).
pub(crate) const CODES: usize = 17;

/// Every code by its gRPC number, to count failures by.
pub(crate) fn code_of(index: usize) -> Code {
    Code::from_i32(index as i32)
}

/// The index of the bucket of a call that took `elapsed`.
pub(crate) fn bucket(elapsed: Duration) -> usize {
    let micros = elapsed.as_micros() as u64;
    LATENCY_BOUNDS_US
        .iter()
        .position(|&bound| micros <= bound)
        .unwrap_or(LATENCY_BOUNDS_US.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_round_up_to_bucket_bounds() {
        let mut latency: Vec<(Option<u64>, u64)> =
            LATENCY_BOUNDS_US.iter().map(|&b| (Some(b), 0)).collect();
        latency.push((None, 0));
        latency[bucket(Duration::from_micros(90))].1 = 98;
        latency[bucket(Duration::from_millis(40))].1 = 2;
        let stats = MethodStats {
            latency,
            ..Default::default()
        };
        assert_eq!(
            stats.latency_quantile(0.5),
            Some(Duration::from_micros(100))
        );
        assert_eq!(
            stats.latency_quantile(0.99),
            Some(Duration::from_millis(50))
        );
        assert_eq!(MethodStats::default().latency_quantile(0.5), None);
    }
}
