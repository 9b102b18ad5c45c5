//! CPU time used by a process, from `/proc/<pid>/stat`: divided by the calls
//! made meanwhile, it tells where the time of a call goes (client, worker,
//! or the Redis / NATS server), which matters on 2 cores that all of them
//! share. Also the CPU time of the whole machine (`/proc/stat`), to tell
//! when something outside the benchmark took some of those cores.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use crate::sample::CpuUse;

/// The kernel's clock tick for `/proc` times (`USER_HZ`): 100 on every
/// Linux architecture this benchmark runs on.
const TICKS_PER_SECOND: u64 = 100;

/// The processes of a run whose CPU time is watched.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    /// The client process (this one, in a client).
    pub client: u32,
    /// The worker process, if the system has one.
    pub worker: Option<u32>,
    /// The Redis or NATS server, if the system goes through one.
    pub daemon: Option<u32>,
}

/// The CPU times of the watched processes, and of the whole machine, at one
/// moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// When it was taken.
    at: Instant,
    /// Every process of the machine's, user and system time.
    machine: Duration,
    /// The client's.
    client: Duration,
    /// The worker's.
    worker: Option<Duration>,
    /// The daemon's.
    daemon: Option<Duration>,
}

impl Watched {
    /// Their CPU times now.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            at: Instant::now(),
            machine: machine_busy()?,
            client: cpu_time(self.client)?,
            worker: self.worker.map(cpu_time).transpose()?,
            daemon: self.daemon.map(cpu_time).transpose()?,
        })
    }
}

impl Snapshot {
    /// The CPU time each process spent per call between `earlier` and this
    /// snapshot, during which `calls` calls completed, and the cores the
    /// rest of the machine used meanwhile.
    pub fn per_call_since(&self, earlier: &Snapshot, calls: u64) -> CpuUse {
        let spent = |now: Duration, then: Duration| now.saturating_sub(then);
        let both = |now: Option<Duration>, then: Option<Duration>| Some(spent(now?, then?));
        let client = spent(self.client, earlier.client);
        let worker = both(self.worker, earlier.worker);
        let daemon = both(self.daemon, earlier.daemon);
        let ours = client + worker.unwrap_or_default() + daemon.unwrap_or_default();
        let elsewhere = spent(self.machine, earlier.machine).saturating_sub(ours);
        let elapsed = self.at.duration_since(earlier.at).as_secs_f64().max(1e-3);
        let per_call = |time: Duration| time.as_secs_f64() * 1e6 / calls.max(1) as f64;
        CpuUse {
            client_us: per_call(client),
            worker_us: worker.map(per_call),
            daemon_us: daemon.map(per_call),
            elsewhere_cores: elsewhere.as_secs_f64() / elapsed,
        }
    }
}

/// User plus system CPU time of every process of the machine so far, from
/// the first line of `/proc/stat` (`cpu user nice system idle ...`). Time
/// in interrupts is left out: the kernel does not charge it to processes,
/// so it would show the benchmark's own network traffic as someone else's.
fn machine_busy() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let ticks = stat
        .lines()
        .next()
        .and_then(parse_machine_ticks)
        .ok_or_else(|| anyhow!("/proc/stat does not start with a cpu line"))?;
    Ok(ticks_to_time(ticks))
}

/// `user + nice + system` of the `cpu` line of `/proc/stat`.
fn parse_machine_ticks(line: &str) -> Option<u64> {
    let mut fields = line.strip_prefix("cpu ")?.split_whitespace();
    let mut next = || fields.next()?.parse::<u64>().ok();
    Some(next()? + next()? + next()?)
}

/// User plus system CPU time of process `pid` (all its threads, living and
/// ended) so far.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let ticks = parse_ticks(&stat).ok_or_else(|| anyhow!("{path} is not a stat line: {stat:?}"))?;
    Ok(ticks_to_time(ticks))
}

fn ticks_to_time(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// `utime + stime` (fields 14 and 15) of a stat line. The command name
/// (field 2, in parentheses) may hold spaces, so fields are counted after
/// its closing parenthesis.
fn parse_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `fields[0]` is field 3 (the state).
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_ticks() {
        let stat = "42 (tokio (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_ticks(stat), Some(300));
        assert_eq!(parse_ticks("garbage"), None);
    }

    #[test]
    fn reads_the_machine_busy_ticks() {
        let line = "cpu  564935 7 173619 611569 5746 0 49265 2393 0 0";
        assert_eq!(parse_machine_ticks(line), Some(564_935 + 7 + 173_619));
        assert_eq!(parse_machine_ticks("cpu0 1 2 3"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_time(std::process::id()).is_ok());
    }
}
