//! The taker: one task per served service that takes requests from the
//! service's queue and starts a handler for each.
//!
//! It takes only as many requests as the worker has free permits, so every
//! request filed under the worker is being handled (a dead worker's
//! requests all count as "was handling"). Under load the take script moves
//! a batch at once; when the queue is empty, the taker blocks with `BLMOVE`
//! on a connection of its own until a request arrives. Through Sentinel and
//! on a cluster the take script runs on that connection too, so that a
//! `WAIT` there confirms the take before its requests run (see `confirm`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

use super::confirm;
use super::core::Core;
use super::taken::{Origin, Taken};
use crate::redis::blocking::Blocking;
use crate::redis::scripts;
use crate::redis::shared::COMMAND_TIMEOUT;

/// Takes requests for service `index` until the worker stops.
pub(crate) async fn run(core: Arc<Core>, index: usize) {
    let served = &core.services[index];
    let mut blocking = Blocking::new(core.connector.clone(), Arc::clone(&served.blocked_at));
    let mut backoff = Duration::from_millis(20);
    while !core.stop.is_cancelled() {
        let permits = tokio::select! {
            permits = acquire(&core) => permits,
            () = core.stop.cancelled() => break,
        };
        match take(&core, index, permits, &mut blocking).await {
            Ok(()) => backoff = Duration::from_millis(20),
            Err(error) => {
                tracing::warn!(%error, queue = %served.queue, "taking requests failed; retrying");
                blocking.drop_connection();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                // The failed command may have moved requests under this
                // worker without the answer reaching it: find and run them.
                if let Err(error) = recover_unreceived(&core, index).await {
                    tracing::warn!(%error, "looking for unreceived requests failed");
                }
            }
        }
    }
    *served.blocked_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Waits for one permit, then grabs as many more as are free, up to the
/// take limit.
async fn acquire(core: &Core) -> OwnedSemaphorePermit {
    let mut permits = Arc::clone(&core.permits)
        .acquire_owned()
        .await
        .expect("the worker never closes its semaphore");
    let more = core.permits.available_permits().min(core.take_limit() - 1);
    if more > 0 {
        if let Ok(extra) = Arc::clone(&core.permits).try_acquire_many_owned(more as u32) {
            permits.merge(extra);
        }
    }
    permits
}

/// Takes up to as many requests as `permits` allows and starts them.
async fn take(
    core: &Arc<Core>,
    index: usize,
    mut permits: OwnedSemaphorePermit,
    blocking: &mut Blocking,
) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let confirms = core.connector.confirms_writes();
    let filing = core.filing.lock().await;
    let mut invocation = scripts::TAKE.prepare_invoke();
    invocation
        .key(&served.queue)
        .key(&served.taken)
        .arg(permits.num_permits());
    let items: Vec<Bytes> = if confirms {
        // On the taker's own connection, so that a `WAIT` there covers it.
        blocking.run(COMMAND_TIMEOUT, &invocation).await?
    } else {
        invocation
            .invoke_async(&mut core.connection.clone())
            .await?
    };
    let taken: Vec<Taken> = if items.is_empty() {
        drop(filing);
        match take_blocking(core, index, blocking).await? {
            Some(item) => vec![Taken::new(index, item, Origin::Landing)],
            None => return Ok(()),
        }
    } else {
        items
            .into_iter()
            .map(|item| Taken::new(index, item, Origin::Taken))
            .collect()
    };
    if confirms {
        confirm::confirm(core, blocking, &taken).await?;
    }
    for taken in taken {
        core.hold(&taken);
        // Taken as the worker stopped (a blocked take can complete after
        // the stop), or past serve_once's one request: not ours to run.
        if core.stop.is_cancelled() || !core.claim_once() {
            give_back(core, &taken).await;
            continue;
        }
        let permit = permits
            .split(1)
            .expect("never more requests than permits are taken");
        core.spawn_handler(taken, permit);
    }
    Ok(())
}

/// Blocks until a request arrives (moving it into this worker's landing
/// list) or the block times out.
async fn take_blocking(
    core: &Core,
    index: usize,
    blocking: &mut Blocking,
) -> redis::RedisResult<Option<Bytes>> {
    let served = &core.services[index];
    if core.stop.is_cancelled() {
        return Ok(None);
    }
    let mut blmove = redis::cmd("BLMOVE");
    blmove
        .arg(&served.queue)
        .arg(&served.landing)
        .arg("LEFT")
        .arg("RIGHT")
        .arg(core.settings.block_timeout.as_secs_f64());
    let item: Option<Vec<u8>> = blocking.query(&blmove, core.settings.block_timeout).await?;
    Ok(item.map(Bytes::from))
}

/// Runs the requests filed under this worker that it never received: a
/// take whose answer was lost with the connection.
async fn recover_unreceived(core: &Arc<Core>, index: usize) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let _filing = core.filing.lock().await;
    // What the worker holds now, before reading Redis: a request it holds
    // may be answered and forgotten while Redis is read, but it is in this
    // snapshot, and nothing new is filed meanwhile (`filing` is held, and
    // blocking takes come from this task).
    let held = core.held(index);
    let mut connection = core.connection.clone();
    let filed: Vec<Bytes> = redis::cmd("HVALS")
        .arg(&served.taken)
        .query_async(&mut connection)
        .await?;
    let landed: Vec<Bytes> = redis::cmd("LRANGE")
        .arg(&served.landing)
        .arg(0)
        .arg(-1)
        .query_async(&mut connection)
        .await?;
    let unreceived = filed
        .into_iter()
        .map(|item| Taken::new(index, item, Origin::Taken))
        .chain(
            landed
                .into_iter()
                .map(|item| Taken::new(index, item, Origin::Landing)),
        )
        .filter(|taken| !held.contains(&taken.field));
    for taken in unreceived {
        tracing::info!(queue = %served.queue, "running a request whose take was interrupted");
        core.hold(&taken);
        let permit = Arc::clone(&core.permits)
            .acquire_owned()
            .await
            .expect("the worker never closes its semaphore");
        core.spawn_handler(taken, permit);
    }
    Ok(())
}

/// Puts a request that was taken but will not be handled back at the head
/// of its queue.
async fn give_back(core: &Core, taken: &Taken) {
    let mut pipe = redis::pipe();
    pipe.atomic();
    taken.give_back(&core.services[taken.service], &mut pipe);
    if let Err(error) = pipe.query_async::<()>(&mut core.connection.clone()).await {
        tracing::warn!(%error, "could not give a request back to its queue; it will be reclaimed");
    }
    core.forget_in_flight(std::iter::once(taken));
}
