//! Handles one taken request: decode, check, run the handler within the
//! call's deadline and trace (streaming its messages, for a
//! server-streaming rpc), and hand the outcome to the replier.
//!
//! Nothing a request contains can stop the worker: garbage is logged (at a
//! bounded rate) and dropped, a request naming no valid reply client is
//! dropped unrun, an unknown method, an oversized payload or an undecodable
//! request gets a precise status, a panicking handler gets `INTERNAL`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use bytes::Bytes;
use futures_util::FutureExt;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{Instrument, field};

use super::cached::{self, CacheWrite, CachedCall, Guard};
use super::core::{Core, Served};
use super::replier::Completion;
use super::streaming::{self, Destination};
use super::taken::Taken;
use super::upload::{self, Source};
use crate::redis::cache::entry_value;
use crate::redis::envelope::{CallId, decode_request, encode_final};
use crate::seam::context::CallContext;
use crate::seam::debug_report::{self, Failure, panic_message};
use crate::seam::error::{Error, ErrorKind};
use crate::seam::info::MethodInfo;
use crate::seam::metadata::Metadata;
use crate::seam::server_config::Mode;
use crate::seam::service::unknown_method;
use crate::seam::status::Status;
use crate::seam::stream::{EncodedMessages, granted_window};
use crate::seam::trace::{self, TRACESTATE_KEY, TraceParent};
use crate::seam::wire;

/// Handles `taken`, holding `permit` (one unit of the worker's concurrency)
/// until the handler is done.
pub(crate) async fn handle(core: Arc<Core>, taken: Taken, permit: OwnedSemaphorePermit) {
    let served = &core.services[taken.service];
    let Some((id, request, reply_to)) = answerable(&core, &served.queue, &taken.element) else {
        core.complete(Completion::unanswered(taken));
        return;
    };
    let mut permit = Some(permit);
    let mut cache_write = None;
    let started = StdInstant::now();
    let call = Call {
        taken: &taken,
        id,
        request: &request,
        reply_to: &reply_to,
    };
    let mut streamed = 0;
    let outcome = outcome(
        &core,
        served,
        &call,
        &mut permit,
        &mut cache_write,
        &mut streamed,
    )
    .await;
    drop(permit);
    record(&core, served, &request, started.elapsed(), outcome.as_ref());
    let reply = outcome.map(|outcome| (reply_to, encode_final(id, outcome, streamed)));
    core.complete(Completion {
        taken,
        reply,
        cache: cache_write,
    });
}

/// Decodes an element taken from `queue` into the call's id, its request
/// and the reply list the worker derives for it (never one the request
/// names). Anything else is reported as bad input and `None`: nobody could
/// be answered, so nothing is run.
pub(crate) fn answerable(
    core: &Core,
    queue: &str,
    element: &Bytes,
) -> Option<(CallId, wire::Request, String)> {
    let (id, request) = match decode_request(element) {
        Ok(decoded) => decoded,
        Err(reason) => {
            core.bad_input.report(
                reason.kind,
                queue,
                &format_args!(
                    "dropping a queued element that is not a redis-bus request: {reason}"
                ),
            );
            return None;
        }
    };
    let Some(reply_to) = core.keys.replies_of(&request.reply_client) else {
        core.bad_input.report(
            "no reply client",
            queue,
            &format_args!(
                "dropping a request of {:?} that names no valid reply client ({:?}): \
                 nobody could be answered, so it is not run",
                request.method, request.reply_client
            ),
        );
        return None;
    };
    Some((id, request, reply_to))
}

/// One decoded request, where it came from and where its replies go.
struct Call<'a> {
    taken: &'a Taken,
    id: CallId,
    request: &'a wire::Request,
    reply_to: &'a str,
}

/// Counts a call of a known method in the worker's statistics; a call
/// whose caller stopped waiting counts as `DEADLINE_EXCEEDED`.
fn record(
    core: &Core,
    served: &Served,
    request: &wire::Request,
    elapsed: std::time::Duration,
    outcome: Option<&Result<Vec<u8>, Status>>,
) {
    let Some(method) = served.service.info().method(&request.method) else {
        return;
    };
    let expired;
    let result = match outcome {
        Some(Ok(_)) => Ok(()),
        Some(Err(status)) => Err(status),
        None => {
            expired = Status::deadline_exceeded("the caller's deadline passed before a reply");
            Err(&expired)
        }
    };
    core.stats
        .call(&core.instance_id, method.full_name, elapsed, result);
}

