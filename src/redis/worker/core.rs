//! What the tasks of one worker share.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::bad_input::BadInput;
use super::handler::handle;
use super::replier::Completion;
use super::taken::Taken;
use crate::redis::blocking::Location;
use crate::redis::clock::{BusClock, WORKER_GRACE_MS};
use crate::redis::connection::Connector;
use crate::redis::keys::{Keys, ServiceKeys};
use crate::redis::settings::RedisSettings;
use crate::redis::shared::SharedConnection;
use crate::redis::stats::Stats;
use crate::seam::error::Error;
use crate::seam::server_config::{Mode, ServerConfig};
use crate::seam::service::Service;

/// One service a worker serves, with its keys worked out once.
pub(crate) struct Served {
    /// The implementation.
    pub service: Arc<dyn Service>,
    /// The queue it takes requests from.
    pub queue: String,
    /// This worker's `taken` hash for it.
    pub taken: String,
    /// This worker's `landing` list for it.
    pub landing: String,
    /// Its live workers.
    pub instances: String,
    /// This worker's orphans list for it.
    pub orphans: String,
    /// How many times each reclaimed request was reclaimed.
    pub deliveries: String,
    /// Clients' reports of cache hits and misses.
    pub reports: String,
    /// Its keys, for the keys of other workers (reclaiming).
    pub keys: ServiceKeys,
    /// Where the taker's blocking read waits, so that shutdown can wake it
    /// with `CLIENT UNBLOCK`.
    pub blocked_at: Arc<Mutex<Option<Location>>>,
}

/// What a worker needs from its transport.
pub(crate) struct WorkerParts {
    /// The shared connection.
    pub connection: SharedConnection,
    /// Opens dedicated connections.
    pub connector: Connector,
    /// The bus's keys.
    pub keys: Keys,
    /// The bus clock.
    pub clock: Arc<BusClock>,
    /// Pacing.
    pub settings: RedisSettings,
    /// Where statistics are counted.
    pub stats: Arc<Stats>,
}

/// The state the worker's tasks share.
pub(crate) struct Core {
    /// This worker's id on the bus.
    pub instance_id: String,
    /// When the worker started, in milliseconds since the Unix epoch.
    pub started_ms: i64,
    /// The host it runs on.
    pub host: String,
    /// The bus's keys.
    pub keys: Keys,
    /// The shared connection.
    pub connection: SharedConnection,
    /// Opens dedicated connections for blocking takes.
    pub connector: Connector,
    /// Bus time, for deadlines and registrations.
    pub clock: Arc<BusClock>,
    /// Pacing of the transport.
    pub settings: RedisSettings,
    /// Where statistics are counted.
    pub stats: Arc<Stats>,
    /// How the server runs.
    pub config: ServerConfig,
    /// The services, by index.
    pub services: Vec<Served>,
    /// One permit per call the worker may handle at once.
    pub permits: Arc<Semaphore>,
    /// Every handler task: shutdown waits for them all, including those
    /// that wait for a cached reply without holding a permit.
    pub handlers: TaskTracker,
    /// Until when (bus time, ms) this worker's registration is live, as it
    /// last wrote it. A request taken after that may belong to a caller
    /// told that no worker was live, so it is not run.
    live_until: AtomicI64,
    /// Bad input seen in the queues, logged at a bounded rate.
    pub bad_input: BadInput,
    /// Held while orphans are sorted: one sort at a time.
    pub sorting: tokio::sync::Mutex<()>,
    /// Finished calls on their way to the replier.
    pub completions: mpsc::UnboundedSender<Completion>,
    /// Requests taken and not yet acknowledged, by (service, field): tells
    /// requests this worker holds from requests filed under it that it never
    /// received (after a lost connection).
    in_flight: Mutex<HashSet<(usize, Bytes)>>,
    /// Serialises filing requests under this worker with looking for
    /// requests it never received, so that one is never taken for the other.
    pub filing: tokio::sync::Mutex<()>,
    /// Cancelled when the worker should stop taking requests.
    pub stop: CancellationToken,
    /// In `serve_once` mode, how many requests may still be taken.
    once_budget: AtomicUsize,
    /// Why the worker stopped by itself (debug mode), if it did.
    fatal: Mutex<Option<Error>>,
}

