//! `watch`: services and instances coming and going, printed as they
//! happen, one line each, until Ctrl-C (in the shell, Ctrl-C returns to
//! the prompt).

use std::time::{SystemTime, UNIX_EPOCH};

use redis_bus::Change;

use crate::failure::Failure;
use crate::output::print;
use crate::session::Session;

/// Prints each change on the bus as it happens; never returns unless the
/// watch ends.
pub(super) async fn run(session: &Session) -> Result<String, Failure> {
    let mut watch = session.bus().discovery().watch().await?;
    // On stderr, so that stdout holds only the changes (and a script knows
    // when the watch is on).
    eprintln!("watching bus {:?}; Ctrl-C to stop", session.bus().name());
    while let Some(change) = watch.next().await {
        match change {
            Ok(change) if session.json() => print(&to_json(&change).to_string()),
            Ok(change) => print(&format!("{}  {}", clock(SystemTime::now()), line(&change))),
            // The watch goes on after a failed look at the registry.
            Err(error) => eprintln!("warning: cannot read the registry: {error}"),
        }
    }
    Ok(String::new())
}

/// A change for people: `service up    math.Math`.
fn line(change: &Change) -> String {
    match change {
        Change::ServiceUp { service } => format!("service up     {service}"),
        Change::InstanceUp(instance) => format!(
            "instance up    {} {} {} on {} pid {}",
            instance.service, instance.version, instance.id, instance.host, instance.pid
        ),
        Change::InstanceDown {
            service,
            version,
            id,
        } => format!("instance down  {service} {version} {id}"),
        Change::ServiceDown { service } => format!("service down   {service}"),
        // A kind of change newer than this command.
        other => format!("{other:?}"),
    }
}

/// A change for scripts: `{"event": "instance_up", "service": ..., ...}`.
fn to_json(change: &Change) -> serde_json::Value {
    match change {
        Change::ServiceUp { service } => {
            serde_json::json!({"event": "service_up", "service": service})
        }
        Change::InstanceUp(instance) => serde_json::json!({
            "event": "instance_up",
            "service": instance.service,
            "version": instance.version,
            "id": instance.id,
            "host": instance.host,
            "pid": instance.pid,
        }),
        Change::InstanceDown {
            service,
            version,
            id,
        } => serde_json::json!({
            "event": "instance_down", "service": service, "version": version, "id": id,
        }),
        Change::ServiceDown { service } => {
            serde_json::json!({"event": "service_down", "service": service})
        }
        other => serde_json::json!({"event": "other", "change": format!("{other:?}")}),
    }
}

/// The time of day in UTC, `HH:MM:SS`: when each change was seen.
fn clock(now: SystemTime) -> String {
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn changes_read_as_lines() {
        let down = Change::InstanceDown {
            service: "math.Math".into(),
            version: "1.2.0".into(),
            id: "w1".into(),
        };
        assert_eq!(line(&down), "instance down  math.Math 1.2.0 w1");
        assert_eq!(
            to_json(&down).to_string(),
            r#"{"event":"instance_down","id":"w1","service":"math.Math","version":"1.2.0"}"#
        );
        let at = UNIX_EPOCH + Duration::from_secs(86_400 * 3 + 3600 * 13 + 60 * 5 + 9);
        assert_eq!(clock(at), "13:05:09");
    }
}
