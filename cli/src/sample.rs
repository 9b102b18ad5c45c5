//! A sample of a bus (every method's counters and each service's live
//! instances, read at one moment), and the rates between two samples: how
//! `top` and `stats --window` tell what happens now rather than since the
//! bus began.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use redis_bus::{Bus, Code, MethodStats};

use crate::failure::Failure;
use crate::human;

/// The bus at one moment.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// When it was read.
    pub(crate) at: Instant,
    /// Every method's counters since the bus began, by full name.
    pub(crate) methods: BTreeMap<String, MethodStats>,
    /// Live instances by service.
    pub(crate) instances: BTreeMap<String, usize>,
    /// Requests waiting for a worker, by service (all major versions).
    pub(crate) queued: BTreeMap<String, u64>,
}

impl Sample {
    /// Reads the counters of every method, and (when `instances` is `None`)
    /// the live instances; `Some` reuses instances read before, which cost
    /// Redis more than the counters do.
    pub(crate) async fn take(
        bus: &Bus,
        instances: Option<BTreeMap<String, usize>>,
    ) -> Result<Sample, Failure> {
        let discovery = bus.discovery();
        let stats = discovery.stats().await?;
        let mut queued: BTreeMap<String, u64> = BTreeMap::new();
        for queue in discovery.queue_depths().await? {
            *queued.entry(queue.service).or_default() += queue.waiting;
        }
        let instances = match instances {
            Some(instances) => instances,
            None => discovery
                .services()
                .await?
                .into_iter()
                .map(|service| (service.name, service.instances))
                .collect(),
        };
        Ok(Sample {
            at: Instant::now(),
            methods: stats
                .into_iter()
                .map(|method| (method.method.clone(), method))
                .collect(),
            instances,
            queued,
        })
    }
}

/// What one method did between two samples.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rate {
    /// `package.Service/Method`.
    pub(crate) method: String,
    /// Requests per second: cache hits and handler runs.
    pub(crate) requests: f64,
    /// Handler runs per second.
    pub(crate) runs: f64,
    /// Failed calls per second.
    pub(crate) errors: f64,
    /// Cache hits among the lookups of the window, when there were any.
    pub(crate) hit_ratio: Option<f64>,
    /// The counts of the window alone (latency buckets included), for its
    /// quantiles.
    pub(crate) window: MethodStats,
    /// Live instances of the method's service.
    pub(crate) instances: usize,
    /// Requests waiting in the queue of the method's service, at the
    /// second sample.
    pub(crate) queued: u64,
    /// The last failure since the bus began, as `CODE: message`.
    pub(crate) last_error: Option<String>,
}

impl Rate {
    /// The rate for scripts: `{method, requests_per_s, handler_runs_per_s,
    /// errors_per_s, errors_by_code, cache_hit_ratio, call_p50_us,
    /// call_p99_us, handling_p50_us, handling_p99_us, instances, queued,
    /// last_error}`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let micros = |latency: Option<Duration>| latency.map(|l| l.as_micros() as u64);
        let window = &self.window;
        serde_json::json!({
            "method": self.method,
            "requests_per_s": self.requests,
            "handler_runs_per_s": self.runs,
            "errors_per_s": self.errors,
            "errors_by_code": codes_json(&window.errors_by_code),
            "cache_hit_ratio": self.hit_ratio,
            "call_p50_us": micros(window.call_latency_quantile(0.5)),
            "call_p99_us": micros(window.call_latency_quantile(0.99)),
            "handling_p50_us": micros(window.latency_quantile(0.5)),
            "handling_p99_us": micros(window.latency_quantile(0.99)),
            "instances": self.instances,
            "queued": self.queued,
            "last_error": self.last_error,
        })
    }
}

/// The rate of every method in `after`, from `before` (a method that
/// `before` lacks started at zero). Counters that went down (the bus was
/// cleaned up) count from zero again.
pub(crate) fn rates(before: &Sample, after: &Sample) -> Vec<Rate> {
    let seconds = after
        .at
        .saturating_duration_since(before.at)
        .as_secs_f64()
        .max(1e-3);
    let zero = MethodStats::default();
    after
        .methods
        .values()
        .map(|now| {
            let then = before.methods.get(&now.method).unwrap_or(&zero);
            let window = difference(then, now);
            let lookups = window.cache_hits + window.cache_misses;
            let service = now
                .method
                .split_once('/')
                .map_or("", |(service, _)| service);
            Rate {
                method: now.method.clone(),
                requests: (window.calls + window.cache_hits) as f64 / seconds,
                runs: window.calls as f64 / seconds,
                errors: window.errors as f64 / seconds,
                hit_ratio: (lookups > 0).then(|| window.cache_hits as f64 / lookups as f64),
                instances: after.instances.get(service).copied().unwrap_or(0),
                queued: after.queued.get(service).copied().unwrap_or(0),
                last_error: now.last_error.clone(),
                window,
            }
        })
        .collect()
}

