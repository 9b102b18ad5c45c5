//! Reading how many requests wait in each service's queue: one `LLEN` per
//! `<service>@<major>` the bus ever served, in one pipeline.

use super::keys::Keys;
use super::shared::SharedConnection;
use crate::seam::queue_depth::QueueDepth;

/// The queue of every service (and major version) of the bus, by name.
pub(crate) async fn read(
    connection: &SharedConnection,
    keys: &Keys,
) -> redis::RedisResult<Vec<QueueDepth>> {
    let entries: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.services())
        .query_async(&mut connection.clone())
        .await?;
    let mut services: Vec<(String, u64, String)> = entries
        .iter()
        .filter_map(|entry| keys.service_entry(entry))
        .map(|(service, major, service_keys)| (service, major, service_keys.queue()))
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    services.sort();
    let mut pipe = redis::pipe();
    for (_, _, queue) in &services {
        pipe.cmd("LLEN").arg(queue);
    }
    let lengths = connection.replies(&pipe).await?;
    Ok(services
        .into_iter()
        .zip(lengths)
        .map(|((service, major, _), length)| QueueDepth {
            service,
            major,
            waiting: redis::from_redis_value(length).unwrap_or(0),
        })
        .collect())
}
