//! The shared connection of a bus: to one Redis (reconnecting), or to a
//! Redis Cluster (routing each command by its key's slot, following MOVED
//! and ASK).
//!
//! Every command has a time limit ([`COMMAND_TIMEOUT`]). On one Redis, a
//! connection on which a command timed out is replaced, never reused: a
//! silent network (a NAT or load balancer that stopped forwarding) keeps a
//! TCP connection open that will never answer, and redis-rs does not
//! reconnect on a timeout by itself. Commands already waiting on the old
//! connection time out in turn; new ones go to the new connection.
//!
//! Through Sentinel, the connection also follows the master: a command that
//! meets a dropped or refused connection, a timeout, or an answer that the
//! node is no longer a master (`READONLY`, `MASTERDOWN`) makes the
//! connection ask the sentinels again and open a connection to the master
//! they name, retrying until one answers (a SIGKILLed master is still
//! named until the sentinels agree it is down). redis-rs's own reconnect
//! would go back to the old address: a dead node, or a demoted one.
//!
//! Single commands and single-slot pipelines go through as they are. A
//! pipeline that touches keys of several hash tags (a worker answering
//! several clients at once, the heartbeat of several services) is one round
//! trip on a single Redis; on a cluster it is split into one pipeline per
//! hash tag, sent concurrently, and the replies are put back in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::join_all;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{
    Arg, Client, Cmd, ConnectionAddr, Pipeline, RedisError, RedisFuture, RedisResult, Value,
};
use tokio::sync::Notify;

use super::sentinel::Sentinel;

/// How long any command on the shared connection may wait for its answer.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// On a cluster, how long a command may take in all, retries included: a
/// node that died is retried (with backoff) until a replica took over its
/// slots, which with Redis's default `cluster-node-timeout` (15 s) and the
/// election takes about 17 s; a node that nobody replaces fails its
/// commands after this, instead of holding them for ever.
pub(crate) const CLUSTER_COMMAND_LIMIT: Duration = Duration::from_secs(20);

/// The shared connection: cheap to clone; clones share the connection.
#[derive(Clone)]
pub(crate) enum SharedConnection {
    /// One Redis.
    Single(Arc<Replaceable>),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

/// How long a replacement through Sentinel keeps asking the sentinels
/// before it gives up until the next failed command (a failover usually
/// takes the sentinels' `down-after-milliseconds` plus a second or two).
const SENTINEL_RETRY_FOR: Duration = Duration::from_secs(60);

/// How long a replacement through Sentinel waits between two attempts.
const SENTINEL_RETRY_EVERY: Duration = Duration::from_millis(200);

/// Where a shared connection to one Redis goes.
pub(crate) enum Opener {
    /// Always the same Redis (boxed: a client is much larger).
    Fixed(Box<Client>),
    /// The master the sentinels name at the time.
    Sentinel(Sentinel),
}

impl Opener {
    /// A client for the Redis to connect to now.
    async fn client(&self) -> RedisResult<Client> {
        match self {
            Opener::Fixed(client) => Ok(client.as_ref().clone()),
            Opener::Sentinel(sentinel) => sentinel.master().await,
        }
    }

