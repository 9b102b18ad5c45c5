//! `stats [SERVICE] [--window DURATION | --instances]`: per-method
//! statistics, summed over every client and worker of the bus: counts
//! since the bus began, rates over a window from two samples, or each live
//! worker's own counts.

use std::time::Duration;

use redis_bus::MethodStats;

use crate::failure::Failure;
use crate::sample::{self, Sample, call_quantile, codes, quantile};
use crate::session::Session;
use crate::table::{Align, Table};

/// The longest window: a wait has a bound, and an hour is already more
/// than a look at the bus needs.
const MAX_WINDOW: Duration = Duration::from_secs(3600);

/// What `stats` shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum View {
    /// Counts since the bus began.
    Totals,
    /// Rates over a window.
    Window(Duration),
    /// Each live worker's own counts.
    Instances,
}

/// The statistics of every method, or of `service`'s methods, as `view`
/// says.
pub(super) async fn run(
    session: &Session,
    service: Option<&str>,
    view: View,
) -> Result<String, Failure> {
    match view {
        View::Totals => {}
        View::Window(window) => return windowed(session, service, window).await,
        View::Instances => return super::stats_instances::run(session, service).await,
    }
    let stats = session.bus().discovery().stats().await?;
    if session.json() {
        return Ok(to_json(&stats, service));
    }
    Ok(render(session.bus().name(), &stats, service))
}

/// Rates over `window`: two samples that far apart.
async fn windowed(
    session: &Session,
    service: Option<&str>,
    window: Duration,
) -> Result<String, Failure> {
    if window < Duration::from_secs(1) || window > MAX_WINDOW {
        return Err(Failure::usage(format!(
            "--window {} is out of range: give 1s to 1h (workers send statistics every second)",
            humantime::format_duration(window)
        )));
    }
    let before = Sample::take(session.bus(), None).await?;
    tokio::time::sleep(window).await;
    let after = Sample::take(session.bus(), None).await?;
    let mut rates = sample::rates(&before, &after);
    rates.retain(|rate| of_service(&rate.method, service));
    if session.json() {
        let rows: Vec<serde_json::Value> = rates.iter().map(sample::Rate::to_json).collect();
        return Ok(serde_json::Value::from(rows).to_string());
    }
    if rates.is_empty() {
        return Ok(nothing(session.bus().name(), service));
    }
    let mut table = Table::new(&[
        ("METHOD", Align::Left),
        ("REQUESTS/S", Align::Right),
        ("HANDLER RUNS/S", Align::Right),
        ("ERRORS/S", Align::Right),
        ("CACHE HIT %", Align::Right),
        ("CALL P50", Align::Right),
        ("CALL P99", Align::Right),
        ("HANDLING P50", Align::Right),
        ("HANDLING P99", Align::Right),
        ("INSTANCES", Align::Right),
        ("QUEUED", Align::Right),
        ("ERROR CODES", Align::Left),
    ]);
    for rate in &rates {
        table.row([
            rate.method.clone(),
            sample::per_second(rate.requests),
            sample::per_second(rate.runs),
            sample::per_second(rate.errors),
            sample::percent(rate.hit_ratio),
            call_quantile(&rate.window, 0.5),
            call_quantile(&rate.window, 0.99),
            quantile(&rate.window, 0.5),
            quantile(&rate.window, 0.99),
            rate.instances.to_string(),
            rate.queued.to_string(),
            codes(&rate.window.errors_by_code),
        ]);
    }
    Ok(format!(
        "over the last {}:\n{}",
        humantime::format_duration(window),
        table.render()
    ))
}

/// Says that there is nothing to show.
fn nothing(bus: &str, service: Option<&str>) -> String {
    match service {
        Some(service) => format!("no statistics for {service} on bus {bus:?} yet\n"),
        None => format!("no statistics on bus {bus:?} yet\n"),
    }
}

/// Whether `method` (`package.Service/Method`) is one of `service`'s.
pub(crate) fn of_service(method: &str, service: Option<&str>) -> bool {
    service.is_none_or(|service| {
        method
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
        .filter(|method| of_service(&method.method, service))
        .map(|method| {
            let micros = |latency: Option<Duration>| latency.map(|d| d.as_micros() as u64);
            serde_json::json!({
                "method": method.method,
                "requests": requests(method),
                "handler_runs": method.calls,
                "errors": method.errors,
                "errors_by_code": sample::codes_json(&method.errors_by_code),
                "cache_hits": method.cache_hits,
                "cache_misses": method.cache_misses,
                "call_p50_us": micros(method.call_latency_quantile(0.5)),
                "call_p99_us": micros(method.call_latency_quantile(0.99)),
                "handling_p50_us": micros(method.latency_quantile(0.5)),
                "handling_p99_us": micros(method.latency_quantile(0.99)),
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
        .filter(|method| of_service(&method.method, service))
        .collect();
    if rows.is_empty() {
        return nothing(bus, service);
    }
    rows.sort_by(|a, b| a.method.cmp(&b.method));
    let mut table = Table::new(&[
        ("METHOD", Align::Left),
        ("REQUESTS", Align::Right),
        ("HANDLER RUNS", Align::Right),
        ("ERRORS", Align::Right),
        ("CACHE HITS", Align::Right),
        ("CACHE MISSES", Align::Right),
        ("CALL P50", Align::Right),
        ("CALL P99", Align::Right),
        ("HANDLING P50", Align::Right),
        ("HANDLING P99", Align::Right),
        ("ERROR CODES", Align::Left),
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
            call_quantile(method, 0.5),
            call_quantile(method, 0.99),
            quantile(method, 0.5),
            quantile(method, 0.99),
            codes(&method.errors_by_code),
            method.last_error.clone().unwrap_or_default(),
        ]);
    }
    table.render()
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
        error.errors_by_code = vec![(redis_bus::Code::Unknown, 2)];
        error.call_latency = vec![(Some(500), 2), (None, 0)];
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
            "METHOD               REQUESTS  HANDLER RUNS  ERRORS  CACHE HITS  CACHE MISSES  CALL P50  CALL P99  HANDLING P50  HANDLING P99  ERROR CODES  LAST ERROR\n\
             math.Math/Now               0             0       0           0             0         -         -             -             -\n\
             math.Math/Sum             107           100       0           7             3         -         -         100µs         2.5ms\n\
             random.Random/Error         2             2       2           0             0     500µs     500µs         250µs         250µs  UNKNOWN 2    UNKNOWN: boom\n"
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
}
