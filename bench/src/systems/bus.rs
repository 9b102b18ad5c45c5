//! redis-bus: the generated `EchoClient` and `EchoServer` over the real
//! Redis transport, used exactly as the README shows users; and the same
//! client hitting the result cache, in Redis or in the near cache.

use std::future::Future;

use anyhow::{Context, Result};
use bytes::Bytes;
use redis_bus::{Bus, Server, Status};

use super::{Caller, check_echo};

/// The echo service, generated from `proto/echo.proto` by `build.rs`.
// The benchmark uses only part of what is generated.
#[allow(dead_code)]
mod echo {
    redis_bus::include_proto!("echo");
}

use echo::echo_bus::{Echo, EchoClient, EchoServer};

/// The bus every process of the benchmark joins.
const BUS: &str = "bench";

/// How many calls the worker handles at once: more than the most calls in
/// flight, so that the worker's limit never caps the measurement.
const MAX_CONCURRENCY: usize = 512;

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
}

/// Serves the echo service on the bus at `url` until `stop` completes, then
/// shuts down gracefully.
pub async fn serve(
    url: &str,
    ready: impl FnOnce(&str),
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let bus = Bus::connect(url, BUS)
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

/// Connects a client to the bus at `url`.
pub async fn connect(url: &str) -> Result<BusCaller> {
    Ok(BusCaller {
        client: client(url, false).await?,
    })
}

/// A client of the echo service on the bus at `url`, with the near cache
/// on or off.
async fn client(url: &str, near_cache: bool) -> Result<EchoClient> {
    let bus = Bus::builder(url, BUS)
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
        client: client(url, near_cache).await?,
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
