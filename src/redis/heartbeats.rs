//! Reading when each live worker of a service last beat: its score in the
//! service's `instances` sorted set is the bus time its registration
//! expires, set by each beat to that time plus the registration's
//! lifetime, so the beat was that lifetime before the score.

use std::time::Duration;

use super::keys::Keys;
use super::shared::SharedConnection;
use crate::seam::heartbeat::Heartbeat;

/// The heartbeats of the live instances of `service` (every major
/// version) at bus time `now`, whose registrations live `ttl`.
pub(crate) async fn read(
    connection: &SharedConnection,
    keys: &Keys,
    service: &str,
    now: i64,
    ttl: Duration,
) -> redis::RedisResult<Vec<Heartbeat>> {
    let entries: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.services())
        .query_async(&mut connection.clone())
        .await?;
    let mut pipe = redis::pipe();
    let mut any = false;
    for (name, _, service_keys) in entries.iter().filter_map(|e| keys.service_entry(e)) {
        if name == service {
            any = true;
            pipe.cmd("ZRANGEBYSCORE")
                .arg(service_keys.instances())
                .arg(now)
                .arg("+inf")
                .arg("WITHSCORES");
        }
    }
    if !any {
        return Ok(Vec::new());
    }
    let ttl_ms = ttl.as_millis() as i64;
    let mut beats = Vec::new();
    for reply in connection.replies(&pipe).await? {
        let live: Vec<(String, f64)> = redis::from_redis_value(reply).unwrap_or_default();
        for (instance, expires) in live {
            // Each process estimates the bus clock on its own, so a beat
            // that just happened can look a millisecond ahead; no
            // registration lasts longer than its TTL.
            let expires_in = (expires as i64 - now).clamp(0, ttl_ms);
            beats.push(Heartbeat {
                instance,
                last_beat: Duration::from_millis((ttl_ms - expires_in).max(0) as u64),
                expires_in: Duration::from_millis(expires_in as u64),
            });
        }
    }
    Ok(beats)
}
