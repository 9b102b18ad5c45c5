//! A dedicated connection for one blocking reader (`BLMOVE`, `XREAD
//! BLOCK`): no response timeout (see `connection`), and on a cluster it
//! follows its key to the node that owns the key's slot, again after a
//! resharding moves the slot (Redis answers a blocked reader of a moved
//! slot with MOVED). Through Sentinel, it reconnects (to the master the
//! sentinels name) before the next read once they name another master.
//! Through Sentinel and on a cluster it is also where the taker and the
//! replier write what a `WAIT` on the same connection must confirm (see
//! `worker::confirm`), so on a cluster it learns how many replicas its
//! node has.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{
    Cmd, ConnectionAddr, FromRedisValue, Pipeline, RedisError, RedisResult, ScriptInvocation,
    ServerErrorKind,
};

use super::connection::Connector;
use super::role;

/// How long a cluster node's replica count stands before it is asked again:
/// a replica that attaches after the connection opened (a new one, or one
/// back from a restart) is waited for from then on, within a second, as
/// Sentinel's count is refreshed.
const REPLICAS_REFRESH: Duration = Duration::from_secs(1);

/// How many redirections one command follows before giving up.
const MAX_REDIRECTIONS: usize = 5;

/// How much longer than its own block time a blocking read may take before
/// its connection counts as dead: a silent network (a NAT or load balancer
/// that stopped forwarding) answers nothing, not even an error.
pub(crate) const BLOCK_MARGIN: Duration = Duration::from_secs(2);

/// Where a blocking reader waits: the node (`None`: the one Redis), and its
/// connection's client id, so that another connection can wake it with
/// `CLIENT UNBLOCK`.
pub(crate) type Location = (Option<(String, u16)>, i64);

/// A blocking reader's connection.
pub(crate) struct Blocking {
    /// Opens connections.
    connector: Connector,
    /// The open connection and the node it goes to, if any.
    open: Option<(MultiplexedConnection, Option<(String, u16)>)>,
    /// Where the reader waits, shared with whoever may need to wake it.
    location: Arc<Mutex<Option<Location>>>,
    /// Through Sentinel, the master the open connection went to.
    master: Option<ConnectionAddr>,
    /// On a cluster, how many replicas the open connection's node listed
    /// (`ROLE`) when last asked, and when that was; `None` until asked.
    replicas: Option<(usize, Instant)>,
}

impl Blocking {
    /// A reader's connection, opened on first use, that keeps `location`
    /// up to date as it connects.
    pub(crate) fn new(connector: Connector, location: Arc<Mutex<Option<Location>>>) -> Blocking {
        Blocking {
            connector,
            open: None,
            location,
            master: None,
            replicas: None,
        }
    }

    /// Runs `command`, which blocks for at most `block`, following MOVED and
    /// ASK. A failed connection is dropped and reopened by the next command;
    /// so is one that answers nothing within `block` and [`BLOCK_MARGIN`]:
    /// a late answer on a reused connection would be read as the answer to
    /// the next command, and what it moved would be lost.
    pub(crate) async fn query<T: FromRedisValue + Send>(
        &mut self,
        command: &Cmd,
        block: Duration,
    ) -> RedisResult<T> {
        self.run(block + BLOCK_MARGIN, command).await
    }

    /// Sends `command` on this reader's connection (opened if need be, and
    /// reopened first if the sentinels named another master), each attempt
    /// within `limit`, following MOVED and ASK to the node they name: for
    /// what must go through the same connection as a blocking read, or as
    /// a `WAIT` after it. A failed or late answer drops the connection, as
    /// in [`Blocking::query`].
    pub(crate) async fn run<T: FromRedisValue + Send>(
        &mut self,
        limit: Duration,
        command: &impl Resend,
    ) -> RedisResult<T> {
        self.leave_a_replaced_master();
        let mut asking = false;
        for _ in 0..MAX_REDIRECTIONS {
            if self.open.is_none() {
                self.connect_within(limit, None).await?;
            }
            if asking {
                self.run_open(limit, async |connection| {
                    redis::cmd("ASKING").query_async::<()>(connection).await
                })
                .await?;
            }
            let answer = self
                .run_open(limit, async |connection| command.send(connection).await)
                .await;
            match answer {
                Err(error) => match redirection(&error) {
                    Some((node, ask)) => {
                        asking = ask;
                        self.connect_within(limit, Some(node)).await?;
                    }
                    None => return Err(error),
                },
                answer => return answer,
            }
        }
        Err(RedisError::from(std::io::Error::other(format!(
            "{MAX_REDIRECTIONS} redirections in a row for one command"
        ))))
    }

