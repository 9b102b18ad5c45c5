//! The caller's acknowledgement of a streaming call (see
//! `redis::streaming`): how many messages it has read, refreshed while the
//! call lives so that the worker knows its caller is there, and at the end
//! deleted (the call ended) or marked cancelled (the caller dropped it).

use tokio::sync::watch;

use crate::redis::shared::SharedConnection;
use crate::redis::streaming::{ACK_REFRESH, ACK_TTL, CANCELLED};
use crate::redis::window::AckCadence;

/// Keeps one call's acknowledgement; dropping it before
/// [`ended`](Self::ended) cancels the call.
#[derive(Debug)]
pub(crate) struct Acknowledger {
    /// Tells the acknowledging task how far the caller is.
    progress: watch::Sender<Progress>,
}

/// How far the caller is.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Messages read.
    read: u64,
    /// Their bytes.
    bytes: u64,
    /// The call ended: nothing more to acknowledge.
    ended: bool,
}

impl Acknowledger {
    /// Starts acknowledging into `key`, at least every quarter of the
    /// window read (in messages or in bytes, see `AckCadence`).
    pub(crate) fn start(connection: SharedConnection, key: String, window: u32) -> Acknowledger {
        let (progress, watched) = watch::channel(Progress::default());
        tokio::spawn(acknowledge(connection, key, window, watched));
        Acknowledger { progress }
    }

    /// The caller has read `read` messages, of `bytes` bytes in all.
    pub(crate) fn read(&self, read: u64, bytes: u64) {
        self.progress.send_modify(|progress| {
            progress.read = read;
            progress.bytes = bytes;
        });
    }

    /// The call ended: the key goes.
    pub(crate) fn ended(&self) {
        self.progress.send_modify(|progress| progress.ended = true);
    }
}

/// Writes how many messages were read into `key`: when a quarter of the
/// window more was read, and every [`ACK_REFRESH`] (which keeps the key alive, and
/// with it the worker's belief that this caller lives). When the stream is
/// dropped the key is deleted after a stream that ended, or says
/// [`CANCELLED`] (for [`ACK_TTL`]) after one that did not, which stops the
/// worker.
async fn acknowledge(
    connection: SharedConnection,
    key: String,
    window: u32,
    mut progress: watch::Receiver<Progress>,
) {
    let mut cadence = AckCadence::new(window);
    let mut refresh = tokio::time::interval(ACK_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ended = loop {
        let read = tokio::select! {
            changed = progress.changed() => {
                let now = *progress.borrow_and_update();
                if changed.is_err() || now.ended {
                    break now.ended;
                }
                if !cadence.due(now.read, now.bytes) {
                    continue;
                }
                now
            }
            _ = refresh.tick() => *progress.borrow(),
        };
        let mut set = redis::cmd("SET");
        set.arg(&key)
            .arg(read.read)
            .arg("PX")
            .arg(ACK_TTL.as_millis() as u64);
        write(&connection, &set, &key).await;
        cadence.acknowledged(read.read, read.bytes);
    };
    let mut last = if ended {
        redis::cmd("DEL")
    } else {
        redis::cmd("SET")
    };
    last.arg(&key);
    if !ended {
        last.arg(CANCELLED)
            .arg("PX")
            .arg(ACK_TTL.as_millis() as u64);
    }
    write(&connection, &last, &key).await;
}

/// Sends one acknowledgement; a failure is logged and the next one (at
/// most [`ACK_REFRESH`] later) makes up for it.
async fn write(connection: &SharedConnection, command: &redis::Cmd, key: &str) {
    let sent: redis::RedisResult<()> = command.query_async(&mut connection.clone()).await;
    if let Err(error) = sent {
        tracing::warn!(%error, key, "acknowledging streamed messages failed");
    }
}
