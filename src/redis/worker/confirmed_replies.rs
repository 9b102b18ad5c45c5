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
use crate::redis::shared::{COMMAND_TIMEOUT, by_hash_tag, not_sent, split_at};

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
                let mut acknowledged = vec![Ok(Value::Nil); then.len()];
                for (tag, indexes, part) in by_hash_tag(&then) {
                    let node = node_for(core, nodes, tag);
                    match send_confirmed(core, &part, node).await {
                        Ok(values) => {
                            for (index, value) in indexes.into_iter().zip(values) {
                                acknowledged[index] = Ok(value);
                            }
                        }
                        Err(error) => {
                            for index in indexes {
                                acknowledged[index] = Err(error.clone());
                            }
                        }
                    }
                }
                replies.extend(acknowledged);
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
/// they did not copy is an error, so that it is sent again. Through
/// Sentinel a refused command fails alone (its error is its reply); on a
/// cluster a redirection must move the whole part, so any refusal fails
/// the part and it is sent again.
async fn send_confirmed(
    core: &Core,
    pipe: &Pipeline,
    own: &mut Blocking,
) -> RedisResult<Vec<Value>> {
    let mut pipe = pipe.clone();
    if !core.connector.is_cluster() {
        pipe.ignore_errors();
    }
    let replies = own.run(COMMAND_TIMEOUT, &pipe).await?;
    if confirm::replicated(&core.connector, own).await? {
        Ok(replies)
    } else {
        Err(redis::RedisError::from(std::io::Error::other(
            "the master's replicas did not copy the replies; sending them again",
        )))
    }
}
