//! The calls of one client that wait for their reply, by call id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::redis::envelope::CallId;
use crate::seam::status::Status;

/// What a waiting call receives: the encoded reply, or why it failed.
pub(crate) type Outcome = Result<Bytes, Status>;

/// Waiting calls, completed by the reply reader (or by the writer when a
/// request could not be delivered).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// `call id -> where its outcome goes`.
    calls: Mutex<HashMap<CallId, Waiting>>,
}

/// A call waiting for its outcome.
#[derive(Debug)]
struct Waiting {
    /// Where its outcome goes.
    sender: oneshot::Sender<Outcome>,
    /// For a call that does not wait for a worker, the live workers of its
    /// service: when none is left, the call fails (see `watcher`).
    instances: Option<Arc<str>>,
    /// When the call was registered.
    since: tokio::time::Instant,
}

impl Pending {
    /// Registers call `id` and returns where its outcome arrives. The guard
    /// forgets the call when dropped (e.g. when the caller gives up at its
    /// deadline), so a late reply is dropped instead of kept forever.
    /// `instances`, for a call that does not wait for a worker, is its
    /// service's set of live workers.
    pub(crate) fn register(
        &self,
        id: CallId,
        instances: Option<Arc<str>>,
    ) -> (oneshot::Receiver<Outcome>, PendingGuard<'_>) {
        let (sender, receiver) = oneshot::channel();
        let since = tokio::time::Instant::now();
        self.lock().insert(
            id,
            Waiting {
                sender,
                instances,
                since,
            },
        );
        (receiver, PendingGuard { pending: self, id })
    }

    /// The live-worker sets of the services that waiting calls (those that
    /// do not wait for a worker) need.
    pub(crate) fn watched(&self) -> Vec<Arc<str>> {
        let mut watched: Vec<Arc<str>> = Vec::new();
        for waiting in self.lock().values() {
            if let Some(instances) = &waiting.instances {
                if !watched.contains(instances) {
                    watched.push(Arc::clone(instances));
                }
            }
        }
        watched
    }

    /// Fails, with `status`, every waiting call registered before `before`
    /// whose service's live workers are `instances`. (Younger calls are
    /// the writer's to tell: it counts the live workers as it queues them.)
    pub(crate) fn fail_all_of(
        &self,
        instances: &str,
        before: tokio::time::Instant,
        status: &Status,
    ) -> usize {
        let failed: Vec<Waiting> = {
            let mut calls = self.lock();
            let ids: Vec<CallId> = calls
                .iter()
                .filter(|(_, waiting)| {
                    waiting.instances.as_deref() == Some(instances) && waiting.since < before
                })
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| calls.remove(id)).collect()
        };
        let count = failed.len();
        for waiting in failed {
            let _ = waiting.sender.send(Err(status.clone()));
        }
        count
    }

    /// Delivers the outcome of call `id`; false when nobody waits for it
    /// any more (it gave up, or the reply is a duplicate).
    pub(crate) fn complete(&self, id: CallId, outcome: Outcome) -> bool {
        let waiting = self.lock().remove(&id);
        waiting.is_some_and(|waiting| waiting.sender.send(outcome).is_ok())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallId, Waiting>> {
        // Every critical section is a single map operation: a panic cannot
        // leave the map half-changed.
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Forgets a call when dropped.
pub(crate) struct PendingGuard<'a> {
    pending: &'a Pending,
    id: CallId,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.pending.lock().remove(&self.id);
    }
}
