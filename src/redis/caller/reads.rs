//! Cache reads, coalesced: the lookups of a client's concurrent calls go to
//! Redis in one pipeline, one `MGET` each, as the writer sends requests.
//! Under load that takes the connection's per-command work (a channel
//! message, a reply slot, a wake-up of its task) from every lookup to every
//! batch; alone, a lookup pays one extra task hop.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::redis::cache::{self, Lookup};
use crate::redis::keys::CacheKeys;
use crate::redis::shared::SharedConnection;

/// The most lookups sent in one pipeline.
const MAX_BATCH: usize = 256;

/// One lookup on its way.
struct Read {
    /// The method's generation key.
    generation: String,
    /// The entry's key.
    entry: String,
    /// Where its answer goes.
    answer: oneshot::Sender<redis::RedisResult<Lookup>>,
}

/// The task that sends lookups, and the way to it.
#[derive(Debug)]
pub(crate) struct Reads {
    outbox: mpsc::UnboundedSender<Read>,
    task: JoinHandle<()>,
}

impl Reads {
    /// Starts sending lookups over `connection`.
    pub(crate) fn start(connection: SharedConnection) -> Reads {
        let (outbox, inbox) = mpsc::unbounded_channel();
        Reads {
            outbox,
            task: tokio::spawn(send_all(connection, inbox)),
        }
    }

    /// Looks `entry` up, with its method's generation.
    pub(crate) async fn lookup(&self, keys: &CacheKeys, entry: &str) -> redis::RedisResult<Lookup> {
        let (answer, answered) = oneshot::channel();
        let read = Read {
            generation: keys.generation(),
            entry: entry.to_owned(),
            answer,
        };
        if self.outbox.send(read).is_err() {
            return Err(stopped());
        }
        answered.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl Drop for Reads {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends the lookups that come, in batches, until the client is dropped.
async fn send_all(connection: SharedConnection, mut inbox: mpsc::UnboundedReceiver<Read>) {
    let mut batch = Vec::new();
    while let Some(first) = inbox.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let mut pipe = redis::pipe();
        for read in &batch {
            pipe.add_command(cache::lookup_command(&read.generation, &read.entry));
        }
        // Each lookup gets its own answer: one refused (an ACL on one
        // method) fails alone; a failed connection fails them all, and
        // their calls go on without the cache.
        match connection.replies(&pipe).await {
            Ok(answers) => {
                for (read, answer) in batch.drain(..).zip(answers) {
                    let _ = read.answer.send(cache::read_lookup(answer));
                }
            }
            Err(error) => {
                for read in batch.drain(..) {
                    let _ = read.answer.send(Err(error.clone()));
                }
            }
        }
    }
}

/// The error of a lookup whose task has stopped (the client is going).
fn stopped() -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Io,
        "the client's cache reader has stopped",
    ))
}
