//! tonic gRPC over loopback TCP, unary and server streaming: a tonic
//! server in the worker process and one `Channel` shared by every call of
//! the client, both with tonic's defaults (and `TCP_NODELAY`, which tonic
//! sets by default).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures_util::Stream;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint};

use super::{Caller, STREAM_MESSAGES, check_count, check_echo};

/// The echo service, generated from `proto/grpc_echo.proto` by `build.rs`.
mod proto {
    tonic::include_proto!("grpc_echo");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};

/// How long a call may take: nothing is lost on loopback, so a call that
/// takes this long means a bug, reported instead of a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The most replies one `EchoStream` call may ask for, as for redis-bus.
const MAX_STREAMED: u32 = 1_000_000;

/// The replies of one `EchoStream` call.
type ReplyStream = Pin<Box<dyn Stream<Item = Result<proto::EchoReply, tonic::Status>> + Send>>;

/// The echo implementation.
struct Echoer;

#[tonic::async_trait]
impl Echo for Echoer {
    type EchoStreamStream = ReplyStream;

    async fn echo_stream(
        &self,
        request: tonic::Request<proto::StreamRequest>,
    ) -> Result<tonic::Response<ReplyStream>, tonic::Status> {
        let request = request.into_inner();
        if request.count > MAX_STREAMED {
            return Err(tonic::Status::invalid_argument(format!(
                "count must be at most {MAX_STREAMED}, not {}",
                request.count
            )));
        }
        let payload = request.payload;
        // Each reply owns its bytes, as with redis-bus.
        let replies = (0..request.count).map(move |_| {
            Ok(proto::EchoReply {
                payload: payload.clone(),
            })
        });
        Ok(tonic::Response::new(Box::pin(futures_util::stream::iter(
            replies,
        ))))
    }

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
    Ok(GrpcCaller {
        client: client(url).await?,
    })
}

/// A generated client on a new channel to the server at `url`.
async fn client(url: &str) -> Result<EchoClient<Channel>> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad gRPC URL {url}"))?
        .timeout(CALL_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("cannot connect to the tonic server at {url}"))?;
    Ok(EchoClient::new(channel))
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

/// Calls `EchoStream` over one channel: one call is a stream of
/// [`STREAM_MESSAGES`] echoes; clones share the channel.
#[derive(Clone)]
pub struct GrpcStreamCaller {
    /// The generated client around the channel.
    client: EchoClient<Channel>,
}

/// Connects a streaming client to the server at `url`.
pub async fn connect_stream(url: &str) -> Result<GrpcStreamCaller> {
    Ok(GrpcStreamCaller {
        client: client(url).await?,
    })
}

impl Caller for GrpcStreamCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        let mut replies = self
            .client
            .clone()
            .echo_stream(proto::StreamRequest {
                count: STREAM_MESSAGES,
                payload: payload.to_vec(),
            })
            .await
            .context("the gRPC streaming call failed")?
            .into_inner();
        let mut received = 0;
        while let Some(reply) = replies
            .message()
            .await
            .with_context(|| format!("the gRPC stream failed after {received} messages"))?
        {
            check_echo(payload, &reply.payload)?;
            received += 1;
        }
        check_count(received)
    }
}
