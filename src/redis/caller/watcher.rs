//! The watcher: once a heartbeat interval, fails at once the waiting calls
//! of services that no worker serves any more (their last worker stopped or
//! died), instead of leaving them to their deadlines; and now and then it
//! measures the bus clock again, so that a long-lived client's deadlines
//! stay right however its clock drifts.
//!
//! Calls made with `wait_for_worker(true)` are not watched: they wait for a
//! worker until their deadline.

use std::sync::Arc;
use std::time::Duration;

use super::pending::Pending;
use crate::redis::clock::{BusClock, LIVENESS_MARGIN_MS};
use crate::redis::keys::Keys;
use crate::redis::shared::SharedConnection;
use crate::seam::status::Status;

/// How often the bus clock is measured again.
const CLOCK_EVERY: Duration = Duration::from_secs(10);

/// Everything the watcher needs.
pub(crate) struct Watcher {
    /// The shared connection.
    pub connection: SharedConnection,
    /// The bus clock, to measure again.
    pub clock: Arc<BusClock>,
    /// The waiting calls.
    pub pending: Arc<Pending>,
    /// The bus's keys, for messages.
    pub keys: Keys,
    /// How often it looks.
    pub interval: Duration,
    /// The services that had no live worker at the last look: their calls
    /// fail if they still have none at the next (a reply sent just before
    /// the last worker left has that long to be dispatched).
    pub unserved: Vec<Arc<str>>,
}

impl Watcher {
    /// Watches until the task is aborted (the bus was dropped).
    pub(crate) async fn run(mut self) {
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + self.interval, self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut clock_measured = tokio::time::Instant::now();
        loop {
            ticks.tick().await;
            if clock_measured.elapsed() >= CLOCK_EVERY {
                clock_measured = tokio::time::Instant::now();
                if let Err(error) = self.clock.sync(&mut self.connection).await {
                    tracing::debug!(%error, "measuring the bus clock failed; trying again later");
                }
            }
            if let Err(error) = self.fail_unserved().await {
                tracing::debug!(%error, "checking that waiting calls are served failed");
            }
        }
    }

    /// Fails the waiting calls of every service with no live worker.
    async fn fail_unserved(&mut self) -> redis::RedisResult<()> {
        let watched = self.pending.watched();
        if watched.is_empty() {
            return Ok(());
        }
        let since = self.clock.now_ms() - LIVENESS_MARGIN_MS;
        // Calls queued since the last look were counted by the writer.
        let queued_before = tokio::time::Instant::now() - self.interval;
        let mut pipe = redis::pipe();
        for instances in &watched {
            pipe.cmd("ZCOUNT").arg(&**instances).arg(since).arg("+inf");
        }
        let counts = self.connection.replies(&pipe).await?;
        let previously = std::mem::take(&mut self.unserved);
        for (instances, count) in watched.iter().zip(counts) {
            if count != redis::Value::Int(0) {
                continue;
            }
            self.unserved.push(Arc::clone(instances));
            if !previously.contains(instances) {
                continue;
            }
            let service = service_of(instances);
            let status = Status::unavailable(format!(
                "no live worker serves {service} on bus {:?} any more (its last worker stopped \
                 or died while this call waited; a call it was running may or may not have \
                 run); call with CallOptions::wait_for_worker(true) to wait for one",
                self.keys.bus()
            ));
            let failed = self.pending.fail_all_of(instances, queued_before, &status);
            tracing::debug!(
                service,
                failed,
                "failed the waiting calls of a service with no live worker"
            );
        }
        Ok(())
    }
}

/// `<service>@<major>` from a live-worker set's key, for messages.
fn service_of(instances: &str) -> &str {
    instances
        .split_once(':')
        .and_then(|(_, rest)| rest.split_once(':'))
        .and_then(|(_, rest)| rest.split_once('}'))
        .map_or(instances, |(service, _)| service)
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_name_the_service() {
        assert_eq!(
            super::service_of("rb:{prod:math.Math@1}:instances"),
            "math.Math@1"
        );
    }
}
