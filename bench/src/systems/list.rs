//! The floor of an RPC over Redis lists, written by hand with none of
//! redis-bus's guarantees (no crash recovery, no deadlines, no liveness
//! check): how fast a list RPC can go on this machine.
//!
//! A call pushes `[id][reply list][payload]` onto one queue with `RPUSH`.
//! The worker pops up to 64 requests at once with `BLMPOP` on a connection
//! of its own and answers a batch in one pipeline, with one `RPUSH` per
//! client. Each client's reader pops its own reply list with `BLMPOP` and
//! hands every reply to the call with the same id.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Caller, check_echo};

/// The queue of requests.
const QUEUE: &str = "bench:list:queue";

/// The most requests (and replies) popped at once.
const BATCH: usize = 64;

/// How long one blocking pop waits before it is issued again, in seconds.
const BLOCK_SECONDS: f64 = 1.0;

/// How long a call waits for its reply: nothing is lost on loopback, so a
/// call that waits this long means a bug, reported instead of a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Length of the call id in front of requests and replies.
const ID_LEN: usize = 8;

/// Calls waiting for their reply, by id; the value is the whole reply
/// (id included, so that handing it over copies nothing).
type Pending = Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>;

/// Serves the queue at `url` until `stop` completes.
pub async fn serve(
    url: &str,
    ready: impl FnOnce(&str),
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let client = redis::Client::open(url).with_context(|| format!("bad Redis URL {url}"))?;
    let mut blocking = connect_unlimited(&client).await?;
    let replies = connect_unlimited(&client).await?;
    ready(url);
    tokio::pin!(stop);
    loop {
        let popped = tokio::select! {
            () = &mut stop => return Ok(()),
            popped = pop(&mut blocking, QUEUE) => popped.context("popping requests failed")?,
        };
        if popped.is_empty() {
            continue;
        }
        let pipe = answer(&popped)?;
        let mut connection = replies.clone();
        // Replies go out while the next batch is popped, as in any worker
        // that does not wait for one batch's answers to take the next.
        tokio::spawn(async move {
            if let Err(error) = pipe.query_async::<()>(&mut connection).await {
                eprintln!("list worker: sending replies failed: {error}");
            }
        });
    }
}

/// The pipeline that answers `requests`: one `RPUSH` per reply list.
fn answer(requests: &[Vec<u8>]) -> Result<redis::Pipeline> {
    let mut by_client: Vec<(&[u8], Vec<Vec<u8>>)> = Vec::new();
    for request in requests {
        let (id, reply_to, payload) = decode_request(request)?;
        let mut reply = Vec::with_capacity(ID_LEN + payload.len());
        reply.extend_from_slice(id);
        reply.extend_from_slice(payload);
        match by_client.iter_mut().find(|(key, _)| *key == reply_to) {
            Some((_, replies)) => replies.push(reply),
            None => by_client.push((reply_to, vec![reply])),
        }
    }
    let mut pipe = redis::pipe();
    for (reply_to, replies) in &by_client {
        pipe.cmd("RPUSH").arg(*reply_to).arg(replies).ignore();
    }
    Ok(pipe)
}

/// Calls over the list RPC; clones share one client.
#[derive(Clone)]
pub struct ListCaller {
    /// What the clones share.
    shared: Arc<Shared>,
}

/// One client: a connection to push on, a reader, the calls in flight.
struct Shared {
    /// The shared connection that requests are pushed on.
    connection: MultiplexedConnection,
    /// This client's reply list.
    reply_to: String,
    /// Source of call ids.
    next_id: AtomicU64,
    /// Calls waiting for their reply.
    pending: Arc<Pending>,
    /// The reader task, stopped with the client.
    reader: JoinHandle<()>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Connects a client to the Redis at `url` and starts its reader.
pub async fn connect(url: &str) -> Result<ListCaller> {
    let client = redis::Client::open(url).with_context(|| format!("bad Redis URL {url}"))?;
    let connection = connect_unlimited(&client).await?;
    let blocking = connect_unlimited(&client).await?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let reply_to = format!("bench:list:replies:{}-{nanos}", std::process::id());
    let pending = Arc::new(Pending::default());
    let reader = tokio::spawn(read_replies(
        blocking,
        reply_to.clone(),
        Arc::clone(&pending),
    ));
    Ok(ListCaller {
        shared: Arc::new(Shared {
            connection,
            reply_to,
            next_id: AtomicU64::new(0),
            pending,
            reader,
        }),
    })
}

impl Caller for ListCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        let shared = &*self.shared;
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        // Registered before the push: the reply may beat the push's answer.
        lock(&shared.pending).insert(id, sender);
        let request = encode_request(id, &shared.reply_to, payload);
        let pushed: redis::RedisResult<i64> = redis::cmd("RPUSH")
            .arg(QUEUE)
            .arg(request)
            .query_async(&mut shared.connection.clone())
            .await;
        if let Err(error) = pushed {
            lock(&shared.pending).remove(&id);
            return Err(error).context("RPUSH of a request failed");
        }
        let reply = match tokio::time::timeout(CALL_TIMEOUT, receiver).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => bail!("the reply reader stopped (see its error above)"),
            Err(_) => {
                lock(&shared.pending).remove(&id);
                bail!("no reply within {CALL_TIMEOUT:?}");
            }
        };
        check_echo(payload, &reply[ID_LEN..])
    }
}

