//! NATS request-reply with async-nats against the benchmark's nats-server:
//! a responder subscribed to a subject publishes every payload back to the
//! request's reply inbox; the requester uses `Client::request`. Responders
//! join one queue group, so that with several (the scaling mode) each
//! request reaches one of them, as a redis-bus request reaches one worker.

use std::future::Future;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{Caller, check_echo};

/// The subject the responder listens on.
const SUBJECT: &str = "bench.echo";

/// The queue group of the responders.
const QUEUE_GROUP: &str = "bench";

/// Answers requests on `SUBJECT` at the nats-server at `url` until `stop`
/// completes.
pub async fn serve(
    url: &str,
    ready: impl FnOnce(&str),
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let client = async_nats::connect(url)
        .await
        .with_context(|| format!("cannot connect the responder to NATS at {url}"))?;
    let mut requests = client
        .queue_subscribe(SUBJECT, QUEUE_GROUP.to_owned())
        .await
        .context("cannot subscribe the responder")?;
    // Ready only once the server knows the subscription: a request sent
    // before would find no responder.
    client
        .flush()
        .await
        .context("cannot flush the subscription")?;
    ready(url);
    tokio::pin!(stop);
    loop {
        let request = tokio::select! {
            () = &mut stop => return Ok(()),
            request = requests.next() => request,
        };
        let Some(request) = request else {
            anyhow::bail!("the responder's subscription ended");
        };
        if let Some(inbox) = request.reply {
            client
                .publish(inbox, request.payload)
                .await
                .context("publishing a reply failed")?;
        }
    }
}

/// Sends requests; clones share one connection (and its reply inbox).
#[derive(Clone)]
pub struct NatsCaller {
    /// The async-nats client.
    client: async_nats::Client,
}

/// Connects a requester to the nats-server at `url`.
pub async fn connect(url: &str) -> Result<NatsCaller> {
    let client = async_nats::connect(url)
        .await
        .with_context(|| format!("cannot connect the requester to NATS at {url}"))?;
    Ok(NatsCaller { client })
}

impl Caller for NatsCaller {
    async fn call(&self, payload: &Bytes) -> Result<()> {
        let reply = self
            .client
            .request(SUBJECT, payload.clone())
            .await
            .context("the NATS request failed")?;
        check_echo(payload, &reply.payload)
    }
}