    /// Opens a connection manager to the Redis to connect to now, and
    /// says where it goes.
    async fn open(
        &self,
        config: &ConnectionManagerConfig,
    ) -> RedisResult<(ConnectionManager, ConnectionAddr)> {
        let client = self.client().await?;
        let addr = client.get_connection_info().addr().clone();
        let manager = client
            .get_connection_manager_with_config(config.clone())
            .await?;
        Ok((manager, addr))
    }
}

/// A connection to one Redis that is replaced when a command times out
/// (and, through Sentinel, when the master it talks to is gone).
pub(crate) struct Replaceable {
    /// The connection commands go to now, where it goes, and how many
    /// replacements came before it: a command that fails on a connection
    /// already replaced replaces nothing (on a silent network, every command
    /// sent to the frozen connection times out in turn, each up to
    /// [`COMMAND_TIMEOUT`] after the first; each would otherwise replace the
    /// healthy replacement, and fail what was on its way there).
    current: RwLock<Current>,
    /// Opens the replacement.
    opener: Opener,
    /// How the replacement is configured.
    config: ConnectionManagerConfig,
    /// Whether a replacement is being opened.
    replacing: AtomicBool,
    /// Wakes the commands waiting for a replacement when an attempt ends.
    attempted: Notify,
}

/// The connection of a [`Replaceable`] that commands go to now.
struct Current {
    /// The connection.
    connection: ConnectionManager,
    /// Where it goes.
    addr: ConnectionAddr,
    /// How many replacements came before it.
    generation: u64,
    /// Whether a command timed out on it: no command is sent to it any
    /// more (one sent while its replacement opens would wait out its own
    /// whole limit there, holding up the writer or the replier behind it);
    /// they wait for the replacement instead.
    dead: bool,
}

impl Replaceable {
    /// A replaceable connection, opened with `client` and `config`.
    pub(crate) async fn open(
        opener: Opener,
        config: ConnectionManagerConfig,
    ) -> RedisResult<Replaceable> {
        let (connection, addr) = opener.open(&config).await?;
        if let Opener::Sentinel(sentinel) = &opener {
            sentinel.check_periodically();
        }
        Ok(Replaceable {
            current: RwLock::new(Current {
                connection,
                addr,
                generation: 0,
                dead: false,
            }),
            opener,
            config,
            replacing: AtomicBool::new(false),
            attempted: Notify::new(),
        })
    }

    /// The connection to send to now, and its generation (see
    /// [`Replaceable::replace_after`]).
    ///
    /// While the current connection is dead (a command timed out on it),
    /// waits for its replacement, within [`COMMAND_TIMEOUT`]; fails when
    /// none could be opened by then.
    async fn current(self: &Arc<Self>) -> RedisResult<(ConnectionManager, u64)> {
        let waited_until = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        loop {
            // Registered before looking, so that an attempt ending in
            // between is not missed.
            let attempted = self.attempted.notified();
            if let Some(live) = self.live() {
                return Ok(live);
            }
            self.replace();
            if tokio::time::timeout_at(waited_until, attempted)
                .await
                .is_err()
            {
                return Err(RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the connection to Redis timed out, and no replacement could be opened in time",
                )));
            }
        }
    }

    /// The current connection and its generation, unless it is dead.
    /// Through Sentinel, one to a node the sentinels no longer name is
    /// replaced (in the background; commands go to it until the
    /// replacement is open).
    fn live(self: &Arc<Self>) -> Option<(ConnectionManager, u64)> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        if current.dead {
            return None;
        }
        if let Opener::Sentinel(sentinel) = &self.opener
            && sentinel
                .current()
                .is_some_and(|master| master != current.addr)
        {
            self.replace();
        }
        Some((current.connection.clone(), current.generation))
    }

    /// Whether the connection of generation `sent_on` is still the one
    /// commands go to.
    fn is_current(&self, sent_on: u64) -> bool {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .generation
            == sent_on
    }

    /// Opens a replacement in the background after `error` on the
    /// connection of generation `sent_on`, if it is a timeout (or, through
    /// Sentinel, a sign that the master is gone), that connection is still
    /// the current one, and no replacement is being opened already.
    fn replace_after(self: &Arc<Self>, error: &RedisError, sent_on: u64) {
        if error.is_timeout() {
            {
                let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
                if current.generation != sent_on || current.dead {
                    return;
                }
                current.dead = true;
            }
            tracing::warn!(%error, "a command got no answer in time; replacing the connection");
            self.replace();
        } else if matches!(self.opener, Opener::Sentinel(_))
            && master_gone(error)
            && self.is_current(sent_on)
        {
            tracing::warn!(%error, "the master may have changed; asking the sentinels again");
            self.replace();
        }
    }

    /// Like [`Replaceable::replace_after`], for the answers of a pipeline
    /// whose refused commands come back as values: through Sentinel, a
    /// `READONLY` among them means the node was demoted.
    fn replace_after_replies(self: &Arc<Self>, replies: &[Value], sent_on: u64) {
        if !matches!(self.opener, Opener::Sentinel(_)) || !self.is_current(sent_on) {
            return;
        }
        let demoted = replies.iter().any(|reply| {
            matches!(reply, Value::ServerError(error)
                if matches!(error.code(), "READONLY" | "MASTERDOWN"))
        });
        if demoted {
            tracing::warn!("the node refused a write as a replica; asking the sentinels again");
            self.replace();
        }
    }

    /// Opens a replacement in the background, unless one is being opened.
    fn replace(self: &Arc<Self>) {
        if self.replacing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            // One attempt for a fixed Redis (the next failed command tries
            // again); through Sentinel, attempts until the sentinels name a
            // master that answers, as commands may be rare meanwhile.
            let retry_until = match this.opener {
                Opener::Fixed(_) => tokio::time::Instant::now(),
                Opener::Sentinel(_) => tokio::time::Instant::now() + SENTINEL_RETRY_FOR,
            };
            loop {
                match this.opener.open(&this.config).await {
                    Ok((connection, addr)) => {
                        let mut current = this.current.write().unwrap_or_else(|p| p.into_inner());
                        let generation = current.generation + 1;
                        *current = Current {
                            connection,
                            addr,
                            generation,
                            dead: false,
                        };
                        break;
                    }
                    Err(error) if tokio::time::Instant::now() < retry_until => {
                        tracing::debug!(%error, "no master to connect to yet");
                        tokio::time::sleep(SENTINEL_RETRY_EVERY).await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot open a replacement connection yet");
                        break;
                    }
                }
            }
            this.replacing.store(false, Ordering::Release);
            this.attempted.notify_waiters();
        });
    }
}

