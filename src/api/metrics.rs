//! Metrics through the `metrics` crate (feature `metrics`, on by default):
//! an interceptor that counts calls by method and status code, times them
//! and counts those in flight, on the side it is added to; the transports
//! count cache hits and misses. Any `metrics` recorder exports them, e.g.
//! `metrics-exporter-prometheus` for Prometheus:
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `redis_bus_calls_total` | counter | `side` (`client`, `server`), `method`, `code` |
//! | `redis_bus_call_duration_seconds` | histogram | `side`, `method` |
//! | `redis_bus_calls_in_flight` | gauge | `side`, `method` |
//! | `redis_bus_queue_wait_seconds` | histogram | `method` (a server's: how long requests waited to be started) |
//! | `redis_bus_cache_hits_total`, `redis_bus_cache_misses_total` | counter | `method` |

use std::time::Duration;

use async_trait::async_trait;

use crate::api::interceptor::{InterceptedCall, Interceptor};
use crate::seam::status::Status;

/// Records every call of one side; see the module docs for the metrics.
///
/// ```
/// let bus = redis_bus::Bus::in_memory().with_interceptor(redis_bus::Metrics::client());
/// let server = redis_bus::Server::new(&bus).interceptor(redis_bus::Metrics::server());
/// # drop(server);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    side: &'static str,
}

impl Metrics {
    /// For a bus's clients: `bus.with_interceptor(Metrics::client())`.
    pub fn client() -> Metrics {
        Metrics { side: "client" }
    }

    /// For a server: `Server::new(&bus).interceptor(Metrics::server())`.
    pub fn server() -> Metrics {
        Metrics { side: "server" }
    }
}

#[async_trait]
impl Interceptor for Metrics {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        if let Some(queued) = call.queued {
            metrics::histogram!("redis_bus_queue_wait_seconds", "method" => call.method.full_name)
                .record(queued.as_secs_f64());
        }
        metrics::gauge!("redis_bus_calls_in_flight", "side" => self.side, "method" => call.method.full_name)
            .increment(1.0);
        Ok(())
    }

    async fn after(&self, call: &InterceptedCall, outcome: Result<(), &Status>, elapsed: Duration) {
        let method = call.method.full_name;
        metrics::gauge!("redis_bus_calls_in_flight", "side" => self.side, "method" => method)
            .decrement(1.0);
        let code = outcome.err().map_or("OK", |status| status.code().as_str());
        metrics::counter!("redis_bus_calls_total", "side" => self.side, "method" => method, "code" => code)
            .increment(1);
        metrics::histogram!("redis_bus_call_duration_seconds", "side" => self.side, "method" => method)
            .record(elapsed.as_secs_f64());
    }
}