impl Core {
    /// Shared state for a worker of `services`.
    pub(crate) fn new(
        instance_id: String,
        parts: WorkerParts,
        config: ServerConfig,
        services: Vec<Served>,
        completions: mpsc::UnboundedSender<Completion>,
    ) -> Core {
        let permits = Arc::new(Semaphore::new(config.max_concurrency));
        Core {
            instance_id,
            started_ms: crate::redis::registry::unix_ms(std::time::SystemTime::now()),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            keys: parts.keys,
            connection: parts.connection,
            connector: parts.connector,
            clock: parts.clock,
            settings: parts.settings,
            stats: parts.stats,
            services,
            permits,
            handlers: TaskTracker::new(),
            live_until: AtomicI64::new(i64::MIN),
            bad_input: BadInput::default(),
            sorting: tokio::sync::Mutex::new(()),
            completions,
            in_flight: Mutex::default(),
            filing: tokio::sync::Mutex::new(()),
            stop: CancellationToken::new(),
            once_budget: AtomicUsize::new(1),
            fatal: Mutex::new(None),
            config,
        }
    }

    /// The most requests to take at once.
    pub(crate) fn take_limit(&self) -> usize {
        match self.config.mode {
            Mode::Normal => self.settings.take_batch,
            Mode::Once | Mode::Debug => 1,
        }
    }

    /// Records that the registration is live until bus time `until`.
    pub(crate) fn renewed(&self, until: i64) {
        self.live_until.store(until, Ordering::Release);
    }

    /// Whether this worker may run what it takes: its registration is live,
    /// or lapsed less than `WORKER_GRACE_MS` ago, as far as it knows.
    pub(crate) fn is_live(&self) -> bool {
        let until = self.live_until.load(Ordering::Acquire);
        self.clock.now_ms() < until.saturating_add(WORKER_GRACE_MS)
    }

    /// Starts the handler of `taken`, holding `permit`.
    pub(crate) fn spawn_handler(self: &Arc<Self>, taken: Taken, permit: OwnedSemaphorePermit) {
        self.handlers.spawn(handle(Arc::clone(self), taken, permit));
    }

    /// Starts the handler of `taken` once a permit is free, without waiting
    /// for it here.
    pub(crate) fn spawn_handler_when_permitted(self: &Arc<Self>, taken: Taken) {
        let core = Arc::clone(self);
        self.handlers.spawn(async move {
            let permit = Arc::clone(&core.permits)
                .acquire_owned()
                .await
                .expect("the worker never closes its semaphore");
            handle(core, taken, permit).await;
        });
    }

    /// Records that the worker holds `taken`.
    pub(crate) fn hold(&self, taken: &Taken) {
        self.lock_in_flight()
            .insert((taken.service, taken.field.clone()));
    }

    /// The fields of the requests of service `service` that the worker
    /// holds.
    pub(crate) fn held(&self, service: usize) -> HashSet<Bytes> {
        self.lock_in_flight()
            .iter()
            .filter(|(index, _)| *index == service)
            .map(|(_, field)| field.clone())
            .collect()
    }

    /// Forgets requests once they are acknowledged.
    pub(crate) fn forget_in_flight<'a>(&self, taken: impl Iterator<Item = &'a Taken>) {
        let mut in_flight = self.lock_in_flight();
        for taken in taken {
            in_flight.remove(&(taken.service, taken.field.clone()));
        }
    }

    /// In `serve_once` mode, claims the one request the worker may handle;
    /// false when it was already claimed. Always true in other modes.
    pub(crate) fn claim_once(&self) -> bool {
        if self.config.mode != Mode::Once {
            return true;
        }
        let claimed = self
            .once_budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        self.stop.cancel();
        claimed
    }

    /// Stops the worker because of `error` (debug mode); the first error
    /// wins.
    pub(crate) fn fail(&self, error: Error) {
        let mut fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        fatal.get_or_insert(error);
        self.stop.cancel();
    }

    /// Why the worker stopped by itself, if it did.
    pub(crate) fn take_fatal(&self) -> Option<Error> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Hands a finished (or skipped) request to the replier.
    pub(crate) fn complete(&self, completion: Completion) {
        // The replier outlives every handler (shutdown waits for handlers
        // before closing it), so the send only fails after a crash of the
        // replier task, when the request stays filed for reclaiming.
        let _ = self.completions.send(completion);
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<(usize, Bytes)>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}
