//! A fleet: several worker processes and as many client processes of one
//! system at once, every client counting its calls during one window that
//! they all share, so that their rates add up to the fleet's. The scaling
//! mode grows a fleet on one bus; the cluster mode spreads one over several
//! buses (services).

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::orchestrator::{CLIENT_SLACK, RunArgs, WORKER_TIMEOUT, start_worker};
use crate::sample::Share;
use crate::subprocess::Subprocess;
use crate::systems::System;

/// How long the clients get to start and connect before the warm-up
/// counts: starting a process and connecting takes tens of milliseconds,
/// more on a busy machine, per client.
const START_PER_CLIENT: Duration = Duration::from_millis(300);

/// One worker process and one client process of a fleet.
#[derive(Debug, Clone)]
pub struct Member {
    /// Where the worker serves and the client calls: the daemon's URL.
    pub target: String,
    /// The bus of a redis-bus system.
    pub bus: String,
}

/// Runs `system` with one worker and one client per member, each client
/// keeping `--client-in-flight` calls of `payload` bytes going, and returns
/// the calls per second of every client together.
pub async fn run(
    system: System,
    members: &[Member],
    payload: usize,
    args: &RunArgs,
) -> Result<f64> {
    let mut workers = Vec::new();
    let mut served_at = Vec::new();
    for member in members {
        let (worker, target) = start_worker(system, &member.target, &member.bus).await?;
        workers.push(worker);
        served_at.push(target);
    }
    let head_start = START_PER_CLIENT * members.len() as u32
        + Duration::try_from_secs_f64(args.warmup).context("bad --warmup")?;
    let start_at = SystemTime::now() + head_start;
    let start_at_ms = start_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_millis();
    let mut clients = Vec::new();
    for (member, target) in members.iter().zip(&served_at) {
        let command = vec![
            "share".to_owned(),
            format!("--system={system}"),
            format!("--target={target}"),
            format!("--bus={}", member.bus),
            format!("--payload={payload}"),
            format!("--in-flight={}", args.client_in_flight),
            format!("--start-at-ms={start_at_ms}"),
            format!("--seconds={}", args.seconds),
        ];
        clients.push(Subprocess::spawn(&command, format!("{system} client"))?);
    }
    let within = head_start + Duration::from_secs_f64(args.seconds) + CLIENT_SLACK;
    let mut total = 0.0;
    for mut client in clients {
        let line = client.next_line(within).await?;
        let share: Share = serde_json::from_str(&line)
            .with_context(|| format!("the {system} client printed {line:?}, not its share"))?;
        total += share.calls_per_s();
        client.finish(CLIENT_SLACK).await?;
    }
    for worker in workers {
        worker.finish(WORKER_TIMEOUT).await?;
    }
    Ok(total)
}