    /// Runs `run` on the connection as it is open now, even to a master
    /// the sentinels no longer name: what follows up on that connection's
    /// last command (a `WAIT` that counts the replicas that copied it, a
    /// give-back of what they did not). An error if it is closed.
    pub(crate) async fn run_open<T>(
        &mut self,
        limit: Duration,
        run: impl AsyncFnOnce(&mut MultiplexedConnection) -> RedisResult<T>,
    ) -> RedisResult<T> {
        let Some((connection, _)) = &mut self.open else {
            return Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "the connection of the last command was closed",
            )));
        };
        let answer = match tokio::time::timeout(limit, run(connection)).await {
            Ok(answer) => answer,
            Err(_elapsed) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("a command got no answer within {limit:?}; reconnecting"),
            ))),
        };
        if answer.is_err() {
            self.open = None;
        }
        answer
    }

    /// Through Sentinel, the master the open connection goes to.
    pub(crate) fn master(&self) -> Option<&ConnectionAddr> {
        self.open.as_ref().and(self.master.as_ref())
    }

    /// How many replicas the open connection's node has, as it lists them
    /// (`ROLE`, asked again once [`REPLICAS_REFRESH`] passed): a `WAIT`
    /// there for as many confirms that a write survives a failover. `None`
    /// when the node is not a master (any more). Asked of a cluster node;
    /// through Sentinel, ask the sentinels.
    pub(crate) async fn replicas(&mut self, limit: Duration) -> RedisResult<Option<usize>> {
        match self.replicas {
            Some((count, asked)) if asked.elapsed() < REPLICAS_REFRESH => Ok(Some(count)),
            _ => {
                self.still_master(limit).await?;
                Ok(self.replicas.map(|(count, _)| count))
            }
        }
    }

    /// On a cluster, whether the open connection's node is still a master,
    /// asked on that connection; if it is, the replicas it lists now count
    /// from here on.
    pub(crate) async fn still_master(&mut self, limit: Duration) -> RedisResult<bool> {
        let listed = self
            .run_open(limit, async |connection| {
                role::replicas_of_master(connection).await
            })
            .await?;
        self.replicas = listed.map(|count| (count, Instant::now()));
        Ok(listed.is_some())
    }

    /// Drops the open connection, idle between two commands, so that the
    /// next command opens a new one: after another command of the same
    /// reader failed, this connection may be as frozen as that one was (a
    /// silent network freezes every connection open at the time), and its
    /// next read would wait out its whole bound before finding out.
    pub(crate) fn drop_connection(&mut self) {
        self.open = None;
    }

    /// Drops the open connection once the sentinels name another master:
    /// a read on the old one would wait for writes that go elsewhere now,
    /// and a write there is lost with it.
    fn leave_a_replaced_master(&mut self) {
        if self.open.is_some() && self.connector.named_master() != self.master {
            self.open = None;
        }
    }

    /// [`Blocking::connect`] within `limit`: connecting has a bound of its
    /// own, but the commands that follow it on a silent network would not.
    async fn connect_within(
        &mut self,
        limit: Duration,
        node: Option<(String, u16)>,
    ) -> RedisResult<()> {
        match tokio::time::timeout(limit, self.connect(node)).await {
            Ok(connected) => connected.map(drop),
            Err(_elapsed) => {
                self.open = None;
                Err(RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting got no answer within {limit:?}"),
                )))
            }
        }
    }

    /// Opens a connection to `node` (the connector's default when `None`).
    async fn connect(
        &mut self,
        node: Option<(String, u16)>,
    ) -> RedisResult<&mut MultiplexedConnection> {
        let opened = match &node {
            Some((host, port)) => self.connector.node(host, *port).await,
            None => self.connector.dedicated().await,
        };
        let mut connection =
            opened.map_err(|error| RedisError::from(std::io::Error::other(error.to_string())))?;
        let id: i64 = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(&mut connection)
            .await?;
        self.replicas = None;
        *self.location.lock().unwrap_or_else(|p| p.into_inner()) = Some((node.clone(), id));
        self.master = self.connector.named_master();
        Ok(&mut self.open.insert((connection, node)).0)
    }
}

/// What [`Blocking::run`] sends, again on the node a redirection names.
pub(crate) trait Resend: Sync {
    /// Sends it on `connection` and reads its answer.
    fn send<T: FromRedisValue + Send>(
        &self,
        connection: &mut MultiplexedConnection,
    ) -> impl Future<Output = RedisResult<T>> + Send;
}

impl Resend for Cmd {
    async fn send<T: FromRedisValue + Send>(
        &self,
        connection: &mut MultiplexedConnection,
    ) -> RedisResult<T> {
        self.query_async(connection).await
    }
}

impl Resend for Pipeline {
    async fn send<T: FromRedisValue + Send>(
        &self,
        connection: &mut MultiplexedConnection,
    ) -> RedisResult<T> {
        self.query_async(connection).await
    }
}

impl Resend for ScriptInvocation<'_> {
    async fn send<T: FromRedisValue + Send>(
        &self,
        connection: &mut MultiplexedConnection,
    ) -> RedisResult<T> {
        self.invoke_async(connection).await
    }
}

/// The node a MOVED or ASK error points to, and whether it is an ASK:
/// of a command, or of the first redirected command of a pipeline (a
/// pipeline's commands share a hash tag, so all of them go there).
fn redirection(error: &RedisError) -> Option<((String, u16), bool)> {
    let errors = error.clone().into_server_errors()?;
    errors.iter().find_map(|(_, error)| {
        let ask = match error.kind()? {
            ServerErrorKind::Ask => true,
            ServerErrorKind::Moved => false,
            _ => return None,
        };
        // `<slot> <host>:<port>`
        let (_slot, address) = error.details()?.split_once(' ')?;
        let (host, port) = address.rsplit_once(':')?;
        Some(((host.to_owned(), port.parse().ok()?), ask))
    })
}

/// Wakes the reader waiting at `location` with `CLIENT UNBLOCK`, from a
/// connection of its own to the same node. Refused (e.g. by an ACL)? The
/// reader still wakes when its block times out.
pub(crate) async fn unblock(connector: &Connector, location: &Location) {
    let (node, id) = location;
    let opened = match node {
        Some((host, port)) => connector.node(host, *port).await,
        None => connector.dedicated().await,
    };
    if let Ok(mut connection) = opened {
        let _: RedisResult<i64> = redis::cmd("CLIENT")
            .arg("UNBLOCK")
            .arg(*id)
            .query_async(&mut connection)
            .await;
    }
}
