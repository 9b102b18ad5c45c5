//! The calls of one client that wait for their reply, by call id.

use std::collections::HashMap;
use std::sync::Mutex;

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
    calls: Mutex<HashMap<CallId, oneshot::Sender<Outcome>>>,
}

impl Pending {
    /// Registers call `id` and returns where its outcome arrives. The guard
    /// forgets the call when dropped (e.g. when the caller gives up at its
    /// deadline), so a late reply is dropped instead of kept forever.
    pub(crate) fn register(&self, id: CallId) -> (oneshot::Receiver<Outcome>, PendingGuard<'_>) {
        let (sender, receiver) = oneshot::channel();
        self.lock().insert(id, sender);
        (receiver, PendingGuard { pending: self, id })
    }

    /// Delivers the outcome of call `id`; false when nobody waits for it
    /// any more (it gave up, or the reply is a duplicate).
    pub(crate) fn complete(&self, id: CallId, outcome: Outcome) -> bool {
        let waiting = self.lock().remove(&id);
        waiting.is_some_and(|sender| sender.send(outcome).is_ok())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallId, oneshot::Sender<Outcome>>> {
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
