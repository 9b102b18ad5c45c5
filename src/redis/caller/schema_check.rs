//! The check a client makes, on first use of each method, of its
//! compiled-in schema against the schemas of the live workers of the same
//! major version: a client built from an incompatible proto gets a clear
//! `FAILED_PRECONDITION` naming the method and the field, instead of replies
//! that decode into nonsense.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::redis::clock::BusClock;
use crate::redis::keys::Keys;
use crate::redis::registry;
use crate::redis::shared::SharedConnection;
use crate::seam::compat;
use crate::seam::info::{MethodInfo, ServiceInfo};
use crate::seam::instance::{Instance, distinct_schemas, versions_with_schema};
use crate::seam::status::Status;

/// How long a verdict holds before the live schemas are read again, so
/// that a newly deployed incompatible worker is noticed.
const VERDICT_LIFETIME: Duration = Duration::from_secs(10);

/// A verdict, and when it was reached.
type Verdict = (Instant, Result<(), Status>);

/// What a verdict is about: a method as one client was built (clients built
/// from different protos may share a bus handle).
type Subject = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// The subject of a call of `method` of `service`.
fn subject(service: &'static ServiceInfo, method: &'static MethodInfo) -> Subject {
    (
        service.version,
        method.full_name,
        method.schema_fingerprint,
        method.cache_key,
    )
}

/// Verdicts per method, as each client was built.
#[derive(Debug, Default)]
pub(crate) struct SchemaCheck {
    /// The last verdict for each method, and when it was reached.
    verdicts: Mutex<HashMap<Subject, Verdict>>,
    /// Held while the registry is read, so that the many calls that start
    /// together read it once.
    reading: tokio::sync::Mutex<()>,
}

impl SchemaCheck {
    /// Whether this client may call `method` of `service`.
    pub(crate) async fn check(
        &self,
        service: &'static ServiceInfo,
        method: &'static MethodInfo,
        connection: &mut SharedConnection,
        keys: &Keys,
        clock: &BusClock,
    ) -> Result<(), Status> {
        let subject = subject(service, method);
        if let Some(verdict) = self.fresh(&subject) {
            return verdict;
        }
        // Boxed: every call's future holds this one, and reading the
        // registry is rare.
        Box::pin(self.reach(subject, service, method, connection, keys, clock)).await
    }

    /// Reads the live schemas and reaches a verdict about `subject`.
    async fn reach(
        &self,
        subject: Subject,
        service: &'static ServiceInfo,
        method: &'static MethodInfo,
        connection: &mut SharedConnection,
        keys: &Keys,
        clock: &BusClock,
    ) -> Result<(), Status> {
        let _reading = self.reading.lock().await;
        if let Some(verdict) = self.fresh(&subject) {
            return verdict;
        }
        // Without a readable registry there is nothing to check against;
        // the call itself reports what is wrong.
        let Ok(live) =
            registry::instances(connection, keys, Some(service.name), clock.now_ms()).await
        else {
            return Ok(());
        };
        let live: Vec<Instance> = live
            .into_iter()
            .filter(|instance| instance.major_version() == service.major_version())
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        let verdict = verdict(&live, service, method, keys.bus());
        self.lock()
            .insert(subject, (Instant::now(), verdict.clone()));
        verdict
    }

    /// The verdict about `subject`, when it is recent enough.
    fn fresh(&self, subject: &Subject) -> Option<Result<(), Status>> {
        let verdicts = self.lock();
        let (at, verdict) = verdicts.get(subject)?;
        (at.elapsed() < VERDICT_LIFETIME).then(|| verdict.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Subject, Verdict>> {
        self.verdicts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn verdict(
    live: &[Instance],
    service: &ServiceInfo,
    method: &MethodInfo,
    bus: &str,
) -> Result<(), Status> {
    for schema in distinct_schemas(live) {
        if let Err(why) = compat::check_call(schema, service, method) {
            return Err(Status::failed_precondition(format!(
                "this client, built for {} {}, cannot call the live {} ({}) on bus {bus:?}: {why}",
                service.name,
                service.version,
                service.name,
                versions_with_schema(live, schema)
            )));
        }
    }
    Ok(())
}
