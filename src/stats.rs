//! Per-method statistics as tools read them: counters that every client and
//! worker of a bus add into, in batches.

/// The statistics of one method, summed over every process of the bus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodStats {
    /// `package.Service/Method`.
    pub method: String,
    /// Calls answered from the cache, without a worker.
    pub cache_hits: u64,
    /// Calls that looked in the cache and found nothing current.
    pub cache_misses: u64,
    /// Replies that workers stored in the cache.
    pub cache_stores: u64,
}
