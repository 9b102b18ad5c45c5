//! `stats --instances [SERVICE]`: each live worker's own counts, per
//! method: its handler runs, errors and handling time, to tell one slow or
//! failing worker from the rest. Workers keep these counts in a hash that
//! lives as long as their registration, so a worker that stopped or died
//! has no row.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use redis_bus::InstanceStats;

use super::stats::of_service;
use crate::failure::Failure;
use crate::sample::shown;
use crate::session::Session;
use crate::table::{Align, Table};

/// Where a worker runs, from its registration.
struct Place {
    host: String,
    pid: u32,
}

/// The live workers' own counts, of `service`'s methods when given.
pub(super) async fn run(session: &Session, service: Option<&str>) -> Result<String, Failure> {
    let discovery = session.bus().discovery();
    let rows: Vec<InstanceStats> = discovery
        .instance_stats()
        .await?
        .into_iter()
        .filter(|row| of_service(&row.method, service))
        .collect();
    let services: BTreeSet<&str> = rows
        .iter()
        .filter_map(|row| row.method.split_once('/').map(|(service, _)| service))
        .collect();
    let mut places: BTreeMap<String, Place> = BTreeMap::new();
    for service in services {
        for instance in discovery.instances(service).await? {
            let place = Place {
                host: instance.host,
                pid: instance.pid,
            };
            places.insert(instance.id, place);
        }
    }
    // A worker whose registration lapsed between the two reads is not live
    // any more: its counts go with it, as they would a moment later.
    let rows: Vec<InstanceStats> = rows
        .into_iter()
        .filter(|row| places.contains_key(&row.instance))
        .collect();
    if session.json() {
        return Ok(to_json(&rows, &places));
    }
    if rows.is_empty() {
        let bus = session.bus().name();
        return Ok(match service {
            Some(service) => format!("no live worker of {service} has statistics on bus {bus:?}\n"),
            None => format!("no live worker has statistics on bus {bus:?}\n"),
        });
    }
    Ok(render(&rows, &places))
}

/// One row per method and worker.
fn render(rows: &[InstanceStats], places: &BTreeMap<String, Place>) -> String {
    let mut table = Table::new(&[
        ("METHOD", Align::Left),
        ("INSTANCE", Align::Left),
        ("HOST", Align::Left),
        ("PID", Align::Right),
        ("HANDLER RUNS", Align::Right),
        ("ERRORS", Align::Right),
        ("HANDLING P50", Align::Right),
        ("HANDLING P99", Align::Right),
    ]);
    for row in rows {
        let place = places.get(&row.instance);
        table.row([
            row.method.clone(),
            row.instance.clone(),
            place.map_or_else(|| "-".to_owned(), |p| p.host.clone()),
            place.map_or_else(|| "-".to_owned(), |p| p.pid.to_string()),
            row.calls.to_string(),
            row.errors.to_string(),
            shown(&row.latency, row.latency_quantile(0.5)),
            shown(&row.latency, row.latency_quantile(0.99)),
        ]);
    }
    table.render()
}

/// The rows for scripts: `[{method, instance, host, pid, handler_runs,
/// errors, handling_p50_us, handling_p99_us}]`.
fn to_json(rows: &[InstanceStats], places: &BTreeMap<String, Place>) -> String {
    let micros = |latency: Option<Duration>| latency.map(|l| l.as_micros() as u64);
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let place = places.get(&row.instance);
            serde_json::json!({
                "method": row.method,
                "instance": row.instance,
                "host": place.map(|p| p.host.clone()),
                "pid": place.map(|p| p.pid),
                "handler_runs": row.calls,
                "errors": row.errors,
                "handling_p50_us": micros(row.latency_quantile(0.5)),
                "handling_p99_us": micros(row.latency_quantile(0.99)),
            })
        })
        .collect();
    serde_json::Value::from(rows).to_string()
}
