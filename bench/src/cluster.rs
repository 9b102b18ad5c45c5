//! The Redis Cluster mode (`--cluster`): several echo services, each with
//! one worker process and one client process, on a 3-master Redis Cluster
//! started for the run, next to the same services on one redis-server; the
//! calls per second of all clients together.
//!
//! The services are one service under several bus names: a service's keys
//! share the hash tag `{<bus>:<service>@<major>}`, so each bus name picks a
//! slot, and the names are chosen so that each master serves one service.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use redis_bus_testing::{RedisCluster, RedisServer};

use crate::daemons::flush_all;
use crate::failures::Failures;
use crate::fleet::{self, Member};
use crate::machine::Machine;
use crate::orchestrator::RunArgs;
use crate::stats::median;
use crate::systems::System;

/// Masters of the cluster, and services spread over them (one each).
const MASTERS: usize = 3;

/// The service's hash-tagged name in its keys (`<service>@<major>`, from
/// `proto/echo.proto`).
const SERVICE_TAG: &str = "echo.Echo@1";

/// The two setups compared.
const SETUPS: [&str; 2] = ["one redis-server", "3-master Redis Cluster"];

/// Runs every round of the cluster mode and prints its table.
pub async fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let single = RedisServer::start()
        .context("cannot start redis-server (is it installed? apt-get install redis-server)")?;
    let cluster = RedisCluster::builder()
        .masters(MASTERS)
        .start()
        .context("cannot start a Redis Cluster (it needs redis-server and redis-cli)")?;
    let nodes: Vec<String> = cluster.urls();
    let cluster_url = format!(
        "redis+cluster://{}",
        cluster
            .nodes()
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port()))
            .collect::<Vec<_>>()
            .join(",")
    );
    let spread = spread_buses(&nodes[0]).await?;
    let urls = [single.url(), cluster_url];
    let mut rates: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    let runs = args.rounds as usize * args.payloads.len() * SETUPS.len();
    let mut failures = Failures::of(runs);
    eprintln!(
        "cluster: {runs} runs ({} rounds x {} payload sizes x 2 setups)",
        args.rounds,
        args.payloads.len()
    );
    for round in 0..args.rounds as usize {
        for &payload in &args.payloads {
            // Alternating which setup goes first spreads a drift over both.
            for step in 0..SETUPS.len() {
                let setup = (step + round) % SETUPS.len();
                let what = format!("round {}, {payload} B, {}", round + 1, SETUPS[setup]);
                if setup == 0 {
                    flush_all(&urls[0]).await?;
                } else {
                    for node in &nodes {
                        flush_all(node).await?;
                    }
                }
                let members: Vec<Member> = spread
                    .iter()
                    .map(|(bus, _)| Member {
                        target: urls[setup].clone(),
                        bus: bus.clone(),
                    })
                    .collect();
                match fleet::run(System::RedisBus, &members, payload, args).await {
                    Ok(rate) => {
                        eprintln!("{what}: {:.1}k/s", rate / 1000.0);
                        rates.entry((setup, payload)).or_default().push(rate);
                    }
                    Err(error) => {
                        failures.record(&what, &error);
                    }
                }
            }
        }
    }
    println!("{}", Machine::describe());
    println!(
        "- cluster mode: {} rounds, {} s per measurement after {} s of warm-up, {} calls in \
         flight per client process\n",
        args.rounds, args.seconds, args.warmup, args.client_in_flight
    );
    print!("{}", table(&rates, &spread, args));
    failures.finish(started)
}

