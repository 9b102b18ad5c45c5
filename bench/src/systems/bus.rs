//! redis-bus: the generated `EchoClient` and `EchoServer` over the real
//! Redis transport, used exactly as the README shows users; the same
//! client hitting the result cache, in Redis or in the near cache; and the
//! service's two streaming rpcs.

use std::future::Future;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use redis_bus::{Bus, CallOptions, ReplyStream, Server, Status, Streaming};

use super::{Caller, DEFAULT_BUS, STREAM_MESSAGES, check_count, check_echo};
use crate::load::is_payload;

/// The echo service, generated from `proto/echo.proto` by `build.rs`.
// The benchmark uses only part of what is generated.
#[allow(dead_code)]
mod echo {
    redis_bus::include_proto!("echo");
}

use echo::echo_bus::{Echo, EchoClient, EchoServer};

/// How many calls the worker handles at once: more than the most calls in
/// flight, so that the worker's limit never caps the measurement.
const MAX_CONCURRENCY: usize = 512;

/// The most replies one `EchoStream` call may ask for: a bound on what a
/// request can make the worker do.
const MAX_STREAMED: u32 = 1_000_000;

/// The echo implementation.
struct Echoer;

#[redis_bus::codegen::async_trait]
impl Echo for Echoer {
    async fn echo(&self, request: echo::EchoRequest) -> Result<echo::EchoReply, Status> {
        Ok(echo::EchoReply {
            payload: request.payload,
        })
    }

    async fn cached_echo(
        &self,
        request: echo::CachedEchoRequest,
    ) -> Result<echo::EchoReply, Status> {
        Ok(echo::EchoReply {
            payload: request.payload,
        })
    }

    async fn echo_stream(
        &self,
        request: echo::StreamRequest,
    ) -> Result<ReplyStream<echo::EchoReply>, Status> {
        if request.count > MAX_STREAMED {
            return Err(Status::invalid_argument(format!(
                "count must be at most {MAX_STREAMED}, not {}",
                request.count
            )));
        }
        let payload = request.payload;
        // Each reply owns its bytes (prost's `Vec<u8>`), as a user's would.
        let replies = (0..request.count).map(move |_| {
            Ok(echo::EchoReply {
                payload: payload.clone(),
            })
        });
        Ok(Box::pin(futures_util::stream::iter(replies)))
    }

    async fn upload(
        &self,
        mut requests: Streaming<echo::EchoRequest>,
    ) -> Result<echo::UploadSummary, Status> {
        let mut summary = echo::UploadSummary::default();
        while let Some(request) = requests.message().await? {
            // Nothing comes back to compare, so the worker checks each
            // message against the pattern every payload follows.
            if !is_payload(&request.payload) {
                return Err(Status::invalid_argument(format!(
                    "message {} of the upload is not the benchmark's payload",
                    summary.messages
                )));
            }
            summary.messages += 1;
            summary.bytes += request.payload.len() as u64;
        }
        Ok(summary)
    }
}

/// Serves the echo service on bus `bus` at `url` until `stop` completes,
/// then shuts down gracefully.
pub async fn serve(
    url: &str,
    bus: &str,
    ready: impl FnOnce(&str),
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let bus = Bus::connect(url, bus)
        .await
        .with_context(|| format!("cannot connect the worker's bus to {url}"))?;
    let running = Server::new(&bus)
        .add_service(EchoServer::new(Echoer))
        .max_concurrency(MAX_CONCURRENCY)
        .start()
        .await
        .context("cannot start the echo server")?;
    ready(url);
    stop.await;
    running
        .shutdown()
        .await
        .context("the echo server did not shut down cleanly")
}

/// Calls the echo service; clones share the bus.
#[derive(Clone)]
pub struct BusCaller {
    /// The generated client.
    client: EchoClient,
}

/// Connects a client to bus `bus` at `url`.
pub async fn connect(url: &str, bus: &str) -> Result<BusCaller> {
    Ok(BusCaller {
        client: client(url, bus, false).await?,
    })
}