impl std::fmt::Debug for SharedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SharedConnection::Single(_) => "SharedConnection::Single",
            SharedConnection::Cluster(_) => "SharedConnection::Cluster",
        })
    }
}

impl SharedConnection {
    /// Replaces the connection (on one Redis): for a caller whose own time
    /// limit, shorter than [`COMMAND_TIMEOUT`], ran out on it. A cluster
    /// connection replaces its node connections by itself.
    pub(crate) fn replace(&self) {
        if let SharedConnection::Single(single) = self {
            single.replace();
        }
    }

    /// Sends `pipe` (whose commands must not be `ignore()`d), whose commands
    /// may touch keys of several hash tags, and fails on the first command
    /// Redis refuses, naming it.
    pub(crate) async fn exec(&self, pipe: &Pipeline) -> Result<(), Refused> {
        self.checked_replies(pipe).await.map(drop)
    }

    /// Like [`SharedConnection::exec`], returning every command's reply.
    pub(crate) async fn checked_replies(&self, pipe: &Pipeline) -> Result<Vec<Value>, Refused> {
        let replies = self.replies(pipe).await?;
        let refused = replies
            .iter()
            .enumerate()
            .find_map(|(index, reply)| match reply {
                Value::ServerError(error) => Some((index, error.clone())),
                _ => None,
            });
        match refused {
            None => Ok(replies),
            Some((index, error)) => Err(Refused {
                command: pipe.cmd_iter().nth(index).map(describe),
                error: error.into(),
            }),
        }
    }

    /// Sends `pipe` (whose commands must not be `ignore()`d) and returns
    /// every command's reply in order, a refused command's error as
    /// `Value::ServerError` instead of failing the whole pipeline.
    pub(crate) async fn replies(&self, pipe: &Pipeline) -> RedisResult<Vec<Value>> {
        self.replies_each(pipe).await.into_iter().collect()
    }

