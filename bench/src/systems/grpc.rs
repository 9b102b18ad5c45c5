//! tonic unary gRPC over loopback TCP: a tonic server in the worker process
//! and one `Channel` shared by every call of the client, both with tonic's
//! defaults (and `TCP_NODELAY`, which tonic sets by default).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint};

use super::{Caller, check_echo};

/// The echo service, generated from `proto/grpc_echo.proto` by `build.rs`.
mod proto {
    tonic::include_proto!("grpc_echo");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};

/// How long a call may take: nothing is lost on loopback, so a call that
/// takes this long means a bug, reported instead of a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The echo implementation.
struct Echoer;

#[tonic::async_trait]
impl Echo for Echoer {
    async fn echo(
        &self,
        request: tonic::Request<proto::EchoRequest>,
    ) -> Result<tonic::Response<proto::EchoReply>, tonic::Status> {
        Ok(tonic::Response::new(proto::EchoReply {
            payload: request.into_inner().payload,
        }))
    }
}

/// Serves the echo service on `address` (port 0 for any free port) until
/// `stop` completes.
pub async fn serve(
    address: &str,
    ready: impl FnOnce(&str),
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let address: SocketAddr = address
        .parse()
        .with_context(|| format!("{address} is not a socket address"))?;
    // `serve_with_incoming` ignores the server's own `tcp_nodelay`
    // (enabled by default), so the listener sets it, as `serve` would.
    let incoming = TcpIncoming::bind(address)
        .with_context(|| format!("cannot listen on {address}"))?
        .with_nodelay(Some(true));
    let bound = incoming
        .local_addr()
        .context("cannot read the listening address")?;
    ready(&format!("http://{bound}"));
    tonic::transport::Server::builder()
        .add_service(EchoServer::new(Echoer))
        .serve_with_incoming_shutdown(incoming, stop)
        .await
        .context("the tonic server failed")
}

/// Calls over one channel; clones share it.
#[derive(Clone)]
pub struct GrpcCaller {
    /// The generated client around the channel.
    client: EchoClient<Channel>,
}

/// Connects a channel to the server at `url` (`http://host:port`).
pub async fn connect(url: &str) -> Result<GrpcCaller> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad gRPC URL {url}"))?
        .timeout(CALL_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("cannot connect to the tonic server at {url}"))?;
    Ok(GrpcCaller {
        client: EchoClient::new(channel),
    })
}

impl Caller for GrpcCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        // Generated clients take `&mut self`; a clone is a handle on the
        // same channel. The request owns its bytes, as with redis-bus.
        let reply = self
            .client
            .clone()
            .echo(proto::EchoRequest {
                payload: payload.to_vec(),
            })
            .await
            .context("the gRPC call failed")?;
        check_echo(payload, &reply.into_inner().payload)
    }
}
