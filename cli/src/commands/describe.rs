//! `describe SERVICE`: its rpcs with their options, the messages they take
//! and return, and its live instances; `describe SERVICE/METHOD`: one rpc
//! and its messages; `describe MESSAGE`: one message (or enum) and what it
//! uses. Comments from the proto files come along when the descriptors
//! kept them.

use std::time::SystemTime;

use prost_reflect::DescriptorPool;
use redis_bus::{Code, Instance, ServiceInfo};

use crate::failure::Failure;
use crate::human;
use crate::names::{self, Resolved};
use crate::proto_comments;
use crate::proto_text;
use crate::session::Session;
use crate::table::{Align, Table};
use crate::target::Target;

/// Describes `name`: a method when it has a `/`, else a live service, else
/// a message or enum that a live service's descriptors hold.
pub(super) async fn run(session: &Session, name: &str) -> Result<String, Failure> {
    if let Ok(target) = name.parse::<Target>() {
        return method(session, &target).await;
    }
    let live: Vec<String> = session
        .bus()
        .discovery()
        .services()
        .await?
        .into_iter()
        .map(|summary| summary.name)
        .collect();
    match names::resolve(name, &live) {
        Resolved::Found(_) | Resolved::Ambiguous(_) => service(session, name).await,
        // A name close to a service's is a message only if one has it
        // exactly; else the service's "did you mean" is the better guess.
        resolved => match message(session, name, &live, resolved == Resolved::Unknown).await? {
            Some(text) => Ok(text),
            // Not a message either: the error says which services are live
            // or which one was probably meant.
            None => service(session, name).await,
        },
    }
}

/// One rpc of a service, with its options, and its messages.
async fn method(session: &Session, target: &Target) -> Result<String, Failure> {
    let (client, target) = session.method(target).await?;
    let info = client.info();
    let method = info
        .methods
        .iter()
        .find(|method| method.name == target.method)
        .ok_or_else(|| Failure::new(format!("{target} is not in its service's description")))?;
    let pool = client.pool();
    if session.json() {
        return Ok(method_json(method, pool).to_string());
    }
    let mut roots = Vec::new();
    for type_name in [method.request_type, method.reply_type] {
        roots.push(pool.get_message_by_name(type_name).ok_or_else(|| {
            Failure::new(format!(
                "the descriptors of {} do not describe {type_name}",
                info.name
            ))
        })?);
    }
    let mut out = proto_text::service(info, pool, Some(method.name));
    out.push('\n');
    out.push_str(&proto_text::messages(roots));
    Ok(out)
}

/// The message or enum `name` as the first live service whose descriptors
/// hold it describes it; `None` when none does and (when `suggest`) no
/// message's name is close.
async fn message(
    session: &Session,
    name: &str,
    live: &[String],
    suggest: bool,
) -> Result<Option<String>, Failure> {
    let discovery = session.bus().discovery();
    let mut known: Vec<String> = Vec::new();
    for service in live {
        let Some(pool) = discovery.descriptors(service).await? else {
            continue;
        };
        if let Some(message) = pool.get_message_by_name(name) {
            if session.json() {
                return Ok(Some(message_json(&message).to_string()));
            }
            return Ok(Some(proto_text::messages([message])));
        }
        if let Some(descriptor) = pool.get_enum_by_name(name) {
            if session.json() {
                let values: Vec<serde_json::Value> = descriptor
                    .values()
                    .map(|v| {
                        let comment = proto_comments::text(&v.parent_file(), v.path());
                        serde_json::json!({"name": v.name(), "number": v.number(), "comment": comment})
                    })
                    .collect();
                let comment = proto_comments::text(&descriptor.parent_file(), descriptor.path());
                let json = serde_json::json!({
                    "enum": descriptor.full_name(),
                    "comment": comment,
                    "values": values,
                });
                return Ok(Some(json.to_string()));
            }
            return Ok(Some(proto_text::enums([descriptor])));
        }
        known.extend(
            pool.all_messages()
                .filter(|m| !m.package_name().starts_with("google.protobuf"))
                .map(|m| m.full_name().to_owned()),
        );
    }
    known.sort();
    known.dedup();
    match names::resolve(name, &known) {
        Resolved::Suggest(close) if suggest => Err(Failure::with_code(
            Code::NotFound,
            format!(
                "no live service or message is called {name} on bus {:?}; did you mean {close}?",
                session.bus().name()
            ),
        )),
        _ => Ok(None),
    }
}

/// A message for scripts: `{message, fields: [{name, json_name, number,
/// type, label}]}`.
fn message_json(message: &prost_reflect::MessageDescriptor) -> serde_json::Value {
    let fields: Vec<serde_json::Value> = message
        .fields()
        .map(|field| {
            let label = if field.is_map() {
                "map"
            } else if field.is_list() {
                "repeated"
            } else {
                "singular"
            };
            serde_json::json!({
                "name": field.name(),
                "json_name": field.json_name(),
                "number": field.number(),
                "type": proto_text::kind_name(&field.kind()),
                "label": label,
                "comment": proto_comments::text(&field.parent_file(), field.path()),
            })
        })
        .collect();
    serde_json::json!({
        "message": message.full_name(),
        "comment": proto_comments::text(&message.parent_file(), message.path()),
        "fields": fields,
    })
}

/// A method for scripts, as in `describe SERVICE --json`, with its
/// comment from `pool`.
fn method_json(method: &redis_bus::MethodInfo, pool: &DescriptorPool) -> serde_json::Value {
    let comment = pool
        .get_service_by_name(method.full_name.split_once('/').map_or("", |(s, _)| s))
        .and_then(|service| service.methods().find(|m| m.name() == method.name))
        .and_then(|rpc| proto_comments::text(&rpc.parent_file(), rpc.path()));
    serde_json::json!({
        "name": method.name,
        "comment": comment,
        "request": method.request_type,
        "reply": method.reply_type,
        "cache_key": method.cache_key,
        "cache_ttl_seconds": method.cache_ttl_seconds,
        "timeout_ms": method.timeout_ms,
        "idempotent": method.idempotent,
    })
}

/// Describes `service` as its newest live version registered it.
async fn service(session: &Session, service: &str) -> Result<String, Failure> {
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
        return Ok(to_json(info, pool, &instances));
    }
    let mut out = proto_text::service(info, pool, None);
    out.push('\n');
    out.push_str(&proto_text::messages(roots));
    out.push('\n');
    out.push_str(&instances_table(&instances, SystemTime::now()));
    Ok(out)
}

/// The service, its methods and live instances as one JSON object.
fn to_json(info: &ServiceInfo, pool: &DescriptorPool, instances: &[Instance]) -> String {
    let methods: Vec<serde_json::Value> = info
        .methods
        .iter()
        .map(|method| method_json(method, pool))
        .collect();
    let comment = pool
        .get_service_by_name(info.name)
        .and_then(|service| proto_comments::text(&service.parent_file(), service.path()));
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
        "comment": comment,
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
