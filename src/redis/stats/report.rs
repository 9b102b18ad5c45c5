//! A client's report on one method for one interval, as it travels on the
//! service's `reports` list: `<hits> <misses> <method>`, then, when the
//! client made calls, the whole-call latency buckets that are not empty,
//! `<bucket>:<count>` joined with `,` (`0 0 math.Math/Sum 0:12,3:1`).
//!
//! Anyone who may push to the list may push anything: a report is believed
//! only when it is exactly that, with plausible counts.

use std::fmt::Write;

use super::fields::BUCKETS;

/// The most a report may count in one number, for a worker to believe it.
pub(crate) const MAX_REPORTED: u64 = 1 << 40;

/// What a report says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report<'a> {
    /// Calls answered from the cache.
    pub hits: u64,
    /// Calls that looked in the cache and found nothing current.
    pub misses: u64,
    /// `package.Service/Method`, not checked here.
    pub method: &'a str,
    /// How many calls waited within each bucket, as the caller timed them.
    pub latency: [u64; BUCKETS],
}

/// The report of `method`.
pub(crate) fn format(hits: u64, misses: u64, method: &str, latency: &[u64; BUCKETS]) -> String {
    let mut report = format!("{hits} {misses} {method}");
    let mut separator = ' ';
    for (index, count) in latency.iter().enumerate().filter(|(_, c)| **c > 0) {
        let _ = write!(report, "{separator}{index}:{count}");
        separator = ',';
    }
    report
}

/// Parses a report; `None` for anything else, for counts past
/// [`MAX_REPORTED`], and for a bucket that is unknown or given twice.
pub(crate) fn parse(report: &str) -> Option<Report<'_>> {
    let mut parts = report.split(' ');
    let count = |text: Option<&str>| {
        let count: u64 = text?.parse().ok()?;
        (count <= MAX_REPORTED).then_some(count)
    };
    let hits = count(parts.next())?;
    let misses = count(parts.next())?;
    let method = parts.next().filter(|method| !method.is_empty())?;
    let mut latency = [0; BUCKETS];
    if let Some(buckets) = parts.next() {
        for bucket in buckets.split(',') {
            let (index, calls) = bucket.split_once(':')?;
            let index: usize = index.parse().ok()?;
            let calls = count(Some(calls)).filter(|&calls| calls > 0)?;
            let slot = latency.get_mut(index).filter(|slot| **slot == 0)?;
            *slot = calls;
        }
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Report {
        hits,
        misses,
        method,
        latency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_back_as_written() {
        let mut latency = [0; BUCKETS];
        latency[0] = 12;
        latency[BUCKETS - 1] = 1;
        let text = format(3, 4, "math.Math/Sum", &latency);
        assert_eq!(text, "3 4 math.Math/Sum 0:12,16:1");
        let report = parse(&text).expect("a report");
        assert_eq!(
            (report.hits, report.misses, report.method),
            (3, 4, "math.Math/Sum")
        );
        assert_eq!(report.latency, latency);
        // As clients without latency buckets write them.
        let old = parse("1 2 math.Math/Now").expect("a report");
        assert_eq!((old.hits, old.misses, old.latency), (1, 2, [0; BUCKETS]));
        assert_eq!(format(0, 0, "m/M", &[0; BUCKETS]), "0 0 m/M");
    }

    #[test]
    fn anything_else_is_refused() {
        for junk in [
            "",
            "1 2",
            "1 2 ",
            "x 2 m/M",
            "-1 2 m/M",
            "1099511627777 0 m/M",
            "1 2 m/M 17:1",
            "1 2 m/M 0:1,0:2",
            "1 2 m/M 0:0",
            "1 2 m/M 0:1099511627777",
            "1 2 m/M 0:1 extra",
            "1 2 m/M 0",
            "1 2 m/M 0:1,",
        ] {
            assert_eq!(parse(junk), None, "{junk:?}");
        }
    }
}
