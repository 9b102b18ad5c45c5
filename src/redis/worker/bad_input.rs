//! Bad input, logged at a bounded rate: a queue can hold any number of junk
//! entries (a bug, or someone with `redis-cli`), and one log line each would
//! let them flood the worker's log and slow it down.
//!
//! The first report of each kind in an interval is logged in full, with
//! what was wrong; the rest are counted, and one summary line per interval
//! gives the counts per kind.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How often, at most, a kind of bad input is logged in full.
const INTERVAL: Duration = Duration::from_secs(10);

/// What kinds of bad input were seen since the interval began.
#[derive(Debug)]
pub(crate) struct BadInput {
    state: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    /// When the interval began.
    began: Instant,
    /// Reports per kind in this interval, the first of each logged in full.
    counts: BTreeMap<&'static str, u64>,
}

impl Default for BadInput {
    fn default() -> Self {
        BadInput {
            state: Mutex::new(Window {
                began: Instant::now(),
                counts: BTreeMap::new(),
            }),
        }
    }
}

impl BadInput {
    /// Reports one piece of bad input of `kind` (e.g. "undecodable")
    /// found in `queue`; `detail` says what was wrong with it.
    pub(crate) fn report(&self, kind: &'static str, queue: &str, detail: &dyn Display) {
        let first = {
            let mut window = self.lock();
            window.roll();
            let count = window.counts.entry(kind).or_insert(0);
            *count += 1;
            *count == 1
        };
        if first {
            tracing::error!(
                queue,
                kind,
                "{detail} (more bad input of this kind in the next {} s is counted, not logged)",
                INTERVAL.as_secs()
            );
        }
    }

    /// Logs the summary of an interval that has ended; the heartbeat calls
    /// it, so that the last burst of bad input is summed up too.
    pub(crate) fn flush(&self) {
        self.lock().roll();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Window {
    /// Starts a new interval when the current one has ended, logging what
    /// it saw beyond the lines already logged.
    fn roll(&mut self) {
        if self.began.elapsed() < INTERVAL {
            return;
        }
        let unlogged: Vec<String> = self
            .counts
            .iter()
            .filter(|(_, count)| **count > 1)
            .map(|(kind, count)| format!("{kind}: {count}"))
            .collect();
        if !unlogged.is_empty() {
            tracing::error!(
                "bad input in the last {} s, dropped: {}",
                self.began.elapsed().as_secs(),
                unlogged.join(", ")
            );
        }
        self.counts.clear();
        self.began = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn counts_reset_per_interval() {
        let bad = BadInput::default();
        for _ in 0..1000 {
            bad.report("not a request", "q", &"junk");
        }
        assert_eq!(bad.lock().counts["not a request"], 1000);
        tokio::time::advance(INTERVAL).await;
        bad.flush();
        assert!(bad.lock().counts.is_empty());
    }
}
