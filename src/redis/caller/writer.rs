//! The writer: pushes the requests of one client onto service queues.
//!
//! Calls made at the same moment are coalesced: the writer drains every
//! request waiting in its channel and sends them in one pipeline, with one
//! `RPUSH` per service queue holding them all. Under load that divides the
//! commands Redis executes by the batch size (measured: +60% throughput at
//! 64-byte payloads); alone, a call pays one extra task hop.
//!
//! Each `RPUSH` is followed in the pipeline by a `ZCOUNT` of the service's
//! workers live within [`LIVENESS_MARGIN_MS`]. When none is, the calls that do
//! not wait for a worker fail at once with `UNAVAILABLE`, and their requests
//! stay in the queue: the client cannot take them back (applications may
//! only push to a queue), and need not. A worker handles a request only
//! while its own registration is live, and the first worker to become live
//! on a service with none moves the queue aside and answers what was queued
//! meanwhile without running it (see the `orphans` module of the worker).
//! The margin covers the clocks of client and worker disagreeing: a call
//! told `UNAVAILABLE` is never run.
//!
//! While a service is known to have no live worker, calls that do not wait
//! only ask (`ZCOUNT` alone) and push nothing, so a caller retrying against
//! a stopped service does not fill its queue.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use redis::{ServerError, Value};
use tokio::sync::mpsc;

use super::pending::Pending;
use crate::redis::batch::BATCH_BYTES;
use crate::redis::clock::{BusClock, LIVENESS_MARGIN_MS};
use crate::redis::envelope::CallId;
use crate::redis::keys::Keys;
use crate::redis::registry;
use crate::redis::shared::SharedConnection;
use crate::seam::info::ServiceInfo;
use crate::seam::instance::{describe_versions, summarize};
use crate::seam::status::Status;

/// The most requests sent in one pipeline (and about [`BATCH_BYTES`]).
const MAX_BATCH: usize = 256;

/// About how long a resend after a failed send waits.
const RESEND_PAUSE: Duration = Duration::from_millis(50);

/// One request on its way to a queue.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// The service called, for messages.
    pub service: &'static ServiceInfo,
    /// The service's request queue.
    pub queue: Arc<str>,
    /// The service's live workers.
    pub instances: Arc<str>,
    /// The queued element (id prefix and envelope).
    pub element: Vec<u8>,
    /// The call's id, to complete the call on failure.
    pub id: CallId,
    /// Whether the call waits for a worker instead of failing fast.
    pub wait_for_worker: bool,
    /// When the caller stops waiting: a resend after it is pointless.
    pub deadline: tokio::time::Instant,
    /// How many times to send again after a connection failure; only
    /// idempotent methods get a retry, since the failed send may have
    /// reached Redis.
    pub retries: u8,
    /// Whether this is a resend after a failed send.
    pub retried: bool,
}

/// Everything the writer needs.
pub(crate) struct Writer {
    /// The shared connection.
    pub connection: SharedConnection,
    /// Converts local time into bus time for the liveness check.
    pub clock: Arc<BusClock>,
    /// Where failed calls are completed.
    pub pending: Arc<Pending>,
    /// The bus's keys, to read the registry for messages.
    pub keys: Keys,
    /// The queues of services that had no live worker at the last check.
    pub down: HashSet<Arc<str>>,
}

impl Writer {
    /// Sends requests until the channel closes (the bus was dropped).
    pub(crate) async fn run(mut self, mut outbox: mpsc::UnboundedReceiver<Outgoing>) {
        let mut retry: Vec<Outgoing> = Vec::new();
        loop {
            if retry.iter().any(|outgoing| outgoing.retried) {
                // Resent after a failed send: back off, with jitter, so that
                // clients do not all resend at once to a recovering Redis.
                tokio::time::sleep(RESEND_PAUSE.mul_f64(rand::random_range(0.5..1.5))).await;
            }
            let mut batch = std::mem::take(&mut retry);
            if batch.is_empty() {
                match outbox.recv().await {
                    Some(first) => batch.push(first),
                    None => return,
                }
            }
            let mut bytes: usize = batch.iter().map(|outgoing| outgoing.element.len()).sum();
            while batch.len() < MAX_BATCH && bytes < BATCH_BYTES {
                match outbox.try_recv() {
                    Ok(next) => {
                        bytes += next.element.len();
                        batch.push(next);
                    }
                    Err(_) => break,
                }
            }
            retry = self.push(batch).await;
        }
    }

