//! Sending a batch of replies and acknowledgements where the replicas must
//! confirm them (see `confirm`): through Sentinel, the whole batch on one
//! connection to the master; on a cluster, the replies through the shared
//! connection and then each hash tag's acknowledgements on a connection to
//! its node, where a `WAIT` confirms them. A lost reply costs its caller
//! its deadline; a lost acknowledgement would run a call again, so it is
//! what must survive a failover.

use std::sync::Arc;

use redis::{Pipeline, RedisResult, Value};

use super::confirm;
use super::core::Core;
use crate::redis::blocking::Blocking;
use crate::redis::shared::{COMMAND_TIMEOUT, by_hash_tag, in_place, not_sent, split_at};

/// The replier's own connections, for writes a `WAIT` must confirm.
pub(crate) enum Own {
    /// Through Sentinel: one, to the master.
    Master(Box<Blocking>),
    /// On a cluster: one per hash tag acknowledged, to the tag's node.
    Nodes(Vec<(Vec<u8>, Blocking)>),
}

impl Own {
    /// The connections the replier of `core` needs, if its writes must be
    /// confirmed.
    pub(crate) fn of(core: &Core) -> Option<Own> {
        if core.connector.sentinel().is_some() {
            Some(Own::Master(Box::new(Blocking::new(
                core.connector.clone(),
                Arc::default(),
            ))))
        } else if core.connector.is_cluster() {
            Some(Own::Nodes(Vec::new()))
        } else {
            None
        }
    }

    /// Sends `pipe`, whose first `answers` commands answer calls and the
    /// rest acknowledge requests: each command's reply, or the error of
    /// the send it went in, or of the confirmation it did not get.
    pub(crate) async fn send(
        &mut self,
        core: &Core,
        pipe: &Pipeline,
        answers: usize,
    ) -> Vec<RedisResult<Value>> {
        match self {
            Own::Master(master) => match send_confirmed(core, pipe, master).await {
                Ok(replies) => replies.into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error); pipe.len()],
            },
            Own::Nodes(nodes) => {
                let (first, then) = split_at(pipe, answers);
                let mut replies = core.connection.replies_each(&first).await;
                if !replies.iter().all(Result::is_ok) {
                    replies.extend(not_sent(then.len()));
                    return replies;
                }
                let mut sent = Vec::new();
                for (tag, indexes, part) in by_hash_tag(&then) {
                    let node = node_for(core, nodes, tag);
                    sent.push((indexes, send_confirmed(core, &part, node).await));
                }
                replies.extend(in_place(then.len(), sent));
                replies
            }
        }
    }
}

/// The connection for hash tag `tag`, opened on first use (it follows the
/// tag's slot to its node).
fn node_for<'a>(
    core: &Core,
    nodes: &'a mut Vec<(Vec<u8>, Blocking)>,
    tag: Vec<u8>,
) -> &'a mut Blocking {
    let position = match nodes.iter().position(|(known, _)| *known == tag) {
        Some(position) => position,
        None => {
            nodes.push((tag, Blocking::new(core.connector.clone(), Arc::default())));
            nodes.len() - 1
        }
    };
    &mut nodes[position].1
}

/// Sends `pipe` on `own`, then has the master's replicas confirm it; what
/// they did not copy is an error, so that it is sent again. A refused
/// command fails alone: its error is its reply, which the replier reports.
/// On a cluster the part is first sent as it is, so that a redirection
/// fails it and `own` follows it to the right node; a refusal that is not
/// a redirection and would be again ([`refused_for_good`]) sends it again
/// with each error as its command's reply (the acknowledgements may run
/// twice: they are idempotent); any other error sends it again later.
async fn send_confirmed(
    core: &Core,
    pipe: &Pipeline,
    own: &mut Blocking,
) -> RedisResult<Vec<Value>> {
    let mut lenient = pipe.clone();
    lenient.ignore_errors();
    let replies = if core.connector.is_cluster() {
        match own.run(COMMAND_TIMEOUT, pipe).await {
            Err(error) if refused_for_good(&error) => own.run(COMMAND_TIMEOUT, &lenient).await?,
            sent => sent?,
        }
    } else {
        own.run(COMMAND_TIMEOUT, &lenient).await?
    };
    if confirm::replicated(&core.connector, own).await? {
        Ok(replies)
    } else {
        Err(redis::RedisError::from(std::io::Error::other(
            "the master's replicas did not copy the replies; sending them again",
        )))
    }
}

/// Whether Redis refused a command of a pipeline for a reason that sending
/// it again would not change (an ACL, a key of the wrong type), as opposed
/// to a node that is failing over, loading or not the slot's owner: then
/// an acknowledgement must be sent again later, never reported and dropped,
/// or its request would stay filed under the worker and run again.
fn refused_for_good(error: &redis::RedisError) -> bool {
    use redis::ServerErrorKind::{
        Ask, BusyLoading, ClusterDown, MasterDown, Moved, ReadOnly, TryAgain,
    };
    error.clone().into_server_errors().is_some_and(|errors| {
        errors.iter().all(|(_, error)| {
            !matches!(
                error.kind(),
                Some(Moved | Ask | TryAgain | MasterDown | ClusterDown | BusyLoading | ReadOnly)
            )
        })
    })
}
