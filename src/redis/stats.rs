//! Statistics recorded by this process, sent to Redis in batches.
//!
//! Clients and workers count into memory; a task adds the counts into each
//! method's hash with `HINCRBY` once per interval (and on demand), so that
//! any number of processes add into the same counters and no call pays a
//! round trip for its statistics.

use std::collections::HashMap;
use std::sync::{Mutex, Weak};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};

use super::keys::Keys;
use crate::stats::MethodStats;

/// Counts not yet sent, by method.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pending: Mutex<HashMap<&'static str, Counters>>,
}

/// The counts of one method since the last flush.
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    cache_hits: u64,
    cache_misses: u64,
    cache_stores: u64,
}

impl Stats {
    /// A call of `method` answered from the cache.
    pub(crate) fn cache_hit(&self, method: &'static str) {
        self.count(method, |c| c.cache_hits += 1);
    }

    /// A call of `method` that missed the cache.
    pub(crate) fn cache_miss(&self, method: &'static str) {
        self.count(method, |c| c.cache_misses += 1);
    }

    /// A reply of `method` stored in the cache.
    pub(crate) fn cache_store(&self, method: &'static str) {
        self.count(method, |c| c.cache_stores += 1);
    }

    fn count(&self, method: &'static str, add: impl FnOnce(&mut Counters)) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        add(pending.entry(method).or_default());
    }

    /// Adds the pending counts into Redis.
    pub(crate) async fn flush(
        &self,
        connection: &mut impl ConnectionLike,
        keys: &Keys,
    ) -> redis::RedisResult<()> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
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
            for (field, count) in [
                ("cache_hits", counters.cache_hits),
                ("cache_misses", counters.cache_misses),
                ("cache_stores", counters.cache_stores),
            ] {
                if count > 0 {
                    pipe.cmd("HINCRBY").arg(&key).arg(field).arg(count).ignore();
                }
            }
        }
        let sent = pipe.query_async::<()>(connection).await;
        if sent.is_err() {
            // Put the counts back: they go with the next flush.
            let mut again = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (method, counters) in pending {
                let entry = again.entry(method).or_default();
                entry.cache_hits += counters.cache_hits;
                entry.cache_misses += counters.cache_misses;
                entry.cache_stores += counters.cache_stores;
            }
        }
        sent
    }
}

/// Flushes `stats` every `interval` while it lives.
pub(crate) async fn flush_periodically(
    stats: Weak<Stats>,
    mut connection: ConnectionManager,
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

/// The statistics of every method of the bus.
pub(crate) async fn read(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
) -> redis::RedisResult<Vec<MethodStats>> {
    let mut methods: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.stats_methods())
        .query_async(connection)
        .await?;
    methods.sort();
    if methods.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for method in &methods {
        pipe.cmd("HGETALL").arg(keys.stats(method));
    }
    let hashes: Vec<HashMap<String, u64>> = pipe.query_async(connection).await?;
    Ok(methods
        .into_iter()
        .zip(hashes)
        .map(|(method, counts)| {
            let count = |field: &str| counts.get(field).copied().unwrap_or(0);
            MethodStats {
                cache_hits: count("cache_hits"),
                cache_misses: count("cache_misses"),
                cache_stores: count("cache_stores"),
                method,
            }
        })
        .collect())
}