/// The outcome of a call, or `None` when nobody waits for one any more.
/// For a cached method, `cache_write` says what to do with the cache; for a
/// server-streaming one, `streamed` counts the messages sent before it.
async fn outcome(
    core: &Core,
    served: &Served,
    call: &Call<'_>,
    permit: &mut Option<OwnedSemaphorePermit>,
    cache_write: &mut Option<CacheWrite>,
    streamed: &mut u64,
) -> Option<Result<Vec<u8>, Status>> {
    let Call {
        taken, id, request, ..
    } = *call;
    let service = served.service.info();
    let deadline_ms = (request.deadline_ms != 0).then_some(request.deadline_ms as i64);
    if deadline_ms.is_some_and(|deadline| core.clock.now_ms() >= deadline) {
        tracing::debug!(
            service = service.name,
            method = %request.method,
            call_id = %id,
            "skipping a request whose caller's deadline passed while it was queued"
        );
        return None;
    }
    // Taken while this worker's registration had lapsed: its caller may
    // have been told that no worker was live.
    if !request.wait_for_worker && !core.is_live() {
        return Some(Err(Status::unavailable(format!(
            "no live worker served {} when this call of {} was queued (the registration of \
             worker {} had lapsed), so it is not run; call with \
             CallOptions::wait_for_worker(true) to wait for a worker",
            service.name, request.method, core.instance_id
        ))));
    }
    let Some(method) = service.method(&request.method) else {
        return Some(Err(unknown_method(service, &request.method)));
    };
    if taken.deliveries > core.config.max_deliveries {
        tracing::error!(
            method = method.full_name,
            call_id = %id,
            deliveries = taken.deliveries,
            "failing a request delivered {} times: every worker that took it stopped before answering",
            taken.deliveries
        );
        return Some(Err(Status::internal(format!(
            "the request to {} was delivered {} times and each worker that took it stopped \
             before answering (the request may be what stops them), so it is not run again",
            method.full_name, taken.deliveries
        ))));
    }
    if let Some(dead) = &taken.reclaimed_from {
        if method.server_streaming || method.client_streaming {
            return Some(Err(Status::unavailable(format!(
                "the worker {dead} stopped while streaming this call of {}; a stream is \
                 never run again, since its caller may hold part of it",
                method.full_name
            ))));
        }
        if !method.idempotent {
            return Some(Err(Status::unavailable(format!(
                "the worker {dead} stopped while handling this call of {} (it may or may \
                 not have run); the method is not idempotent, so it is not run again",
                method.full_name
            ))));
        }
    }
    if request.payload.len() > core.config.max_request_bytes {
        return Some(Err(Status::resource_exhausted(format!(
            "the request to {} is {} bytes, over this worker's limit of {} bytes",
            method.full_name,
            request.payload.len(),
            core.config.max_request_bytes
        ))));
    }
    let deadline = match deadline_ms {
        Some(deadline) => core.clock.to_instant(deadline),
        None => tokio::time::Instant::now() + crate::seam::call::DEFAULT_TIMEOUT,
    };
    if method.server_streaming {
        let body = Body::Streaming {
            to: Destination {
                id,
                replies: call.reply_to,
                ack_key: core.keys.stream_ack(&request.reply_client, &id.to_string()),
                window: granted_window(request.stream_window),
                deadline,
            },
            sent: streamed,
        };
        // Streams are boxed, here and below, so that a unary call's future
        // (which every request's task holds) stays small.
        return Box::pin(run(core, served, method, request, id, deadline, body)).await;
    }
    if method.client_streaming {
        let call_id = id.to_string();
        let upload = core.keys.upload(&request.reply_client, &call_id);
        let source = Source {
            connector: core.connector.clone(),
            connection: core.connection.clone(),
            key: upload.clone(),
            ack_key: core.keys.stream_ack(&request.reply_client, &call_id),
            deadline,
        };
        let body = Body::ClientStreaming {
            requests: upload::requests(source),
        };
        let outcome = Box::pin(run(core, served, method, request, id, deadline, body)).await;
        // What the handler did not read is of no use to anyone.
        let deleted: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(&upload)
            .query_async(&mut core.connection.clone())
            .await;
        if let Err(error) = deleted {
            tracing::warn!(%error, key = %upload, "deleting a call's streamed requests failed; they expire after its deadline");
        }
        return outcome;
    }
    let entry = match served.service.cache_key(method.name, &request.payload) {
        Some(Ok(text)) if method.cache_key.is_some() => Some(
            core.keys
                .cache(method.full_name)
                .entry(method.schema_fingerprint, &text),
        ),
        Some(Err(status)) => return Some(Err(status)),
        _ => None,
    };
    let Some(entry) = entry else {
        return run(core, served, method, request, id, deadline, Body::Unary).await;
    };
    let cached = CachedCall {
        method,
        entry,
        id,
        refresh: request.cache_refresh,
        reclaimed_from: taken.reclaimed_from.as_deref(),
        deadline,
    };
    // Boxed, as the cached path is, for the same reason.
    let guarded = Box::pin(cached::guard(core, cached, permit)).await;
    match guarded {
        Guard::Uncached => run(core, served, method, request, id, deadline, Body::Unary).await,
        Guard::Hit(reply) => Some(Ok(reply.to_vec())),
        Guard::Expired => None,
        Guard::Locked {
            mut write,
            generation,
            lease,
        } => {
            let outcome = Box::pin(run(
                core,
                served,
                method,
                request,
                id,
                deadline,
                Body::Unary,
            ))
            .await;
            drop(lease);
            if let Some(Ok(reply)) = &outcome {
                write.store = Some((entry_value(generation, reply), method.cache_ttl_seconds));
                core.stats.cache_store(method.full_name);
            }
            *cache_write = Some(write);
            outcome
        }
    }
}

