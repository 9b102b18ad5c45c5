//! redis-bus: the generated `EchoClient` and `EchoServer` over the real
//! Redis transport, used exactly as the README shows users.

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
    let bus = Bus::connect(url, BUS)
        .await
        .with_context(|| format!("cannot connect the client's bus to {url}"))?;
    Ok(BusCaller {
        client: EchoClient::new(&bus),
    })
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
