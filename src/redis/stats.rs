//! Statistics recorded by this process, sent to Redis in batches.
//!
//! Clients and workers count into memory; a task adds the counts into each
//! method's hash with `HINCRBY` once per interval (and on demand), so that
//! any number of processes add into the same counters and no call pays a
//! round trip for its statistics. Each worker also adds its own handler
//! runs into a hash of its own, which lives as long as its registration
//! (renewed with each heartbeat), so a dead worker's counts go with it.
//!
//! Only workers write the statistics hashes. What only a client sees (its
//! cache hits and misses, and how long its calls took, queue and cache
//! included) it reports instead: one line per method and interval pushed
//! onto the service's `reports` list, which an application may push to
//! and nothing more; the service's workers take the reports, check them
//! against the methods they serve, and add them in.
//!
//! Every hash has a bounded number of fields: per method a few counters,
//! one per latency bucket (17, twice), and one per status code that failed
//! (at most 17).

mod counters;
mod fields;
mod read;
pub(crate) mod report;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use self::counters::{Pending, add_into};
use self::fields::BUCKETS;
pub(crate) use self::read::{read, read_instances};
use self::report::Report;
use super::keys::Keys;
use crate::redis::shared::SharedConnection;
use crate::seam::info::ServiceInfo;
use crate::seam::stats::bucket;
use crate::seam::status::Status;

/// Counts not yet sent.
#[derive(Debug)]
pub(crate) struct Stats {
    pending: Mutex<Pending>,
    /// What this client saw, to report, by service (name and major
    /// version) and method.
    seen: Mutex<HashMap<Seen, Observed>>,
    /// Services (name and major version) whose `reports` list is too long,
    /// and until when this client holds its reports back.
    held: Mutex<HashMap<(&'static str, u64), Instant>>,
    /// How long a worker's own hash lives without a renewal: its
    /// registration's lifetime.
    instance_ttl: Duration,
}

/// How many reports may wait in a service's list before a client holds its
/// own back. No worker takes them while none is live, and applications may
/// only push to the list; so a client that finds it this long keeps its
/// counts in memory (a fixed size per method) and pushes again only after
/// [`HOLD_BACK`]: during an outage each client adds one report per method
/// a minute, not one a second.
const MAX_WAITING_REPORTS: u64 = 10_000;

/// How long a client holds back the reports of a service whose list is
/// too long.
const HOLD_BACK: Duration = Duration::from_secs(60);

/// A method as a client reports on it.
type Seen = (&'static str, u64, &'static str);

/// What a client saw of one method since its last report.
#[derive(Debug, Default, Clone, Copy)]
struct Observed {
    hits: u64,
    misses: u64,
    latency: [u64; BUCKETS],
}

impl Stats {
    /// Statistics whose workers' own hashes live `instance_ttl` past each
    /// renewal.
    pub(crate) fn new(instance_ttl: Duration) -> Stats {
        Stats {
            pending: Mutex::default(),
            seen: Mutex::default(),
            held: Mutex::default(),
            instance_ttl,
        }
    }

    /// A call of `method` that worker `instance` handled in `elapsed`,
    /// with `outcome`.
    pub(crate) fn call(
        &self,
        instance: &str,
        method: &'static str,
        elapsed: Duration,
        outcome: Result<(), &Status>,
    ) {
        let bucket = bucket(elapsed);
        let mut pending = self.lock();
        let counters = pending.methods.entry(method).or_default();
        counters.calls += 1;
        counters.latency[bucket] += 1;
        if let Err(status) = outcome {
            counters.errors += 1;
            if let Some(count) = counters.by_code.get_mut(status.code().as_i32() as usize) {
                *count += 1;
            }
            counters.last_error = Some(status.to_string());
        }
        let own = match pending.instances.get_mut(instance) {
            Some(own) => own,
            None => pending.instances.entry(instance.to_owned()).or_default(),
        };
        let own = own.entry(method).or_default();
        own.calls += 1;
        own.latency[bucket] += 1;
        own.errors += u64::from(outcome.is_err());
    }

    /// A call of `method` of `service` answered from the cache.
    pub(crate) fn cache_hit(&self, service: &'static ServiceInfo, method: &'static str) {
        #[cfg(feature = "metrics")]
        metrics::counter!("redis_bus_cache_hits_total", "method" => method).increment(1);
        self.see(service, method, |seen| seen.hits += 1);
    }

    /// A call of `method` of `service` that missed the cache.
    pub(crate) fn cache_miss(&self, service: &'static ServiceInfo, method: &'static str) {
        #[cfg(feature = "metrics")]
        metrics::counter!("redis_bus_cache_misses_total", "method" => method).increment(1);
        self.see(service, method, |seen| seen.misses += 1);
    }

    /// A call of `method` of `service` that this client made, which took
    /// `elapsed` from the call to its outcome (cache hits, queueing and
    /// failures included).
    pub(crate) fn called(
        &self,
        service: &'static ServiceInfo,
        method: &'static str,
        elapsed: Duration,
    ) {
        self.see(service, method, |seen| seen.latency[bucket(elapsed)] += 1);
    }

