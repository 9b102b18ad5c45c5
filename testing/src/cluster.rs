//! `RedisCluster`: a real Redis Cluster for a test (masters, and optionally
//! replicas of each), formed with `redis-cli --cluster create`, killed on
//! drop.
//!
//! It owns forming the cluster and waiting until every node agrees that it
//! is whole; each node is a [`RedisServer`] and keeps that type's guarantees
//! (free port, temporary directory, log printed when a test panics).

use std::ffi::OsString;
use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::error::HarnessError;
use super::server::{RedisServer, spawn_error};

/// The program that forms the cluster, looked up on PATH.
const REDIS_CLI: &str = "redis-cli";

/// The number of hash slots of a Redis Cluster: all must be served.
const CLUSTER_SLOTS: u32 = 16_384;

/// `redis-cli --cluster create` refuses fewer masters than this.
const MIN_MASTERS: usize = 3;

/// How long forming the cluster may take, from `redis-cli` to every node
/// reporting `cluster_state:ok`. It usually takes two to four seconds,
/// nearly all of it `redis-cli` checking once a second whether the nodes
/// have met; a loaded machine has been seen to need eight.
const DEFAULT_FORMATION_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the harness polls `redis-cli` and the nodes' `CLUSTER INFO`.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A Redis Cluster of master nodes (three by default, no replicas unless
/// [`replicas`](RedisClusterBuilder::replicas) asks for some), each a
/// [`RedisServer`] on 127.0.0.1.
///
/// [`start`](Self::start) returns once every node reports
/// `cluster_state:ok`, knows every other node and sees all 16384 slots
/// assigned, and, with replicas, once every replica is in sync with its
/// master and every node knows it as that master's replica (so that a
/// `CLUSTER FAILOVER` works at once). Dropping the cluster kills every node
/// (printing each node's log when the thread is panicking).
///
/// ```no_run
/// use redis_bus_testing::RedisCluster;
///
/// let cluster = RedisCluster::start()?;
/// let seeds: Vec<String> = cluster.urls();
/// # Ok::<(), redis_bus_testing::HarnessError>(())
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    /// The nodes, in the order given to `redis-cli --cluster create`, which
    /// assigns the masters consecutive slot ranges in that order; replicas
    /// come after the masters.
    nodes: Vec<RedisServer>,
    /// How many of the nodes are masters (at formation).
    masters: usize,
    /// How many replicas each master has.
    replicas: usize,
}

impl RedisCluster {
    /// Starts three masters and forms a cluster of them.
    pub fn start() -> Result<RedisCluster, HarnessError> {
        RedisCluster::builder().start()
    }

    /// Returns a builder to change the number of masters or add arguments.
    pub fn builder() -> RedisClusterBuilder {
        RedisClusterBuilder::new()
    }

    /// The nodes: the masters in slot order (the first serves slot 0), then
    /// the replicas. Roles change with failovers; [`replica_of`](Self::replica_of)
    /// asks the nodes.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// The nodes, mutably: e.g. to [`kill`](RedisServer::kill) one of them.
    pub fn nodes_mut(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }

