//! The registry in Redis: what each worker registers, and reading it back.
//!
//! A worker's registration is a hash per service it serves (version,
//! methods as JSON, host, pid, start time, descriptors), living as long as
//! its score in the service's `instances` sorted set says it is live; both
//! are renewed by the heartbeat. The bus's `services` set lists every
//! `<service>@<major>` ever served, so that reading the registry costs
//! O(services + instances), never a scan of the keyspace. Starts and stops
//! are also appended to a capped `events` stream, which wakes watchers.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::blocking::Blocking;
use super::connection::Connector;
use super::keys::{Keys, ServiceKeys};
use super::shared::SharedConnection;
use crate::seam::info::ServiceInfo;
use crate::seam::instance::{Instance, MethodRecord};

/// How many events the stream keeps (approximately).
const EVENTS_KEPT: usize = 1000;

/// What a worker registers for one service.
pub(crate) struct Registration<'a> {
    /// The service.
    pub service: &'a ServiceInfo,
    /// The worker's id.
    pub instance_id: &'a str,
    /// The host it runs on.
    pub host: &'a str,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_ms: i64,
}

impl Registration<'_> {
    /// Adds to `pipe` the commands that register the worker for the
    /// service, live until `ttl` from now.
    pub(crate) fn write(&self, pipe: &mut redis::Pipeline, keys: &Keys, ttl: Duration) {
        let service = self.service;
        let service_keys = keys.service(service.name, service.major_version());
        let methods: Vec<MethodRecord> = service.methods.iter().map(MethodRecord::from).collect();
        let methods = serde_json::to_string(&methods).expect("method records serialize");
        let instance = service_keys.instance(self.instance_id);
        pipe.cmd("HSET")
            .arg(&instance)
            .arg("service")
            .arg(service.name)
            .arg("version")
            .arg(service.version)
            .arg("host")
            .arg(self.host)
            .arg("pid")
            .arg(std::process::id())
            .arg("started_ms")
            .arg(self.started_ms)
            .arg("methods")
            .arg(methods)
            .arg("descriptors")
            .arg(service.file_descriptor_set);
        pipe.cmd("PEXPIRE")
            .arg(&instance)
            .arg(ttl.as_millis() as u64);
        pipe.cmd("SADD").arg(keys.services()).arg(format!(
            "{}@{}",
            service.name,
            service.major_version()
        ));
        event(
            pipe,
            keys,
            "up",
            service.name,
            service.version,
            self.instance_id,
        );
    }
}

/// Adds to `pipe` an event saying that `instance` of `service` went `what`
/// (`up` or `down`).
pub(crate) fn event(
    pipe: &mut redis::Pipeline,
    keys: &Keys,
    what: &str,
    service: &str,
    version: &str,
    instance: &str,
) {
    pipe.cmd("XADD")
        .arg(keys.events())
        .arg("MAXLEN")
        .arg("~")
        .arg(EVENTS_KEPT)
        .arg("*")
        .arg("event")
        .arg(what)
        .arg("service")
        .arg(service)
        .arg("version")
        .arg(version)
        .arg("instance")
        .arg(instance);
}

/// The live instances on the bus at bus time `now`, of every service or of
/// `only` (a full service name).
///
/// Services whose keys this connection may not read (an ACL) are left out,
/// as if nothing served them.
pub(crate) async fn instances(
    connection: &SharedConnection,
    keys: &Keys,
    only: Option<&str>,
    now: i64,
) -> redis::RedisResult<Vec<Instance>> {
    let entries: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.services())
        .query_async(&mut connection.clone())
        .await?;
    let services: Vec<ServiceKeys> = entries
        .iter()
        .filter_map(|entry| keys.service_entry(entry))
        .filter(|(service, _, _)| only.is_none_or(|only| only == service))
        .map(|(_, _, service_keys)| service_keys)
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for service in &services {
        pipe.cmd("ZRANGEBYSCORE")
            .arg(service.instances())
            .arg(now)
            .arg("+inf");
    }
    let live: Vec<Vec<String>> = connection
        .replies(&pipe)
        .await?
        .into_iter()
        .map(|reply| redis::from_redis_value(reply).unwrap_or_default())
        .collect();
    let registrations: Vec<String> = services
        .iter()
        .zip(&live)
        .flat_map(|(service, ids)| ids.iter().map(|id| service.instance(id)))
        .collect();
    if registrations.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for registration in &registrations {
        pipe.cmd("HGETALL").arg(registration);
    }
    let hashes: Vec<HashMap<String, Vec<u8>>> = connection
        .replies(&pipe)
        .await?
        .into_iter()
        .map(|reply| redis::from_redis_value(reply).unwrap_or_default())
        .collect();
    let ids = live.into_iter().flatten();
    Ok(ids
        .zip(hashes)
        .filter_map(|(id, fields)| parse(id, fields))
        .collect())
}

/// An instance from its registration hash; `None` when the hash expired
/// between reading the live set and reading it, or is malformed.
fn parse(id: String, mut fields: HashMap<String, Vec<u8>>) -> Option<Instance> {
    let mut text = |name: &str| fields.remove(name).and_then(|v| String::from_utf8(v).ok());
    let service = text("service")?;
    let version = text("version")?;
    let host = text("host").unwrap_or_default();
    let pid = text("pid").and_then(|p| p.parse().ok()).unwrap_or(0);
    let started_ms: u64 = text("started_ms").and_then(|s| s.parse().ok()).unwrap_or(0);
    let methods = serde_json::from_str(&text("methods")?).ok()?;
    let descriptors = Bytes::from(fields.remove("descriptors")?);
    Some(Instance {
        id,
        service,
        version,
        host,
        pid,
        started_at: UNIX_EPOCH + Duration::from_millis(started_ms),
        methods,
        descriptors,
    })
}

/// Milliseconds since the Unix epoch, for start times.
pub(crate) fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}

/// Wakes a watcher on the events stream, or after the poll interval.
pub(crate) struct EventWaiter {
    /// A connection of its own: `XREAD BLOCK` blocks it.
    blocking: Blocking,
    /// The events stream.
    key: String,
    /// The id of the last event seen.
    last_id: String,
    /// The longest wait.
    poll: Duration,
}

impl EventWaiter {
    /// A waiter for events after the newest one now in the stream.
    pub(crate) async fn new(
        connector: Connector,
        connection: &SharedConnection,
        key: String,
        poll: Duration,
    ) -> redis::RedisResult<EventWaiter> {
        let newest: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut connection.clone())
            .await?;
        let last_id = newest
            .ids
            .first()
            .map_or_else(|| "0-0".to_owned(), |entry| entry.id.clone());
        Ok(EventWaiter {
            blocking: Blocking::new(connector, Default::default()),
            key,
            last_id,
            poll,
        })
    }

    /// Waits for the next events, or the poll interval.
    pub(crate) async fn wait(&mut self) -> redis::RedisResult<()> {
        let mut xread = redis::cmd("XREAD");
        xread
            .arg("BLOCK")
            .arg(self.poll.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(&self.last_id);
        let read: Option<redis::streams::StreamReadReply> =
            self.blocking.query(&xread, self.poll).await?;
        if let Some(id) = read
            .as_ref()
            .and_then(|read| read.keys.first())
            .and_then(|stream| stream.ids.last())
        {
            self.last_id = id.id.clone();
        }
        Ok(())
    }
}
