//! `call` of a streaming rpc: a server-streaming call prints each reply as
//! one line of JSON as it comes; a client-streaming call sends one request
//! per line of JSON (of the argument, of `-d`, or of standard input as
//! lines come) and prints the reply.

use futures_util::StreamExt;
use prost_reflect::DynamicMessage;
use redis_bus::DynamicClient;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::call::{misfit, request_text, to_json};
use crate::failure::Failure;
use crate::output::print;
use crate::target::Target;

/// Calls server-streaming `target` with the request `json`, printing each
/// reply as a line of JSON; fails, after the replies that came, with the
/// status the stream ended with.
pub(super) async fn replies(
    client: &DynamicClient,
    target: &Target,
    json: &str,
) -> Result<String, Failure> {
    let request = client
        .request_from_json(&target.method, json)
        .map_err(|status| misfit(client, target, &status))?;
    let mut replies = client
        .call_server_streaming(&target.method, &request)
        .await
        .map_err(|status| Failure::call(target, &status))?;
    while let Some(reply) = replies.next().await {
        let reply = reply.map_err(|status| Failure::call(target, &status))?;
        print(&to_json(&reply, false)?);
    }
    Ok(String::new())
}

/// Calls client-streaming `target` with one request per line of JSON: of
/// `json` or `data` when given, else of standard input, sent as each line
/// comes. A line that is not a request of the method cancels the call and
/// fails naming the line.
pub(super) async fn requests(
    client: &DynamicClient,
    target: &Target,
    json: Option<&str>,
    data: Option<&str>,
    pretty: bool,
) -> Result<String, Failure> {
    let (sender, receiver) = mpsc::channel(64);
    let (misfit_sender, misfit) = oneshot::channel();
    let reader = match (json, data) {
        (None, None) => tokio::spawn(read_requests(
            BufReader::new(tokio::io::stdin()),
            client.clone(),
            target.clone(),
            sender,
            misfit_sender,
        )),
        _ => {
            let text = request_text(json, data).await?;
            tokio::spawn(read_requests(
                std::io::Cursor::new(text.into_bytes()),
                client.clone(),
                target.clone(),
                sender,
                misfit_sender,
            ))
        }
    };
    let requests = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|request| (request, receiver))
    });
    let call = client.call_client_streaming(&target.method, requests);
    let outcome = tokio::select! {
        reply = call => reply.map_err(|status| Failure::call(target, &status)),
        // Dropping the call cancels it: the handler never sees a stream
        // that looks complete but is not.
        Ok(failure) = misfit => Err(failure),
    };
    reader.abort();
    let mut out = to_json(&outcome?, pretty)?;
    out.push('\n');
    Ok(out)
}

/// Sends one request per non-blank line of `input` until it ends, or
/// reports the first line that is not a request of `target`.
async fn read_requests<R: AsyncBufRead + Unpin>(
    input: R,
    client: DynamicClient,
    target: Target,
    requests: mpsc::Sender<DynamicMessage>,
    misfit_of: oneshot::Sender<Failure>,
) {
    let mut lines = input.lines();
    let mut number = 0;
    loop {
        number += 1;
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(error) => {
                let _ = misfit_of.send(Failure::new(format!("cannot read the requests: {error}")));
                return;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match client.request_from_json(&target.method, &line) {
            Ok(request) => {
                if requests.send(request).await.is_err() {
                    return;
                }
            }
            Err(status) => {
                let failure = misfit(&client, &target, &status);
                let message = format!("line {number}: {}", failure.message());
                let _ = misfit_of.send(failure.with_message(message));
                return;
            }
        }
    }
}
