//! The client's side of the result cache: look in the cache before sending
//! a call of a cached method, through the near cache when it is on, else
//! with the lookups of the client's other calls (`reads`).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redis::aio::MultiplexedConnection;

use super::reads::Reads;
use crate::redis::cache::{self, Lookup};
use crate::redis::connection::Connector;
use crate::redis::keys::CacheKeys;
use crate::redis::stats::Stats;
use crate::seam::info::ServiceInfo;
use crate::seam::status::Status;

/// Looks replies up, counting hits and misses.
#[derive(Debug)]
pub(crate) struct CacheLookup {
    /// Sends the lookups that do not go through the near cache.
    pub reads: Reads,
    /// Opens the near-cache connection.
    pub connector: Connector,
    /// Whether lookups go through the near cache.
    pub near_cache: bool,
    /// The near-cache connection, once open (and until it fails).
    pub near: Mutex<Option<MultiplexedConnection>>,
    /// Where hits and misses are counted.
    pub stats: Arc<Stats>,
}

/// What a call of a cached method does after the lookup.
pub(crate) enum Looked {
    /// Answer with the cached reply.
    Hit(Bytes),
    /// Send the call (a bypassing call always misses).
    Miss,
    /// The cache cannot be read: send the call without it.
    Unavailable,
    /// Redis refused the lookup (an ACL): the call fails.
    Refused(Status),
}

impl CacheLookup {
    /// Looks up the entry of `text` for `method` (with schema
    /// `fingerprint`); a bypassing call misses whatever is cached.
    pub(crate) async fn look(
        &self,
        keys: &CacheKeys,
        service: &'static ServiceInfo,
        method: &'static str,
        fingerprint: &str,
        text: &str,
        bypass: bool,
    ) -> Looked {
        let entry = keys.entry(fingerprint, text);
        let found = match self.read(keys, &entry).await {
            Ok(found) => found,
            Err(error) if error.code() == Some("NOPERM") => {
                return Looked::Refused(Status::permission_denied(format!(
                    "Redis refused MGET {entry} for {method}: {error}"
                )));
            }
            Err(error) => {
                tracing::warn!(%error, method, "the cache cannot be read; calling without it");
                return Looked::Unavailable;
            }
        };
        match found.hit {
            Some(reply) if !bypass => {
                self.stats.cache_hit(service, method);
                Looked::Hit(reply)
            }
            _ => {
                if !bypass {
                    self.stats.cache_miss(service, method);
                }
                Looked::Miss
            }
        }
    }

    /// Reads through the near cache when it is on and works, else through
    /// the shared connection.
    async fn read(&self, keys: &CacheKeys, entry: &str) -> redis::RedisResult<Lookup> {
        if let Some(mut near) = self.near_connection().await {
            match cache::lookup(&mut near, keys, entry).await {
                Ok(found) => {
                    // A hit in this process touches no socket, so nothing
                    // would make a loop of them yield to other tasks: spend
                    // the task's budget as tokio's own I/O does.
                    tokio::task::coop::consume_budget().await;
                    return Ok(found);
                }
                Err(error) => {
                    tracing::warn!(%error, "the near cache failed; reopening it on the next lookup");
                    *self.lock_near() = None;
                }
            }
        }
        self.reads.lookup(keys, entry).await
    }

    async fn near_connection(&self) -> Option<MultiplexedConnection> {
        if !self.near_cache {
            return None;
        }
        if let Some(connection) = self.lock_near().clone() {
            return Some(connection);
        }
        match self.connector.near_cache().await {
            Ok(Some(connection)) => {
                *self.lock_near() = Some(connection.clone());
                Some(connection)
            }
            // A cluster has no near cache: lookups read the nodes.
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "the near cache cannot be opened; reading Redis directly");
                None
            }
        }
    }

    /// The near-cache connection if it is open (never opens one).
    pub(crate) fn open_near(&self) -> Option<MultiplexedConnection> {
        self.lock_near().clone()
    }

    fn lock_near(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.near.lock().unwrap_or_else(|p| p.into_inner())
    }
}
