//! `RedisSentinel`: a real Sentinel deployment for a test (a master, its
//! replicas and the sentinels that monitor it, each a [`RedisServer`]),
//! with helpers to fail the master over; killed on drop.
//!
//! [`start`](RedisSentinelBuilder::start) returns once every sentinel sees
//! the master, every replica with its link up and every other sentinel, so
//! a failover can start at once; it never sleeps a fixed time.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::error::HarnessError;
use super::port::free_port;
use super::server::RedisServer;

/// How often the harness polls the sentinels and nodes.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long one command of the harness may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the sentinels may take to discover the replicas and each other
/// (they announce themselves every 2 s) and to see the replicas' links up.
const AGREEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A master, its replicas and the sentinels that monitor it, on 127.0.0.1.
///
/// ```no_run
/// use std::time::Duration;
/// use redis_bus_testing::RedisSentinel;
///
/// let mut deployment = RedisSentinel::start()?; // 1 master, 2 replicas, 3 sentinels
/// let url = deployment.url(); // redis+sentinel://127.0.0.1:p1,.../mymaster
/// let old = deployment.master_port()?;
/// deployment.failover()?; // SENTINEL FAILOVER
/// let new = deployment.wait_for_new_master(old, Duration::from_secs(10))?;
/// deployment.kill_master()?; // SIGKILL, as a crash would
/// # Ok::<(), redis_bus_testing::HarnessError>(())
/// ```
#[derive(Debug)]
pub struct RedisSentinel {
    /// The name the sentinels monitor the master by.
    master_name: String,
    /// The data nodes: the first master, then the replicas (roles change
    /// with failovers; ask [`master_port`](Self::master_port)).
    nodes: Vec<RedisServer>,
    /// The sentinels.
    sentinels: Vec<RedisServer>,
    /// The ACL user of the data nodes, and its password, if they have one.
    user: Option<(String, String)>,
    /// With TLS, each data node's TLS port (in the order of `nodes`) and
    /// each sentinel's (in the order of `sentinels`): what the sentinels
    /// name and what the bus connects to.
    tls_ports: Option<(Vec<u16>, Vec<u16>)>,
}

impl RedisSentinel {
    /// Starts a master, two replicas and three sentinels (quorum 2), the
    /// master named `mymaster`, judged down after 1 s of silence.
    pub fn start() -> Result<RedisSentinel, HarnessError> {
        RedisSentinel::builder().start()
    }

    /// A builder to change the numbers, the name or the timings.
    pub fn builder() -> RedisSentinelBuilder {
        RedisSentinelBuilder::new()
    }

    /// The name the sentinels monitor the master by.
    pub fn master_name(&self) -> &str {
        &self.master_name
    }

    /// The data nodes (the master at start first, then its replicas).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// The sentinels.
    pub fn sentinels(&self) -> &[RedisServer] {
        &self.sentinels
    }

    /// The redis-bus URL of the deployment:
    /// `redis+sentinel://127.0.0.1:<port>,.../<master name>`, or with TLS
    /// (see [`RedisSentinelBuilder::tls`]) `rediss+sentinel://` and the
    /// sentinels' TLS ports.
    pub fn url(&self) -> String {
        let ports: Vec<u16> = match &self.tls_ports {
            Some((_, sentinels)) => sentinels.clone(),
            None => self.sentinels.iter().map(RedisServer::port).collect(),
        };
        let sentinels: Vec<String> = ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let scheme = match self.tls_ports {
            Some(_) => "rediss+sentinel",
            None => "redis+sentinel",
        };
        let credentials = match &self.user {
            Some((user, password)) => format!("{user}:{password}@"),
            None => String::new(),
        };
        format!(
            "{scheme}://{credentials}{}/{}",
            sentinels.join(","),
            self.master_name
        )
    }

    /// The URL of one data node, with the ACL user's credentials if the
    /// deployment has one: `redis://[user:password@]127.0.0.1:<port>/`.
    pub fn node_url(&self, node: &RedisServer) -> String {
        match &self.user {
            Some((user, password)) => {
                format!("redis://{user}:{password}@127.0.0.1:{}/", node.port())
            }
            None => node.url(),
        }
    }

    /// The port the sentinels name `node` by: its TLS port with TLS, else
    /// its port.
    pub fn named_port(&self, node: &RedisServer) -> u16 {
        match &self.tls_ports {
            Some((nodes, _)) => self
                .nodes
                .iter()
                .position(|n| n.port() == node.port())
                .map_or(node.port(), |index| nodes[index]),
            None => node.port(),
        }
    }

    /// The data node the sentinels name by `port` (see
    /// [`named_port`](Self::named_port)).
    fn node_named(&self, port: u16) -> Option<usize> {
        self.nodes
            .iter()
            .position(|node| self.named_port(node) == port)
    }

