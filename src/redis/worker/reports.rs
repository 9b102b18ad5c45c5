//! Clients' reports of their cache hits and misses and of how long their
//! calls took: the workers of a service take them from the service's
//! `reports` list and add them into the statistics, which applications
//! cannot write. A report is believed only for a method the worker serves,
//! with plausible counts (`stats::report`).
//!
//! Taking reports is also when a worker renews its own statistics hash
//! with its registration, once per heartbeat.

use super::core::Core;
use crate::redis::stats::report;

/// How many reports are taken in one round trip.
const BATCH: usize = 256;

/// The most round trips of reports per heartbeat and service: with every
/// client reporting each method once a second, 16 × 256 reports a beat is
/// far more than a worker's callers send, and a flood of junk costs the
/// worker at most that.
const MAX_BATCHES: usize = 16;

/// Takes the waiting reports of service `index` and counts them in.
pub(crate) async fn take(core: &Core, index: usize) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let mut taken = 0;
    for batch in 0..MAX_BATCHES {
        let mut pipe = redis::pipe();
        pipe.cmd("LPOP").arg(&served.reports).arg(BATCH);
        if index == 0 && batch == 0 {
            core.stats.renew(&core.instance_id, &core.keys, &mut pipe);
        }
        // The renewal's key has a hash tag of its own: on a cluster it goes
        // to its node in a send of its own.
        let replies = core.connection.replies(&pipe).await?;
        let popped = replies.into_iter().next().unwrap_or(redis::Value::Nil);
        let reports: Vec<String> =
            redis::from_redis_value::<Option<Vec<String>>>(popped)?.unwrap_or_default();
        count_in(core, index, &reports);
        taken += reports.len();
        if reports.len() < BATCH {
            break;
        }
    }
    // Taken reports are out of the list: add them in at once, so that a
    // reader misses them for a round trip, not for a statistics interval.
    if taken > 0 {
        core.stats.flush(&core.connection, &core.keys).await?;
    }
    Ok(())
}

/// Counts in the reports of service `index` that are believable; the
/// others are bad input.
fn count_in(core: &Core, index: usize, reports: &[String]) {
    let served = &core.services[index];
    let methods = served.service.info().methods;
    for text in reports {
        let known = report::parse(text).and_then(|report| {
            let method = methods.iter().find(|m| m.full_name == report.method)?;
            Some((method.full_name, report))
        });
        match known {
            Some((method, report)) => core.stats.reported(method, &report),
            None => core.bad_input.report(
                "bad report",
                &served.reports,
                &format_args!(
                    "ignoring a statistics report that is not `<hits> <misses> <method of {}> \
                     [<bucket>:<calls>,...]`: {text:?}",
                    served.service.info().name
                ),
            ),
        }
    }
}
