//! Through Sentinel and on a cluster, a worker acts on what it wrote only
//! once the master's replicas hold it.
//!
//! Replication is asynchronous, and a failover loses what the replicas had
//! not copied: what a master wrote just before it died, and what an old
//! master wrote after a replica was promoted and before it was demoted. A
//! lost take leaves its requests queued on the new master, where the next
//! take runs them a second time; a lost acknowledgement leaves the request
//! filed under the worker there, which runs it again when it looks for
//! takes it never received. A method that is not idempotent must never see
//! either. So the taker and the replier write on connections of their own
//! (on a cluster, one per node they write to) and ask `WAIT` there for as
//! many replicas as the master has. What they all confirm stands. What
//! they do not confirm within [`CONFIRM_WAIT`] stands only if that master
//! is still the master and not being replaced: through Sentinel, the
//! sentinels still name it and none is failing it over
//! ([`Sentinel::settled_on`]); on a cluster, the node still says it is a
//! master (`ROLE`). Then a replica is slow or gone, not being promoted.
//! Otherwise a take goes back to the head of its queue and replies are
//! sent again, to the master named next; until then the worker holds
//! them, so it never runs them again.
//!
//! The cost: one more round trip per take and per batch of replies, only
//! where there are replicas, and [`CONFIRM_WAIT`] more per write while a
//! replica is down and still counted. What is left: a cluster replica
//! promoted by force (`CLUSTER FAILOVER TAKEOVER`, or a partition that cuts
//! a live master off) while the old master still says it is one.

use std::time::Duration;

use super::core::Core;
use super::taken::Taken;
use crate::redis::blocking::Blocking;
use crate::redis::connection::Connector;
use crate::redis::sentinel::Sentinel;
use crate::redis::shared::COMMAND_TIMEOUT;

/// How long a write waits for its replicas before asking the sentinels
/// whether its master is still the master: long enough for a replica of a
/// loaded machine to catch up (at 50 ms, with the whole fault suite at
/// once, a write that stood on the sentinels' word alone was lost to the
/// failover right after, and its call ran twice); while replicas are fine,
/// `WAIT` answers as soon as they copied the write.
pub(crate) const CONFIRM_WAIT: Duration = Duration::from_millis(500);

/// Whether what `blocking`'s connection last wrote survives a failover:
/// the replicas the master had copied it within [`CONFIRM_WAIT`], or, if
/// not all did, that master is still the master and not being replaced (a
/// replica is slow or gone, not being promoted). An error when the
/// connection failed.
pub(crate) async fn replicated(
    connector: &Connector,
    blocking: &mut Blocking,
) -> redis::RedisResult<bool> {
    match connector.sentinel() {
        Some(sentinel) => replicated_through_sentinel(sentinel, blocking).await,
        None => replicated_on_a_cluster_node(blocking).await,
    }
}

/// [`replicated`] through Sentinel: the sentinels count the replicas, and
/// say whether the master is being replaced.
async fn replicated_through_sentinel(
    sentinel: &Sentinel,
    blocking: &mut Blocking,
) -> redis::RedisResult<bool> {
    let Some(master) = blocking.master().cloned() else {
        return Ok(true);
    };
    let replicas = sentinel.replicas_of(&master);
    let reached = wait_for(replicas, blocking).await?;
    if reached >= replicas {
        return Ok(true);
    }
    let confirmed = sentinel.settled_on(&master).await;
    if !confirmed {
        tracing::warn!(
            %master, reached, replicas,
            "a write was not copied to the master's replicas, and the master is being replaced"
        );
    }
    Ok(confirmed)
}

/// [`replicated`] on a cluster node: the node counts its replicas, and
/// says whether it is still a master.
async fn replicated_on_a_cluster_node(blocking: &mut Blocking) -> redis::RedisResult<bool> {
    let Some(replicas) = blocking.replicas(COMMAND_TIMEOUT).await? else {
        tracing::warn!("a write went to a node that is no longer a master");
        return Ok(false);
    };
    let reached = wait_for(replicas, blocking).await?;
    if reached >= replicas {
        return Ok(true);
    }
    let confirmed = blocking.still_master(COMMAND_TIMEOUT).await?;
    if !confirmed {
        tracing::warn!(
            reached,
            replicas,
            "a write was not copied to the node's replicas, and the node is no longer a master"
        );
    }
    Ok(confirmed)
}

/// How many replicas copied what `blocking`'s connection wrote, waiting up
/// to [`CONFIRM_WAIT`] for `replicas` of them (none asked for: none waited).
async fn wait_for(replicas: usize, blocking: &mut Blocking) -> redis::RedisResult<usize> {
    if replicas == 0 {
        return Ok(0);
    }
    let mut wait = redis::cmd("WAIT");
    wait.arg(replicas).arg(CONFIRM_WAIT.as_millis() as u64);
    blocking
        .run_open(COMMAND_TIMEOUT, async |connection| {
            wait.query_async(connection).await
        })
        .await
}

/// Runs what the taker's connection last took only if it survives a
/// failover ([`replicated`]); otherwise gives it back to its queue on that
/// connection and answers an error, so that the taker backs off and
/// reconnects to the master named next.
pub(crate) async fn confirm(
    core: &Core,
    blocking: &mut Blocking,
    taken: &[Taken],
) -> redis::RedisResult<()> {
    if replicated(&core.connector, blocking).await? {
        return Ok(());
    }
    let give_back = give_back_pipe(core, taken);
    blocking
        .run_open(COMMAND_TIMEOUT, async |connection| {
            give_back.query_async::<()>(connection).await
        })
        .await?;
    Err(redis::RedisError::from(std::io::Error::other(
        "a take its master's replicas did not copy went back to the queue",
    )))
}

/// One transaction that puts `taken` back at the head of their queues, in
/// their order, and removes them from where the worker filed them.
fn give_back_pipe(core: &Core, taken: &[Taken]) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.atomic();
    // LPUSH reverses.
    for taken in taken.iter().rev() {
        taken.give_back(&core.services[taken.service], &mut pipe);
    }
    pipe
}