/// A client of the echo service on bus `bus` at `url`, with the near cache
/// on or off.
async fn client(url: &str, bus: &str, near_cache: bool) -> Result<EchoClient> {
    let bus = Bus::builder(url, bus)
        .near_cache(near_cache)
        .connect()
        .await
        .with_context(|| format!("cannot connect the client's bus to {url}"))?;
    Ok(EchoClient::new(&bus))
}

impl Caller for BusCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        // The generated request owns its bytes (prost's default `Vec<u8>`),
        // so every call copies the payload, as every user's call does.
        let reply = self
            .client
            .echo(echo::EchoRequest {
                payload: payload.to_vec(),
            })
            .await
            .context("the echo call failed")?;
        check_echo(payload, &reply.payload)
    }
}

/// Calls the cached echo method, always with the same key: the first call
/// runs the worker's handler, every later one is a cache hit.
#[derive(Clone)]
pub struct CacheHitCaller {
    /// The generated client.
    client: EchoClient,
}

/// The cache key of every call: one entry, hit again and again.
const CACHE_KEY: &str = "bench";

/// Connects a client to the bus at `url`, reading the cache in Redis (one
/// `MGET` per hit) or, with `near_cache`, in this process.
pub async fn connect_cache_hit(url: &str, near_cache: bool) -> Result<CacheHitCaller> {
    Ok(CacheHitCaller {
        client: client(url, DEFAULT_BUS, near_cache).await?,
    })
}

impl Caller for CacheHitCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        // A run sends one payload throughout, so the cached reply is the echo
        // of this very payload.
        let reply = self
            .client
            .cached_echo(echo::CachedEchoRequest {
                key: CACHE_KEY.to_owned(),
                payload: payload.to_vec(),
            })
            .await
            .context("the cached echo call failed")?;
        check_echo(payload, &reply.payload)
    }
}

/// Calls `EchoStream`: one call is a stream of [`STREAM_MESSAGES`] echoes,
/// read with the run's flow-control window.
#[derive(Clone)]
pub struct StreamCaller {
    /// The generated client.
    client: EchoClient,
}

/// Connects a streaming client to the bus at `url`, with a flow-control
/// window of `window` messages.
pub async fn connect_stream(url: &str, window: u32) -> Result<StreamCaller> {
    Ok(StreamCaller {
        client: streaming_client(url, window).await?,
    })
}

/// A client of the echo service whose streams have a window of `window`
/// messages.
async fn streaming_client(url: &str, window: u32) -> Result<EchoClient> {
    let client = client(url, DEFAULT_BUS, false).await?;
    Ok(client.with_options(CallOptions::new().stream_window(window)))
}

impl Caller for StreamCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        let mut replies = self
            .client
            .echo_stream(echo::StreamRequest {
                count: STREAM_MESSAGES,
                payload: payload.to_vec(),
            })
            .await
            .context("the streaming call failed")?;
        let mut received = 0;
        while let Some(reply) = replies
            .message()
            .await
            .with_context(|| format!("the stream failed after {received} messages"))?
        {
            check_echo(payload, &reply.payload)?;
            received += 1;
        }
        check_count(received)
    }
}

/// Calls `Upload`: one call sends [`STREAM_MESSAGES`] messages of the
/// payload, which the worker checks and counts.
#[derive(Clone)]
pub struct UploadCaller {
    /// The generated client.
    client: EchoClient,
}

/// Connects an uploading client to the bus at `url`, asking for a window
/// of `window` messages.
pub async fn connect_upload(url: &str, window: u32) -> Result<UploadCaller> {
    Ok(UploadCaller {
        client: streaming_client(url, window).await?,
    })
}

impl Caller for UploadCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        let payload_len = payload.len() as u64;
        let payload = payload.clone();
        // Each request owns its bytes, as a user's would.
        let requests = (0..STREAM_MESSAGES).map(move |_| echo::EchoRequest {
            payload: payload.to_vec(),
        });
        let summary = self
            .client
            .upload(futures_util::stream::iter(requests))
            .await
            .context("the upload failed")?;
        check_count(summary.messages)?;
        let expected = summary.messages * payload_len;
        if summary.bytes != expected {
            bail!(
                "the worker counted {} bytes of the {expected} uploaded",
                summary.bytes
            );
        }
        Ok(())
    }
}
