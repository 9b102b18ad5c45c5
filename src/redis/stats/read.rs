//! Reading the statistics back: every method's counters, and each live
//! worker's own.

use std::collections::{BTreeSet, HashMap};

use redis::aio::ConnectionLike;

use super::fields::{self, BUCKETS};
use super::report::{self, Report};
use crate::redis::keys::Keys;
use crate::redis::shared::SharedConnection;
use crate::seam::stats::{InstanceStats, LATENCY_BOUNDS_US, MethodStats};
use crate::seam::status::Code;

/// The fields of one hash, with their counts read as numbers.
struct Counts(HashMap<String, String>);

impl Counts {
    fn get(&self, field: &str) -> u64 {
        self.0
            .get(field)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    }

    /// The buckets named by `field`, with their bounds, plus `extra`.
    fn buckets(&self, field: impl Fn(usize) -> String, extra: &[u64]) -> Vec<(Option<u64>, u64)> {
        (0..BUCKETS)
            .map(|index| {
                let more = extra.get(index).copied().unwrap_or(0);
                (
                    LATENCY_BOUNDS_US.get(index).copied(),
                    self.get(&field(index)) + more,
                )
            })
            .collect()
    }

    /// The failures by code, the most frequent first.
    fn by_code(&self) -> Vec<(Code, u64)> {
        let mut codes: Vec<(Code, u64)> = self
            .0
            .iter()
            .filter_map(|(field, count)| {
                Some((fields::code_counted_by(field)?, count.parse().ok()?))
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_i32().cmp(&b.0.as_i32())));
        codes
    }
}

/// What clients reported on one method that no worker took yet.
#[derive(Default)]
struct Untaken {
    hits: u64,
    misses: u64,
    latency: [u64; BUCKETS],
}

/// The statistics of every method of the bus, with the clients' reports
/// that no worker has taken yet (so that a flush shows at once, with or
/// without a live worker).
pub(crate) async fn read(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
) -> redis::RedisResult<Vec<MethodStats>> {
    let mut methods: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.stats_methods())
        .query_async(connection)
        .await?;
    let reported = untaken_reports(connection, keys).await;
    for method in reported.keys() {
        if !methods.contains(method) {
            methods.push(method.clone());
        }
    }
    methods.sort();
    if methods.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for method in &methods {
        pipe.cmd("HGETALL").arg(keys.stats(method));
    }
    let hashes: Vec<HashMap<String, String>> = pipe.query_async(connection).await?;
    Ok(methods
        .into_iter()
        .zip(hashes)
        .map(|(method, fields)| {
            let mut counts = Counts(fields);
            let none = Untaken::default();
            let untaken = reported.get(&method).unwrap_or(&none);
            MethodStats {
                calls: counts.get("calls"),
                errors: counts.get("errors"),
                errors_by_code: counts.by_code(),
                latency: counts.buckets(fields::latency, &[]),
                call_latency: counts.buckets(fields::call_latency, &untaken.latency),
                cache_hits: counts.get("cache_hits") + untaken.hits,
                cache_misses: counts.get("cache_misses") + untaken.misses,
                cache_stores: counts.get("cache_stores"),
                last_error: counts.0.remove("last_error"),
                method,
            }
        })
        .collect())
}

/// The reports in the services' lists that no worker took yet, by method;
/// reports a reader may not see (an ACL) count as none.
async fn untaken_reports(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
) -> HashMap<String, Untaken> {
    let mut reported: HashMap<String, Untaken> = HashMap::new();
    let services = services(connection, keys).await.unwrap_or_default();
    for (service, service_keys) in services {
        let reports: Vec<String> = redis::cmd("LRANGE")
            .arg(service_keys.reports())
            .arg(0)
            .arg(-1)
            .query_async(connection)
            .await
            .unwrap_or_default();
        let prefix = [service.as_str(), "/"].concat();
        for Report {
            hits,
            misses,
            method,
            latency,
        } in reports.iter().filter_map(|r| report::parse(r))
        {
            if method.starts_with(&prefix) {
                let untaken = reported.entry(method.to_owned()).or_default();
                untaken.hits += hits;
                untaken.misses += misses;
                super::add_into(&mut untaken.latency, &latency);
            }
        }
    }
    reported
}

/// Every service of the registry, by name, with its keys.
async fn services(
    connection: &mut impl ConnectionLike,
    keys: &Keys,
) -> redis::RedisResult<Vec<(String, crate::redis::keys::ServiceKeys)>> {
    let entries: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.services())
        .query_async(connection)
        .await?;
    Ok(entries
        .iter()
        .filter_map(|entry| keys.service_entry(entry))
        .map(|(service, _, service_keys)| (service, service_keys))
        .collect())
}

/// The own counts of every worker live at `now_ms` (bus time), per method
/// of the services it is live for, by method and then worker. A worker
/// whose registration lapsed is left out at once, though its hash lives on
/// until it expires.
pub(crate) async fn read_instances(
    connection: &SharedConnection,
    keys: &Keys,
    now_ms: i64,
) -> redis::RedisResult<Vec<InstanceStats>> {
    let services = services(&mut connection.clone(), keys).await?;
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for (_, service_keys) in &services {
        pipe.cmd("ZRANGEBYSCORE")
            .arg(service_keys.instances())
            .arg(now_ms)
            .arg("+inf");
    }
    // One key per service, each with its own hash tag: split by node on a
    // cluster.
    let live: Vec<Vec<String>> = connection
        .replies(&pipe)
        .await?
        .into_iter()
        .map(redis::from_redis_value)
        .collect::<Result<_, _>>()?;
    // Each worker once, with the services it is live for.
    let mut serving: HashMap<String, Vec<&str>> = HashMap::new();
    for ((service, _), instances) in services.iter().zip(live) {
        for instance in instances {
            serving.entry(instance).or_default().push(service);
        }
    }
    let workers: BTreeSet<&String> = serving.keys().collect();
    if workers.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for instance in &workers {
        pipe.cmd("HGETALL").arg(keys.stats_instance(instance));
    }
    // One hash tag (`{<bus>:stats}`): one send, also on a cluster.
    let hashes: Vec<HashMap<String, String>> = pipe.query_async(&mut connection.clone()).await?;
    let mut rows = Vec::new();
    for (instance, fields) in workers.into_iter().zip(hashes) {
        let services = &serving[instance];
        let methods: BTreeSet<String> = fields
            .keys()
            .filter_map(|field| field.split_once(' ').map(|(method, _)| method))
            .filter(|method| {
                method
                    .split_once('/')
                    .is_some_and(|(service, _)| services.contains(&service))
            })
            .map(str::to_owned)
            .collect();
        let counts = Counts(fields);
        for method in &methods {
            let field = |name: &str| fields::of_method(method, name);
            rows.push(InstanceStats {
                instance: instance.clone(),
                method: method.clone(),
                calls: counts.get(&field("calls")),
                errors: counts.get(&field("errors")),
                latency: counts.buckets(|index| field(&fields::latency(index)), &[]),
            });
        }
    }
    rows.sort_by(|a, b| (&a.method, &a.instance).cmp(&(&b.method, &b.instance)));
    Ok(rows)
}