/// Bus names whose echo service lands on each master in turn, with the
/// slot each one's keys live in: `bench-0`, `bench-1`... tried in order,
/// the first for each master kept. `node` is any node of the cluster.
async fn spread_buses(node: &str) -> Result<Vec<(String, u16)>> {
    let client = redis::Client::open(node)?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .context("cannot connect to the cluster's first node")?;
    let masters = master_slots(&mut connection).await?;
    let mut spread: Vec<Option<(String, u16)>> = vec![None; masters.len()];
    for candidate in 0..1000 {
        if spread.iter().all(Option::is_some) {
            break;
        }
        let bus = format!("bench-{candidate}");
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!("rb:{{{bus}:{SERVICE_TAG}}}:queue"))
            .query_async(&mut connection)
            .await
            .context("CLUSTER KEYSLOT failed")?;
        let owner = masters.iter().position(|ranges| {
            ranges
                .iter()
                .any(|&(start, end)| (start..=end).contains(&slot))
        });
        if let Some(owner) = owner
            && spread[owner].is_none()
        {
            spread[owner] = Some((bus, slot));
        }
    }
    spread
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .context("found no bus names that put a service on every master")
}

/// The slot ranges of each master, from `CLUSTER SLOTS`, by master port.
async fn master_slots(
    connection: &mut redis::aio::MultiplexedConnection,
) -> Result<Vec<Vec<(u16, u16)>>> {
    let ranges: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(connection)
        .await
        .context("CLUSTER SLOTS failed")?;
    let mut by_port: BTreeMap<u16, Vec<(u16, u16)>> = BTreeMap::new();
    for range in ranges {
        let [start, end, master, ..] = range.as_slice() else {
            bail!("CLUSTER SLOTS answered a range without its master: {range:?}");
        };
        let start: u16 = redis::from_redis_value(start.clone())?;
        let end: u16 = redis::from_redis_value(end.clone())?;
        let master: Vec<redis::Value> = redis::from_redis_value(master.clone())?;
        let port: u16 = match master.get(1) {
            Some(port) => redis::from_redis_value(port.clone())?,
            None => bail!("CLUSTER SLOTS answered a master without its port: {master:?}"),
        };
        by_port.entry(port).or_default().push((start, end));
    }
    Ok(by_port.into_values().collect())
}

/// The table: the calls per second of every client together, per setup and
/// payload size, medians over rounds, and the cluster over one server.
fn table(
    rates: &BTreeMap<(usize, usize), Vec<f64>>,
    spread: &[(String, u16)],
    args: &RunArgs,
) -> String {
    let mut out = format!(
        "### Redis Cluster: {} services, one worker and one client process each, {} calls in \
         flight per client (calls/s of all clients together, medians)\n\n",
        spread.len(),
        args.client_in_flight
    );
    let sizes: String = args.payloads.iter().map(|p| format!(" {p} B |")).collect();
    let _ = writeln!(out, "| Redis |{sizes}");
    let _ = writeln!(out, "| --- |{}", " ---: |".repeat(args.payloads.len()));
    let medians = |setup: usize, payload: usize| {
        rates
            .get(&(setup, payload))
            .and_then(|rounds| median(rounds.iter().copied()))
    };
    for (setup, label) in SETUPS.iter().enumerate() {
        let mut row = format!("| {label} |");
        for &payload in &args.payloads {
            let cell =
                medians(setup, payload).map_or("-".into(), |r| format!("{:.1}k/s", r / 1000.0));
            let _ = write!(row, " {cell} |");
        }
        let _ = writeln!(out, "{row}");
    }
    let mut row = "| cluster ÷ one server |".to_owned();
    for &payload in &args.payloads {
        let cell = match (medians(0, payload), medians(1, payload)) {
            (Some(single), Some(cluster)) => format!("{:.2}x", cluster / single),
            _ => "-".into(),
        };
        let _ = write!(row, " {cell} |");
    }
    let _ = writeln!(out, "{row}");
    let services: Vec<String> = spread
        .iter()
        .map(|(bus, slot)| format!("bus `{bus}` (slot {slot})"))
        .collect();
    let _ = writeln!(
        out,
        "\n(the services: the echo service on {}, one per master; on one redis-server, the same \
         {} buses)\n",
        services.join(", "),
        spread.len()
    );
    out
}
