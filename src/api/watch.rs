//! Watching a bus: a stream of changes (services and instances coming and
//! going), so that a long-running tool sees new services and methods
//! without restarting.
//!
//! The watcher keeps the last list of live instances and compares each new
//! one with it. It looks again whenever a worker announces a start or a
//! stop, and at least every poll interval, which is how it notices workers
//! that died without a word (their registration expired).

use std::collections::BTreeMap;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::bus::Bus;
use crate::seam::error::Error;
use crate::seam::instance::Instance;

/// One change on the bus.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// The first instance of a service appeared.
    ServiceUp {
        /// The service's full name.
        service: String,
    },
    /// An instance started (or was first seen).
    InstanceUp(Instance),
    /// An instance stopped or died.
    InstanceDown {
        /// The service's full name.
        service: String,
        /// The version it ran.
        version: String,
        /// The worker's id.
        id: String,
    },
    /// The last instance of a service went away.
    ServiceDown {
        /// The service's full name.
        service: String,
    },
}

/// Changes on a bus, in order; from `Discovery::watch`. Dropping it stops
/// watching.
#[derive(Debug)]
pub struct Watch {
    /// Where the watcher task sends changes.
    changes: mpsc::Receiver<Result<Change, Error>>,
    /// The watcher task.
    task: JoinHandle<()>,
}

/// Live instances, by (service, id).
type Live = BTreeMap<(String, String), Instance>;

impl Watch {
    /// Starts watching `bus` from its current state.
    pub(crate) async fn start(bus: Bus) -> Result<Watch, Error> {
        let mut events = bus.transport.registry_events().await?;
        let mut live = index(bus.transport.instances(None).await?);
        let (sender, changes) = mpsc::channel(256);
        let task = tokio::spawn(async move {
            loop {
                let looked = match events.wait().await {
                    Ok(()) => bus.transport.instances(None).await,
                    Err(error) => Err(error),
                };
                let sent = match looked {
                    Ok(instances) => {
                        let now = index(instances);
                        let mut sent = true;
                        for change in diff(&live, &now) {
                            sent &= sender.send(Ok(change)).await.is_ok();
                        }
                        live = now;
                        sent
                    }
                    Err(error) => sender.send(Err(error)).await.is_ok(),
                };
                if !sent {
                    return;
                }
            }
        });
        Ok(Watch { changes, task })
    }

    /// The next change; an error when the registry could not be read (the
    /// watch goes on after it).
    pub async fn next(&mut self) -> Option<Result<Change, Error>> {
        self.changes.recv().await
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn index(instances: Vec<Instance>) -> Live {
    instances
        .into_iter()
        .map(|instance| ((instance.service.clone(), instance.id.clone()), instance))
        .collect()
}

/// What changed from `before` to `after`.
fn diff(before: &Live, after: &Live) -> Vec<Change> {
    let services = |live: &Live| -> Vec<String> {
        let mut names: Vec<String> = live.keys().map(|(service, _)| service.clone()).collect();
        names.dedup();
        names
    };
    let (old_services, new_services) = (services(before), services(after));
    let mut changes = Vec::new();
    for service in new_services.iter().filter(|s| !old_services.contains(s)) {
        changes.push(Change::ServiceUp {
            service: service.clone(),
        });
    }
    for (key, instance) in after {
        if !before.contains_key(key) {
            changes.push(Change::InstanceUp(instance.clone()));
        }
    }
    for (key, instance) in before {
        if !after.contains_key(key) {
            changes.push(Change::InstanceDown {
                service: instance.service.clone(),
                version: instance.version.clone(),
                id: instance.id.clone(),
            });
        }
    }
    for service in old_services.iter().filter(|s| !new_services.contains(s)) {
        changes.push(Change::ServiceDown {
            service: service.clone(),
        });
    }
    changes
}
