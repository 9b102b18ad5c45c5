//! Discovery: what is live on a bus. Every worker registers each service it
//! serves (version, methods and their options, schema fingerprints, host,
//! pid, start time, descriptors) and keeps the registration alive with its
//! heartbeat; a worker that dies disappears by itself when its registration
//! expires, and a clean stop removes it at once.
//!
//! [`Discovery`] lists services and instances, fetches descriptors, and
//! watches changes. `compat` holds the version checks that workers and
//! clients make against what is registered.

use prost_reflect::DescriptorPool;

use crate::api::bus::Bus;
use crate::api::watch::Watch;
use crate::seam::error::{Error, ErrorKind};
use crate::seam::heartbeat::Heartbeat;
use crate::seam::instance::{Instance, ServiceSummary, summarize};
use crate::seam::queue_depth::QueueDepth;
use crate::seam::stats::{InstanceStats, MethodStats};
use crate::seam::versions::compare_versions;

/// Looks at what is live on a bus; from [`Bus::discovery`].
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The bus looked at.
    bus: Bus,
}

impl Bus {
    /// What is live on this bus: services, instances, descriptors, changes.
    pub fn discovery(&self) -> Discovery {
        Discovery { bus: self.clone() }
    }
}

impl Discovery {
    /// Every service with live instances, by name.
    pub async fn services(&self) -> Result<Vec<ServiceSummary>, Error> {
        let instances = self.bus.transport.instances(None).await?;
        Ok(summarize(instances))
    }

    /// The live instances of `service` (all versions), oldest first.
    pub async fn instances(&self, service: &str) -> Result<Vec<Instance>, Error> {
        let mut instances = self.bus.transport.instances(Some(service)).await?;
        instances.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        Ok(instances)
    }

    /// When each live instance of `service` last renewed its registration
    /// (Redis buses; the in-memory bus keeps no heartbeats).
    pub async fn heartbeats(&self, service: &str) -> Result<Vec<Heartbeat>, Error> {
        self.bus.transport.heartbeats(service).await
    }

    /// How many requests wait in each service's queue (per major version)
    /// for a worker to take them (Redis buses; the in-memory bus has no
    /// queues).
    pub async fn queue_depths(&self) -> Result<Vec<QueueDepth>, Error> {
        self.bus.transport.queue_depths().await
    }

    /// The descriptors of the newest live version of `service`, or `None`
    /// when no instance is live.
    pub async fn descriptors(&self, service: &str) -> Result<Option<DescriptorPool>, Error> {
        let instances = self.bus.transport.instances(Some(service)).await?;
        let Some(newest) = instances
            .iter()
            .max_by(|a, b| compare_versions(&a.version, &b.version))
        else {
            return Ok(None);
        };
        newest.descriptor_pool().map(Some).map_err(|error| {
            Error::new(
                ErrorKind::Incompatible,
                format!(
                    "the descriptors that {} {} registered do not decode",
                    service, newest.version
                ),
            )
            .with_source(error)
        })
    }

    /// The statistics of every method of the bus, by full name: what every
    /// client and worker recorded (each sends its counts every second).
    pub async fn stats(&self) -> Result<Vec<MethodStats>, Error> {
        self.bus.transport.stats().await
    }

    /// The own statistics of every live worker, per method it served, by
    /// method and then worker id: what each worker's handlers did since it
    /// started. A worker that stopped or died is left out as soon as its
    /// registration lapses. The in-memory bus has none.
    pub async fn instance_stats(&self) -> Result<Vec<InstanceStats>, Error> {
        self.bus.transport.instance_stats().await
    }

    /// A stream of changes from now on: services, instances up and down.
    pub async fn watch(&self) -> Result<Watch, Error> {
        Watch::start(self.bus.clone()).await
    }
}