    /// Like [`SharedConnection::replies`], but a send that failed fails
    /// alone: each command's reply, or the error of the send it went in
    /// (the command may or may not have run). On one Redis the pipeline is
    /// one send; on a cluster each hash tag's part is one, sent
    /// concurrently, so a node that fails over fails only its part and the
    /// caller sends again only what did not go through.
    pub(crate) async fn replies_each(&self, pipe: &Pipeline) -> Vec<RedisResult<Value>> {
        match self {
            SharedConnection::Single(_) => {
                let mut pipe = pipe.clone();
                pipe.ignore_errors();
                match pipe.query_async::<Vec<Value>>(&mut self.clone()).await {
                    Ok(values) => values.into_iter().map(Ok).collect(),
                    Err(error) => vec![Err(error); pipe.len()],
                }
            }
            SharedConnection::Cluster(connection) => {
                let parts = split(pipe);
                let answers = join_all(parts.into_iter().map(|(indexes, mut part)| {
                    let mut connection = connection.clone();
                    async move {
                        part.ignore_errors();
                        let values = part.query_async::<Vec<Value>>(&mut connection).await;
                        (indexes, values)
                    }
                }))
                .await;
                in_place(pipe.len(), answers)
            }
        }
    }
}

impl SharedConnection {
    /// Sends `pipe` like [`SharedConnection::replies_each`], with every
    /// command before index `split` answered before any command from
    /// `split` on runs. On one Redis a pipeline runs in order anyway; on a
    /// cluster, where the pipeline is split by hash tag and sent
    /// concurrently, the part from `split` on is sent once every command of
    /// the first part went through (a worker's acknowledgements must never
    /// land before its replies); until then its commands answer an error
    /// saying they were not sent.
    pub(crate) async fn replies_in_order(
        &self,
        pipe: &Pipeline,
        split: usize,
    ) -> Vec<RedisResult<Value>> {
        match self {
            SharedConnection::Single(_) => self.replies_each(pipe).await,
            SharedConnection::Cluster(_) => {
                let (first, then) = split_at(pipe, split);
                let mut replies = self.replies_each(&first).await;
                if replies.iter().all(Result::is_ok) {
                    replies.extend(self.replies_each(&then).await);
                } else {
                    replies.extend(not_sent(then.len()));
                }
                replies
            }
        }
    }
}

/// `pipe`'s commands before index `split`, and those from it on.
pub(crate) fn split_at(pipe: &Pipeline, split: usize) -> (Pipeline, Pipeline) {
    let (mut first, mut then) = (Pipeline::new(), Pipeline::new());
    for (index, command) in pipe.cmd_iter().enumerate() {
        let part = if index < split { &mut first } else { &mut then };
        part.add_command(command.clone());
    }
    (first, then)
}

/// The replies of a pipeline of `count` commands sent in parts, each part
/// with the indexes of its commands in the pipeline: each command's reply,
/// or its part's error.
pub(crate) fn in_place(
    count: usize,
    parts: impl IntoIterator<Item = (Vec<usize>, RedisResult<Vec<Value>>)>,
) -> Vec<RedisResult<Value>> {
    let mut replies = vec![Ok(Value::Nil); count];
    for (indexes, values) in parts {
        match values {
            Ok(values) => {
                for (index, value) in indexes.into_iter().zip(values) {
                    replies[index] = Ok(value);
                }
            }
            Err(error) => {
                for index in indexes {
                    replies[index] = Err(error.clone());
                }
            }
        }
    }
    replies
}

/// The answers of `count` commands not sent because a command that had to
/// go through before them did not.
pub(crate) fn not_sent(count: usize) -> Vec<RedisResult<Value>> {
    let not_sent = RedisError::from(std::io::Error::other(
        "not sent: a command that must go through first did not",
    ));
    vec![Err(not_sent); count]
}

/// A pipeline that failed: the connection failed, or Redis refused a
/// command (`command`, e.g. `HSET rb:{bus:math.Math@1}:instance:a1`).
#[derive(Debug)]
pub(crate) struct Refused {
    /// The refused command and its key, when Redis refused one.
    pub command: Option<String>,
    /// Why.
    pub error: redis::RedisError,
}