    /// The URL of every node (`redis://127.0.0.1:<port>/`), in slot order:
    /// the seed list for a cluster client.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The index (in [`nodes`](Self::nodes)) of a node that replicates the
    /// node at `master_port` now, as the nodes' `ROLE` says.
    pub fn replica_of(&self, master_port: u16) -> Option<usize> {
        self.nodes.iter().position(|node| {
            let role: redis::RedisResult<Vec<redis::Value>> = redis::Client::open(node.url())
                .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(1)))
                .and_then(|mut connection| redis::cmd("ROLE").query(&mut connection));
            match role.as_deref() {
                Ok([redis::Value::BulkString(kind), _host, port, ..]) if kind == b"slave" => {
                    redis::from_redis_value::<u16>(port.clone()).ok() == Some(master_port)
                }
                _ => false,
            }
        })
    }

    /// The index (in [`nodes`](Self::nodes)) of the master that serves
    /// `key`'s slot now, as the first node that answers says.
    pub fn master_of(&self, key: &str) -> Option<usize> {
        let port = self
            .nodes
            .iter()
            .find_map(|node| master_port_seen_by(&node.url(), key))?;
        self.nodes.iter().position(|node| node.port() == port)
    }

    /// Every node's log, each under a header naming its address.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("---- node 127.0.0.1:{} ----\n{}", node.port(), node.log()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// An error about the cluster, carrying every node's log.
    fn error(&self, reason: String) -> HarnessError {
        HarnessError::Cluster {
            reason,
            logs: self.logs(),
        }
    }

    /// Runs `redis-cli --cluster create` over the nodes and waits for it.
    fn create(&self, deadline: Instant) -> Result<(), HarnessError> {
        // Output goes to a file, not a pipe: the harness polls the process
        // for its deadline and a pipe nobody reads could fill and block it.
        let output_path = self.nodes[0].dir().join("cluster-create.log");
        let output = File::create(&output_path)
            .map_err(|e| HarnessError::io("creating cluster-create.log", e))?;
        let output_err = output
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating cluster-create.log's handle", e))?;
        let mut command = Command::new(REDIS_CLI);
        command.args(["--cluster", "create"]);
        for node in &self.nodes {
            command.arg(format!("127.0.0.1:{}", node.port()));
        }
        let mut child = command
            .arg("--cluster-replicas")
            .arg(self.replicas.to_string())
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(output_err)
            .spawn()
            .map_err(|e| spawn_error(REDIS_CLI.as_ref(), e))?;

        let cli_output = || {
            let text = std::fs::read(&output_path).unwrap_or_default();
            String::from_utf8_lossy(&text).into_owned()
        };
        loop {
            let status = child
                .try_wait()
                .map_err(|e| HarnessError::io("waiting for redis-cli", e))?;
            match status {
                Some(status) if status.success() => return Ok(()),
                Some(status) => {
                    return Err(self.error(format!(
                        "`redis-cli --cluster create` failed ({status}); its output:\n{}",
                        cli_output()
                    )));
                }
                None if Instant::now() >= deadline => {
                    // `redis-cli` waits for the nodes to agree without a
                    // limit of its own; the harness must not hang with it.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.error(format!(
                        "`redis-cli --cluster create` did not finish in time; its output:\n{}",
                        cli_output()
                    )));
                }
                None => std::thread::sleep(POLL_INTERVAL),
            }
        }
    }

    /// Polls every node's `CLUSTER INFO` until each one reports the whole
    /// cluster (every replica known as its master's, and each replica its
    /// link to its master up), or fails at `deadline` with what the last
    /// node said.
    fn wait_until_formed(&self, deadline: Instant) -> Result<(), HarnessError> {
        let (masters, nodes) = (self.masters, self.nodes.len());
        let replicas = self.masters * self.replicas;
        // The replicas come after the masters; each must be one, in sync,
        // before the cluster is formed: a node `redis-cli` has yet to make
        // a replica still looks like a master of no slots.
        let mut pending: Vec<(usize, &RedisServer)> = self.nodes.iter().enumerate().collect();
        loop {
            let mut last_seen = String::new();
            pending.retain(|&(index, node)| match node_view(node) {
                Ok(info) if info.is_whole(masters, nodes, replicas, index >= masters) => false,
                Ok(info) => {
                    last_seen = format!("127.0.0.1:{} reports {info:?}", node.port());
                    true
                }
                Err(e) => {
                    last_seen = format!("127.0.0.1:{}: {e}", node.port());
                    true
                }
            });
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.error(format!(
                    "not every node reported a whole cluster in time; {last_seen}"
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// The port of the master that serves `key`'s slot as the node at `url`
/// sees it now (`CLUSTER KEYSLOT`, then `CLUSTER SLOTS`); `None` when the
/// node does not answer within a second or serves no such slot. During a
/// failover nodes disagree for a while: ask the node whose view matters.
pub fn master_port_seen_by(url: &str, key: &str) -> Option<u16> {
    let mut connection = redis::Client::open(url)
        .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(1)))
        .ok()?;
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut connection)
        .ok()?;
    // Each entry: first slot, last slot, the master as [host, port, id, ...],
    // then one such array per replica. Entries differ in length while
    // replicas join, so none is read as a fixed tuple.
    let ranges: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query(&mut connection)
        .ok()?;
    let number = |value: &redis::Value| redis::from_redis_value_ref::<u16>(value).ok();
    let range = ranges.iter().find(|range| {
        matches!((range.first().and_then(number), range.get(1).and_then(number)),
            (Some(first), Some(last)) if (first..=last).contains(&slot))
    })?;
    let redis::Value::Array(master) = range.get(2)? else {
        return None;
    };
    master.get(1).and_then(number)
}

/// Configures and starts a [`RedisCluster`]:
/// `RedisCluster::builder().masters(5).start()`.
#[derive(Debug, Clone)]
pub struct RedisClusterBuilder {
    /// How many masters to start (at least three).
    masters: usize,
    /// How many replicas each master gets.
    replicas: usize,
    /// Arguments passed to every node, after the harness's own.
    args: Vec<OsString>,
    /// How long forming the cluster may take once the nodes run.
    formation_timeout: Duration,
}

impl RedisClusterBuilder {
    /// A builder with the defaults of [`RedisCluster::start`].
    fn new() -> Self {
        RedisClusterBuilder {
            masters: MIN_MASTERS,
            replicas: 0,
            args: Vec::new(),
            formation_timeout: DEFAULT_FORMATION_TIMEOUT,
        }
    }

    /// How many masters to start (default 3). `start` refuses fewer than
    /// three, the minimum `redis-cli --cluster create` accepts.
    pub fn masters(mut self, masters: usize) -> Self {
        self.masters = masters;
        self
    }

    /// How many replicas each master gets (default 0), e.g. for failover
    /// tests (`CLUSTER FAILOVER` on a replica).
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas;
        self
    }

    /// Adds an argument for every node's `redis-server`, as
    /// [`RedisServerBuilder::arg`](super::RedisServerBuilder::arg) does.
    /// `redis-cli` forms the cluster without credentials, so arguments that
    /// require authentication (`--requirepass`) make formation fail.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// How long forming the cluster may take once every node runs
    /// (default: 30 s).
    pub fn formation_timeout(mut self, timeout: Duration) -> Self {
        self.formation_timeout = timeout;
        self
    }

    /// Starts the nodes, forms the cluster and waits until every node
    /// reports it whole. On failure the error carries every node's log.
    pub fn start(&self) -> Result<RedisCluster, HarnessError> {
        if self.masters < MIN_MASTERS {
            return Err(HarnessError::Cluster {
                reason: format!(
                    "a cluster needs at least {MIN_MASTERS} masters, {} were asked for",
                    self.masters
                ),
                logs: String::new(),
            });
        }
        let node = RedisServer::builder()
            .cluster_node()
            .args(self.args.iter().cloned());
        // Sequential starts are enough (a node starts in milliseconds), and
        // each later node's port search sees the earlier nodes' ports as
        // taken, so no two nodes' client and bus ports can collide.
        let nodes = (0..self.masters * (1 + self.replicas))
            .map(|_| node.start())
            .collect::<Result<Vec<_>, _>>()?;
        let cluster = RedisCluster {
            nodes,
            masters: self.masters,
            replicas: self.replicas,
        };
        let deadline = Instant::now() + self.formation_timeout;
        cluster.create(deadline)?;
        cluster.wait_until_formed(deadline)?;
        Ok(cluster)
    }
}