    /// Sends one batch; returns the requests to send again.
    async fn push(&mut self, batch: Vec<Outgoing>) -> Vec<Outgoing> {
        let groups = group_by_queue(&batch);
        let since = self.clock.now_ms() - LIVENESS_MARGIN_MS;
        let mut pipe = redis::pipe();
        let mut plans = Vec::with_capacity(groups.len());
        for group in &groups {
            let first = &batch[group[0]];
            // To a service known to be down, calls that would fail rather
            // than wait only ask whether a worker is back.
            let asking = self.down.contains(&first.queue);
            let pushed: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&index| !asking || batch[index].wait_for_worker)
                .collect();
            if !pushed.is_empty() {
                let push = pipe.cmd("RPUSH").arg(&*first.queue);
                for &index in &pushed {
                    push.arg(&batch[index].element);
                }
            }
            pipe.cmd("ZCOUNT")
                .arg(&*first.instances)
                .arg(since)
                .arg("+inf");
            plans.push(pushed);
        }
        // On a cluster each queue's commands go to its node on their own:
        // a node that failed fails only the calls queued there.
        let mut replies = self.connection.replies_each(&pipe).await.into_iter();
        let mut again = Vec::new();
        let mut failing: Vec<(usize, &'static ServiceInfo)> = Vec::new();
        let mut unsent: Vec<(Vec<usize>, redis::RedisError)> = Vec::new();
        for (group, pushed) in groups.iter().zip(&plans) {
            let first = &batch[group[0]];
            let pushed_reply = if pushed.is_empty() {
                None
            } else {
                replies.next()
            };
            let live = replies.next();
            // Both commands of a group share its hash tag, so they fail
            // together.
            let (pushed_reply, live) = match (pushed_reply.transpose(), live.transpose()) {
                (Ok(pushed_reply), Ok(live)) => (pushed_reply, live),
                (Err(error), _) | (_, Err(error)) => {
                    unsent.push((group.clone(), error));
                    continue;
                }
            };
            if let Some(Value::ServerError(error)) = &pushed_reply {
                // Refused (e.g. by an ACL): nothing was queued.
                let status = refused("RPUSH", &first.queue, first.service, error);
                for &index in pushed {
                    self.pending.fail(batch[index].id, status.clone());
                }
                continue;
            }
            // A refused liveness check just goes unchecked.
            let none_live = matches!(live, Some(Value::Int(0)));
            if none_live {
                self.down.insert(Arc::clone(&first.queue));
            } else {
                self.down.remove(&first.queue);
            }
            for &index in group {
                let was_pushed = pushed.contains(&index);
                if none_live && !batch[index].wait_for_worker {
                    failing.push((index, first.service));
                } else if !was_pushed {
                    // Asked only, and a worker is back: send it now.
                    again.push(index);
                }
            }
        }
        let mut statuses: Vec<(&'static str, Status)> = Vec::new();
        for (index, service) in failing {
            let status = match statuses.iter().find(|(name, _)| *name == service.name) {
                Some((_, status)) => status.clone(),
                None => {
                    let status = self.no_live_worker(service).await;
                    statuses.push((service.name, status.clone()));
                    status
                }
            };
            self.pending.fail(batch[index].id, status);
        }
        let mut batch: Vec<Option<Outgoing>> = batch.into_iter().map(Some).collect();
        let mut again: Vec<Outgoing> = again
            .into_iter()
            .filter_map(|index| batch[index].take())
            .collect();
        for (group, error) in unsent {
            let group = group.iter().filter_map(|&index| batch[index].take());
            again.extend(self.fail_or_retry(group.collect(), &error));
        }
        again
    }

    /// The status of a call that no live worker serves, naming the versions
    /// of the service that are live.
    async fn no_live_worker(&mut self, service: &ServiceInfo) -> Status {
        let live = registry::instances(
            &self.connection,
            &self.keys,
            Some(service.name),
            self.clock.now_ms(),
        )
        .await
        .unwrap_or_default();
        let live = match summarize(live).first() {
            Some(other) => format!("live: {}", describe_versions(&other.versions)),
            None => format!("no version of {} is live", service.name),
        };
        Status::unavailable(format!(
            "no live worker serves {} {}.x on bus {:?} (this client is built for {}; {live}); \
             start one, or call with CallOptions::wait_for_worker(true) to wait for one",
            service.name,
            service.major_version(),
            self.keys.bus(),
            service.version,
        ))
    }

    /// After a failed send: requests with a retry left go again, the others
    /// fail with a message saying that they may or may not have been queued.
    fn fail_or_retry(&self, batch: Vec<Outgoing>, error: &redis::RedisError) -> Vec<Outgoing> {
        tracing::warn!(%error, requests = batch.len(), "sending requests to Redis failed");
        let mut retry = Vec::new();
        let resend_by = tokio::time::Instant::now() + RESEND_PAUSE * 2;
        for mut outgoing in batch {
            if outgoing.retries > 0 && outgoing.deadline > resend_by {
                outgoing.retries -= 1;
                outgoing.retried = true;
                retry.push(outgoing);
            } else {
                self.pending.fail(
                    outgoing.id,
                    Status::unavailable(format!(
                        "sending the request to {} failed ({error}); it may or may not have \
                         been queued, and it is not sent again (only an idempotent method's \
                         request is, once)",
                        outgoing.service.name
                    )),
                );
            }
        }
        retry
    }
}

/// The status of calls whose `command` on `key` Redis refused.
fn refused(command: &str, key: &str, service: &ServiceInfo, error: &ServerError) -> Status {
    let why = format!("{error}");
    let message = format!("Redis refused {command} {key} for {}: {why}", service.name);
    if error.code() == "NOPERM" {
        Status::permission_denied(message)
    } else {
        Status::unavailable(message)
    }
}

/// The indexes of `batch`, grouped by queue, in first-seen order.
fn group_by_queue(batch: &[Outgoing]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (index, outgoing) in batch.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|group| batch[group[0]].queue == outgoing.queue)
        {
            Some(group) => group.push(index),
            None => groups.push(vec![index]),
        }
    }
    groups
}