/// `now`'s counts less `then`'s; all of `now` when a counter went down.
fn difference(then: &MethodStats, now: &MethodStats) -> MethodStats {
    let went_down = now.calls < then.calls || now.cache_hits < then.cache_hits;
    let then = if went_down {
        &MethodStats::default()
    } else {
        then
    };
    let mut window = now.clone();
    window.calls = now.calls.saturating_sub(then.calls);
    window.errors = now.errors.saturating_sub(then.errors);
    window.cache_hits = now.cache_hits.saturating_sub(then.cache_hits);
    window.cache_misses = now.cache_misses.saturating_sub(then.cache_misses);
    window.cache_stores = now.cache_stores.saturating_sub(then.cache_stores);
    subtract(&mut window.latency, &then.latency);
    subtract(&mut window.call_latency, &then.call_latency);
    subtract(&mut window.errors_by_code, &then.errors_by_code);
    window.errors_by_code.retain(|(_, count)| *count > 0);
    window
        .errors_by_code
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_i32().cmp(&b.0.as_i32())));
    window
}

/// Takes from each count of `now` the count of the same key in `then`.
fn subtract<K: PartialEq>(now: &mut [(K, u64)], then: &[(K, u64)]) {
    for (key, count) in now {
        let before = then
            .iter()
            .find(|(other, _)| other == key)
            .map_or(0, |(_, count)| *count);
        *count = count.saturating_sub(before);
    }
}

