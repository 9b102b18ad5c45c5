//! The course of a scenario under load: callers call for a while, the
//! fault strikes, the callers go on for a while, then the report.

use std::future::Future;
use std::time::Duration;

use redis_bus::Bus;
use tokio::time::Instant;

use crate::load::Load;
use crate::report::Report;
use crate::side::Side;

/// How many tasks call in a loop.
pub const CALLERS: i64 = 6;

/// Each call's deadline under load.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// How long the load runs before the fault.
const BEFORE_FAULT: Duration = Duration::from_millis(500);

/// Puts the load on `bus`, strikes with `fault` (the moment it starts is
/// the fault's), keeps the load on until `after` past the fault, and
/// returns the report, counting runs in `side`.
pub async fn under_load(
    scenario: &str,
    bus: &Bus,
    side: &Side,
    fault: impl Future<Output = ()>,
    after: Duration,
) -> Report {
    let load = Load::start(bus, CALLERS, DEADLINE);
    tokio::time::sleep(BEFORE_FAULT).await;
    let at = Instant::now();
    fault.await;
    tokio::time::sleep_until(at + after).await;
    let outcomes = load.stop().await;
    let runs = side.runs(&outcomes).await;
    Report::new(scenario, outcomes, runs, at)
}

/// Runs blocking `work` (a harness call) off the async runtime.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .expect("the harness does not panic")
}
