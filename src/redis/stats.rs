//! Statistics recorded by this process, sent to Redis in batches.
//!
//! Clients and workers count into memory; a task adds the counts into each
//! method's hash with `HINCRBY` once per interval (and on demand), so that
//! any number of processes add into the same counters and no call pays a
//! round trip for its statistics.
//!
//! Only workers write the statistics hashes. What only a client sees (its
//! cache hits and misses) it reports instead: one line per method and
//! interval pushed onto the service's `reports` list, which an application
//! may push to and nothing more; the service's workers take the reports,
//! check them against the methods they serve, and add them in.

use std::collections::HashMap;
use std::sync::{Mutex, Weak};
use std::time::Duration;

use redis::aio::ConnectionLike;

use super::keys::Keys;
use crate::redis::shared::SharedConnection;
use crate::seam::info::ServiceInfo;
use crate::seam::stats::{LATENCY_BOUNDS_US, MethodStats, bucket};
use crate::seam::status::Status;

/// The number of latency buckets: one per bound, and one for slower calls.
const BUCKETS: usize = LATENCY_BOUNDS_US.len() + 1;

/// Counts not yet sent, by method.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pending: Mutex<HashMap<&'static str, Counters>>,
    /// Cache hits and misses seen by this client, to report, by service
    /// (name and major version) and method.
    seen: Mutex<HashMap<Seen, (u64, u64)>>,
}

/// A method as a client reports on it.
type Seen = (&'static str, u64, &'static str);

/// The most a report may count, for a worker to believe it.
pub(crate) const MAX_REPORTED: u64 = 1 << 40;

/// The counts of one method since the last flush.
#[derive(Debug, Default, Clone)]
struct Counters {
    calls: u64,
    errors: u64,
    latency: [u64; BUCKETS],
    last_error: Option<String>,
    cache_hits: u64,
    cache_misses: u64,
    cache_stores: u64,
}

impl Counters {
    /// Adds `other` (older counts) into `self`.
    fn absorb(&mut self, other: Counters) {
        self.calls += other.calls;
        self.errors += other.errors;
        for (mine, theirs) in self.latency.iter_mut().zip(other.latency) {
            *mine += theirs;
        }
        if self.last_error.is_none() {
            self.last_error = other.last_error;
        }
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        self.cache_stores += other.cache_stores;
    }
}

impl Stats {
    /// A call of `method` that a worker handled in `elapsed`, with
    /// `outcome`.
    pub(crate) fn call(
        &self,
        method: &'static str,
        elapsed: Duration,
        outcome: Result<(), &Status>,
    ) {
        self.count(method, |c| {
            c.calls += 1;
            c.latency[bucket(elapsed)] += 1;
            if let Err(status) = outcome {
                c.errors += 1;
                c.last_error = Some(status.to_string());
            }
        });
    }

    /// A call of `method` of `service` answered from the cache.
    pub(crate) fn cache_hit(&self, service: &'static ServiceInfo, method: &'static str) {
        #[cfg(feature = "metrics")]
        metrics::counter!("redis_bus_cache_hits_total", "method" => method).increment(1);
        self.see(service, method, |seen| seen.0 += 1);
    }

    /// A call of `method` of `service` that missed the cache.
    pub(crate) fn cache_miss(&self, service: &'static ServiceInfo, method: &'static str) {
        #[cfg(feature = "metrics")]
        metrics::counter!("redis_bus_cache_misses_total", "method" => method).increment(1);
        self.see(service, method, |seen| seen.1 += 1);
    }

    fn see(
        &self,
        service: &'static ServiceInfo,
        method: &'static str,
        add: impl FnOnce(&mut (u64, u64)),
    ) {
        let key = (service.name, service.major_version(), method);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        add(seen.entry(key).or_default());
    }

    /// Adds what a client reported on `method`, which the worker serves.
    pub(crate) fn reported(&self, method: &'static str, hits: u64, misses: u64) {
        self.count(method, |c| {
            c.cache_hits += hits;
            c.cache_misses += misses;
        });
    }

    /// A reply of `method` stored in the cache.
    pub(crate) fn cache_store(&self, method: &'static str) {
        self.count(method, |c| c.cache_stores += 1);
    }

