//! The in-memory transport: a bus inside one process, for unit tests of
//! services and of code that calls them. Calls still go through encoding
//! and decoding, deadlines, the "no live worker" check, the result cache
//! (`cache`), server-streaming rpcs (`streaming`) and the server modes
//! (`serve_once`, debug), like on Redis.

mod cache;
mod streaming;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;

use self::cache::MemoryCache;
use crate::seam::call::OutgoingCall;
use crate::seam::context::CallContext;
use crate::seam::debug_report::{self, Failure};
use crate::seam::error::{Error, ErrorKind};
use crate::seam::server_config::{Mode, ServerConfig};
use crate::seam::service::Service;
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, EncodedRequests};
use crate::seam::transport::{RegistryEvents, Transport, Worker};

/// The services served on an in-memory bus.
#[derive(Debug, Default)]
pub(crate) struct MemoryTransport {
    /// Served instances, shared with the workers that remove themselves.
    registry: Arc<Registry>,
    /// Cached replies.
    cache: MemoryCache,
}

/// Live instances by service name.
#[derive(Default)]
struct Registry {
    /// `service name -> instances`, in start order.
    instances: Mutex<HashMap<&'static str, Vec<Instance>>>,
    /// Source of worker ids.
    next_id: AtomicU64,
    /// Spreads calls over instances.
    next_pick: AtomicUsize,
    /// Wakes calls that wait for a worker when one starts.
    started: tokio::sync::Notify,
    /// Wakes watchers when a worker starts or stops.
    changed: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// One service of one worker.
#[derive(Clone)]
struct Instance {
    /// The worker it belongs to.
    worker: Arc<WorkerState>,
    /// The implementation.
    service: Arc<dyn Service>,
}

/// What the calls of a worker need to know about it.
struct WorkerState {
    /// The worker's id.
    id: String,
    /// When it started.
    started_at: std::time::SystemTime,
    /// Its mode.
    mode: Mode,
    /// Cancelled when it stops by itself or is shut down.
    stop: CancellationToken,
    /// Why it stopped by itself (debug mode).
    fatal: Mutex<Option<Error>>,
}

impl MemoryTransport {
    /// A live instance for `call` (waiting for one if the call asks).
    async fn pick(&self, call: &OutgoingCall) -> Result<Instance, Status> {
        let major = call.service.major_version();
        let instance = loop {
            // Listen before looking, so that a start in between is not missed.
            let started = self.registry.started.notified();
            match self.registry.pick(call.service.name, major) {
                Ok(instance) => break instance,
                Err(_) if call.wait_for_worker => started.await,
                Err(live) => {
                    return Err(Status::unavailable(format!(
                        "no live worker serves {} {major}.x on the in-memory bus{}",
                        call.service.name,
                        describe_live(&live)
                    )));
                }
            }
        };
        if instance.worker.mode == Mode::Once {
            self.registry.remove(&instance.worker.id);
            instance.worker.stop.cancel();
        }
        Ok(instance)
    }

    /// Runs `call` on a live instance (waiting for one if the call asks).
    async fn run(&self, call: OutgoingCall) -> Result<Bytes, Status> {
        let sent = tokio::time::Instant::now();
        let instance = self.pick(&call).await?;
        let worker = Arc::clone(&instance.worker);
        let context = CallContext::new(call.deadline, call.traceparent.map(|t| t.to_string()))
            .with_metadata(call.metadata)
            .with_queued(sent.elapsed());
        let payload = call.payload;
        let method = call.method;
        let service = Arc::clone(&instance.service);
        let handler = context.scope(async move { service.call(method.name, &payload).await });
        let outcome = match AssertUnwindSafe(handler).catch_unwind().await {
            Ok(outcome) => outcome.map(Bytes::from),
            Err(panic) => Err(Status::internal(format!(
                "the handler of {} panicked: {}",
                method.full_name,
                crate::seam::debug_report::panic_message(panic.as_ref())
            ))),
        };
        if worker.mode == Mode::Debug {
            if let Err(status) = &outcome {
                eprintln!(
                    "{}",
                    debug_report::report(
                        instance.service.info(),
                        method,
                        &[],
                        Failure::Status(status)
                    )
                );
                *worker.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(Error::new(
                    ErrorKind::Handler,
                    format!(
                        "{} failed in debug mode: {}",
                        method.full_name,
                        status.message()
                    ),
                ));
                self.registry.remove(&worker.id);
                worker.stop.cancel();
            }
        }
        outcome
    }
}

#[async_trait]
impl Transport for MemoryTransport {
    fn bus_name(&self) -> &str {
        "in-memory"
    }

    fn location(&self) -> &str {
        "this process"
    }

    async fn call(&self, mut call: OutgoingCall) -> Result<Bytes, Status> {
        // As on Redis, a hit needs no worker.
        match call.cache.take() {
            Some(cache) => {
                let method = call.method;
                let run = self.run(call);
                self.cache.call(method, cache.text, cache.bypass, run).await
            }
            None => self.run(call).await,
        }
    }

