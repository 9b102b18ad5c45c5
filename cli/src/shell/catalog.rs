//! What completion knows about the bus: services, their methods, and each
//! method's request type. Kept fresh by a task that watches the registry,
//! so that a service started after the shell is offered without a restart.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use prost_reflect::{DescriptorPool, MessageDescriptor};
use redis_bus::{Bus, Discovery, Watch};
use tokio::task::JoinHandle;

/// How long the refresher waits before watching again when the watch
/// ended (Redis went away): long enough not to spin, short enough that
/// completion recovers soon after Redis does.
const REWATCH_DELAY: Duration = Duration::from_secs(1);

/// The services of the bus, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    /// The live services, sorted by name.
    pub(crate) services: Vec<ServiceEntry>,
}

/// One service, as completion needs it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceEntry {
    /// The full name, e.g. `math.Math`.
    pub(crate) name: String,
    /// Its methods, in declaration order.
    pub(crate) methods: Vec<MethodEntry>,
}

/// One method, as completion needs it.
#[derive(Debug, Clone)]
pub(crate) struct MethodEntry {
    /// The proto name, e.g. `Sum`.
    pub(crate) name: String,
    /// Whether its replies are cached (only those can be cleared).
    pub(crate) cached: bool,
    /// Its request type, when the published descriptors describe it.
    pub(crate) request: Option<MessageDescriptor>,
}

/// A catalog shared by the completer and the task that refreshes it.
pub(crate) type SharedCatalog = Arc<RwLock<Catalog>>;

impl Catalog {
    /// Reads what is live now.
    pub(crate) async fn load(discovery: &Discovery) -> Result<Catalog, redis_bus::Error> {
        let mut services = Vec::new();
        for summary in discovery.services().await? {
            let pool = discovery.descriptors(&summary.name).await?;
            let methods = summary
                .methods
                .iter()
                .map(|method| (method.name.clone(), method.cache_key.is_some()));
            services.push(ServiceEntry::new(&summary.name, methods, pool.as_ref()));
        }
        services.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Catalog { services })
    }

    /// The service called `name`.
    pub(crate) fn service(&self, name: &str) -> Option<&ServiceEntry> {
        self.services.iter().find(|service| service.name == name)
    }

    /// The method `name` of `service`.
    pub(crate) fn method(&self, service: &str, name: &str) -> Option<&MethodEntry> {
        self.service(service)?
            .methods
            .iter()
            .find(|method| method.name == name)
    }
}

impl ServiceEntry {
    /// The service `name` with `methods` (name, whether cached), their
    /// request types looked up in `pool`.
    pub(crate) fn new(
        name: &str,
        methods: impl IntoIterator<Item = (String, bool)>,
        pool: Option<&DescriptorPool>,
    ) -> ServiceEntry {
        let descriptor = pool.and_then(|pool| pool.get_service_by_name(name));
        let methods = methods
            .into_iter()
            .map(|(method, cached)| MethodEntry {
                request: descriptor
                    .as_ref()
                    .and_then(|service| service.methods().find(|m| m.name() == method))
                    .map(|m| m.input()),
                name: method,
                cached,
            })
            .collect();
        ServiceEntry {
            name: name.to_owned(),
            methods,
        }
    }
}

/// Keeps a catalog fresh while it lives; stops when dropped.
#[derive(Debug)]
pub(crate) struct Refresher {
    /// The task that watches the registry.
    task: JoinHandle<()>,
}

impl Refresher {
    /// Fills `catalog` with what is live now, then keeps it up to date
    /// from the registry's changes. Fails when the registry cannot be read.
    pub(crate) async fn start(
        bus: &Bus,
        catalog: SharedCatalog,
    ) -> Result<Refresher, redis_bus::Error> {
        let discovery = bus.discovery();
        // Watch before the first read: a service that starts in between is
        // then reported as a change instead of being missed.
        let watch = discovery.watch().await?;
        store(&catalog, Catalog::load(&discovery).await?);
        let task = tokio::spawn(refresh(discovery, catalog, watch));
        Ok(Refresher { task })
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reloads the catalog after every change the watch reports, watching
/// again if the watch ends.
async fn refresh(discovery: Discovery, catalog: SharedCatalog, mut watch: Watch) {
    loop {
        // An error is a failed registry read; the watch goes on after it
        // and a reload is harmless, so every item triggers one.
        while watch.next().await.is_some() {
            // A failed reload keeps the last catalog: stale completion is
            // better than none, and the next change tries again.
            if let Ok(fresh) = Catalog::load(&discovery).await {
                store(&catalog, fresh);
            }
        }
        tokio::time::sleep(REWATCH_DELAY).await;
        if let Ok(fresh) = discovery.watch().await {
            watch = fresh;
            if let Ok(fresh) = Catalog::load(&discovery).await {
                store(&catalog, fresh);
            }
        }
    }
}

/// Replaces the shared catalog.
fn store(catalog: &SharedCatalog, fresh: Catalog) {
    // A panic while the lock was held cannot leave a catalog half-written
    // (it is replaced whole), so a poisoned lock is still usable.
    *catalog
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
}
