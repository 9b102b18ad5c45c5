//! The in-memory transport: a bus inside one process, for unit tests of
//! services and of code that calls them. Calls still go through encoding
//! and decoding, deadlines and the "no live worker" check, like on Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::context::CallContext;
use crate::error::Error;
use crate::server::ServerConfig;
use crate::service::Service;
use crate::status::Status;
use crate::transport::{OutgoingCall, Transport, Worker};

/// The services served on an in-memory bus.
#[derive(Debug, Default)]
pub(crate) struct MemoryTransport {
    /// Served instances, shared with the workers that remove themselves.
    registry: Arc<Registry>,
}

/// Live instances by service name.
#[derive(Default)]
struct Registry {
    /// `service name -> instances`, in start order.
    instances: Mutex<HashMap<&'static str, Vec<Instance>>>,
    /// Source of instance ids.
    next_id: AtomicU64,
    /// Spreads calls over instances.
    next_pick: AtomicUsize,
    /// Wakes calls that wait for a worker when one starts.
    started: tokio::sync::Notify,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Instance {
    /// The worker this instance belongs to.
    worker_id: String,
    /// The implementation.
    service: Arc<dyn Service>,
}

#[async_trait]
impl Transport for MemoryTransport {
    fn bus_name(&self) -> &str {
        "in-memory"
    }

    async fn call(&self, call: OutgoingCall) -> Result<Vec<u8>, Status> {
        let major = call.service.major_version();
        let instance = loop {
            // Listen before looking, so that a start in between is not missed.
            let started = self.registry.started.notified();
            match self.registry.pick(call.service.name, major) {
                Ok(instance) => break instance,
                Err(_) if call.wait_for_worker => started.await,
                Err(live) => {
                    return Err(Status::unavailable(format!(
                        "no live instance of {} {major}.x on the in-memory bus{}",
                        call.service.name,
                        describe_live(&live)
                    )));
                }
            }
        };
        let context = CallContext::new(call.deadline, call.traceparent);
        let method = call.method.name;
        let payload = call.payload;
        // Run the handler in a task of its own so that a panic fails this
        // call only, as it would on a worker.
        let handler = tokio::spawn(
            context.scope(async move { instance.service.call(method, &payload).await }),
        );
        match handler.await {
            Ok(result) => result.map(|handled| handled.reply),
            Err(error) => Err(Status::internal(format!(
                "the handler of {} panicked: {error}",
                call.method.full_name
            ))),
        }
    }

    async fn start(
        &self,
        services: Vec<Arc<dyn Service>>,
        _config: ServerConfig,
    ) -> Result<Box<dyn Worker>, Error> {
        let worker_id = format!(
            "memory-{}",
            self.registry.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let mut instances = self.registry.lock();
        for service in services {
            instances
                .entry(service.info().name)
                .or_default()
                .push(Instance {
                    worker_id: worker_id.clone(),
                    service,
                });
        }
        drop(instances);
        self.registry.started.notify_waiters();
        Ok(Box::new(MemoryWorker {
            registry: Arc::clone(&self.registry),
            worker_id,
        }))
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Vec<Instance>>> {
        // A panic while holding the lock leaves the map consistent: every
        // change is a single insert or retain.
        self.instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An instance of `service` with major version `major`, or the versions
    /// that are live instead.
    fn pick(&self, service: &str, major: u64) -> Result<Instance, Vec<&'static str>> {
        let instances = self.lock();
        let all = instances
            .get(service)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let compatible: Vec<&Instance> = all
            .iter()
            .filter(|i| i.service.info().major_version() == major)
            .collect();
        if compatible.is_empty() {
            return Err(all.iter().map(|i| i.service.info().version).collect());
        }
        let pick = self.next_pick.fetch_add(1, Ordering::Relaxed) % compatible.len();
        Ok(compatible[pick].clone())
    }
}

/// ` (live: 2.0.1)` or nothing.
fn describe_live(versions: &[&str]) -> String {
    if versions.is_empty() {
        String::new()
    } else {
        format!(" (live: {})", versions.join(", "))
    }
}

/// A started in-memory server.
struct MemoryWorker {
    registry: Arc<Registry>,
    worker_id: String,
}

#[async_trait]
impl Worker for MemoryWorker {
    fn instance_id(&self) -> &str {
        &self.worker_id
    }

    async fn shutdown(self: Box<Self>) -> Result<(), Error> {
        // Calls already dispatched hold their own reference to the service
        // and finish; new calls no longer find this instance.
        for instances in self.registry.lock().values_mut() {
            instances.retain(|instance| instance.worker_id != self.worker_id);
        }
        Ok(())
    }
}
