//! The heartbeat: keeps the worker registered as live and the bus clock in
//! sync; and the reaper, which reclaims the requests of workers that died.
//!
//! Nothing can delay a beat: each has a time limit of half the
//! registration's lifetime, and everything slow runs elsewhere (reaping in
//! its own task, which never waits for a handler permit; sorting orphans in
//! a task of its own), so a saturated worker is never taken for dead.
//!
//! A worker is live while its score in a service's `instances` sorted set
//! (the bus time its registration expires) is in the future. A worker that
//! is killed stops renewing it; one heartbeat after it expires, a live
//! worker of the same service moves the dead one's requests under itself
//! (atomically, so only one worker gets them) and deals with each: run again
//! when the method is idempotent, otherwise answer `UNAVAILABLE`.

use std::sync::Arc;

use bytes::Bytes;

use super::core::{Core, Served};
use super::orphans;
use super::registration;
use super::reports;
use super::taken::{Origin, Taken};
use crate::redis::clock::LIVENESS_MARGIN_MS;
use crate::redis::scripts;
use crate::redis::shared::{Refused, SharedConnection};

/// How many dead workers one heartbeat reclaims from, per service.
const REAP_LIMIT: usize = 16;

/// Renews the registration once; the worker is live when it returns Ok,
/// with the services whose orphans wait to be sorted. A registration that
/// vanished (a `cleanup` of the bus, or an expiry while Redis was out of
/// reach) is written again.
pub(crate) async fn beat(core: &Arc<Core>) -> Result<Vec<usize>, Refused> {
    beat_joining(core, None).await.map(|(orphaned, _)| orphaned)
}

/// A beat; when `joining` holds the join counts read before the version
/// check (one per service), the registration happens only where no other
/// worker joined since, and the second list names the services where one
/// did (to check again).
pub(crate) async fn beat_joining(
    core: &Arc<Core>,
    joining: Option<&[i64]>,
) -> Result<(Vec<usize>, Vec<usize>), Refused> {
    let mut connection = core.connection.clone();
    core.clock.sync(&mut connection).await?;
    let ttl = core.settings.instance_ttl.as_millis() as i64;
    let now = core.clock.now_ms();
    let expires = now + ttl;
    let mut pipe = redis::pipe();
    for (index, served) in core.services.iter().enumerate() {
        let expected = joining.map_or_else(String::new, |counts| counts[index].to_string());
        pipe.cmd("EVAL")
            .arg(scripts::JOIN)
            .arg(4)
            .arg(&served.instances)
            .arg(&served.queue)
            .arg(&served.orphans)
            .arg(served.keys.joins())
            .arg(&core.instance_id)
            .arg(expires)
            // Orphans only when no worker was live within the margin.
            .arg(now - LIVENESS_MARGIN_MS)
            .arg(expected);
        pipe.cmd("PEXPIRE")
            .arg(served.keys.instance(&core.instance_id))
            .arg(ttl);
    }
    let replies = core.connection.checked_replies(&pipe).await?;
    let raced: Vec<usize> = replies
        .chunks(2)
        .enumerate()
        .filter(|(_, replies)| replies[0] == redis::Value::Int(-1))
        .map(|(index, _)| index)
        .collect();
    if !raced.is_empty() {
        return Ok((Vec::new(), raced));
    }
    core.renewed(expires);
    core.bad_input.flush();
    let orphaned: Vec<usize> = replies
        .chunks(2)
        .enumerate()
        .filter(|(_, replies)| matches!(replies[0], redis::Value::Int(orphans) if orphans > 0))
        .map(|(index, _)| index)
        .collect();
    // PEXPIRE answers 0 for a key that is gone.
    let vanished: Vec<&Served> = core
        .services
        .iter()
        .zip(replies.chunks(2))
        .filter(|(_, replies)| replies[1] == redis::Value::Int(0))
        .map(|(served, _)| served)
        .collect();
    if !vanished.is_empty() {
        tracing::info!(worker = %core.instance_id, "the registration vanished; registering again");
        registration::register_again(core, &vanished).await?;
    }
    Ok((orphaned, Vec::new()))
}

