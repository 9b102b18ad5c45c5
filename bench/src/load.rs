//! The load generator: one client of one system, measured one call at a
//! time, then with many calls in flight, with the CPU time and peak memory
//! that cost; or one client's share of a fleet's load (the scaling and
//! cluster modes).
//!
//! Every call is made from a spawned task, never from the task that
//! `block_on` drives on the main thread: a loop there pays a cross-thread
//! wake-up per call (50-80 us more per call on a 2-core machine), which
//! would measure tokio rather than the system.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use tokio::task::JoinSet;

use crate::cpu::Watched;
use crate::memory;
use crate::sample::{Loaded, PeakRss, Sample, Sequential, Share};
use crate::stats::percentile;
use crate::systems::{Caller, System};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Payload bytes per call.
    pub payload: usize,
    /// How long calls run before the measurement starts: connections,
    /// caches and allocators settle.
    pub warmup: Duration,
    /// How long each measurement lasts.
    pub duration: Duration,
    /// Calls in flight of each loaded measurement, in order.
    pub in_flight: Vec<usize>,
    /// The worker process, if the system has one.
    pub worker_pid: Option<u32>,
    /// The Redis or NATS server, if the system goes through one.
    pub daemon_pid: Option<u32>,
    /// Flow-control window of a redis-bus stream, in messages.
    pub stream_window: u32,
}

impl Plan {
    /// The processes whose CPU time the measurements watch.
    fn watched(&self) -> Watched {
        Watched {
            client: std::process::id(),
            worker: self.worker_pid,
            daemon: self.daemon_pid,
        }
    }
}

/// Measures `caller` of `system` along `plan`: one call at a time, then
/// each number of calls in flight, resetting the peak RSS of the client and
/// the worker before the heaviest load.
pub async fn measure<C: Caller>(system: System, caller: C, plan: &Plan) -> Result<Sample> {
    let payload = payload(plan.payload);
    let sequential = sequential(&caller, &payload, plan)
        .await
        .context("one call at a time")?;
    let heaviest = plan.in_flight.iter().copied().max().unwrap_or(1);
    let client_pid = std::process::id();
    let mut loaded = Vec::new();
    for &in_flight in &plan.in_flight {
        if in_flight == heaviest {
            for pid in std::iter::once(client_pid).chain(plan.worker_pid) {
                if let Err(error) = memory::reset_peak(pid) {
                    eprintln!(
                        "cannot reset the peak RSS of process {pid} ({error}): it covers its \
                         whole life"
                    );
                }
            }
        }
        let measured = concurrent(&caller, &payload, in_flight, plan)
            .await
            .with_context(|| format!("{in_flight} calls in flight"))?;
        loaded.push(measured);
    }
    let peak_rss = PeakRss {
        in_flight: heaviest,
        client_kib: memory::peak_rss_kib(client_pid)?,
        worker_kib: plan.worker_pid.map(memory::peak_rss_kib).transpose()?,
    };
    Ok(Sample {
        system,
        payload: plan.payload,
        sequential,
        loaded,
        peak_rss,
    })
}

/// Calls one at a time from one spawned task, timing each.
async fn sequential<C: Caller>(caller: &C, payload: &Bytes, plan: &Plan) -> Result<Sequential> {
    let caller = caller.clone();
    let payload = payload.clone();
    let (warmup, duration) = (plan.warmup, plan.duration);
    let watched = plan.watched();
    let timed = tokio::spawn(async move {
        let warm = Instant::now() + warmup;
        while Instant::now() < warm {
            caller.call(&payload).await?;
        }
        let mut latencies = Vec::new();
        let cpu_before = watched.snapshot()?;
        let started = Instant::now();
        let end = started + duration;
        loop {
            let call = Instant::now();
            if call >= end {
                break;
            }
            caller.call(&payload).await?;
            latencies.push(call.elapsed());
        }
        let elapsed = started.elapsed();
        let cpu = watched
            .snapshot()?
            .per_call_since(&cpu_before, latencies.len() as u64);
        anyhow::Ok((latencies, elapsed, cpu))
    });
    let (mut latencies, elapsed, cpu) = timed.await.context("the calling task panicked")??;
    latencies.sort_unstable();
    let micros = |latency: Duration| latency.as_secs_f64() * 1e6;
    Ok(Sequential {
        p50_us: micros(percentile(&latencies, 0.50)),
        p99_us: micros(percentile(&latencies, 0.99)),
        calls_per_s: latencies.len() as f64 / elapsed.as_secs_f64(),
        calls: latencies.len(),
        cpu,
    })
}

