//! The serving side of the Redis transport: a worker runs one or more
//! services, with one taker per service, a handler task per request, one
//! replier and one heartbeat (see each module).
//!
//! Graceful shutdown: stop taking (waking blocked takers with
//! `CLIENT UNBLOCK`), let every handler finish, send every reply, then
//! deregister, giving back to the queue anything still filed under the
//! worker.

mod bad_input;
mod cached;
mod confirm;
mod confirmed_replies;
mod core;
mod handler;
mod heartbeat;
mod orphans;
mod registration;
mod replier;
mod reports;
mod streaming;
mod taken;
mod taker;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) use self::core::WorkerParts;
use self::core::{Core, Served};
use crate::redis::clock::LIVENESS_MARGIN_MS;
use crate::redis::connection::redis_error;
use crate::redis::{blocking, scripts};
use crate::seam::error::Error;
use crate::seam::server_config::{Mode, ServerConfig};
use crate::seam::service::Service;
use crate::seam::transport::Worker;

/// How long shutdown waits for the last replies to reach Redis.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// A running worker.
pub(crate) struct RedisWorker {
    /// What its tasks share.
    core: Arc<Core>,
    /// One taker per service.
    takers: Vec<JoinHandle<()>>,
    /// The heartbeat, and the reaper.
    heartbeat: [JoinHandle<()>; 2],
    /// The replier, and what tells it to finish.
    replier: (JoinHandle<()>, CancellationToken),
}

impl RedisWorker {
    /// Registers a worker for `services` and starts its tasks; the services
    /// are reachable when this returns.
    pub(crate) async fn start(
        parts: WorkerParts,
        services: Vec<Arc<dyn Service>>,
        config: ServerConfig,
    ) -> Result<RedisWorker, Error> {
        let instance_id = format!("{:016x}", rand::random::<u64>());
        let served = services
            .into_iter()
            .map(|service| {
                let info = service.info();
                let keys = parts.keys.service(info.name, info.major_version());
                Served {
                    queue: keys.queue(),
                    taken: keys.taken(&instance_id),
                    landing: keys.landing(&instance_id),
                    instances: keys.instances(),
                    orphans: keys.orphans(&instance_id),
                    deliveries: keys.deliveries(),
                    reports: keys.reports(),
                    keys,
                    service,
                    blocked_at: Arc::default(),
                }
            })
            .collect();
        if config.mode == Mode::Debug {
            crate::seam::debug_report::capture_panics();
        }
        let (completions, completed) = mpsc::unbounded_channel();
        let core = Arc::new(Core::new(instance_id, parts, config, served, completions));
        registration::join(&core).await?;
        let finish = CancellationToken::new();
        let replier = tokio::spawn(replier::run(Arc::clone(&core), completed, finish.clone()));
        let heartbeat = [
            tokio::spawn(heartbeat::run(Arc::clone(&core))),
            tokio::spawn(heartbeat::reap_periodically(Arc::clone(&core))),
        ];
        let takers = (0..core.services.len())
            .map(|index| tokio::spawn(taker::run(Arc::clone(&core), index)))
            .collect();
        tracing::info!(
            worker = %core.instance_id,
            services = ?core.services.iter().map(|s| s.service.info().name).collect::<Vec<_>>(),
            "worker started"
        );
        Ok(RedisWorker {
            core,
            takers,
            heartbeat,
            replier: (replier, finish),
        })
    }

    /// Wakes takers blocked in `BLMOVE` so that they see the stop.
    async fn unblock_takers(&self) {
        for served in &self.core.services {
            let location = served
                .blocked_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(location) = location {
                blocking::unblock(&self.core.connector, &location).await;
            }
        }
    }

    /// Removes the registration, giving back anything still filed under
    /// this worker.
    async fn deregister(&self) -> Result<(), Error> {
        let mut connection = self.core.connection.clone();
        // One sort at a time: a sort the heartbeat started may still run.
        let _sorting = self.core.sorting.lock().await;
        for (index, served) in self.core.services.iter().enumerate() {
            // Orphans are answered here or left for a live worker: never
            // handed to another worker's queue, where they would run.
            if let Err(error) = orphans::sort(&self.core, index).await {
                tracing::warn!(%error, queue = %served.queue, "could not answer the orphaned requests before stopping");
            }
            let (given_back, orphans): (i64, i64) = scripts::DEREGISTER
                .key(&served.instances)
                .key(&served.taken)
                .key(&served.landing)
                .key(&served.queue)
                .key(served.keys.instance(&self.core.instance_id))
                .key(&served.orphans)
                .key(served.keys.joins())
                .arg(&self.core.instance_id)
                .arg(self.core.clock.now_ms() - LIVENESS_MARGIN_MS)
                .invoke_async(&mut connection)
                .await
                .map_err(|error| redis_error("cannot deregister the worker", error))?;
            if given_back > 0 {
                tracing::warn!(requests = given_back, queue = %served.queue, "gave unanswered requests back to the queue");
            }
            if orphans > 0 {
                // The last worker: its callers hear so now.
                if let Err(error) = orphans::sort(&self.core, index).await {
                    tracing::warn!(%error, queue = %served.queue, "could not answer the requests queued for the last worker");
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Worker for RedisWorker {
    fn instance_id(&self) -> &str {
        &self.core.instance_id
    }

    async fn stopped(&self) {
        self.core.stop.cancelled().await;
    }

    fn stop_taking(&self) {
        self.core.stop.cancel();
    }

    async fn shutdown(mut self: Box<Self>) -> Result<(), Error> {
        self.core.stop.cancel();
        self.unblock_takers().await;
        for taker in self.takers.drain(..) {
            let _ = taker.await;
        }
        // Handlers that wait for a cached reply hold no permit: wait for
        // the tasks themselves.
        self.core.handlers.close();
        self.core.handlers.wait().await;
        let (replier, finish) = &mut self.replier;
        finish.cancel();
        let flushed = tokio::time::timeout(FLUSH_TIMEOUT, replier).await.is_ok();
        for task in &self.heartbeat {
            task.abort();
        }
        if let Err(error) = self
            .core
            .stats
            .flush(&self.core.connection, &self.core.keys)
            .await
        {
            tracing::warn!(%error, "could not send the worker's last statistics");
        }
        if flushed {
            self.deregister().await?;
            registration::announce_stop(&self.core).await;
        } else {
            // Left registered, the worker expires like a dead one, and
            // another worker reclaims what it could not answer.
            tracing::error!(worker = %self.core.instance_id, "could not send the last replies; leaving the requests to be reclaimed");
        }
        tracing::info!(worker = %self.core.instance_id, "worker stopped");
        match self.core.take_fatal() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
