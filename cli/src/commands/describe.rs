//! `describe SERVICE`: its rpcs with their options, the messages they take
//! and return, and its live instances.

use std::time::SystemTime;

use redis_bus::{Instance, ServiceInfo};

use crate::failure::Failure;
use crate::human;
use crate::proto_text;
use crate::session::Session;
use crate::table::{Align, Table};

/// Describes `service` as its newest live version registered it.
pub(super) async fn run(session: &Session, service: &str) -> Result<String, Failure> {
    let client = session.client(service).await?;
    let info = client.info();
    let pool = client.pool();
    let mut roots = Vec::new();
    for method in info.methods {
        for type_name in [method.request_type, method.reply_type] {
            let message = pool.get_message_by_name(type_name).ok_or_else(|| {
                Failure::new(format!(
                    "the descriptors that {service} published do not describe {type_name}"
                ))
            })?;
            roots.push(message);
        }
    }
    let instances = session.bus().discovery().instances(info.name).await?;
    if session.json() {
        return Ok(to_json(info, &instances));
    }
    let mut out = proto_text::service(info);
    out.push('\n');
    out.push_str(&proto_text::messages(roots));
    out.push('\n');
    out.push_str(&instances_table(&instances, SystemTime::now()));
    Ok(out)
}

/// The service, its methods and live instances as one JSON object.
fn to_json(info: &ServiceInfo, instances: &[Instance]) -> String {
    let methods: Vec<serde_json::Value> = info
        .methods
        .iter()
        .map(|method| {
            serde_json::json!({
                "name": method.name,
                "request": method.request_type,
                "reply": method.reply_type,
                "cache_key": method.cache_key,
                "cache_ttl_seconds": method.cache_ttl_seconds,
                "timeout_ms": method.timeout_ms,
                "idempotent": method.idempotent,
            })
        })
        .collect();
    let instances: Vec<serde_json::Value> = instances
        .iter()
        .map(|instance| {
            let started = instance
                .started_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            serde_json::json!({
                "id": instance.id,
                "version": instance.version,
                "host": instance.host,
                "pid": instance.pid,
                "started_at_unix_ms": started.as_millis() as u64,
            })
        })
        .collect();
    serde_json::json!({
        "service": info.name,
        "version": info.version,
        "methods": methods,
        "instances": instances,
    })
    .to_string()
}

/// The live instances, oldest first, with their uptime at `now`.
fn instances_table(instances: &[Instance], now: SystemTime) -> String {
    let mut table = Table::new(&[
        ("INSTANCE", Align::Left),
        ("VERSION", Align::Left),
        ("HOST", Align::Left),
        ("PID", Align::Right),
        ("UPTIME", Align::Right),
    ]);
    for instance in instances {
        // A worker whose clock runs ahead of ours seems to start in the
        // future: its uptime is then shown as zero.
        let uptime = now.duration_since(instance.started_at).unwrap_or_default();
        table.row([
            instance.id.clone(),
            instance.version.clone(),
            instance.host.clone(),
            instance.pid.to_string(),
            human::span(uptime),
        ]);
    }
    format!("live instances: {}\n{}", instances.len(), table.render())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn instances_show_their_uptime() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let instance = Instance {
            id: "w1".to_owned(),
            service: "math.Math".to_owned(),
            version: "1.2.0".to_owned(),
            host: "box".to_owned(),
            pid: 42,
            started_at: now - Duration::from_secs(185),
            methods: Vec::new(),
            descriptors: Default::default(),
        };
        let ahead = Instance {
            id: "w2".to_owned(),
            started_at: now + Duration::from_secs(3),
            ..instance.clone()
        };
        assert_eq!(
            instances_table(&[instance, ahead], now),
            "live instances: 2\n\
             INSTANCE  VERSION  HOST  PID  UPTIME\n\
             w1        1.2.0    box    42   3m05s\n\
             w2        1.2.0    box    42      0s\n"
        );
    }
}
