//! The load a scenario puts on the bus, and what each call did: callers in
//! the test process call `Sum` (idempotent) and `Now` (not idempotent) in
//! turn, past the cache, each call with a key of its own so that the side
//! channel's count of handler runs is per call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use generated_examples::math::math_bus::MathClient;
use generated_examples::math::{NowRequest, SumRequest};
use redis_bus::{Bus, CallOptions, Code};
use tokio::time::Instant;

use crate::settings::HANG_MARGIN;

/// Which method a call used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `Sum`, idempotent: re-run after a crash, resent after a failed send.
    Sum,
    /// `Now`, not idempotent: run at most once.
    Now,
}

/// How a call ended.
#[derive(Debug, Clone)]
pub enum Ended {
    /// Answered, with the right sum.
    Ok,
    /// Failed with this code and message.
    Failed(Code, String),
    /// Not back [`HANG_MARGIN`] after its deadline.
    Hung,
}

/// One call: which, when, and how it ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub method: Method,
    /// The sum's `a` or the seed: unique within a scenario.
    pub key: i64,
    pub started: Instant,
    pub ended_at: Instant,
    pub ended: Ended,
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self.ended, Ended::Ok)
    }
}

/// A client of math on `bus` whose calls have `deadline` and skip the cache.
pub fn client(bus: &Bus, deadline: Duration) -> MathClient {
    MathClient::new(bus).with_options(CallOptions::new().timeout(deadline).bypass_cache(true))
}

/// Makes one call of `method` with `key` through `math` (whose deadline is
/// `deadline`), bounded by the deadline and [`HANG_MARGIN`].
pub async fn call(math: &MathClient, method: Method, key: i64, deadline: Duration) -> Outcome {
    let started = Instant::now();
    let call = async {
        match method {
            Method::Sum => {
                let reply = math.sum(SumRequest { a: key, b: 1 }).await?;
                assert_eq!(reply.sum, key + 1, "a correct sum");
            }
            Method::Now => {
                math.now(NowRequest { seed: key }).await?;
            }
        }
        Ok::<(), redis_bus::Status>(())
    };
    let ended = match tokio::time::timeout(deadline + HANG_MARGIN, call).await {
        Ok(Ok(())) => Ended::Ok,
        Ok(Err(status)) => Ended::Failed(status.code(), status.message().to_owned()),
        Err(_) => Ended::Hung,
    };
    Outcome {
        method,
        key,
        started,
        ended_at: Instant::now(),
        ended,
    }
}

/// Callers calling in a loop until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Outcome>>>,
}

impl Load {
    /// Starts `callers` tasks calling math on `bus`, each call with
    /// `deadline`; caller `c`'s keys are `c * 1 000 000 + 1, + 2, ...`.
    pub fn start(bus: &Bus, callers: i64, deadline: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let math = client(bus, deadline);
        let tasks = (0..callers)
            .map(|caller| {
                let (math, stop) = (math.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        // Half the callers start with each method, so
                        // that calls of both are in flight at any time.
                        let method = if (i + caller) % 2 == 0 {
                            Method::Now
                        } else {
                            Method::Sum
                        };
                        let outcome = call(&math, method, caller * 1_000_000 + i, deadline).await;
                        if !outcome.is_ok() {
                            // As a caller would: not a tight loop on errors.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        outcomes.push(outcome);
                    }
                    outcomes
                })
            })
            .collect();
        Load { stop, tasks }
    }

    /// Stops the callers and returns every call's outcome once the calls in
    /// flight ended.
    pub async fn stop(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::SeqCst);
        let mut outcomes = Vec::new();
        for task in self.tasks {
            outcomes.extend(task.await.expect("a caller does not panic"));
        }
        outcomes
    }
}

/// The method of the call with `key` in a mixed batch: `Now` for an even
/// key, `Sum` for an odd one.
pub fn mixed(key: i64) -> (Method, i64) {
    if key % 2 == 0 {
        (Method::Now, key)
    } else {
        (Method::Sum, key)
    }
}

/// Calls made at once, each in a task of its own.
pub struct Batch(Vec<tokio::task::JoinHandle<Outcome>>);

impl Batch {
    /// Starts `calls` through `math`, whose deadline is `deadline`.
    pub fn start(
        math: &MathClient,
        calls: impl IntoIterator<Item = (Method, i64)>,
        deadline: Duration,
    ) -> Batch {
        Batch(
            calls
                .into_iter()
                .map(|(method, key)| {
                    let math = math.clone();
                    tokio::spawn(async move { call(&math, method, key, deadline).await })
                })
                .collect(),
        )
    }

    /// Every call's outcome, once all ended.
    pub async fn outcomes(self) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for call in self.0 {
            outcomes.push(call.await.expect("a caller does not panic"));
        }
        outcomes
    }
}
