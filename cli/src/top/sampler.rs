//! Samples of the bus for `top`, one per interval. The counters are read
//! every time; the registry (which holds each instance's descriptors, so
//! costs Redis more) every few intervals.

use std::collections::BTreeMap;
use std::time::Duration;

use redis_bus::Bus;
use tokio::sync::mpsc;

use crate::failure::Failure;
use crate::sample::Sample;

/// How many samples reuse the live instances read before.
const REGISTRY_EVERY: u32 = 5;

/// Sends a sample every `interval` (the first at once) until the receiver
/// is gone or a read fails (the failure is sent).
pub(super) async fn run(
    bus: Bus,
    interval: Duration,
    samples: mpsc::Sender<Result<Sample, Failure>>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut instances: Option<BTreeMap<String, usize>> = None;
    let mut since_registry = 0;
    loop {
        ticks.tick().await;
        let reuse = instances.take().filter(|_| since_registry < REGISTRY_EVERY);
        since_registry = if reuse.is_some() {
            since_registry + 1
        } else {
            1
        };
        let sample = Sample::take(&bus, reuse).await;
        if let Ok(taken) = &sample {
            instances = Some(taken.instances.clone());
        }
        let failed = sample.is_err();
        if samples.send(sample).await.is_err() || failed {
            return;
        }
    }
}