/// What a handler's run makes.
enum Body<'a> {
    /// One reply.
    Unary,
    /// A stream sent to `to` (its final outcome is the run's), counting
    /// the messages sent in `sent`.
    Streaming {
        to: Destination<'a>,
        sent: &'a mut u64,
    },
    /// One reply to the requests read from `requests`.
    ClientStreaming { requests: EncodedMessages },
}

/// Runs the handler for `request` within its deadline and trace.
async fn run(
    core: &Core,
    served: &Served,
    method: &'static MethodInfo,
    request: &wire::Request,
    id: CallId,
    deadline: tokio::time::Instant,
    body: Body<'_>,
) -> Option<Result<Vec<u8>, Status>> {
    // Checked like anything else a request says: it may come from anyone.
    let metadata = match Metadata::from_wire(request.metadata.clone()) {
        Ok(metadata) => metadata,
        Err(why) => {
            return Some(Err(Status::invalid_argument(format!(
                "the request to {} carries bad metadata: {why}",
                method.full_name
            ))));
        }
    };
    let parent = TraceParent::parse(&request.traceparent);
    let span = tracing::info_span!(
        "redis_bus.serve",
        "otel.kind" = "server",
        method = method.full_name,
        call_id = %id,
        worker = %core.instance_id,
        trace_id = field::Empty,
        span_id = field::Empty,
        parent_span_id = parent.map(|p| p.span_id_hex()),
        outcome = field::Empty,
        duration_us = field::Empty,
    );
    let own = trace::served(&span, parent, metadata.get(TRACESTATE_KEY));
    let mut context = CallContext::new(deadline, Some(own.to_string())).with_metadata(metadata);
    if let Some(queued) = queued(core, request) {
        context = context.with_queued(queued);
    }
    let started = StdInstant::now();
    let service = &served.service;
    let call = async move {
        match body {
            Body::Unary => Some(
                context
                    .scope(service.call(method.name, &request.payload))
                    .await,
            ),
            Body::ClientStreaming { requests } => Some(
                context
                    .scope(service.call_client_streaming(method.name, requests))
                    .await,
            ),
            Body::Streaming { to, sent } => {
                Box::pin(async move {
                    let open = service.call_server_streaming(method.name, &request.payload);
                    match context.clone().scope(open).await {
                        Ok(messages) => {
                            let messages = context.scope_stream(messages);
                            streaming::send_all(core, &to, messages, sent).await
                        }
                        Err(status) => Some(Err(status)),
                    }
                })
                .await
            }
        }
    };
    let result = tokio::time::timeout_at(deadline, AssertUnwindSafe(call).catch_unwind())
        .instrument(span.clone())
        .await;
    span.record("duration_us", started.elapsed().as_micros() as u64);
    let (outcome, panicked) = match result {
        Err(_elapsed) => {
            span.record("outcome", "DEADLINE_EXCEEDED");
            tracing::warn!(parent: &span, "the handler ran past the caller's deadline and was cancelled");
            return None;
        }
        Ok(Ok(None)) => {
            span.record("outcome", "CANCELLED");
            return None;
        }
        Ok(Ok(Some(outcome))) => (outcome, false),
        Ok(Err(panic)) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(parent: &span, "the handler panicked: {message}");
            let status = Status::internal(format!(
                "the handler of {} panicked: {message}",
                method.full_name
            ));
            (Err(status), true)
        }
    };
    match &outcome {
        Ok(_) => {
            span.record("outcome", "OK");
        }
        Err(status) => {
            span.record("outcome", status.code().as_str());
            if core.config.mode == Mode::Debug {
                let failure = if panicked {
                    Failure::Panic
                } else {
                    Failure::Status(status)
                };
                debug_stop(core, served, method, request, failure, status.message());
            }
        }
    }
    Some(outcome)
}

/// Prints the debug report of a failed call and stops the worker.
fn debug_stop(
    core: &Core,
    served: &Served,
    method: &MethodInfo,
    request: &wire::Request,
    failure: Failure<'_>,
    message: &str,
) {
    let service = served.service.info();
    eprintln!(
        "{}",
        debug_report::report(service, method, &request.payload, failure)
    );
    core.fail(Error::new(
        ErrorKind::Handler,
        format!("{} failed in debug mode: {message}", method.full_name),
    ));
}

/// How long `request` waited since its caller sent it: its deadline less
/// its timeout (both on the bus clock) is when it was sent. Only a metric,
/// but still not trusted: nothing before the send's own timeout or after
/// now.
fn queued(core: &Core, request: &wire::Request) -> Option<std::time::Duration> {
    if request.deadline_ms == 0 || request.timeout_ms == 0 {
        return None;
    }
    let sent = (request.deadline_ms as i64).checked_sub(i64::from(request.timeout_ms))?;
    let waited = core.clock.now_ms().saturating_sub(sent);
    let waited = waited.clamp(0, i64::from(request.timeout_ms));
    Some(std::time::Duration::from_millis(waited as u64))
}
