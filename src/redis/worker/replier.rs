//! The replier: sends the replies of finished calls and acknowledges their
//! requests, batched.
//!
//! Handlers hand their outcome to the replier through a channel; the replier
//! drains everything waiting and sends it in one pipeline: per client one
//! `RPUSH` of all its replies and one `PEXPIRE`, per service one `HDEL` of
//! all acknowledged request ids. Replies come before acknowledgements, so a
//! crash in between means a request is reclaimed (at least once), never
//! that a caller is left without an answer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::cached::CacheWrite;
use super::confirmed_replies::Own;
use super::core::Core;
use super::taken::{Origin, Taken};
use crate::redis::batch::BATCH_BYTES;
use crate::redis::cache;
use crate::redis::shared::describe;

/// The most outcomes sent in one pipeline (and about [`BATCH_BYTES`]).
const MAX_BATCH: usize = 512;

/// A handled (or skipped) request, ready to be answered and acknowledged.
#[derive(Debug)]
pub(crate) struct Completion {
    /// The request, to acknowledge.
    pub taken: Taken,
    /// The reply list and the encoded reply; `None` when nobody waits for
    /// an answer (garbage, or a caller past its deadline).
    pub reply: Option<(String, Vec<u8>)>,
    /// For a cached method: the reply to store, and the lock to release.
    pub cache: Option<CacheWrite>,
}

impl Completion {
    /// The bytes it sends: its reply, and its reply to store in the cache.
    fn bytes(&self) -> usize {
        let reply = self.reply.as_ref().map_or(0, |(_, reply)| reply.len());
        let stored = self
            .cache
            .as_ref()
            .and_then(|write| write.store.as_ref())
            .map_or(0, |(value, _)| value.len());
        reply + stored
    }

    /// A request acknowledged without an answer: nobody can be answered.
    pub(crate) fn unanswered(taken: Taken) -> Completion {
        Completion {
            taken,
            reply: None,
            cache: None,
        }
    }
}

/// Sends completions until `finish` fires, then sends what is left and
/// returns. Graceful shutdown fires it once every handler is done, and
/// waits for the return: every answer is out.
pub(crate) async fn run(
    core: Arc<Core>,
    mut completions: mpsc::UnboundedReceiver<Completion>,
    finish: CancellationToken,
) {
    let mut batch = Vec::new();
    // Through Sentinel and on a cluster, replies go through connections of
    // their own, where `WAIT` confirms that they survive a failover (see
    // `confirm`).
    let mut own = Own::of(&core);
    loop {
        let first = tokio::select! {
            biased;
            first = completions.recv() => first,
            () = finish.cancelled() => completions.try_recv().ok(),
        };
        let Some(first) = first else { return };
        let mut bytes = first.bytes();
        batch.push(first);
        while batch.len() < MAX_BATCH && bytes < BATCH_BYTES {
            match completions.try_recv() {
                Ok(next) => {
                    bytes += next.bytes();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        send(&core, &batch, own.as_mut()).await;
        core.forget_in_flight(batch.iter().map(|completion| &completion.taken));
        batch.clear();
    }
}

/// Sends one batch, retrying while Redis is unreachable: until it is sent,
/// the requests stay filed under this worker, so they are not lost. A
/// command Redis refuses (a reply list that is not a list, an ACL) fails
/// alone: it is logged, and the rest of the batch goes through. Only what
/// did not go through is sent again: on a cluster, the parts whose node
/// failed. Through Sentinel and on a cluster (`own`), what the master's
/// replicas did not copy is sent again, to the master named next.
async fn send(core: &Core, batch: &[Completion], mut own: Option<&mut Own>) {
    let (mut left, mut answers) = pipeline(core, batch);
    let mut backoff = Duration::from_millis(20);
    loop {
        let sent = match own.as_deref_mut() {
            None => core.connection.replies_in_order(&left, answers).await,
            Some(own) => own.send(core, &left, answers).await,
        };
        let (mut again, mut again_answers, mut failure) = (redis::pipe(), 0, None);
        for (index, (command, reply)) in left.cmd_iter().zip(sent).enumerate() {
            match reply {
                Ok(redis::Value::ServerError(error)) => core.bad_input.report(
                    "reply refused",
                    "replies",
                    &format_args!(
                        "Redis refused {} while answering calls: {error:?}; the other replies \
                         went out",
                        describe(command)
                    ),
                ),
                Ok(_) => {}
                // Sent again: a reply that went out before its send failed
                // goes out twice, which its caller ignores.
                Err(error) => {
                    again.add_command(command.clone());
                    again_answers += usize::from(index < answers);
                    failure.get_or_insert(error);
                }
            }
        }
        let Some(error) = failure else { return };
        tracing::warn!(
            %error, outcomes = batch.len(), commands = again.len(),
            "sending replies failed; sending again what did not go through"
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
        (left, answers) = (again, again_answers);
    }
}

/// The pipeline that answers and acknowledges `batch`, and how many of its
/// commands, at its head, answer (the rest acknowledge).
fn pipeline(core: &Core, batch: &[Completion]) -> (redis::Pipeline, usize) {
    let mut pipe = redis::pipe();
    let reply_ttl = core.settings.reply_ttl.as_millis() as u64;
    let mut lists: Vec<(&str, Vec<&[u8]>)> = Vec::new();
    for (list, reply) in batch.iter().filter_map(|c| c.reply.as_ref()) {
        match lists.iter_mut().find(|(key, _)| key == list) {
            Some((_, replies)) => replies.push(reply),
            None => lists.push((list, vec![reply])),
        }
    }
    // Stored before the replies go out: a caller that calls again as soon
    // as it has its reply finds it cached.
    for write in batch.iter().filter_map(|c| c.cache.as_ref()) {
        if let Some((value, ttl)) = &write.store {
            let set = pipe.cmd("SET").arg(&write.entry).arg(value);
            if let Some(seconds) = ttl {
                set.arg("EX").arg(*seconds);
            }
        }
        pipe.cmd("EVAL")
            .arg(cache::RELEASE)
            .arg(1)
            .arg(&write.lock)
            .arg(&write.owner);
    }
    for (list, replies) in &lists {
        pipe.cmd("RPUSH").arg(*list).arg(replies);
        pipe.cmd("PEXPIRE").arg(*list).arg(reply_ttl);
    }
    let answers = pipe.len();
    for (index, served) in core.services.iter().enumerate() {
        let of_service = || batch.iter().filter(move |c| c.taken.service == index);
        let fields: Vec<&[u8]> = of_service()
            .filter(|c| c.taken.origin == Origin::Taken)
            .map(|c| &c.taken.field[..])
            .collect();
        if !fields.is_empty() {
            pipe.cmd("HDEL").arg(&served.taken).arg(fields);
        }
        let reclaimed: Vec<&[u8]> = of_service()
            .filter(|c| c.taken.reclaimed_from.is_some())
            .map(|c| &c.taken.field[..])
            .collect();
        if !reclaimed.is_empty() {
            pipe.cmd("HDEL").arg(&served.deliveries).arg(reclaimed);
        }
        for completion in of_service().filter(|c| c.taken.origin == Origin::Landing) {
            pipe.cmd("LREM")
                .arg(&served.landing)
                .arg(1)
                .arg(&completion.taken.element[..]);
        }
    }
    (pipe, answers)
}
