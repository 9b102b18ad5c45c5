//! `stats [SERVICE]`: per-method statistics, summed over every client and
//! worker of the bus.

use redis_bus::MethodStats;

use crate::failure::Failure;
use crate::human;
use crate::session::Session;
use crate::table::{Align, Table};

/// The statistics of every method, or of `service`'s methods.
pub(super) async fn run(session: &Session, service: Option<&str>) -> Result<String, Failure> {
    let stats = session.bus().discovery().stats().await?;
    if session.json() {
        return Ok(to_json(&stats, service));
    }
    Ok(render(session.bus().name(), &stats, service))
}

/// Whether `method` (`package.Service/Method`) is one of `service`'s.
fn of_service(method: &MethodStats, service: Option<&str>) -> bool {
    service.is_none_or(|service| {
        method
            .method
            .strip_prefix(service)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Requests that reached the method: those answered from the cache and
/// those that a worker handled (ran or refused).
fn requests(method: &MethodStats) -> u64 {
    method.calls + method.cache_hits
}

/// The statistics as a JSON array, one object per method.
fn to_json(stats: &[MethodStats], service: Option<&str>) -> String {
    let rows: Vec<serde_json::Value> = stats
        .iter()
        .filter(|method| of_service(method, service))
        .map(|method| {
            let micros = |q| method.latency_quantile(q).map(|d| d.as_micros() as u64);
            serde_json::json!({
                "method": method.method,
                "requests": requests(method),
                "handler_runs": method.calls,
                "errors": method.errors,
                "cache_hits": method.cache_hits,
                "cache_misses": method.cache_misses,
                "handling_p50_us": micros(0.5),
                "handling_p99_us": micros(0.99),
                "last_error": method.last_error,
            })
        })
        .collect();
    serde_json::Value::from(rows).to_string()
}

/// One row per method (of `service` when given), by method name.
fn render(bus: &str, stats: &[MethodStats], service: Option<&str>) -> String {
    let mut rows: Vec<&MethodStats> = stats
        .iter()
        .filter(|method| of_service(method, service))
        .collect();
    if rows.is_empty() {
        return match service {
            Some(service) => format!("no statistics for {service} on bus {bus:?} yet\n"),
            None => format!("no statistics on bus {bus:?} yet\n"),
        };
    }
    rows.sort_by(|a, b| a.method.cmp(&b.method));
    let mut table = Table::new(&[
        ("METHOD", Align::Left),
        ("REQUESTS", Align::Right),
        ("HANDLER RUNS", Align::Right),
        ("ERRORS", Align::Right),
        ("CACHE HITS", Align::Right),
        ("CACHE MISSES", Align::Right),
        ("HANDLING P50", Align::Right),
        ("HANDLING P99", Align::Right),
        ("LAST ERROR", Align::Left),
    ]);
    for method in rows {
        table.row([
            method.method.clone(),
            requests(method).to_string(),
            method.calls.to_string(),
            method.errors.to_string(),
            method.cache_hits.to_string(),
            method.cache_misses.to_string(),
            quantile(method, 0.5),
            quantile(method, 0.99),
            method.last_error.clone().unwrap_or_default(),
        ]);
    }
    table.render()
}

/// A latency quantile, as the bound of its bucket; `-` without calls, and
/// `>` the largest bound when slower than it.
fn quantile(stats: &MethodStats, quantile: f64) -> String {
    let recorded: u64 = stats.latency.iter().map(|(_, count)| count).sum();
    if recorded == 0 {
        return "-".to_owned();
    }
    match stats.latency_quantile(quantile) {
        Some(latency) => human::latency(latency),
        None => {
            let largest = stats.latency.iter().filter_map(|(bound, _)| *bound).max();
            match largest {
                Some(bound) => format!(
                    ">{}",
                    human::latency(std::time::Duration::from_micros(bound))
                ),
                None => "-".to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(method: &str, calls: u64, buckets: &[(Option<u64>, u64)]) -> MethodStats {
        let mut stats = MethodStats::default();
        stats.method = method.to_owned();
        stats.calls = calls;
        stats.latency = buckets.to_vec();
        stats
    }

    #[test]
    fn methods_are_tabled_by_name() {
        let mut error = stats("random.Random/Error", 2, &[(Some(250), 2), (None, 0)]);
        error.errors = 2;
        error.last_error = Some("UNKNOWN: boom".to_owned());
        let mut sum = stats(
            "math.Math/Sum",
            100,
            &[(Some(100), 98), (Some(2_500), 2), (None, 0)],
        );
        sum.cache_hits = 7;
        sum.cache_misses = 3;
        let all = [error, sum, stats("math.Math/Now", 0, &[])];
        assert_eq!(
            render("b", &all, None),
            "METHOD               REQUESTS  HANDLER RUNS  ERRORS  CACHE HITS  CACHE MISSES  HANDLING P50  HANDLING P99  LAST ERROR\n\
             math.Math/Now               0             0       0           0             0             -             -\n\
             math.Math/Sum             107           100       0           7             3         100µs         2.5ms\n\
             random.Random/Error         2             2       2           0             0         250µs         250µs  UNKNOWN: boom\n"
        );
        let math = render("b", &all, Some("math.Math"));
        assert!(
            math.contains("math.Math/Sum") && !math.contains("random"),
            "{math}"
        );
    }

    #[test]
    fn a_service_is_matched_whole() {
        let all = [stats("math.MathPlus/Sum", 1, &[])];
        assert_eq!(
            render("b", &all, Some("math.Math")),
            "no statistics for math.Math on bus \"b\" yet\n"
        );
    }

    #[test]
    fn latencies_beyond_the_last_bucket_say_so() {
        let slow = stats("s.S/M", 1, &[(Some(10_000_000), 0), (None, 1)]);
        assert_eq!(quantile(&slow, 0.5), ">10s");
    }
}