    async fn call_streaming(&self, call: OutgoingCall) -> Result<EncodedMessages, Status> {
        let instance = self.pick(&call).await?;
        Ok(streaming::run(instance.service, call).await)
    }

    async fn call_client_streaming(
        &self,
        call: OutgoingCall,
        requests: EncodedRequests,
    ) -> Result<Bytes, Status> {
        let instance = self.pick(&call).await?;
        streaming::collect(instance.service, call, requests).await
    }

    async fn clear_cache(
        &self,
        method: &'static crate::seam::info::MethodInfo,
        text: Option<&str>,
    ) -> Result<bool, Error> {
        Ok(self.cache.clear(method, text))
    }

    async fn stats(&self) -> Result<Vec<crate::seam::stats::MethodStats>, Error> {
        Ok(self.cache.stats())
    }

    async fn instance_stats(&self) -> Result<Vec<crate::seam::stats::InstanceStats>, Error> {
        // The in-memory bus counts cache lookups only, not handler runs.
        Ok(Vec::new())
    }

    async fn flush_stats(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn cleanup(&self, _dry_run: bool) -> Result<u64, Error> {
        // An in-memory bus keeps nothing once its workers stop.
        Ok(0)
    }

    async fn instances(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<crate::seam::instance::Instance>, Error> {
        Ok(self.registry.described(only))
    }

    async fn registry_events(&self) -> Result<Box<dyn RegistryEvents>, Error> {
        Ok(Box::new(MemoryEvents(Arc::clone(&self.registry.changed))))
    }

    async fn start(
        &self,
        services: Vec<Arc<dyn Service>>,
        config: ServerConfig,
    ) -> Result<Box<dyn Worker>, Error> {
        let worker = Arc::new(WorkerState {
            id: format!(
                "memory-{}",
                self.registry.next_id.fetch_add(1, Ordering::Relaxed)
            ),
            started_at: std::time::SystemTime::now(),
            mode: config.mode,
            stop: CancellationToken::new(),
            fatal: Mutex::new(None),
        });
        {
            let mut instances = self.registry.lock();
            for service in services {
                instances
                    .entry(service.info().name)
                    .or_default()
                    .push(Instance {
                        worker: Arc::clone(&worker),
                        service,
                    });
            }
        }
        self.registry.started.notify_waiters();
        self.registry.changed.notify_waiters();
        Ok(Box::new(MemoryWorker {
            registry: Arc::clone(&self.registry),
            state: worker,
        }))
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Vec<Instance>>> {
        // Every change is a single insert or retain: a panic while holding
        // the lock cannot leave the map half-changed.
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

    /// Removes the instances of worker `id`.
    fn remove(&self, id: &str) {
        for instances in self.lock().values_mut() {
            instances.retain(|instance| instance.worker.id != id);
        }
        self.changed.notify_waiters();
    }

    /// The live instances, as discovery describes them.
    fn described(&self, only: Option<&str>) -> Vec<crate::seam::instance::Instance> {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        self.lock()
            .iter()
            .filter(|(service, _)| only.is_none_or(|only| only == **service))
            .flat_map(|(_, instances)| instances.iter())
            .map(|instance| {
                let info = instance.service.info();
                crate::seam::instance::Instance {
                    id: instance.worker.id.clone(),
                    service: info.name.to_owned(),
                    version: info.version.to_owned(),
                    host: host.clone(),
                    pid: std::process::id(),
                    started_at: instance.worker.started_at,
                    methods: info.methods.iter().map(Into::into).collect(),
                    descriptors: Bytes::from_static(info.file_descriptor_set),
                }
            })
            .collect()
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

/// Wakes watchers of an in-memory bus.
struct MemoryEvents(Arc<tokio::sync::Notify>);

#[async_trait]
impl RegistryEvents for MemoryEvents {
    async fn wait(&mut self) -> Result<(), Error> {
        // Nothing dies silently in memory, but a bounded wait keeps the
        // watcher's loop the same as on Redis.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.0.notified()).await;
        Ok(())
    }
}

/// A started in-memory server.
struct MemoryWorker {
    registry: Arc<Registry>,
    state: Arc<WorkerState>,
}

#[async_trait]
impl Worker for MemoryWorker {
    fn instance_id(&self) -> &str {
        &self.state.id
    }

    async fn stopped(&self) {
        self.state.stop.cancelled().await;
    }

    fn stop_taking(&self) {
        self.registry.remove(&self.state.id);
        self.state.stop.cancel();
    }

    async fn shutdown(self: Box<Self>) -> Result<(), Error> {
        // Calls already dispatched hold their own reference to the service
        // and finish; new calls no longer find this worker.
        self.registry.remove(&self.state.id);
        self.state.stop.cancel();
        match self
            .state
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
