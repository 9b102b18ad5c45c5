//! The worker's side of a client-streaming call: the handler's stream of
//! requests, read from the call's upload stream (see `caller::upload`) with
//! `XREAD BLOCK` on a connection of its own, in order, each once. What was
//! read is trimmed away before the next read, which is what lets the
//! caller send more. While no request comes, the worker looks at the
//! caller's acknowledgement once a second: a caller that cancelled or died
//! ends the stream with `CANCELLED`.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use redis::Value;
use redis::streams::StreamReadReply;
use tokio::time::Instant;

use crate::redis::blocking::Blocking;
use crate::redis::connection::Connector;
use crate::redis::shared::SharedConnection;
use crate::redis::streaming::{ACK_REFRESH, ACK_TTL, Ack};
use crate::seam::status::Status;
use crate::seam::stream::EncodedMessages;

/// The most requests one read takes.
const READ_BATCH: usize = 256;

/// Where one call's requests come from.
pub(super) struct Source {
    /// Opens the reader's blocking connection.
    pub connector: Connector,
    /// The shared connection, for trimming and the acknowledgement.
    pub connection: SharedConnection,
    /// The call's upload stream.
    pub key: String,
    /// The caller's acknowledgement key.
    pub ack_key: String,
    /// When the caller stops waiting.
    pub deadline: Instant,
}

/// One entry of an upload stream.
enum Entry {
    /// A request.
    Request(Bytes),
    /// The end, after this many requests.
    End(u64),
}

/// Reads the requests of one call.
struct Reader {
    source: Source,
    blocking: Blocking,
    /// Read and not handed on yet, by number.
    buffered: VecDeque<(u64, Entry)>,
    /// How many requests were handed on.
    read: u64,
    /// Up to which request the stream was trimmed.
    trimmed: u64,
    /// When reading started: before [`ACK_TTL`] has passed, a missing
    /// acknowledgement means the caller has not written one yet.
    started: Instant,
    /// Whether the stream has ended.
    done: bool,
}

/// The requests of the call `source` describes, as its handler reads them.
pub(super) fn requests(source: Source) -> EncodedMessages {
    let reader = Reader {
        blocking: Blocking::new(source.connector.clone(), Default::default()),
        source,
        buffered: VecDeque::new(),
        read: 0,
        trimmed: 0,
        started: Instant::now(),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(
        reader,
        |mut reader| async move {
            let item = reader.next().await?;
            Some((item, reader))
        },
    ))
}

impl Reader {
    /// The next request, the status that ends the stream, or `None` after
    /// its end.
    async fn next(&mut self) -> Option<Result<Bytes, Status>> {
        if self.done {
            return None;
        }
        let mut backoff = Duration::from_millis(20);
        loop {
            while let Some((seq, entry)) = self.buffered.pop_front() {
                if seq <= self.read {
                    continue;
                }
                if seq > self.read + 1 {
                    return self.end(Some(Status::data_loss(format!(
                        "request {} of the stream is missing (request {seq} came next): \
                         Redis lost it (was it restarted or flushed?)",
                        self.read + 1
                    ))));
                }
                match entry {
                    Entry::Request(request) => {
                        self.read = seq;
                        return Some(Ok(request));
                    }
                    Entry::End(count) if count == self.read => return self.end(None),
                    Entry::End(count) => {
                        return self.end(Some(Status::data_loss(format!(
                            "the caller streamed {count} requests and {} arrived",
                            self.read
                        ))));
                    }
                }
            }
            let left = self
                .source
                .deadline
                .saturating_duration_since(Instant::now());
            if left.is_zero() {
                return self.end(Some(Status::deadline_exceeded(format!(
                    "the caller's deadline passed after {} requests of the stream",
                    self.read
                ))));
            }
            match self.fetch(left.min(ACK_REFRESH)).await {
                Ok(true) => backoff = Duration::from_millis(20),
                Ok(false) => {
                    if let Some(status) = self.caller_gone().await {
                        return self.end(Some(status));
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, key = %self.source.key, "reading streamed requests failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// Ends the stream with `status`, or well.
    fn end(&mut self, status: Option<Status>) -> Option<Result<Bytes, Status>> {
        self.done = true;
        status.map(Err)
    }

    /// Trims what was read and waits up to `block` for more; false when
    /// none came.
    async fn fetch(&mut self, block: Duration) -> redis::RedisResult<bool> {
        if self.read > self.trimmed {
            let _: Value = redis::cmd("XTRIM")
                .arg(&self.source.key)
                .arg("MINID")
                .arg(format!("0-{}", self.read + 1))
                .query_async(&mut self.source.connection.clone())
                .await?;
            self.trimmed = self.read;
        }
        let mut read = redis::cmd("XREAD");
        read.arg("COUNT")
            .arg(READ_BATCH)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(&self.source.key)
            .arg(format!("0-{}", self.read));
        let reply: Option<StreamReadReply> = self.blocking.query(&read, block).await?;
        let mut came = false;
        for stream in reply.into_iter().flat_map(|reply| reply.keys) {
            for entry in stream.ids {
                let Some(seq) = entry.id.strip_prefix("0-").and_then(|n| n.parse().ok()) else {
                    continue;
                };
                let parsed = match (entry.map.get("m"), entry.map.get("end")) {
                    (Some(Value::BulkString(request)), _) => {
                        Entry::Request(Bytes::copy_from_slice(request))
                    }
                    (_, Some(Value::BulkString(count))) => Entry::End(
                        std::str::from_utf8(count)
                            .ok()
                            .and_then(|count| count.parse().ok())
                            .unwrap_or(u64::MAX),
                    ),
                    _ => continue,
                };
                self.buffered.push_back((seq, parsed));
                came = true;
            }
        }
        Ok(came)
    }

    /// Why the stream ends when no request came for a while: the caller
    /// cancelled, or is gone.
    async fn caller_gone(&mut self) -> Option<Status> {
        let value: redis::RedisResult<Option<Vec<u8>>> = redis::cmd("GET")
            .arg(&self.source.ack_key)
            .query_async(&mut self.source.connection.clone())
            .await;
        match Ack::parse(value.ok()?.as_deref()) {
            Ack::Read(_) => None,
            Ack::Missing if self.started.elapsed() < ACK_TTL => None,
            Ack::Cancelled => Some(Status::cancelled(format!(
                "the caller cancelled the call after {} requests",
                self.read
            ))),
            Ack::Missing => Some(Status::cancelled(format!(
                "the caller is gone (it stopped refreshing its acknowledgement) after {} \
                 requests",
                self.read
            ))),
        }
    }
}
