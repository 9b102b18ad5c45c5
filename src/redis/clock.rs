//! The bus clock: Redis server time, as seen from this process.
//!
//! Deadlines travel between machines whose clocks may disagree. Every
//! process measures the offset between its own clock and the Redis
//! server's `TIME` (at connect, then with each heartbeat), so that a
//! deadline written by one process means the same instant to another, to
//! within a round trip.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionLike;
use tokio::time::Instant;

/// How long after its registration expired a worker still counts as live
/// for a caller: more than the clocks of any client and worker of the bus
/// disagree (each measures the bus clock, Redis's, to within a round
/// trip). A caller tells its call `UNAVAILABLE` only when no worker was
/// live within this margin; a worker runs a request only while its own
/// registration is live or lapsed by less than [`WORKER_GRACE_MS`], half
/// the margin; and a worker joining orphans the queue only when no worker
/// was live within the margin. So a call told `UNAVAILABLE` is never run,
/// and a registration that lapsed for a moment (a slow beat) costs no call.
pub(crate) const LIVENESS_MARGIN_MS: i64 = 2_000;

/// How long after its registration lapsed a worker still runs what it
/// takes; see [`LIVENESS_MARGIN_MS`].
pub(crate) const WORKER_GRACE_MS: i64 = LIVENESS_MARGIN_MS / 2;

/// Converts between local instants and bus time (milliseconds since the
/// Unix epoch on the Redis server's clock).
#[derive(Debug, Default)]
pub(crate) struct BusClock {
    /// Redis time minus local time, in milliseconds.
    offset_ms: AtomicI64,
}

impl BusClock {
    /// Measures the offset with one `TIME` round trip, taking the middle of
    /// the round trip as the moment Redis read its clock.
    pub(crate) async fn sync(
        &self,
        connection: &mut impl ConnectionLike,
    ) -> redis::RedisResult<()> {
        let before = local_ms();
        let (seconds, micros): (i64, i64) = redis::cmd("TIME").query_async(connection).await?;
        let after = local_ms();
        let redis_ms = seconds * 1000 + micros / 1000;
        self.offset_ms
            .store(redis_ms - (before + after) / 2, Ordering::Relaxed);
        Ok(())
    }

    /// The bus time now.
    pub(crate) fn now_ms(&self) -> i64 {
        local_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The bus time of a local instant.
    pub(crate) fn to_bus_ms(&self, instant: Instant) -> i64 {
        let now = Instant::now();
        let delta = if instant >= now {
            i64::try_from((instant - now).as_millis()).unwrap_or(i64::MAX / 2)
        } else {
            -i64::try_from((now - instant).as_millis()).unwrap_or(i64::MAX / 2)
        };
        self.now_ms() + delta
    }

    /// The local instant of a bus time (now, if it is in the past).
    pub(crate) fn to_instant(&self, bus_ms: i64) -> Instant {
        let ahead = bus_ms - self.now_ms();
        Instant::now() + Duration::from_millis(ahead.max(0) as u64)
    }
}

/// Local wall-clock time in milliseconds since the Unix epoch.
fn local_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}
