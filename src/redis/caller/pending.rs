//! The calls of one client that wait for their reply, by call id: a unary
//! call waits for one reply, a server-streaming call for each of its
//! messages and then its final reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::redis::envelope::{CallId, DecodedReply, Position};
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
    sink: Sink,
    /// For a call that does not wait for a worker, the live workers of its
    /// service: when none is left, the call fails (see `watcher`).
    instances: Option<Arc<str>>,
    /// When the call was registered.
    since: tokio::time::Instant,
}

/// Where the replies of a waiting call go.
#[derive(Debug)]
enum Sink {
    /// A unary call's one reply.
    Unary(oneshot::Sender<Outcome>),
    /// A streaming call's messages and final reply, in the order they came
    /// (the stream puts them in order and drops duplicates).
    Stream(mpsc::UnboundedSender<(Position, Outcome)>),
}

impl Sink {
    /// Hands the call a failure that ends it.
    fn fail(self, status: Status) {
        match self {
            Sink::Unary(sender) => drop(sender.send(Err(status))),
            Sink::Stream(sender) => drop(sender.send((Position::Final(0), Err(status)))),
        }
    }
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
        self.insert(id, Sink::Unary(sender), instances);
        (receiver, PendingGuard { pending: self, id })
    }

    /// Registers streaming call `id` and returns where its messages and
    /// final reply arrive. The guard forgets the call when dropped.
    pub(crate) fn register_stream(
        self: &Arc<Self>,
        id: CallId,
        instances: Option<Arc<str>>,
    ) -> (mpsc::UnboundedReceiver<(Position, Outcome)>, StreamGuard) {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.insert(id, Sink::Stream(sender), instances);
        let guard = StreamGuard {
            pending: Arc::clone(self),
            id,
        };
        (receiver, guard)
    }

    fn insert(&self, id: CallId, sink: Sink, instances: Option<Arc<str>>) {
        let since = tokio::time::Instant::now();
        self.lock().insert(
            id,
            Waiting {
                sink,
                instances,
                since,
            },
        );
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
            waiting.sink.fail(status.clone());
        }
        count
    }

    /// Fails call `id` with `status` (its request could not be queued).
    pub(crate) fn fail(&self, id: CallId, status: Status) -> bool {
        let waiting = self.lock().remove(&id);
        waiting.map(|waiting| waiting.sink.fail(status)).is_some()
    }

    /// Delivers `reply` to the call it belongs to; false when nobody waits
    /// for it any more (it gave up, or the reply is a duplicate). A
    /// streaming call stays registered until its stream is dropped.
    pub(crate) fn deliver(&self, reply: DecodedReply) -> bool {
        let mut calls = self.lock();
        match calls.get(&reply.id).map(|waiting| &waiting.sink) {
            None => return false,
            Some(Sink::Stream(sender)) => {
                return sender.send((reply.position, reply.outcome)).is_ok();
            }
            // A streamed message for a unary call is not its reply.
            Some(Sink::Unary(_)) if matches!(reply.position, Position::Streamed(_)) => {
                return false;
            }
            Some(Sink::Unary(_)) => {}
        }
        match calls.remove(&reply.id).map(|waiting| waiting.sink) {
            Some(Sink::Unary(sender)) => sender.send(reply.outcome).is_ok(),
            _ => false,
        }
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

/// Forgets a streaming call when dropped (with its stream).
#[derive(Debug)]
pub(crate) struct StreamGuard {
    pending: Arc<Pending>,
    id: CallId,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.pending.lock().remove(&self.id);
    }
}