    fn count(&self, method: &'static str, add: impl FnOnce(&mut Counters)) {
        add(self.lock().entry(method).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Counters>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the pending counts into Redis, and pushes this client's
    /// reports.
    pub(crate) async fn flush(
        &self,
        connection: &mut impl ConnectionLike,
        keys: &Keys,
    ) -> redis::RedisResult<()> {
        let seen = std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()));
        if !seen.is_empty() {
            let mut pipe = redis::pipe();
            for ((service, major, method), (hits, misses)) in &seen {
                pipe.cmd("RPUSH")
                    .arg(keys.service(service, *major).reports())
                    .arg(format!("{hits} {misses} {method}"))
                    .ignore();
            }
            if let Err(error) = pipe.query_async::<()>(connection).await {
                // Kept for the next flush.
                let mut again = self.seen.lock().unwrap_or_else(|p| p.into_inner());
                for (key, (hits, misses)) in seen {
                    let counts = again.entry(key).or_default();
                    counts.0 += hits;
                    counts.1 += misses;
                }
                return Err(error);
            }
        }
        let pending = std::mem::take(&mut *self.lock());
        if pending.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (method, counters) in &pending {
            pipe.cmd("SADD")
                .arg(keys.stats_methods())
                .arg(*method)
                .ignore();
            let key = keys.stats(method);
            let mut fields = vec![
                ("calls".to_owned(), counters.calls),
                ("errors".to_owned(), counters.errors),
                ("cache_hits".to_owned(), counters.cache_hits),
                ("cache_misses".to_owned(), counters.cache_misses),
                ("cache_stores".to_owned(), counters.cache_stores),
            ];
            fields.extend(
                counters
                    .latency
                    .iter()
                    .enumerate()
                    .map(|(index, &count)| (latency_field(index), count)),
            );
            for (field, count) in fields.into_iter().filter(|(_, count)| *count > 0) {
                pipe.cmd("HINCRBY").arg(&key).arg(field).arg(count).ignore();
            }
            if let Some(error) = &counters.last_error {
                pipe.cmd("HSET")
                    .arg(&key)
                    .arg("last_error")
                    .arg(error)
                    .ignore();
            }
        }
        let sent = pipe.query_async::<()>(connection).await;
        if sent.is_err() {
            // Put the counts back: they go with the next flush.
            let mut again = self.lock();
            for (method, counters) in pending {
                again.entry(method).or_default().absorb(counters);
            }
        }
        sent
    }
}

/// Parses a client's report, `<hits> <misses> <method>`; `None` for
/// anything else, or counts past [`MAX_REPORTED`].
pub(crate) fn parse_report(report: &str) -> Option<(u64, u64, &str)> {
    let mut parts = report.splitn(3, ' ');
    let hits: u64 = parts.next()?.parse().ok()?;
    let misses: u64 = parts.next()?.parse().ok()?;
    let method = parts.next()?;
    (hits <= MAX_REPORTED && misses <= MAX_REPORTED).then_some((hits, misses, method))
}

/// The hash field of latency bucket `index`.
fn latency_field(index: usize) -> String {
    match LATENCY_BOUNDS_US.get(index) {
        Some(bound) => format!("latency_us_le_{bound}"),
        None => "latency_us_over".to_owned(),
    }
}

/// Flushes `stats` every `interval` while it lives.
pub(crate) async fn flush_periodically(
    stats: Weak<Stats>,
    mut connection: SharedConnection,
    keys: Keys,
    interval: Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(stats) = stats.upgrade() else { return };
        if let Err(error) = stats.flush(&mut connection, &keys).await {
            tracing::warn!(%error, "sending statistics failed; they go with the next flush");
        }
    }
}

/// The statistics of every method of the bus, with the clients' reports
/// that no worker has taken yet (so that a flush shows at once, with or
/// without a live worker).
pub(crate) async fn read(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
) -> redis::RedisResult<Vec<MethodStats>> {
    let mut methods: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.stats_methods())
        .query_async(connection)
        .await?;
    let reported = untaken_reports(connection, keys).await;
    for method in reported.keys() {
        if !methods.contains(method) {
            methods.push(method.clone());
        }
    }
    methods.sort();
    if methods.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for method in &methods {
        pipe.cmd("HGETALL").arg(keys.stats(method));
    }
    let hashes: Vec<HashMap<String, String>> = pipe.query_async(connection).await?;
    Ok(methods
        .into_iter()
        .zip(hashes)
        .map(|(method, mut fields)| {
            let count = |field: &str| {
                fields
                    .get(field)
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(0)
            };
            let latency = (0..BUCKETS)
                .map(|index| {
                    (
                        LATENCY_BOUNDS_US.get(index).copied(),
                        count(&latency_field(index)),
                    )
                })
                .collect();
            let (hits, misses) = reported.get(&method).copied().unwrap_or_default();
            MethodStats {
                calls: count("calls"),
                errors: count("errors"),
                latency,
                cache_hits: count("cache_hits") + hits,
                cache_misses: count("cache_misses") + misses,
                cache_stores: count("cache_stores"),
                last_error: fields.remove("last_error"),
                method,
            }
        })
        .collect())
}

/// The hits and misses in clients' reports that no worker took yet, by
/// method; reports a reader may not see (an ACL) count as none.
async fn untaken_reports(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
) -> HashMap<String, (u64, u64)> {
    let mut reported = HashMap::new();
    let services: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.services())
        .query_async(connection)
        .await
        .unwrap_or_default();
    for entry in services {
        let Some((service, _, service_keys)) = keys.service_entry(&entry) else {
            continue;
        };
        let reports: Vec<String> = redis::cmd("LRANGE")
            .arg(service_keys.reports())
            .arg(0)
            .arg(-1)
            .query_async(connection)
            .await
            .unwrap_or_default();
        let prefix = [service.as_str(), "/"].concat();
        for (hits, misses, method) in reports.iter().filter_map(|r| parse_report(r)) {
            if method.starts_with(&prefix) {
                let counts: &mut (u64, u64) = reported.entry(method.to_owned()).or_default();
                counts.0 += hits;
                counts.1 += misses;
            }
        }
    }
    reported
}