/// Beats every heartbeat interval until the task is stopped.
pub(crate) async fn run(core: Arc<Core>) {
    let mut interval = tokio::time::interval(core.settings.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let limit = core.settings.instance_ttl / 2;
    loop {
        interval.tick().await;
        match tokio::time::timeout(limit, beat(&core)).await {
            Ok(Ok(orphaned)) => {
                for index in orphaned {
                    tokio::spawn(sort_orphans(Arc::clone(&core), index));
                }
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, worker = %core.instance_id, "renewing the registration failed");
            }
            Err(_elapsed) => {
                tracing::warn!(
                    worker = %core.instance_id,
                    "renewing the registration took longer than {limit:?}; trying again on a new connection"
                );
                core.connection.replace();
            }
        }
    }
}

/// Sorts the orphans of service `index`, unless a sort already runs.
async fn sort_orphans(core: Arc<Core>, index: usize) {
    let Ok(_sorting) = core.sorting.try_lock() else {
        return;
    };
    if let Err(error) = orphans::sort(&core, index).await {
        tracing::warn!(%error, "sorting orphaned requests failed; retrying at the next beat");
    }
}

/// Takes clients' reports and reclaims dead workers' requests every
/// heartbeat interval, in a task of its own: however long it takes, the
/// beats go on.
pub(crate) async fn reap_periodically(core: Arc<Core>) {
    let mut interval = tokio::time::interval(core.settings.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if core.stop.is_cancelled() {
            // A stopping worker finishes its own calls; it takes on no
            // dead worker's.
            continue;
        }
        for index in 0..core.services.len() {
            if let Err(error) = reports::take(&core, index).await {
                tracing::warn!(%error, "taking clients' statistics reports failed");
            }
            if let Err(error) = reap(&core, index).await {
                tracing::warn!(%error, "reclaiming requests of dead workers failed");
            }
        }
    }
}

/// Reclaims the requests of the dead workers of service `index`.
async fn reap(core: &Arc<Core>, index: usize) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let mut connection = core.connection.clone();
    let now = core.clock.now_ms();
    let dead: Vec<String> = redis::cmd("ZRANGEBYSCORE")
        .arg(&served.instances)
        .arg("-inf")
        .arg(format!("({now}"))
        .arg("LIMIT")
        .arg(0)
        .arg(REAP_LIMIT)
        .query_async(&mut connection)
        .await?;
    for worker in dead.iter().filter(|worker| **worker != core.instance_id) {
        reclaim(core, index, worker, now, &mut connection).await?;
    }
    Ok(())
}

/// Moves the requests of dead worker `dead` under this one and deals with
/// them.
async fn reclaim(
    core: &Arc<Core>,
    index: usize,
    dead: &str,
    now: i64,
    connection: &mut SharedConnection,
) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let reclaimed: Vec<Taken> = {
        let _filing = core.filing.lock().await;
        let items: Vec<(Bytes, u32)> = scripts::RECLAIM
            .key(&served.instances)
            .key(served.keys.taken(dead))
            .key(served.keys.landing(dead))
            .key(&served.taken)
            .key(&served.deliveries)
            .key(served.keys.orphans(dead))
            .key(&served.orphans)
            .arg(dead)
            .arg(now)
            .invoke_async(connection)
            .await?;
        let reclaimed: Vec<Taken> = items
            .into_iter()
            .map(|(item, reclaims)| Taken {
                reclaimed_from: Some(dead.to_owned()),
                // Taken once by the dead worker, and once per reclaim.
                deliveries: reclaims.saturating_add(1),
                ..Taken::new(index, item, Origin::Taken)
            })
            .collect();
        for taken in &reclaimed {
            core.hold(taken);
        }
        reclaimed
    };
    let mut announce = redis::pipe();
    let service = served.service.info();
    crate::redis::registry::event(&mut announce, &core.keys, "down", service.name, "", dead);
    announce.query_async::<()>(connection).await?;
    if !reclaimed.is_empty() {
        tracing::warn!(
            worker = %core.instance_id,
            dead,
            requests = reclaimed.len(),
            service = served.service.info().name,
            "reclaimed the requests of a dead worker"
        );
    }
    // The dead worker's orphans are this worker's now.
    tokio::spawn(sort_orphans(Arc::clone(core), index));
    for taken in reclaimed {
        // Never waits here for a permit: each waits in its own task.
        core.spawn_handler_when_permitted(taken);
    }
    Ok(())
}
