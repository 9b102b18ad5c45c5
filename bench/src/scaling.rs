//! The scaling mode (`--scale 1,2,4`): for each count n, n worker processes
//! and n client processes of one system at once, each client keeping
//! `--client-in-flight` calls going, and the calls per second of all of
//! them together. The work offered grows with n, so the table shows how
//! throughput follows it, on the cores this machine has.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::daemons::Daemons;
use crate::failures::Failures;
use crate::fleet::{self, Member};
use crate::machine::Machine;
use crate::orchestrator::RunArgs;
use crate::stats::median;
use crate::systems::{self, DEFAULT_BUS, System};

/// Runs every round of the scaling mode and prints its table.
pub async fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let asked: Vec<System> = args
        .systems
        .iter()
        .copied()
        .filter(|&system| systems::scales(system))
        .collect();
    if asked.is_empty() {
        bail!("the scaling mode runs list, redis-bus and nats: --systems names none of them");
    }
    let (daemons, systems) = Daemons::start(&asked).await?;
    if systems.is_empty() {
        bail!("none of the systems asked for can run here");
    }
    let runs = args.rounds as usize * args.payloads.len() * systems.len() * args.scale.len();
    let mut failures = Failures::of(runs);
    eprintln!(
        "scaling: {runs} runs ({} rounds x {} payload sizes x {} systems x {} process counts)",
        args.rounds,
        args.payloads.len(),
        systems.len(),
        args.scale.len()
    );
    let mut rates: BTreeMap<(usize, usize, usize), Vec<f64>> = BTreeMap::new();
    for round in 0..args.rounds as usize {
        let mut order = systems.clone();
        order.rotate_left(round % systems.len());
        for &payload in &args.payloads {
            for &system in &order {
                for &processes in &args.scale {
                    let what = format!(
                        "round {}, {system}, {payload} B, n = {processes}",
                        round + 1
                    );
                    daemons.flush_redis().await?;
                    let member = Member {
                        target: daemons.target(system)?,
                        bus: DEFAULT_BUS.to_owned(),
                    };
                    let members = vec![member; processes];
                    match fleet::run(system, &members, payload, args).await {
                        Ok(rate) => {
                            eprintln!("{what}: {:.1}k/s", rate / 1000.0);
                            let index = order_of(system);
                            rates
                                .entry((index, payload, processes))
                                .or_default()
                                .push(rate);
                        }
                        Err(error) => {
                            failures.record(&what, &error);
                        }
                    }
                }
            }
        }
    }
    println!("{}", Machine::describe());
    println!(
        "- scaling mode: {} rounds, {} s per measurement after {} s of warm-up, {} calls in \
         flight per client process\n",
        args.rounds, args.seconds, args.warmup, args.client_in_flight
    );
    print!("{}", table(&rates, &args.scale, args));
    failures.finish(started)
}

/// Where `system` comes in the report.
fn order_of(system: System) -> usize {
    System::ALL
        .iter()
        .position(|&listed| listed == system)
        .unwrap_or(usize::MAX)
}

/// The table: one row per system and payload size, one column per process
/// count, the medians over rounds of the calls per second of the whole
/// fleet, and the last count's rate over the first's.
fn table(
    rates: &BTreeMap<(usize, usize, usize), Vec<f64>>,
    scale: &[usize],
    args: &RunArgs,
) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let mut out = format!(
        "### Scaling: n worker processes and n client processes, {} calls in flight per client \
         (calls/s of all clients together, medians)\n\n",
        args.client_in_flight
    );
    let heads: String = scale.iter().map(|n| format!(" n = {n} |")).collect();
    let (first, last) = (scale[0], scale[scale.len() - 1]);
    let _ = writeln!(
        out,
        "| system | payload |{heads} n = {last} ÷ n = {first} |"
    );
    let _ = writeln!(
        out,
        "| --- | ---: |{} ---: |",
        " ---: |".repeat(scale.len())
    );
    let systems: Vec<usize> = {
        let mut seen: Vec<usize> = rates.keys().map(|&(system, _, _)| system).collect();
        seen.dedup();
        seen
    };
    for system in systems {
        for &payload in &args.payloads {
            let label = System::ALL.get(system).map_or("?", |system| system.label());
            let mut row = format!("| {label} | {payload} B |");
            let medians: Vec<Option<f64>> = scale
                .iter()
                .map(|&n| {
                    let rounds = rates.get(&(system, payload, n));
                    rounds.and_then(|rounds| median(rounds.iter().copied()))
                })
                .collect();
            for rate in &medians {
                let _ = write!(
                    row,
                    " {} |",
                    rate.map_or("-".into(), |r| format!("{:.1}k/s", r / 1000.0))
                );
            }
            let growth = match (medians[0], medians[medians.len() - 1]) {
                (Some(first), Some(last)) => format!("{:.2}x", last / first),
                _ => "-".into(),
            };
            let _ = writeln!(out, "{row} {growth} |");
        }
    }
    let _ = writeln!(
        out,
        "\n(the machine has {cores} cores: every worker, every client and the Redis or NATS \
         server share them, so beyond about {cores} busy processes more of them only split the \
         same CPU)\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The benchmark's command line, to get the default arguments.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn the_table_shows_medians_per_process_count_and_the_growth() {
        let args = Cli::parse_from(["bench", "--scale", "1,2", "--payloads", "64"]).run;
        let bus = order_of(System::RedisBus);
        let rates = BTreeMap::from([
            ((bus, 64, 1), vec![9_000.0, 10_000.0, 30_000.0]),
            ((bus, 64, 2), vec![15_000.0]),
        ]);
        let table = table(&rates, &args.scale, &args);
        assert!(
            table.contains("| redis-bus | 64 B | 10.0k/s | 15.0k/s | 1.50x |"),
            "{table}"
        );
        assert!(table.contains("| system | payload | n = 1 | n = 2 | n = 2 ÷ n = 1 |"));
    }
}