impl From<redis::RedisError> for Refused {
    fn from(error: redis::RedisError) -> Self {
        Refused {
            command: None,
            error,
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.command {
            Some(command) => write!(f, "Redis refused {command}: {}", self.error),
            None => write!(f, "{}", self.error),
        }
    }
}

/// A command's name and first key, for messages.
pub(crate) fn describe(command: &Cmd) -> String {
    let text = |arg: Arg<&[u8]>| match arg {
        Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => "<cursor>".to_owned(),
    };
    let mut args = command.args_iter();
    let name = args.next().map(text).unwrap_or_default();
    let key = args
        .map(text)
        .find(|arg| arg.contains("rb:{"))
        .unwrap_or_default();
    format!("{name} {key}").trim().to_owned()
}

/// Whether `error` means that the master this connection talks to may be
/// gone: the connection failed, or the node is a replica now (or has lost
/// its master).
fn master_gone(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(error.code(), Some("READONLY" | "MASTERDOWN"))
}

/// The commands of `pipe` grouped by hash tag, each group with the indexes
/// of its commands in `pipe`.
fn split(pipe: &Pipeline) -> Vec<(Vec<usize>, Pipeline)> {
    by_hash_tag(pipe)
        .into_iter()
        .map(|(_, indexes, part)| (indexes, part))
        .collect()
}

/// The commands of `pipe` grouped by hash tag (`{...}`, empty for commands
/// of no bus key): each group's tag, the indexes of its commands in `pipe`,
/// and its commands. On a cluster a group goes to one node.
pub(crate) fn by_hash_tag(pipe: &Pipeline) -> Vec<(Vec<u8>, Vec<usize>, Pipeline)> {
    let mut parts: Vec<(Vec<u8>, Vec<usize>, Pipeline)> = Vec::new();
    for (index, command) in pipe.cmd_iter().enumerate() {
        let tag = hash_tag(command).unwrap_or_default();
        let part = match parts.iter_mut().position(|(t, _, _)| *t == tag) {
            Some(position) => &mut parts[position],
            None => {
                parts.push((tag, Vec::new(), Pipeline::new()));
                parts.last_mut().expect("just pushed")
            }
        };
        part.1.push(index);
        part.2.add_command(command.clone());
    }
    parts
}

/// The hash tag of the first bus key among a command's arguments. Keys come
/// before values in every command the bus sends, so a value that happens to
/// look like a key is never taken for one.
fn hash_tag(command: &Cmd) -> Option<Vec<u8>> {
    command.args_iter().find_map(|arg| {
        let Arg::Simple(bytes) = arg else { return None };
        let start = bytes.windows(4).position(|w| w == b"rb:{")? + 3;
        let end = bytes[start..].iter().position(|&b| b == b'}')? + start;
        Some(bytes[start..=end].to_vec())
    })
}

impl ConnectionLike for SharedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            SharedConnection::Single(single) => Box::pin(async move {
                let (mut connection, sent_on) = single.current().await?;
                let answer = connection.req_packed_command(cmd).await;
                if let Err(error) = &answer {
                    single.replace_after(error, sent_on);
                }
                answer
            }),
            SharedConnection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipe: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            SharedConnection::Single(single) => Box::pin(async move {
                let (mut connection, sent_on) = single.current().await?;
                let answer = connection.req_packed_commands(pipe, offset, count).await;
                match &answer {
                    Err(error) => single.replace_after(error, sent_on),
                    Ok(replies) => single.replace_after_replies(replies, sent_on),
                }
                answer
            }),
            SharedConnection::Cluster(connection) => {
                connection.req_packed_commands(pipe, offset, count)
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            SharedConnection::Single(single) => single
                .current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .connection
                .get_db(),
            SharedConnection::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_split_by_hash_tag_in_order() {
        let mut pipe = redis::pipe();
        pipe.cmd("RPUSH")
            .arg("rb:{bus:client:1}:replies")
            .arg("rb:{looks:like}:a key");
        pipe.cmd("HDEL")
            .arg("rb:{bus:math.Math@1}:taken:w")
            .arg("id");
        pipe.cmd("PEXPIRE")
            .arg("rb:{bus:client:1}:replies")
            .arg(60000);
        let parts = split(&pipe);
        let indexes: Vec<Vec<usize>> = parts.iter().map(|(i, _)| i.clone()).collect();
        assert_eq!(indexes, vec![vec![0, 2], vec![1]]);
        assert_eq!(hash_tag(&redis::cmd("TIME")), None);
    }

    /// On a cluster, a node that died fails only the commands sent to it:
    /// the others run and answer, so a retry sends again only the failed
    /// ones; and what must follow a failed command is not sent at all.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_a_cluster_a_dead_node_fails_only_its_own_commands() {
        // The live nodes keep serving their slots while one is down.
        let mut cluster = redis_bus_testing::RedisCluster::builder()
            .arg("--cluster-require-full-coverage")
            .arg("no")
            .start()
            .unwrap();
        let nodes: Vec<String> = cluster
            .nodes()
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port()))
            .collect();
        let url = format!("redis+cluster://{}", nodes.join(","));
        let connection = crate::redis::connection::Connector::new(&url, None)
            .unwrap()
            .shared()
            .await
            .unwrap();
        let keys: Vec<String> = (0..24).map(|n| format!("rb:{{part{n}}}:key")).collect();
        let set = |value: &str| {
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("SET").arg(key).arg(value);
            }
            pipe
        };
        let all_ok = connection.replies_each(&set("before")).await;
        assert!(all_ok.iter().all(Result::is_ok), "{all_ok:?}");

        let owners: Vec<u16> = keys
            .iter()
            .map(|key| cluster.nodes()[cluster.master_of(key).unwrap()].port())
            .collect();
        let dead = cluster.nodes()[1].port();
        assert!(owners.contains(&dead) && owners.iter().any(|&port| port != dead));
        cluster.nodes_mut()[1].kill();

        let replies = connection.replies_each(&set("after")).await;
        for ((key, port), reply) in keys.iter().zip(&owners).zip(&replies) {
            assert_eq!(reply.is_err(), *port == dead, "{key} on {port}: {reply:?}");
            if *port != dead {
                let value: String = redis::cmd("GET")
                    .arg(key)
                    .query(
                        &mut redis::Client::open(format!("redis://127.0.0.1:{port}"))
                            .unwrap()
                            .get_connection()
                            .unwrap(),
                    )
                    .unwrap();
                assert_eq!(value, "after", "{key} went through");
            }
        }

        // A command on the dead node first: what must follow it waits.
        let on_dead = &keys[owners.iter().position(|&port| port == dead).unwrap()];
        let live = owners.iter().position(|&port| port != dead).unwrap();
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(on_dead).arg("first");
        pipe.cmd("SET").arg(&keys[live]).arg("then");
        let replies = connection.replies_in_order(&pipe, 1).await;
        assert!(replies[0].is_err() && replies[1].is_err(), "{replies:?}");
        let value: String = redis::cmd("GET")
            .arg(&keys[live])
            .query(
                &mut redis::Client::open(format!("redis://127.0.0.1:{}", owners[live]))
                    .unwrap()
                    .get_connection()
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(value, "after", "the second command was not sent");
    }

    /// On a silent network, once a command timed out on the shared
    /// connection, the next command goes to its replacement, even when it
    /// is sent before the replacement is open: on the frozen connection it
    /// would wait out its own whole limit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_timeout_no_command_goes_to_the_frozen_connection() {
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let proxy = redis_bus_testing::FaultProxy::start(redis.addr()).unwrap();
        let connection = crate::redis::connection::Connector::new(&proxy.url(), None)
            .unwrap()
            .shared()
            .await
            .unwrap();
        let ping = || {
            let mut connection = connection.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            }
        };
        assert_eq!(ping().await.unwrap(), "PONG");

        proxy.pause();
        let first = ping().await.unwrap_err();
        assert!(first.is_timeout(), "{first}");
        // Sent at once, before the replacement can be open.
        let sent = tokio::time::Instant::now();
        assert_eq!(ping().await.unwrap(), "PONG");
        assert!(
            sent.elapsed() < COMMAND_TIMEOUT / 2,
            "the next command waited {:?}",
            sent.elapsed()
        );
    }
}
