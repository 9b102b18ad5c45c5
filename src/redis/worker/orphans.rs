//! Orphans: requests that were queued while no worker of their service was
//! live, or that the last worker left behind when it stopped. Their callers were (or may have been) told `UNAVAILABLE` at once,
//! so they must never run; the worker that joins such a service moves the
//! queue aside (the `JOIN` script) and sorts it here, without running
//! anything: a caller that waits for a worker gets its request queued again,
//! any other caller gets `UNAVAILABLE`, and a request whose caller stopped
//! waiting is dropped.
//!
//! Sorting holds no handler permit and runs no handler: it costs Redis one
//! read and one write per hundred requests.

use std::sync::Arc;

use bytes::Bytes;

use super::core::Core;
use super::handler::answerable;
use crate::redis::envelope::encode_reply;
use crate::seam::status::Status;

/// How many orphans are sorted per round trip.
const BATCH: isize = 100;

/// Sorts every orphan of service `index` filed under this worker.
pub(crate) async fn sort(core: &Arc<Core>, index: usize) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let service = served.service.info();
    let mut connection = core.connection.clone();
    loop {
        let items: Vec<Bytes> = redis::cmd("LRANGE")
            .arg(&served.orphans)
            .arg(0)
            .arg(BATCH - 1)
            .query_async(&mut connection)
            .await?;
        if items.is_empty() {
            return Ok(());
        }
        let now = core.clock.now_ms();
        let mut requeue: Vec<&Bytes> = Vec::new();
        let mut answers = redis::pipe();
        for item in &items {
            let Some((id, request, replies)) = answerable(core, &served.queue, item) else {
                continue;
            };
            if request.deadline_ms != 0 && now >= request.deadline_ms as i64 {
                continue;
            }
            if request.wait_for_worker {
                requeue.push(item);
                continue;
            }
            let status = Status::unavailable(format!(
                "no live worker serves {} {}.x: this call of {} was queued while none was \
                 live, or its last worker stopped before taking it, and it is not run; call \
                 with CallOptions::wait_for_worker(true) to wait for a worker",
                service.name,
                service.major_version(),
                request.method,
            ));
            answers
                .cmd("RPUSH")
                .arg(&replies)
                .arg(encode_reply(id, Err(status)));
            answers
                .cmd("PEXPIRE")
                .arg(&replies)
                .arg(core.settings.reply_ttl.as_millis() as u64);
        }
        // Answers first: a crash before the trim answers twice, which the
        // caller ignores, rather than not at all. A refused answer (a reply
        // list that is not a list) fails that answer alone.
        let answered = if answers.is_empty() {
            Vec::new()
        } else {
            core.connection.replies(&answers).await?
        };
        for (index, reply) in answered.iter().enumerate() {
            if let redis::Value::ServerError(error) = reply {
                if index % 2 == 0 {
                    core.bad_input.report(
                        "reply refused",
                        &served.queue,
                        &format_args!("Redis refused an orphaned request's answer: {error:?}"),
                    );
                }
            }
        }
        let mut moved = redis::pipe();
        moved.atomic();
        if !requeue.is_empty() {
            // Back at the head, in their order: LPUSH reverses.
            moved
                .cmd("LPUSH")
                .arg(&served.queue)
                .arg(
                    requeue
                        .iter()
                        .rev()
                        .map(|item| &item[..])
                        .collect::<Vec<_>>(),
                )
                .ignore();
        }
        moved
            .cmd("LTRIM")
            .arg(&served.orphans)
            .arg(items.len())
            .arg(-1)
            .ignore();
        moved.query_async::<()>(&mut connection).await?;
        if !requeue.is_empty() {
            tracing::info!(queue = %served.queue, requests = requeue.len(), "queued again the requests of callers that wait for a worker");
        }
    }
}
