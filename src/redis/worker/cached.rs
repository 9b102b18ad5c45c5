//! The worker's side of the result cache: before a cached method's handler
//! runs, take the entry's lock, or answer from the cache when another
//! worker stored the reply meanwhile, or wait while another worker computes
//! it. N concurrent identical calls thus run the handler once.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::core::Core;
use crate::redis::cache::{self, Acquired, LockRequest};
use crate::seam::info::MethodInfo;
use crate::seam::wire;

/// What the replier does with the cache once a cached method's call ends.
#[derive(Debug)]
pub(crate) struct CacheWrite {
    /// The entry.
    pub entry: String,
    /// The entry's lock, which this worker holds.
    pub lock: String,
    /// The entry's value and TTL in seconds, when the call succeeded.
    pub store: Option<(Vec<u8>, Option<u32>)>,
}

/// How a cached method's request goes on.
pub(crate) enum Guard {
    /// The method is not cached, or the request carries no entry: run it.
    Uncached,
    /// The reply is in the cache: answer with it.
    Hit(Bytes),
    /// This worker holds the entry's lock: run it, then store.
    Locked(CacheWrite),
    /// The deadline passed while another worker computed the reply.
    Expired,
}

/// Decides how `request` of cached `method` goes on, waiting while another
/// worker computes the same reply.
pub(crate) async fn guard(
    core: &Core,
    method: &'static MethodInfo,
    request: &wire::Request,
    reclaimed_from: Option<&str>,
    deadline: Instant,
) -> Guard {
    if method.cache_key.is_none() || request.cache_key.is_empty() {
        return Guard::Uncached;
    }
    let entry = &request.cache_key;
    // The entry must belong to this method's cache: a request names the key
    // the worker writes, and must not name any other key.
    let Some(lock) = core.keys.cache(method.full_name).lock(entry) else {
        tracing::warn!(
            method = method.full_name,
            entry,
            "ignoring a cache key outside the method's cache"
        );
        return Guard::Uncached;
    };
    let owner = lock_owner(&core.instance_id, request.call_id);
    let dead_owner = reclaimed_from.map(|dead| lock_owner(dead, request.call_id));
    let mut pause = Duration::from_millis(2);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Guard::Expired;
        }
        let acquired = cache::acquire(
            &mut core.connection.clone(),
            LockRequest {
                entry,
                lock: &lock,
                generation: request.cache_generation,
                owner: &owner,
                lock_ms: remaining.as_millis() as u64,
                refresh: request.cache_refresh,
                dead_owner: dead_owner.as_deref(),
            },
        )
        .await;
        match acquired {
            Ok(Acquired::Hit(reply)) => return Guard::Hit(reply),
            Ok(Acquired::Lock) => {
                return Guard::Locked(CacheWrite {
                    entry: entry.clone(),
                    lock,
                    store: None,
                });
            }
            Ok(Acquired::Wait) => {
                tokio::time::sleep(pause.min(remaining)).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            // The script may have granted the lock with its answer lost:
            // running without the cache would leave the lock held until its
            // TTL, and every identical call waiting on it. Ask again once
            // the connection is back: the owner gets its own lock again.
            // (Without Redis, the reply could not be sent anyway.)
            Err(error) if error.is_io_error() || error.is_connection_dropped() => {
                tracing::warn!(%error, method = method.full_name, "taking a cache lock failed; retrying");
                tokio::time::sleep(pause.min(remaining)).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            // Refused (e.g. by an ACL): nothing was locked.
            Err(error) => {
                tracing::warn!(%error, method = method.full_name, "the cache is unavailable; running the call without it");
                return Guard::Uncached;
            }
        }
    }
}

/// Who holds a lock: the worker and the call, readable from a shell.
fn lock_owner(worker: &str, call_id: u64) -> String {
    format!("{worker}:{call_id}")
}