    fn see(
        &self,
        service: &'static ServiceInfo,
        method: &'static str,
        add: impl FnOnce(&mut Observed),
    ) {
        let key = (service.name, service.major_version(), method);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        add(seen.entry(key).or_default());
    }

    /// Adds what a client reported on `method`, which the worker serves.
    pub(crate) fn reported(&self, method: &'static str, report: &Report<'_>) {
        let mut pending = self.lock();
        let counters = pending.methods.entry(method).or_default();
        counters.cache_hits += report.hits;
        counters.cache_misses += report.misses;
        add_into(&mut counters.call_latency, &report.latency);
    }

    /// A reply of `method` stored in the cache.
    pub(crate) fn cache_store(&self, method: &'static str) {
        self.lock().methods.entry(method).or_default().cache_stores += 1;
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the pending counts into Redis, and pushes this client's
    /// reports.
    pub(crate) async fn flush(
        &self,
        connection: &SharedConnection,
        keys: &Keys,
    ) -> redis::RedisResult<()> {
        self.report(connection, keys).await?;
        let pending = std::mem::take(&mut *self.lock());
        if pending.methods.is_empty() && pending.instances.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (method, counters) in &pending.methods {
            pipe.cmd("SADD")
                .arg(keys.stats_methods())
                .arg(*method)
                .ignore();
            let key = keys.stats(method);
            for (field, count) in counters.fields() {
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
        for (instance, methods) in &pending.instances {
            let key = keys.stats_instance(instance);
            for (method, own) in methods {
                for (field, count) in own.fields(method) {
                    pipe.cmd("HINCRBY").arg(&key).arg(field).arg(count).ignore();
                }
            }
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(self.instance_ttl.as_millis() as u64)
                .ignore();
        }
        // One hash tag (`{<bus>:stats}`): one send, also on a cluster.
        let sent = pipe.query_async::<()>(&mut connection.clone()).await;
        if sent.is_err() {
            // Put the counts back: they go with the next flush.
            let mut again = self.lock();
            for (method, counters) in pending.methods {
                again.methods.entry(method).or_default().absorb(counters);
            }
            for (instance, methods) in pending.instances {
                let mine = again.instances.entry(instance).or_default();
                for (method, own) in methods {
                    mine.entry(method).or_default().absorb(own);
                }
            }
        }
        sent
    }

    /// Pushes what this client saw onto the services' `reports` lists,
    /// except those of services whose list is held back (see
    /// [`MAX_WAITING_REPORTS`]): their counts wait in memory.
    async fn report(&self, connection: &SharedConnection, keys: &Keys) -> redis::RedisResult<()> {
        let now = Instant::now();
        let mut seen = std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()));
        {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.retain(|_, until| *until > now);
            let waiting: Vec<Seen> = seen
                .keys()
                .filter(|(service, major, _)| held.contains_key(&(*service, *major)))
                .copied()
                .collect();
            for key in waiting {
                if let Some(observed) = seen.remove(&key) {
                    self.keep(key, observed);
                }
            }
        }
        if seen.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for ((service, major, method), observed) in &seen {
            let Observed {
                hits,
                misses,
                latency,
            } = observed;
            pipe.cmd("RPUSH")
                .arg(keys.service(service, *major).reports())
                .arg(report::format(*hits, *misses, method, latency));
        }
        // One list per service: on a cluster each goes to its own node,
        // and a push that failed is kept alone for the next flush.
        let lengths = connection.replies_each(&pipe).await;
        let mut failure = None;
        let mut held = Vec::new();
        for ((key, observed), length) in seen.into_iter().zip(lengths) {
            match length.and_then(|length| Ok(redis::from_redis_value::<u64>(length)?)) {
                Ok(length) if length > MAX_WAITING_REPORTS => held.push((key.0, key.1)),
                Ok(_) => {}
                Err(error) => {
                    self.keep(key, observed);
                    failure.get_or_insert(error);
                }
            }
        }
        let mut holding = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for service in held {
            holding.insert(service, now + HOLD_BACK);
        }
        match failure {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    /// Adds `observed` back into what is still to report.
    fn keep(&self, key: Seen, observed: Observed) {
        let mut again = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let counts = again.entry(key).or_default();
        counts.hits += observed.hits;
        counts.misses += observed.misses;
        add_into(&mut counts.latency, &observed.latency);
    }

    /// Renews the own hash of worker `instance` with its registration, so
    /// that it lasts while the worker lives, however idle.
    pub(crate) fn renew(&self, instance: &str, keys: &Keys, pipe: &mut redis::Pipeline) {
        pipe.cmd("PEXPIRE")
            .arg(keys.stats_instance(instance))
            .arg(self.instance_ttl.as_millis() as u64)
            .ignore();
    }
}

/// Flushes `stats` every `interval` while it lives.
pub(crate) async fn flush_periodically(
    stats: Weak<Stats>,
    connection: SharedConnection,
    keys: Keys,
    interval: Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(stats) = stats.upgrade() else { return };
        if let Err(error) = stats.flush(&connection, &keys).await {
            tracing::warn!(%error, "sending statistics failed; they go with the next flush");
        }
    }
}
