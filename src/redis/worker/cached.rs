//! The worker's side of the result cache: before a cached method's handler
//! runs, take the entry's lock, or answer from the cache when another
//! worker stored the reply meanwhile, or wait while another worker computes
//! it. N concurrent identical calls thus run the handler once.
//!
//! The entry is the one the worker derives from the request (its generated
//! cache-key writer), never one the request names. A waiter holds no
//! handler permit and backs off between looks, so identical misses never
//! starve unrelated calls; the lock is a lease renewed while its handler
//! runs, so when its holder dies a waiter takes over within the lease.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::core::Core;
use crate::redis::cache::{self, Acquired, LOCK_LEASE, LockRequest};
use crate::redis::envelope::CallId;
use crate::seam::info::MethodInfo;

/// What the replier does with the cache once a cached method's call ends.
#[derive(Debug)]
pub(crate) struct CacheWrite {
    /// The entry.
    pub entry: String,
    /// The entry's lock, which this worker holds.
    pub lock: String,
    /// Who holds it: the lock is released only while it still does.
    pub owner: String,
    /// The entry's value and TTL in seconds, when the call succeeded.
    pub store: Option<(Vec<u8>, Option<u32>)>,
}

/// How a cached method's request goes on.
pub(crate) enum Guard {
    /// This worker holds the entry's lock: run it, then store the reply
    /// stamped with `generation`.
    Locked {
        /// Where the reply goes, and the lock to release.
        write: CacheWrite,
        /// The method's cache generation when the lock was taken.
        generation: u64,
        /// Renews the lock until dropped.
        lease: Lease,
    },
    /// The reply is in the cache: answer with it.
    Hit(Bytes),
    /// The cache is unavailable: run without it.
    Uncached,
    /// The deadline passed while another worker computed the reply.
    Expired,
}

/// One call of a cached method, as the guard needs it.
pub(crate) struct CachedCall<'a> {
    /// The method.
    pub method: &'static MethodInfo,
    /// The entry the worker derived from the request.
    pub entry: String,
    /// The call's id.
    pub id: CallId,
    /// Whether the caller bypassed the cache.
    pub refresh: bool,
    /// The dead worker the request was reclaimed from, if any.
    pub reclaimed_from: Option<&'a str>,
    /// When the caller stops waiting.
    pub deadline: Instant,
}

/// Decides how a call of a cached method goes on, waiting (without its
/// handler permit) while another worker computes the same reply. `permit`
/// is held again when the guard returns `Locked`.
pub(crate) async fn guard(
    core: &Core,
    call: CachedCall<'_>,
    permit: &mut Option<OwnedSemaphorePermit>,
) -> Guard {
    let keys = core.keys.cache(call.method.full_name);
    let Some(lock) = keys.lock(&call.entry) else {
        return Guard::Uncached;
    };
    let generation_key = keys.generation();
    let owner = lock_owner(&core.instance_id, call.id);
    let dead_owner = call.reclaimed_from.map(|dead| lock_owner(dead, call.id));
    let mut pause = Duration::from_millis(5);
    loop {
        let remaining = call.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Guard::Expired;
        }
        let acquired = cache::acquire(
            &mut core.connection.clone(),
            LockRequest {
                entry: &call.entry,
                lock: &lock,
                generation: &generation_key,
                owner: &owner,
                refresh: call.refresh,
                dead_owner: dead_owner.as_deref(),
            },
        )
        .await;
        match acquired {
            Ok(Acquired::Hit(reply)) => return Guard::Hit(reply),
            Ok(Acquired::Lock { generation }) => {
                if permit.is_none() {
                    *permit = Some(
                        std::sync::Arc::clone(&core.permits)
                            .acquire_owned()
                            .await
                            .expect("the worker never closes its semaphore"),
                    );
                }
                let lease = Lease::start(core, lock.clone(), owner.clone());
                return Guard::Locked {
                    write: CacheWrite {
                        entry: call.entry,
                        lock,
                        owner,
                        store: None,
                    },
                    generation,
                    lease,
                };
            }
            Ok(Acquired::Wait) => {
                // Waiting is not handling: the permit goes to other calls.
                permit.take();
                tokio::time::sleep(jittered(pause).min(remaining)).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            // The script may have granted the lock with its answer lost:
            // running without the cache would leave the lock held until its
            // lease ends, and every identical call waiting on it. Ask again
            // once the connection is back: the owner gets its own lock
            // again. (Without Redis, the reply could not be sent anyway.)
            Err(error) if error.is_io_error() || error.is_connection_dropped() => {
                tracing::warn!(%error, method = call.method.full_name, "taking a cache lock failed; retrying");
                tokio::time::sleep(pause.min(remaining)).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            // Refused (e.g. by an ACL): nothing was locked.
            Err(error) => {
                tracing::warn!(%error, method = call.method.full_name, "the cache is unavailable; running the call without it");
                return Guard::Uncached;
            }
        }
    }
}

/// Renews a cache lock every third of its lease until dropped.
pub(crate) struct Lease(JoinHandle<()>);

impl Lease {
    fn start(core: &Core, lock: String, owner: String) -> Lease {
        let mut connection = core.connection.clone();
        Lease(tokio::spawn(async move {
            let mut interval = tokio::time::interval(LOCK_LEASE / 3);
            interval.tick().await;
            loop {
                interval.tick().await;
                match cache::renew(&mut connection, &lock, &owner).await {
                    Ok(true) => {}
                    // Taken over (the lease ran out): nothing to renew.
                    Ok(false) => return,
                    Err(error) => tracing::warn!(%error, lock, "renewing a cache lock failed"),
                }
            }
        }))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `pause`, give or take a quarter, so that waiters do not look in step.
fn jittered(pause: Duration) -> Duration {
    pause.mul_f64(rand::random_range(0.75..1.25))
}

/// Who holds a lock: the worker and the call, readable from a shell.
fn lock_owner(worker: &str, id: CallId) -> String {
    format!("{worker}:{id}")
}
