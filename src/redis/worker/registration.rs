//! Joining the registry: the version check a worker makes before serving,
//! and its registration, as one atomic step (see `scripts::JOIN`).

use super::core::{Core, Served};
use super::heartbeat;
use crate::redis::connection::{redis_error, refused_error};
use crate::redis::registry::{self, Registration};
use crate::redis::shared::Refused;
use crate::seam::compat;
use crate::seam::error::{Error, ErrorKind};
use crate::seam::instance::{Instance, distinct_schemas, versions_with_schema};

/// Refuses to start when a served service's schema breaks wire
/// compatibility with the live instances of the same major version.
pub(crate) async fn check_compatibility(core: &Core) -> Result<(), Error> {
    let connection = core.connection.clone();
    for served in &core.services {
        let service = served.service.info();
        let live: Vec<Instance> = registry::instances(
            &connection,
            &core.keys,
            Some(service.name),
            core.clock.now_ms(),
        )
        .await
        .map_err(|error| redis_error("cannot read the registry", error))?
        .into_iter()
        .filter(|instance| instance.major_version() == service.major_version())
        .collect();
        for schema in distinct_schemas(&live) {
            if let Err(why) = compat::check_joining(schema, service) {
                let versions = versions_with_schema(&live, schema);
                return Err(Error::new(
                    ErrorKind::Incompatible,
                    format!(
                        "{} {} cannot join the live {} ({versions}) on bus {:?}: {why}",
                        service.name,
                        service.version,
                        service.name,
                        core.keys.bus()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// How many times a worker checks again after others joined meanwhile.
const JOIN_ATTEMPTS: usize = 20;

/// Checks that every served service fits the live workers, and registers,
/// atomically: another worker joining between the two makes this one check
/// again. It is live when this returns.
pub(crate) async fn join(core: &std::sync::Arc<Core>) -> Result<(), Error> {
    for _ in 0..JOIN_ATTEMPTS {
        let mut pipe = redis::pipe();
        for served in &core.services {
            pipe.cmd("GET").arg(served.keys.joins());
        }
        // Split by hash tag on a cluster: each service's keys have their own.
        // A count this worker may not read (an ACL) reads as 0: the
        // registration below is then refused with a precise message.
        let counts: Vec<i64> = core
            .connection
            .replies(&pipe)
            .await
            .map_err(|error| redis_error("cannot read the registry", error))?
            .iter()
            .map(|count| {
                redis::from_redis_value_ref::<Option<i64>>(count)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            })
            .collect();
        check_compatibility(core).await?;
        let raced = register(core, &counts)
            .await
            .map_err(|refused| refused_error("cannot register the worker", refused))?;
        if raced.is_empty() {
            return Ok(());
        }
        // Back off a little, so that racing workers do not keep colliding.
        tokio::time::sleep(std::time::Duration::from_millis(rand::random_range(1..20))).await;
    }
    Err(Error::new(
        ErrorKind::Redis,
        format!(
            "workers kept joining {} while this one tried {JOIN_ATTEMPTS} times",
            core.keys.bus()
        ),
    ))
}

/// Registers the worker for every service it serves, where no worker joined
/// since the join counts `counts` were read; returns the services where one
/// did.
async fn register(core: &std::sync::Arc<Core>, counts: &[i64]) -> Result<Vec<usize>, Refused> {
    let mut pipe = redis::pipe();
    for served in &core.services {
        Registration {
            service: served.service.info(),
            instance_id: &core.instance_id,
            host: &core.host,
            started_ms: core.started_ms,
        }
        .write(&mut pipe, &core.keys, core.settings.instance_ttl);
    }
    core.connection.exec(&pipe).await?;
    // The heartbeat's first beat, at once, sorts any orphans.
    heartbeat::beat_joining(core, Some(counts))
        .await
        .map(|(_, raced)| raced)
}

/// Writes the registration of `services` again, after it vanished.
pub(crate) async fn register_again(core: &Core, services: &[&Served]) -> Result<(), Refused> {
    let mut pipe = redis::pipe();
    for served in services {
        Registration {
            service: served.service.info(),
            instance_id: &core.instance_id,
            host: &core.host,
            started_ms: core.started_ms,
        }
        .write(&mut pipe, &core.keys, core.settings.instance_ttl);
    }
    core.connection.exec(&pipe).await
}

/// Announces that the worker stopped.
pub(crate) async fn announce_stop(core: &Core) {
    let mut pipe = redis::pipe();
    for served in &core.services {
        let service = served.service.info();
        registry::event(
            &mut pipe,
            &core.keys,
            "down",
            service.name,
            service.version,
            &core.instance_id,
        );
    }
    if let Err(error) = pipe.query_async::<()>(&mut core.connection.clone()).await {
        tracing::warn!(%error, "could not announce the worker's stop");
    }
}
