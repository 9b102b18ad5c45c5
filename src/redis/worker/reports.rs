//! Clients' reports of their cache hits and misses: the workers of a
//! service take them from the service's `reports` list and add them into
//! the statistics, which applications cannot write. A report is believed
//! only for a method the worker serves, with plausible counts.

use super::core::Core;
use crate::redis::stats::parse_report;

/// How many reports are taken per heartbeat and service.
const BATCH: usize = 256;

/// Takes the waiting reports of service `index` and counts them in.
pub(crate) async fn take(core: &Core, index: usize) -> redis::RedisResult<()> {
    let served = &core.services[index];
    let reports: Option<Vec<String>> = redis::cmd("LPOP")
        .arg(&served.reports)
        .arg(BATCH)
        .query_async(&mut core.connection.clone())
        .await?;
    let reports = reports.unwrap_or_default();
    let methods = served.service.info().methods;
    for report in &reports {
        let known = parse_report(report).and_then(|(hits, misses, name)| {
            let method = methods.iter().find(|m| m.full_name == name)?;
            Some((method.full_name, hits, misses))
        });
        match known {
            Some((method, hits, misses)) => core.stats.reported(method, hits, misses),
            None => core.bad_input.report(
                "bad report",
                &served.reports,
                &format_args!(
                    "ignoring a statistics report that is not `<hits> <misses> <method of {}>`: {report:?}",
                    served.service.info().name
                ),
            ),
        }
    }
    // Taken reports are out of the list: add them in at once, so that a
    // reader misses them for a round trip, not for a statistics interval.
    if !reports.is_empty() {
        core.stats
            .flush(&mut core.connection.clone(), &core.keys)
            .await?;
    }
    Ok(())
}