/// Pops replies from `reply_to` and hands each to its call, until the
/// client is dropped or a command fails.
async fn read_replies(
    mut blocking: MultiplexedConnection,
    reply_to: String,
    pending: Arc<Pending>,
) {
    loop {
        let replies = match pop(&mut blocking, &reply_to).await {
            Ok(replies) => replies,
            Err(error) => {
                eprintln!("list client: popping replies failed: {error}");
                return;
            }
        };
        for reply in replies {
            let Some(id) = reply.get(..ID_LEN) else {
                eprintln!("list client: dropping a reply shorter than its id");
                continue;
            };
            let id = u64::from_be_bytes(id.try_into().expect("ID_LEN is 8"));
            if let Some(waiting) = lock(&pending).remove(&id) {
                // The call may have given up at its timeout: nothing to do.
                let _ = waiting.send(reply);
            }
        }
    }
}

/// Pops up to `BATCH` elements from `list`, waiting up to `BLOCK_SECONDS`
/// for the first; none when the wait timed out.
async fn pop(
    connection: &mut MultiplexedConnection,
    list: &str,
) -> redis::RedisResult<Vec<Vec<u8>>> {
    // `AsyncCommands::blmpop` has the wrong return type in redis 1.8.
    let popped: Option<(String, Vec<Vec<u8>>)> = redis::cmd("BLMPOP")
        .arg(BLOCK_SECONDS)
        .arg(1)
        .arg(list)
        .arg("LEFT")
        .arg("COUNT")
        .arg(BATCH)
        .query_async(connection)
        .await?;
    Ok(popped.map(|(_, elements)| elements).unwrap_or_default())
}

/// A connection without redis-rs's 500 ms response timeout, which would
/// abandon a blocked pop and lose what Redis pops for it later.
async fn connect_unlimited(client: &redis::Client) -> Result<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new().set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .context("cannot connect to Redis")
}

/// `[id][reply list length: u16][reply list][payload]`.
fn encode_request(id: u64, reply_to: &str, payload: &[u8]) -> Vec<u8> {
    let key = reply_to.as_bytes();
    let key_len = u16::try_from(key.len()).expect("reply list names are short");
    let mut request = Vec::with_capacity(ID_LEN + 2 + key.len() + payload.len());
    request.extend_from_slice(&id.to_be_bytes());
    request.extend_from_slice(&key_len.to_be_bytes());
    request.extend_from_slice(key);
    request.extend_from_slice(payload);
    request
}

/// The id, reply list and payload of a request.
fn decode_request(request: &[u8]) -> Result<(&[u8], &[u8], &[u8])> {
    let malformed = || anyhow!("a malformed request of {} bytes", request.len());
    let (id, rest) = request.split_at_checked(ID_LEN).ok_or_else(malformed)?;
    let (key_len, rest) = rest.split_at_checked(2).ok_or_else(malformed)?;
    let key_len = usize::from(u16::from_be_bytes([key_len[0], key_len[1]]));
    let (reply_to, payload) = rest.split_at_checked(key_len).ok_or_else(malformed)?;
    Ok((id, reply_to, payload))
}

fn lock(pending: &Pending) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Vec<u8>>>> {
    // Every critical section is one map operation: a panic cannot leave
    // the map half-changed.
    pending
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let request = encode_request(7, "replies", b"hello");
        let (id, reply_to, payload) = decode_request(&request).expect("well formed");
        assert_eq!(id, 7u64.to_be_bytes());
        assert_eq!(reply_to, b"replies");
        assert_eq!(payload, b"hello");
        assert!(decode_request(&request[..9]).is_err());
    }
}
