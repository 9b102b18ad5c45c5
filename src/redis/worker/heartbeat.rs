//! The heartbeat: keeps the worker registered as live, keeps the bus clock
//! in sync, and reclaims the requests of workers that died.
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
use crate::redis::scripts;
use crate::redis::shared::{Refused, SharedConnection};

/// How many dead workers one heartbeat reclaims from, per service.
const REAP_LIMIT: usize = 16;

/// Renews the registration once; the worker is live when it returns Ok. A
/// registration that vanished (a `cleanup` of the bus, or an expiry while
/// Redis was out of reach) is written again.
pub(crate) async fn beat(core: &Arc<Core>) -> Result<(), Refused> {
    let mut connection = core.connection.clone();
    core.clock.sync(&mut connection).await?;
    let ttl = core.settings.instance_ttl.as_millis() as i64;
    let now = core.clock.now_ms();
    let expires = now + ttl;
    let mut pipe = redis::pipe();
    for served in &core.services {
        pipe.cmd("EVAL")
            .arg(scripts::JOIN)
            .arg(3)
            .arg(&served.instances)
            .arg(&served.queue)
            .arg(&served.orphans)
            .arg(&core.instance_id)
            .arg(expires)
            .arg(now);
        pipe.cmd("PEXPIRE")
            .arg(served.keys.instance(&core.instance_id))
            .arg(ttl);
    }
    let replies = core.connection.checked_replies(&pipe).await?;
    core.renewed(expires);
    core.bad_input.flush();
    for (index, replies) in replies.chunks(2).enumerate() {
        if matches!(replies[0], redis::Value::Int(orphans) if orphans > 0) {
            if let Err(error) = orphans::sort(core, index).await {
                tracing::warn!(%error, "sorting orphaned requests failed; retrying at the next beat");
            }
        }
    }
    // PEXPIRE answers 0 for a key that is gone.
    let vanished: Vec<&Served> = core
        .services
        .iter()
        .zip(replies.chunks(2))
        .filter(|(_, replies)| replies[1] == redis::Value::Int(0))
        .map(|(served, _)| served)
        .collect();
    if vanished.is_empty() {
        return Ok(());
    }
    tracing::info!(worker = %core.instance_id, "the registration vanished; registering again");
    registration::register_again(core, &vanished).await
}

/// Beats and reaps every heartbeat interval until the task is stopped.
pub(crate) async fn run(core: Arc<Core>) {
    let mut interval = tokio::time::interval(core.settings.heartbeat_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = beat(&core).await {
            tracing::warn!(%error, worker = %core.instance_id, "renewing the registration failed");
            continue;
        }
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
    orphans::sort(core, index).await?;
    for taken in reclaimed {
        let permit = Arc::clone(&core.permits)
            .acquire_owned()
            .await
            .expect("the worker never closes its semaphore");
        core.spawn_handler(taken, permit);
    }
    Ok(())
}