    /// The port of the master, as the first sentinel that answers names it
    /// (with TLS, its TLS port).
    pub fn master_port(&self) -> Result<u16, HarnessError> {
        let mut last = String::from("no sentinel answered");
        for sentinel in &self.sentinels {
            match self.named_master(sentinel) {
                Ok(port) => return Ok(port),
                Err(error) => last = error.to_string(),
            }
        }
        Err(self.error(format!("cannot learn the master's address: {last}")))
    }

    /// Asks a sentinel for a failover (`SENTINEL FAILOVER`), retrying for a
    /// few seconds while it has no replica it deems good enough yet
    /// (`NOGOODSLAVE`) or a failover is in progress (`INPROG`). Returns once
    /// the failover started; [`wait_for_new_master`](Self::wait_for_new_master)
    /// waits for its end.
    pub fn failover(&self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let asked: redis::RedisResult<()> = connect(&self.sentinels[0]).and_then(|mut c| {
                redis::cmd("SENTINEL")
                    .arg("FAILOVER")
                    .arg(&self.master_name)
                    .query(&mut c)
            });
            match asked {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    std::thread::sleep(POLL_INTERVAL);
                }
                Err(error) => {
                    return Err(self.error(format!("SENTINEL FAILOVER failed: {error}")));
                }
            }
        }
    }

    /// Kills the current master with SIGKILL, as a crash would, and returns
    /// its port. The sentinels promote a replica once they agree it is down.
    pub fn kill_master(&mut self) -> Result<u16, HarnessError> {
        let port = self.master_port()?;
        match self.node_named(port) {
            Some(index) => {
                self.nodes[index].kill();
                Ok(port)
            }
            None => Err(self.error(format!("the sentinels name an unknown master at {port}"))),
        }
    }

    /// Waits until every sentinel names a master other than the one at
    /// `old_port`, and that node says it is a master; returns its port.
    pub fn wait_for_new_master(
        &self,
        old_port: u16,
        timeout: Duration,
    ) -> Result<u16, HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            let named: Vec<Option<u16>> = self
                .sentinels
                .iter()
                .map(|sentinel| self.named_master(sentinel).ok())
                .collect();
            if let Some(Some(port)) = named.first()
                && *port != old_port
                && named.iter().all(|n| n == &Some(*port))
                && self.is_master(*port)
            {
                return Ok(*port);
            }
            if Instant::now() >= deadline {
                return Err(self.error(format!(
                    "no new master within {timeout:?}: the sentinels name {named:?}"
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Every node's and sentinel's log, each under a header.
    pub fn logs(&self) -> String {
        let node = |kind: &str, server: &RedisServer| {
            format!(
                "---- {kind} 127.0.0.1:{} ----\n{}",
                server.port(),
                server.log()
            )
        };
        self.nodes
            .iter()
            .map(|server| node("node", server))
            .chain(self.sentinels.iter().map(|server| node("sentinel", server)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The master's port as `sentinel` names it.
    fn named_master(&self, sentinel: &RedisServer) -> redis::RedisResult<u16> {
        let (_host, port): (String, u16) = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.master_name)
            .query(&mut connect(sentinel)?)?;
        Ok(port)
    }

    /// Whether the node at `port` says it is a master.
    fn is_master(&self, port: u16) -> bool {
        let Some(node) = self.node_named(port).map(|index| &self.nodes[index]) else {
            return false;
        };
        let role: redis::RedisResult<Vec<redis::Value>> =
            connect_to(&self.node_url(node)).and_then(|mut c| redis::cmd("ROLE").query(&mut c));
        matches!(role.as_deref(), Ok([redis::Value::BulkString(kind), ..]) if kind == b"master")
    }

    /// Polls every sentinel until it sees the master, its replicas with
    /// their links up, and every other sentinel.
    fn wait_until_agreed(&self, deadline: Instant) -> Result<(), HarnessError> {
        loop {
            let mut last_seen = String::new();
            let agreed = self
                .sentinels
                .iter()
                .all(|sentinel| match self.sentinel_view(sentinel) {
                    Ok(true) => true,
                    Ok(false) => {
                        last_seen = format!("sentinel 127.0.0.1:{} not there yet", sentinel.port());
                        false
                    }
                    Err(error) => {
                        last_seen = format!("sentinel 127.0.0.1:{}: {error}", sentinel.port());
                        false
                    }
                });
            if agreed {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.error(format!("the sentinels did not agree in time; {last_seen}")));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Whether `sentinel` sees the whole deployment.
    fn sentinel_view(&self, sentinel: &RedisServer) -> redis::RedisResult<bool> {
        let mut connection = connect(sentinel)?;
        let master: HashMap<String, String> = redis::cmd("SENTINEL")
            .arg("MASTER")
            .arg(&self.master_name)
            .query(&mut connection)?;
        let replicas: Vec<HashMap<String, String>> = redis::cmd("SENTINEL")
            .arg("REPLICAS")
            .arg(&self.master_name)
            .query(&mut connection)?;
        let count = |key: &str| master.get(key).and_then(|v| v.parse::<usize>().ok());
        let replicas_up = replicas.len() == self.nodes.len() - 1
            && replicas.iter().all(|replica| {
                replica.get("flags").map(String::as_str) == Some("slave")
                    && replica.get("master-link-status").map(String::as_str) == Some("ok")
            });
        Ok(master.get("flags").map(String::as_str) == Some("master")
            && count("num-other-sentinels") == Some(self.sentinels.len() - 1)
            && replicas_up)
    }

    /// An error carrying every log.
    fn error(&self, reason: String) -> HarnessError {
        HarnessError::Sentinel {
            reason,
            logs: self.logs(),
        }
    }
}

/// A synchronous connection to `server`, with time limits.
fn connect(server: &RedisServer) -> redis::RedisResult<redis::Connection> {
    connect_to(&server.url())
}

/// A synchronous connection to `url`, with time limits.
fn connect_to(url: &str) -> redis::RedisResult<redis::Connection> {
    let client = redis::Client::open(url)?;
    let connection = client.get_connection_with_timeout(COMMAND_TIMEOUT)?;
    connection.set_read_timeout(Some(COMMAND_TIMEOUT))?;
    connection.set_write_timeout(Some(COMMAND_TIMEOUT))?;
    Ok(connection)
}

/// Configures and starts a [`RedisSentinel`]:
/// `RedisSentinel::builder().down_after(Duration::from_secs(2)).start()`.
#[derive(Debug, Clone)]
pub struct RedisSentinelBuilder {
    /// The name the master is monitored by.
    master_name: String,
    /// How many replicas the master has.
    replicas: usize,
    /// How many sentinels monitor it (the quorum is a majority of them).
    sentinels: usize,
    /// `down-after-milliseconds`: how long a master may be silent before a
    /// sentinel deems it down.
    down_after: Duration,
    /// `failover-timeout`.
    failover_timeout: Duration,
    /// Arguments for every data node's `redis-server`.
    args: Vec<OsString>,
    /// The data nodes' only ACL user, and its password.
    user: Option<(String, String)>,
    /// The certificate, key and CA files of every node, for TLS.
    tls: Option<[PathBuf; 3]>,
}

impl RedisSentinelBuilder {
    fn new() -> Self {
        RedisSentinelBuilder {
            master_name: "mymaster".to_owned(),
            replicas: 2,
            sentinels: 3,
            down_after: Duration::from_secs(1),
            failover_timeout: Duration::from_secs(4),
            args: Vec::new(),
            user: None,
            tls: None,
        }
    }

    /// The name the sentinels monitor the master by (default `mymaster`).
    pub fn master_name(mut self, name: impl Into<String>) -> Self {
        self.master_name = name.into();
        self
    }

    /// How many replicas the master has (default 2, at least 1).
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas;
        self
    }

    /// How many sentinels there are (default 3); the quorum is a majority.
    pub fn sentinels(mut self, sentinels: usize) -> Self {
        self.sentinels = sentinels;
        self
    }

    /// How long the master may be silent before a sentinel deems it down
    /// (`down-after-milliseconds`; default 1 s, Redis's own is 30 s).
    pub fn down_after(mut self, after: Duration) -> Self {
        self.down_after = after;
        self
    }

    /// The sentinels' `failover-timeout` (default 4 s; Redis's own is 3
    /// minutes).
    pub fn failover_timeout(mut self, timeout: Duration) -> Self {
        self.failover_timeout = timeout;
        self
    }

    /// Adds an argument for every data node's `redis-server`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Gives the data nodes one ACL user, `user` with `password`, allowed
    /// everything, and turns their `default` user off: clients, replicas
    /// (`masteruser`) and sentinels (`auth-user`) all log in as `user`, and
    /// [`url`](RedisSentinel::url) carries the credentials. Sentinels
    /// themselves ask for none.
    pub fn user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.user = Some((user.into(), password.into()));
        self
    }

    /// Every node (data nodes and sentinels) also listens with TLS, on a
    /// port of its own, with the certificate and key in `certificate` and
    /// `key` (PEM files; the certificate for 127.0.0.1) and `ca` to check
    /// peers by: the replicas replicate and the sentinels monitor over TLS,
    /// so the sentinels name TLS ports, and [`url`](RedisSentinel::url) is
    /// a `rediss+sentinel://` URL. Clients need no certificate of their
    /// own. The harness itself keeps to the plain ports.
    pub fn tls(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        ca: impl Into<PathBuf>,
    ) -> Self {
        self.tls = Some([certificate.into(), key.into(), ca.into()]);
        self
    }

    /// The TLS arguments of one node listening on `port`.
    fn tls_args(&self, port: u16) -> Vec<OsString> {
        let Some([certificate, key, ca]) = &self.tls else {
            return Vec::new();
        };
        vec![
            "--tls-port".into(),
            port.to_string().into(),
            "--tls-cert-file".into(),
            certificate.into(),
            "--tls-key-file".into(),
            key.into(),
            "--tls-ca-cert-file".into(),
            ca.into(),
            "--tls-auth-clients".into(),
            "no".into(),
            "--tls-replication".into(),
            "yes".into(),
        ]
    }

    /// The same, as lines of a sentinel's configuration file.
    fn tls_config(&self, port: u16) -> String {
        let Some([certificate, key, ca]) = &self.tls else {
            return String::new();
        };
        format!(
            "tls-port {port}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\n\
             tls-auth-clients no\ntls-replication yes\n",
            certificate.display(),
            key.display(),
            ca.display()
        )
    }

    /// A free port for a node's TLS listener, when the deployment has TLS.
    fn tls_port(&self) -> Result<Option<u16>, HarnessError> {
        match self.tls {
            Some(_) => free_port()
                .map(Some)
                .map_err(|error| HarnessError::Sentinel {
                    reason: format!("no free port for TLS: {error}"),
                    logs: String::new(),
                }),
            None => Ok(None),
        }
    }

    /// Starts the master, the replicas and the sentinels, and waits until
    /// every sentinel sees all of them. On failure the error carries every
    /// log.
    pub fn start(&self) -> Result<RedisSentinel, HarnessError> {
        if self.replicas == 0 || self.sentinels == 0 {
            return Err(HarnessError::Sentinel {
                reason: "a Sentinel deployment needs a replica and a sentinel at least".into(),
                logs: String::new(),
            });
        }
        let mut data = RedisServer::builder();
        let mut sentinel_auth = String::new();
        if let Some((user, password)) = &self.user {
            let rule = format!(">{password}");
            data = data
                .args([
                    "--user",
                    user.as_str(),
                    "on",
                    rule.as_str(),
                    "~*",
                    "&*",
                    "+@all",
                ])
                .args(["--user", "default", "off"])
                .args([
                    "--masteruser",
                    user.as_str(),
                    "--masterauth",
                    password.as_str(),
                ]);
            let name = &self.master_name;
            sentinel_auth =
                format!("sentinel auth-user {name} {user}\nsentinel auth-pass {name} {password}\n");
        }
        let data = data.args(self.args.iter().cloned());
        let master_tls = self.tls_port()?;
        let master = data
            .clone()
            .args(
                master_tls
                    .map(|port| self.tls_args(port))
                    .unwrap_or_default(),
            )
            .start()?;
        // What replicas and sentinels reach the master at.
        let master_port = master_tls.unwrap_or(master.port()).to_string();
        let mut nodes = vec![master];
        let mut node_tls_ports: Vec<u16> = master_tls.into_iter().collect();
        for _ in 0..self.replicas {
            let tls = self.tls_port()?;
            let replica = data
                .clone()
                .args(tls.map(|port| self.tls_args(port)).unwrap_or_default())
                .args(["--replicaof", "127.0.0.1", master_port.as_str()])
                .start()?;
            nodes.push(replica);
            node_tls_ports.extend(tls);
        }
        let name = &self.master_name;
        let quorum = self.sentinels / 2 + 1;
        let config = format!(
            "sentinel monitor {name} 127.0.0.1 {master_port} {quorum}\n\
             sentinel down-after-milliseconds {name} {}\n\
             sentinel failover-timeout {name} {}\n\
             sentinel parallel-syncs {name} 1\n",
            self.down_after.as_millis(),
            self.failover_timeout.as_millis(),
        ) + &sentinel_auth;
        let mut sentinels = Vec::new();
        let mut sentinel_tls_ports = Vec::new();
        for _ in 0..self.sentinels {
            let tls = self.tls_port()?;
            let config =
                config.clone() + &tls.map(|port| self.tls_config(port)).unwrap_or_default();
            sentinels.push(RedisServer::builder().sentinel(config).start()?);
            sentinel_tls_ports.extend(tls);
        }
        let deployment = RedisSentinel {
            master_name: self.master_name.clone(),
            nodes,
            sentinels,
            user: self.user.clone(),
            tls_ports: self
                .tls
                .as_ref()
                .map(|_| (node_tls_ports, sentinel_tls_ports)),
        };
        deployment.wait_until_agreed(Instant::now() + AGREEMENT_TIMEOUT)?;
        Ok(deployment)
    }
}