/// Keeps `in_flight` calls going (as many tasks, each calling in a loop)
/// and measures the calls completed per second after the warm-up, and the
/// CPU time they cost.
async fn concurrent<C: Caller>(
    caller: &C,
    payload: &Bytes,
    in_flight: usize,
    plan: &Plan,
) -> Result<Loaded> {
    let watched = plan.watched();
    let callers = Callers::start(caller, payload, in_flight);
    tokio::time::sleep(plan.warmup).await;
    let (before, started) = (callers.completed(), Instant::now());
    let cpu_before = watched.snapshot()?;
    tokio::time::sleep(plan.duration).await;
    let (after, elapsed) = (callers.completed(), started.elapsed());
    let cpu_after = watched.snapshot()?;
    callers.stop().await?;
    let calls = after - before;
    Ok(Loaded {
        in_flight,
        calls_per_s: calls as f64 / elapsed.as_secs_f64(),
        cpu: cpu_after.per_call_since(&cpu_before, calls),
    })
}

/// What one client process of a fleet (the scaling and cluster modes)
/// measures: its calls during a window that every process of the fleet
/// shares, so that their rates add up.
#[derive(Debug, Clone)]
pub struct SharePlan {
    /// Payload bytes per call.
    pub payload: usize,
    /// Calls in flight of this process.
    pub in_flight: usize,
    /// When the window starts (calls run from the start of the process, so
    /// the time before is the warm-up).
    pub start_at: SystemTime,
    /// How long the window lasts.
    pub duration: Duration,
}

/// Keeps `plan.in_flight` calls going and counts those completed during
/// the fleet's window.
pub async fn share<C: Caller>(caller: C, plan: &SharePlan) -> Result<Share> {
    let payload = payload(plan.payload);
    let callers = Callers::start(&caller, &payload, plan.in_flight);
    let Ok(wait) = plan.start_at.duration_since(SystemTime::now()) else {
        bail!("this client was ready only after the fleet's measurement had started");
    };
    tokio::time::sleep(wait).await;
    let (before, started) = (callers.completed(), Instant::now());
    tokio::time::sleep(plan.duration).await;
    let (after, elapsed) = (callers.completed(), started.elapsed());
    callers.stop().await?;
    Ok(Share {
        calls: after - before,
        seconds: elapsed.as_secs_f64(),
    })
}

/// Tasks calling in a loop until stopped, counting their calls.
struct Callers {
    /// Calls completed so far, by every task.
    completed: Arc<AtomicU64>,
    /// Tells the tasks to stop after their current call.
    stop: Arc<AtomicBool>,
    /// The tasks.
    tasks: JoinSet<Result<()>>,
}

impl Callers {
    /// Starts `in_flight` tasks, each calling `caller` with `payload` in a
    /// loop.
    fn start<C: Caller>(caller: &C, payload: &Bytes, in_flight: usize) -> Callers {
        let completed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        for _ in 0..in_flight {
            let (caller, payload) = (caller.clone(), payload.clone());
            let (completed, stop) = (Arc::clone(&completed), Arc::clone(&stop));
            tasks.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    caller.call(&payload).await?;
                    completed.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            });
        }
        Callers {
            completed,
            stop,
            tasks,
        }
    }

    /// Calls completed so far.
    fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }

    /// Stops the tasks and waits for their last calls; fails if a call
    /// failed.
    async fn stop(mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        while let Some(task) = self.tasks.join_next().await {
            task.context("a calling task panicked")??;
        }
        Ok(())
    }
}

/// `len` bytes of a fixed pattern that is not all one byte.
pub fn payload(len: usize) -> Bytes {
    (0..len).map(pattern_byte).collect()
}

/// Whether `bytes` are the payload of their length: how a worker that
/// receives payloads without echoing them (an upload) checks them.
pub fn is_payload(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .all(|(index, &byte)| byte == pattern_byte(index))
}

/// The byte at `index` of every payload.
fn pattern_byte(index: usize) -> u8 {
    // 251 is prime, so the pattern does not line up with any power of two.
    (index % 251) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_recognised_and_a_changed_byte_is_not() {
        let mut sent = payload(4096).to_vec();
        assert!(is_payload(&sent));
        assert!(is_payload(&[]));
        sent[300] ^= 1;
        assert!(!is_payload(&sent));
    }
}
