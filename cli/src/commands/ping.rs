//! `ping SERVICE`: is each live instance of a service beating on time?
//! Workers take requests from one shared queue, so no request can be sent
//! to one instance; what each instance does on its own is renew its
//! registration every second. `ping` shows, per instance, how long ago
//! that last happened and how long the registration lasts without
//! another, and the round trip of the read to Redis.

use std::time::{Duration, Instant};

use redis_bus::{Code, Heartbeat, Instance};

use crate::failure::Failure;
use crate::human;
use crate::names::{self, Resolved};
use crate::session::Session;
use crate::table::{Align, Table};

/// The live instances of `service` with their last heartbeat.
pub(super) async fn run(session: &Session, service: &str) -> Result<String, Failure> {
    let discovery = session.bus().discovery();
    let live: Vec<String> = discovery
        .services()
        .await?
        .into_iter()
        .map(|summary| summary.name)
        .collect();
    let service = match names::resolve(service, &live) {
        Resolved::Found(name) => name,
        other => return Err(unknown(session, service, other, &live)),
    };
    let instances = discovery.instances(&service).await?;
    let started = Instant::now();
    let beats = discovery.heartbeats(&service).await?;
    let round_trip = started.elapsed();
    let rows: Vec<(&Instance, &Heartbeat)> = instances
        .iter()
        .filter_map(|instance| {
            let beat = beats.iter().find(|beat| beat.instance == instance.id)?;
            Some((instance, beat))
        })
        .collect();
    if rows.is_empty() {
        return Err(unknown(session, &service, Resolved::Unknown, &live));
    }
    if session.json() {
        return Ok(to_json(&service, &rows, round_trip));
    }
    let mut table = Table::new(&[
        ("INSTANCE", Align::Left),
        ("VERSION", Align::Left),
        ("HOST", Align::Left),
        ("PID", Align::Right),
        ("LAST BEAT", Align::Right),
        ("EXPIRES IN", Align::Right),
    ]);
    for (instance, beat) in &rows {
        table.row([
            instance.id.clone(),
            instance.version.clone(),
            instance.host.clone(),
            instance.pid.to_string(),
            format!("{} ago", human::latency(round_ms(beat.last_beat))),
            human::latency(round_ms(beat.expires_in)),
        ]);
    }
    Ok(format!(
        "{}{} of {service} beating; Redis round trip {}\n",
        table.render(),
        human::count(rows.len() as u64, "live instance", "live instances"),
        human::latency(round_trip),
    ))
}

/// A duration to the millisecond (bus time has no finer grain).
fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis() as u64)
}

/// The failure for a service with no live instance, with a guess or the
/// live services.
fn unknown(session: &Session, service: &str, resolved: Resolved, live: &[String]) -> Failure {
    let bus = session.bus().name();
    match resolved {
        Resolved::Ambiguous(names) => Failure::usage(format!(
            "{service} is ambiguous: {}; give the full name",
            names.join(", ")
        )),
        Resolved::Suggest(name) => Failure::with_code(
            Code::NotFound,
            format!("no live worker serves {service} on bus {bus:?}; did you mean {name}?"),
        ),
        _ => Failure::with_code(
            Code::NotFound,
            format!(
                "no live worker serves {service} on bus {bus:?} (live services: {})",
                if live.is_empty() {
                    "none".to_owned()
                } else {
                    live.join(", ")
                }
            ),
        ),
    }
}

/// `{service, round_trip_us, instances: [{id, version, host, pid,
/// last_beat_ms, expires_in_ms}]}`.
fn to_json(service: &str, rows: &[(&Instance, &Heartbeat)], round_trip: Duration) -> String {
    let instances: Vec<serde_json::Value> = rows
        .iter()
        .map(|(instance, beat)| {
            serde_json::json!({
                "id": instance.id,
                "version": instance.version,
                "host": instance.host,
                "pid": instance.pid,
                "last_beat_ms": beat.last_beat.as_millis() as u64,
                "expires_in_ms": beat.expires_in.as_millis() as u64,
            })
        })
        .collect();
    serde_json::json!({
        "service": service,
        "round_trip_us": round_trip.as_micros() as u64,
        "instances": instances,
    })
    .to_string()
}