/// What one node's `CLUSTER INFO` says about the cluster.
#[derive(Debug, Default)]
struct NodeView {
    /// `cluster_state`: `ok` once the node sees every slot served.
    state: String,
    /// `cluster_slots_assigned`: slots the node knows an owner of.
    slots_assigned: u32,
    /// `cluster_known_nodes`: nodes this one has met, itself included.
    known_nodes: usize,
    /// `cluster_size`: masters serving at least one slot.
    size: usize,
    /// For a replica, whether its link to its master is up (`None` for a
    /// master).
    replica_link_up: Option<bool>,
    /// How many nodes this one knows as the replica of a master
    /// (`CLUSTER NODES`): a master accepts a manual failover only from a
    /// node it knows as its replica.
    replicas_known: usize,
}

impl NodeView {
    /// Whether this node sees a whole cluster of `masters` masters and
    /// `replicas` replicas among `nodes` nodes, and is a replica in sync if
    /// it should be `replica`.
    fn is_whole(&self, masters: usize, nodes: usize, replicas: usize, replica: bool) -> bool {
        self.state == "ok"
            && self.slots_assigned == CLUSTER_SLOTS
            && self.known_nodes == nodes
            && self.size == masters
            && self.replicas_known == replicas
            && self.replica_link_up == replica.then_some(true)
    }
}

/// Asks `node` for `CLUSTER INFO`.
fn node_view(node: &RedisServer) -> redis::RedisResult<NodeView> {
    let timeout = Duration::from_secs(1);
    let client = redis::Client::open(node.url())?;
    let mut connection = client.get_connection_with_timeout(timeout)?;
    connection.set_read_timeout(Some(timeout))?;
    let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut connection)?;
    let mut view = NodeView::default();
    for line in info.lines() {
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        match key {
            "cluster_state" => view.state = value.to_owned(),
            "cluster_slots_assigned" => view.slots_assigned = value.parse().unwrap_or(0),
            "cluster_known_nodes" => view.known_nodes = value.parse().unwrap_or(0),
            "cluster_size" => view.size = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    // Each line: id, address, flags, the master's id (`-` for a master), ...
    let known: String = redis::cmd("CLUSTER").arg("NODES").query(&mut connection)?;
    view.replicas_known = known
        .lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            fields.len() > 3 && fields[2].split(',').any(|flag| flag == "slave") && fields[3] != "-"
        })
        .count();
    let replication: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut connection)?;
    if replication.contains("role:slave") {
        view.replica_link_up = Some(replication.contains("master_link_status:up"));
    }
    Ok(view)
}
