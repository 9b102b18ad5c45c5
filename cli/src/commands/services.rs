//! `services`: what is live on the bus, and which methods are cached.

use std::time::Duration;

use redis_bus::ServiceSummary;

use crate::failure::Failure;
use crate::human;
use crate::session::Session;
use crate::table::{Align, Table};

/// Lists the live services.
pub(super) async fn run(session: &Session) -> Result<String, Failure> {
    let services = session.bus().discovery().services().await?;
    if session.json() {
        return Ok(to_json(&services));
    }
    Ok(render(session.bus().name(), &services))
}

/// The services as a JSON array, one object per service.
fn to_json(services: &[ServiceSummary]) -> String {
    let rows: Vec<serde_json::Value> = services
        .iter()
        .map(|service| {
            let versions: Vec<serde_json::Value> = service
                .versions
                .iter()
                .map(|(version, count)| serde_json::json!({"version": version, "instances": count}))
                .collect();
            let methods: Vec<serde_json::Value> = service
                .methods
                .iter()
                .map(|method| {
                    serde_json::json!({
                        "name": method.name,
                        "cache_key": method.cache_key,
                        "cache_ttl_seconds": method.cache_ttl_seconds,
                        "timeout_ms": method.timeout_ms,
                        "idempotent": method.idempotent,
                    })
                })
                .collect();
            serde_json::json!({
                "name": service.name,
                "versions": versions,
                "instances": service.instances,
                "methods": methods,
            })
        })
        .collect();
    serde_json::Value::from(rows).to_string()
}

/// A table of services, then a table of their cached methods (if any).
fn render(bus: &str, services: &[ServiceSummary]) -> String {
    if services.is_empty() {
        return format!("no live services on bus {bus:?}\n");
    }
    let mut table = Table::new(&[
        ("SERVICE", Align::Left),
        ("VERSIONS", Align::Left),
        ("INSTANCES", Align::Right),
        ("METHODS", Align::Left),
    ]);
    let mut cached = Table::new(&[
        ("CACHED METHOD", Align::Left),
        ("KEY", Align::Left),
        ("TTL", Align::Left),
    ]);
    let mut any_cached = false;
    for service in services {
        let versions: Vec<String> = service
            .versions
            .iter()
            .map(|(version, count)| {
                format!(
                    "{version} ({})",
                    human::count(*count as u64, "instance", "instances")
                )
            })
            .collect();
        let methods: Vec<&str> = service.methods.iter().map(|m| m.name.as_str()).collect();
        table.row([
            service.name.clone(),
            versions.join(", "),
            service.instances.to_string(),
            methods.join(", "),
        ]);
        for method in &service.methods {
            if let Some(key) = &method.cache_key {
                any_cached = true;
                let ttl = match method.cache_ttl_seconds {
                    Some(seconds) => human::span(Duration::from_secs(seconds.into())),
                    None => "no expiry".to_owned(),
                };
                cached.row([
                    format!("{}/{}", service.name, method.name),
                    key.clone(),
                    ttl,
                ]);
            }
        }
    }
    let mut out = table.render();
    if any_cached {
        out.push('\n');
        out.push_str(&cached.render());
    }
    out
}

#[cfg(test)]
mod tests {
    use redis_bus::MethodRecord;

    use super::*;

    fn method(name: &str, cache_key: Option<&str>, ttl: Option<u32>) -> MethodRecord {
        MethodRecord {
            name: name.to_owned(),
            cache_key: cache_key.map(str::to_owned),
            cache_ttl_seconds: ttl,
            timeout_ms: None,
            idempotent: false,
            server_streaming: false,
            client_streaming: false,
            schema_fingerprint: String::new(),
        }
    }

    #[test]
    fn services_and_cached_methods_are_tabled() {
        let services = [
            ServiceSummary {
                name: "math.Math".to_owned(),
                versions: vec![("1.3.0".to_owned(), 2), ("1.2.0".to_owned(), 1)],
                instances: 3,
                methods: vec![
                    method("Sum", Some("{a}/{b}"), Some(3600)),
                    method("Now", Some("{seed}"), None),
                ],
            },
            ServiceSummary {
                name: "random.Random".to_owned(),
                versions: vec![("1.0.0".to_owned(), 1)],
                instances: 1,
                methods: vec![method("Uuid", None, None)],
            },
        ];
        assert_eq!(
            render("default", &services),
            "SERVICE        VERSIONS                                 INSTANCES  METHODS\n\
             math.Math      1.3.0 (2 instances), 1.2.0 (1 instance)          3  Sum, Now\n\
             random.Random  1.0.0 (1 instance)                               1  Uuid\n\
             \n\
             CACHED METHOD  KEY      TTL\n\
             math.Math/Sum  {a}/{b}  1h\n\
             math.Math/Now  {seed}   no expiry\n"
        );
    }

    #[test]
    fn an_empty_bus_says_so() {
        assert_eq!(render("b", &[]), "no live services on bus \"b\"\n");
    }
}
