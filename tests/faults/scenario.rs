//! The course of a scenario under load: callers call for a while, the
//! fault strikes, the callers go on for a while, then the report.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_bus::Bus;
use tokio::time::Instant;

use crate::load::Load;
use crate::report::Report;
use crate::settings;
use crate::side::Side;
use crate::worker::{Worker, WorkerSpec};

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

/// How long a timed fault took (see [`timed`]), once it ended.
#[derive(Clone, Default)]
pub struct Took(Arc<Mutex<Duration>>);

impl Took {
    pub fn get(&self) -> Duration {
        *self.0.lock().unwrap()
    }
}

/// Runs blocking `fault` (which strikes, then waits for the deployment's
/// own repair: a promotion, a slot moved) off the runtime; records in
/// `took` how long it took, and prints it after what `fault` returns.
pub async fn timed(took: &Took, fault: impl FnOnce() -> String + Send + 'static) {
    let took = took.clone();
    blocking(move || {
        let started = Instant::now();
        let what = fault();
        let elapsed = started.elapsed();
        *took.0.lock().unwrap() = elapsed;
        eprintln!("{what} after {elapsed:?}");
    })
    .await;
}

/// A worker process on `url` whose handlers take no time, counting in
/// `side`, and a client's bus on `url`.
pub async fn worker_and_client(url: &str, side: &Side) -> (Worker, Bus) {
    let worker = WorkerSpec::new(url, &side.url(), Duration::ZERO).spawn();
    (worker, settings::connect(url).await)
}