/// Failures by code for a table: the two most frequent, then how many
/// more codes there were: `OUT_OF_RANGE 3, UNKNOWN 1 (+1 more)`; empty
/// without failures.
pub(crate) fn codes(by_code: &[(Code, u64)]) -> String {
    const SHOWN: usize = 2;
    let mut text = by_code
        .iter()
        .take(SHOWN)
        .map(|(code, count)| format!("{} {count}", code.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    if by_code.len() > SHOWN {
        text.push_str(&format!(" (+{} more)", by_code.len() - SHOWN));
    }
    text
}

/// Failures by code for scripts: `{"OUT_OF_RANGE": 3, ...}`.
pub(crate) fn codes_json(by_code: &[(Code, u64)]) -> serde_json::Value {
    by_code
        .iter()
        .map(|(code, count)| (code.as_str().to_owned(), serde_json::Value::from(*count)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A handling-time quantile of `stats`, as [`shown`] writes it.
pub(crate) fn quantile(stats: &MethodStats, quantile: f64) -> String {
    shown(&stats.latency, stats.latency_quantile(quantile))
}

/// A whole-call quantile of `stats`, as [`shown`] writes it.
pub(crate) fn call_quantile(stats: &MethodStats, quantile: f64) -> String {
    shown(&stats.call_latency, stats.call_latency_quantile(quantile))
}

/// A quantile of the buckets `latency`, as the bound of its bucket; `-`
/// without calls, and `>` the largest bound when slower than it.
pub(crate) fn shown(latency: &[(Option<u64>, u64)], quantile: Option<Duration>) -> String {
    let recorded: u64 = latency.iter().map(|(_, count)| count).sum();
    if recorded == 0 {
        return "-".to_owned();
    }
    match quantile {
        Some(latency) => human::latency(latency),
        None => {
            let largest = latency.iter().filter_map(|(bound, _)| *bound).max();
            match largest {
                Some(bound) => format!(">{}", human::latency(Duration::from_micros(bound))),
                None => "-".to_owned(),
            }
        }
    }
}

/// A rate for a table: `0`, `0.4`, `12`, `3.2k`.
pub(crate) fn per_second(rate: f64) -> String {
    if rate == 0.0 {
        "0".to_owned()
    } else if rate < 10.0 {
        format!("{rate:.1}")
    } else if rate < 10_000.0 {
        format!("{rate:.0}")
    } else {
        format!("{:.1}k", rate / 1_000.0)
    }
}

/// A ratio as a percentage, `-` without lookups.
pub(crate) fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".to_owned(), |ratio| format!("{:.0}%", ratio * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(method: &str, calls: u64, hits: u64, misses: u64, fast: u64) -> MethodStats {
        let mut stats = MethodStats::default();
        stats.method = method.to_owned();
        stats.calls = calls;
        stats.cache_hits = hits;
        stats.cache_misses = misses;
        stats.latency = vec![(Some(100), fast), (Some(250), 1), (None, 0)];
        stats
    }

    fn sample(at: Instant, methods: Vec<MethodStats>) -> Sample {
        Sample {
            at,
            methods: methods.into_iter().map(|m| (m.method.clone(), m)).collect(),
            instances: [("math.Math".to_owned(), 2)].into(),
            queued: [("math.Math".to_owned(), 7)].into(),
        }
    }

    #[test]
    fn rates_count_the_window_only() {
        let start = Instant::now();
        let before = sample(start, vec![stats("math.Math/Sum", 10, 5, 5, 9)]);
        let after = sample(
            start + Duration::from_secs(2),
            vec![
                stats("math.Math/Sum", 30, 25, 15, 29),
                stats("random.Random/Uuid", 4, 0, 0, 3),
            ],
        );
        let rates = rates(&before, &after);
        let sum = &rates[0];
        assert_eq!(sum.method, "math.Math/Sum");
        assert_eq!((sum.requests, sum.runs), (20.0, 10.0));
        assert_eq!(sum.hit_ratio, Some(20.0 / 30.0));
        assert_eq!((sum.instances, sum.queued), (2, 7));
        assert_eq!(quantile(&sum.window, 0.99), "100µs");
        let uuid = &rates[1];
        assert_eq!(
            (uuid.requests, uuid.hit_ratio, uuid.instances),
            (2.0, None, 0)
        );
        assert_eq!(quantile(&uuid.window, 0.99), "250µs");
    }

    #[test]
    fn counters_that_went_down_start_again() {
        let start = Instant::now();
        let before = sample(start, vec![stats("math.Math/Sum", 100, 0, 0, 99)]);
        let after = sample(
            start + Duration::from_secs(1),
            vec![stats("math.Math/Sum", 3, 0, 0, 2)],
        );
        assert_eq!(rates(&before, &after)[0].runs, 3.0);
    }

    #[test]
    fn numbers_read_at_a_glance() {
        assert_eq!(per_second(0.0), "0");
        assert_eq!(per_second(0.44), "0.4");
        assert_eq!(per_second(123.4), "123");
        assert_eq!(per_second(31_250.0), "31.2k");
        assert_eq!(percent(Some(0.5)), "50%");
        assert_eq!(percent(None), "-");
    }

    #[test]
    fn the_window_counts_failures_by_code_of_its_own() {
        let start = Instant::now();
        let mut then = stats("random.Random/Error", 10, 0, 0, 9);
        then.errors_by_code = vec![(Code::Unknown, 8), (Code::Internal, 2)];
        let mut now = stats("random.Random/Error", 20, 0, 0, 19);
        now.errors_by_code = vec![(Code::Unknown, 9), (Code::Internal, 6), (Code::NotFound, 3)];
        now.call_latency = vec![(Some(100), 5), (None, 0)];
        let rates = rates(&sample(start, vec![then]), &sample(start, vec![now]));
        let window = &rates[0].window;
        assert_eq!(
            window.errors_by_code,
            vec![(Code::Internal, 4), (Code::NotFound, 3), (Code::Unknown, 1)]
        );
        assert_eq!(
            codes(&window.errors_by_code),
            "INTERNAL 4, NOT_FOUND 3 (+1 more)"
        );
        assert_eq!(codes(&[]), "");
        assert_eq!(call_quantile(window, 0.5), "100µs");
        assert_eq!(
            rates[0].to_json()["errors_by_code"],
            serde_json::json!({"INTERNAL": 4, "NOT_FOUND": 3, "UNKNOWN": 1})
        );
    }

    #[test]
    fn latencies_beyond_the_last_bucket_say_so() {
        let mut slow = MethodStats::default();
        slow.latency = vec![(Some(10_000_000), 0), (None, 1)];
        assert_eq!(quantile(&slow, 0.5), ">10s");
    }
}
