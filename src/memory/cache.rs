//! The in-memory bus's result cache: what the Redis cache promises, in this
//! process, so that a unit test sees the same behaviour: a hit needs no
//! worker and runs no handler; errors are never cached; entries live for
//! the method's `cache_ttl_seconds`; one request's entry or every entry of
//! a method can be cleared; N identical concurrent misses run the handler
//! once (the others wait for its reply); a bypassing call computes afresh
//! and replaces the entry. Hits, misses and stores are counted per method.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::seam::info::MethodInfo;
use crate::seam::stats::MethodStats;
use crate::seam::status::Status;

/// An entry's key: the method, and the request's cache key text.
type Key = (&'static str, String);

/// The cache of one in-memory bus.
#[derive(Debug, Default)]
pub(crate) struct MemoryCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The cached replies.
    entries: HashMap<Key, Entry>,
    /// The entries being computed, each with the lock its followers wait on.
    computing: HashMap<Key, Arc<tokio::sync::Mutex<()>>>,
    /// Hits, misses and stores per method.
    counts: HashMap<&'static str, (u64, u64, u64)>,
}

#[derive(Debug)]
struct Entry {
    reply: Bytes,
    /// When it stops counting, for a method with a TTL.
    expires: Option<Instant>,
}

impl MemoryCache {
    /// The reply of `method` for cache key text `text`: from the cache, or
    /// from `compute` (stored when it succeeds). A `bypass`ing call always
    /// computes, and replaces the entry.
    pub(crate) async fn call(
        &self,
        method: &'static MethodInfo,
        text: String,
        bypass: bool,
        compute: impl Future<Output = Result<Bytes, Status>>,
    ) -> Result<Bytes, Status> {
        let key = (method.full_name, text);
        if !bypass {
            let hit = self.current(&key);
            #[cfg(feature = "metrics")]
            match hit {
                Some(_) => {
                    metrics::counter!("redis_bus_cache_hits_total", "method" => method.full_name)
                        .increment(1)
                }
                None => {
                    metrics::counter!("redis_bus_cache_misses_total", "method" => method.full_name)
                        .increment(1)
                }
            }
            self.count(method.full_name, |counts| match hit {
                Some(_) => counts.0 += 1,
                None => counts.1 += 1,
            });
            if let Some(reply) = hit {
                return Ok(reply);
            }
        }
        let lock = Arc::clone(self.lock().computing.entry(key.clone()).or_default());
        let held = lock.lock().await;
        // Followers of a stampede find what the first one stored.
        let outcome = match (!bypass).then(|| self.current(&key)).flatten() {
            Some(reply) => Ok(reply),
            None => {
                let outcome = compute.await;
                if let Ok(reply) = &outcome {
                    self.store(method, key.clone(), reply.clone());
                }
                outcome
            }
        };
        drop(held);
        let mut state = self.lock();
        // The map and this call hold the lock: nobody else waits on it.
        if Arc::strong_count(&lock) == 2 {
            state.computing.remove(&key);
        }
        outcome
    }

    /// Forgets the entry of `text`, or every entry of `method`; true when
    /// there was one (always true for every entry, as on Redis).
    pub(crate) fn clear(&self, method: &MethodInfo, text: Option<&str>) -> bool {
        let mut state = self.lock();
        match text {
            Some(text) => state
                .entries
                .remove(&(method.full_name, text.to_owned()))
                .is_some(),
            None => {
                state
                    .entries
                    .retain(|(name, _), _| *name != method.full_name);
                true
            }
        }
    }

    /// The cache counts of every method used, as statistics.
    pub(crate) fn stats(&self) -> Vec<MethodStats> {
        let mut stats: Vec<MethodStats> = self
            .lock()
            .counts
            .iter()
            .map(|(method, (hits, misses, stores))| MethodStats {
                method: (*method).to_owned(),
                cache_hits: *hits,
                cache_misses: *misses,
                cache_stores: *stores,
                ..MethodStats::default()
            })
            .collect();
        stats.sort_by(|a, b| a.method.cmp(&b.method));
        stats
    }

    /// The current entry of `key`, if any.
    fn current(&self, key: &Key) -> Option<Bytes> {
        let state = self.lock();
        let entry = state.entries.get(key)?;
        let live = entry.expires.is_none_or(|expires| Instant::now() < expires);
        live.then(|| entry.reply.clone())
    }

    fn store(&self, method: &'static MethodInfo, key: Key, reply: Bytes) {
        let expires = method
            .cache_ttl_seconds
            .map(|seconds| Instant::now() + Duration::from_secs(seconds.into()));
        self.lock().entries.insert(key, Entry { reply, expires });
        self.count(method.full_name, |counts| counts.2 += 1);
    }

    fn count(&self, method: &'static str, add: impl FnOnce(&mut (u64, u64, u64))) {
        add(self.lock().counts.entry(method).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
