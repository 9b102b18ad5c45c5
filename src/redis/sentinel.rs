//! Redis Sentinel: the `redis+sentinel://` URL form, and finding the
//! current master through the sentinels.
//!
//! redis-rs documents no URL form for Sentinel, so the bus has its own:
//!
//! ```text
//! redis+sentinel://[user[:password]@]host:port[,host:port...]/<master-name>[/db]
//! rediss+sentinel://...    TLS to the sentinels and to the master
//! ```
//!
//! The credentials and the database are the master's (and its replicas',
//! once one is promoted); sentinels are asked without credentials.
//!
//! Finding the master follows the Sentinel clients' protocol: ask each
//! sentinel in turn `SENTINEL GET-MASTER-ADDR-BY-NAME`, then check with
//! `ROLE` that the node named is a master. Why not redis-rs's
//! `SentinelClient`: it reads `SENTINEL MASTERS`, where the sentinel leading
//! a failover keeps showing the old master until the failover ends (4.5 s
//! after the promotion, measured), while
//! the other sentinels already show the new one; a bus using it went back
//! and forth between the two masters, and the calls of that time failed.
//! `GET-MASTER-ADDR-BY-NAME` names the promoted replica as soon as it is
//! promoted, on every sentinel.
//!
//! Every connection the bus opens (the shared one, each blocking reader's,
//! the near cache's) asks the sentinels again when it connects or
//! reconnects, so after a failover it reaches the new master; see
//! `shared` for when the shared connection reconnects.
//!
//! A failover does not always break the old master's connections: after
//! `SENTINEL FAILOVER` the old master keeps accepting writes until the
//! sentinels demote it, seconds later, and what is written to it meanwhile
//! is lost. So the bus also asks the sentinels once a second
//! ([`CHECK_EVERY`]) while it is connected; when they name another master,
//! the shared connection is replaced at once and each blocking reader
//! reconnects after its current read.
//!
//! For the worker's confirmed writes (see `worker::confirm`) it also knows
//! how many replicas the master has ([`Sentinel::replicas_of`]: `ROLE` when
//! the bus connects to it, then the healthy ones the sentinels count at
//! each check) and whether a master is settled ([`Sentinel::settled_on`]:
//! no sentinel is failing it over).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, ErrorKind, FromRedisValue,
    IntoConnectionInfo, RedisError, RedisResult, TlsCertificates,
};

use super::connection::CONNECT_TIMEOUT;
use super::role;
use super::shared::COMMAND_TIMEOUT;

/// The URL schemes of Sentinel deployments, and the scheme of their nodes.
const SENTINEL_SCHEMES: [(&str, &str); 2] =
    [("redis+sentinel", "redis"), ("rediss+sentinel", "rediss")];

/// How often a connected bus asks the sentinels which node is the master.
pub(crate) const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Finds the current master of one Sentinel-monitored deployment. Cheap to
/// clone; clones share the sentinels' connections.
#[derive(Clone)]
pub(crate) struct Sentinel {
    /// What clones share; the periodic check holds it weakly, and ends
    /// when the last clone is dropped.
    inner: Arc<Inner>,
}

struct Inner {
    /// Each sentinel: how to reach it, and the connection open to it.
    sentinels: Vec<(
        ConnectionInfo,
        tokio::sync::Mutex<Option<MultiplexedConnection>>,
    )>,
    /// The master's connection settings (credentials, database, TLS, TCP);
    /// its address is replaced by the one the sentinels name.
    master_info: ConnectionInfo,
    /// The certificates for TLS, if the system's trust store does not do.
    tls: Option<TlsCertificates>,
    /// The master's name, as the sentinels monitor it.
    master: String,
    /// The sentinels' addresses, for messages.
    hosts: String,
    /// The master's address as the sentinels last named it.
    current: RwLock<Option<ConnectionAddr>>,
    /// How many replicas a master had when the bus connected to it, as
    /// `ROLE` listed them, updated while the sentinels name it and count
    /// its healthy replicas: what a take there must reach (see
    /// [`Sentinel::replicas_of`]).
    replicas: RwLock<Option<(ConnectionAddr, usize)>>,
    /// Whether the periodic check runs.
    checking: AtomicBool,
}

impl Sentinel {
    /// The sentinel deployment `url` names, or `None` when `url` is not a
    /// `redis+sentinel://` URL; `Err` with what is wrong in it.
    pub(crate) fn from_url(
        url: &str,
        tls: Option<TlsCertificates>,
        tcp: redis::io::tcp::TcpSettings,
    ) -> Option<Result<Sentinel, String>> {
        let (scheme, rest) = url.split_once("://")?;
        let (_, node_scheme) = SENTINEL_SCHEMES.iter().find(|(s, _)| *s == scheme)?;
        Some(Self::parse(rest, node_scheme, tls, tcp))
    }

    fn parse(
        rest: &str,
        node_scheme: &str,
        tls: Option<TlsCertificates>,
        tcp: redis::io::tcp::TcpSettings,
    ) -> Result<Sentinel, String> {
        let (credentials, rest) = match rest.rsplit_once('@') {
            Some((credentials, rest)) => (format!("{credentials}@"), rest),
            None => (String::new(), rest),
        };
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut path = path.split('/').filter(|part| !part.is_empty());
        let master = path.next().ok_or(
            "it names no master: the master's name follows the sentinels, as in \
             redis+sentinel://host:26379,host:26380/mymaster",
        )?;
        let db = match path.next() {
            None => 0,
            Some(db) => db.parse::<i64>().map_err(|_| {
                format!("the database after the master's name is not a number: {db:?}")
            })?,
        };
        if let Some(extra) = path.next() {
            return Err(format!("unexpected {extra:?} after the database"));
        }
        let sentinels = hosts
            .split(',')
            .map(|host| {
                let host = host.trim();
                let (_, port) = host
                    .rsplit_once(':')
                    .ok_or_else(|| format!("sentinel {host:?} has no port"))?;
                port.parse::<u16>()
                    .map_err(|_| format!("sentinel {host:?} has no valid port"))?;
                let info = format!("{node_scheme}://{host}")
                    .into_connection_info()
                    .map_err(|error| format!("sentinel {host:?}: {error}"))?
                    .set_tcp_settings(tcp.clone());
                Ok((info, tokio::sync::Mutex::new(None)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        // redis-rs parses (and percent-decodes) credentials of its own
        // URLs; borrow that for the master's settings.
        let master_info = format!("{node_scheme}://{credentials}master.invalid:6379/{db}")
            .into_connection_info()
            .map_err(|error| format!("its credentials are not valid: {error}"))?
            .set_tcp_settings(tcp);
        Ok(Sentinel {
            inner: Arc::new(Inner {
                sentinels,
                master_info,
                tls,
                master: master.to_owned(),
                hosts: hosts.to_owned(),
                current: RwLock::new(None),
                replicas: RwLock::new(None),
                checking: AtomicBool::new(false),
            }),
        })
    }

    /// The master's address as the sentinels last named it.
    pub(crate) fn current(&self) -> Option<ConnectionAddr> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Starts asking the sentinels every [`CHECK_EVERY`] (once per
    /// deployment), until every clone of this value is dropped.
    pub(crate) fn check_periodically(&self) {
        if self.inner.checking.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(CHECK_EVERY).await;
                let Some(inner) = weak.upgrade() else { return };
                let sentinel = Sentinel { inner };
                // Only a new address is checked with `ROLE`. A failed check
                // changes nothing: connections notice a dead master
                // themselves.
                match sentinel.named().await {
                    Ok(addr) if sentinel.current() != Some(addr.clone()) => {
                        let _ = sentinel.master().await;
                    }
                    Ok(addr) => sentinel.recount_replicas(addr).await,
                    Err(_) => {}
                }
            }
        });
    }

    /// A client for the current master: asks the sentinels, and checks that
    /// the node they name is a master. Bounded by [`CONNECT_TIMEOUT`].
    pub(crate) async fn master(&self) -> RedisResult<Client> {
        let inner = &self.inner;
        let found = async {
            let addr = self.named().await?;
            let client = self.client(inner.master_info.clone().set_addr(addr.clone()))?;
            let mut connection = client
                .get_multiplexed_async_connection_with_config(&config())
                .await?;
            match role::replicas_of_master(&mut connection).await? {
                Some(replicas) => Ok((client, addr, replicas)),
                None => Err(RedisError::from((
                    ErrorKind::MasterNameNotFoundBySentinel,
                    "not a master",
                    format!(
                        "the sentinels name {addr} as master {:?}, but it is not one \
                         (a failover in progress)",
                        inner.master
                    ),
                ))),
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, found).await {
            Ok(Ok((client, addr, replicas))) => {
                let mut current = inner.current.write().unwrap_or_else(|p| p.into_inner());
                if current.as_ref().is_some_and(|old| *old != addr) {
                    tracing::warn!(master = %inner.master, to = %addr, "the sentinels name a new master");
                }
                let mut known = inner.replicas.write().unwrap_or_else(|p| p.into_inner());
                if known.as_ref().is_none_or(|(of, _)| *of != addr) {
                    *known = Some((addr.clone(), replicas));
                }
                *current = Some(addr);
                Ok(client)
            }
            Ok(Err(error)) => Err(error),
            Err(_elapsed) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the sentinels at {} did not name master {:?} within {CONNECT_TIMEOUT:?}",
                    inner.hosts, inner.master
                ),
            ))),
        }
    }

    /// How many replicas a write of the worker (a take, a batch of
    /// replies) on the master at `addr` must reach to stand: those the
    /// master listed when the bus connected to it, or as many healthy ones
    /// as the sentinels counted since, while they named it. Not counted
    /// again on the master itself: a master whose replica was just
    /// promoted lists one replica fewer, and a write the others confirm is
    /// lost with it.
    pub(crate) fn replicas_of(&self, addr: &ConnectionAddr) -> usize {
        match &*self
            .inner
            .replicas
            .read()
            .unwrap_or_else(|p| p.into_inner())
        {
            Some((of, replicas)) if of == addr => *replicas,
            _ => 0,
        }
    }

    /// Counts the healthy replicas of the master at `addr`, which the
    /// sentinels name: those no sentinel flags as down or disconnected
    /// (`SENTINEL REPLICAS`). A failed count changes nothing.
    async fn recount_replicas(&self, addr: ConnectionAddr) {
        let mut command = redis::cmd("SENTINEL");
        command.arg("REPLICAS").arg(&self.inner.master);
        let Ok(Some(replicas)) = self.ask::<Vec<HashMap<String, String>>>(&command).await else {
            return;
        };
        let healthy = replicas
            .iter()
            .filter(|replica| {
                let flags_healthy = replica.get("flags").is_some_and(|flags| {
                    !flags
                        .split(',')
                        .any(|flag| matches!(flag, "s_down" | "o_down" | "disconnected"))
                });
                // A replica whose link to the master is down acknowledges
                // nothing.
                let linked = replica
                    .get("master-link-status")
                    .is_none_or(|status| status == "ok");
                flags_healthy && linked
            })
            .count();
        let mut known = self
            .inner
            .replicas
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if self.current().as_ref() == Some(&addr) {
            *known = Some((addr, healthy));
        }
    }

    /// Whether `addr` is the master and stays so: every sentinel that
    /// answers (and at least one does) names it, and is not about to
    /// promote a replica in its place. The leader of a failover flags the
    /// master `failover_in_progress` (`SENTINEL MASTER`) before it promotes
    /// a replica, and names the promoted replica
    /// (`GET-MASTER-ADDR-BY-NAME`) once it did, while its `SENTINEL MASTER`
    /// still shows the old address until the failover ends; so an address
    /// named during a failover is settled only if it is not the old one.
    /// Asked of a write the replicas did not all copy.
    pub(crate) async fn settled_on(&self, addr: &ConnectionAddr) -> bool {
        let mut command = redis::cmd("SENTINEL");
        command.arg("MASTER").arg(&self.inner.master);
        let get_master_addr = self.get_master_addr();
        let asked = async {
            let mut answered = false;
            for index in 0..self.inner.sentinels.len() {
                let named = self.ask_one::<(String, u16)>(index, &get_master_addr);
                let Ok(Some(named)) = named.await else {
                    continue;
                };
                if self.addr_of(named) != *addr {
                    return false;
                }
                match self
                    .ask_one::<HashMap<String, String>>(index, &command)
                    .await
                {
                    Ok(Some(master)) if self.is_settled(&master, addr) => answered = true,
                    Ok(_) => return false,
                    Err(_) => {}
                }
            }
            answered
        };
        // A sentinel that answers nothing must not hold the bus: no answer
        // in time is no confirmation.
        tokio::time::timeout(COMMAND_TIMEOUT, asked)
            .await
            .unwrap_or(false)
    }

    /// Whether one sentinel's `SENTINEL MASTER` answer leaves `addr`, which
    /// it names, the master: no failover in progress, or one that already
    /// promoted `addr`.
    fn is_settled(&self, master: &HashMap<String, String>, addr: &ConnectionAddr) -> bool {
        let failing_over = master
            .get("flags")
            .is_none_or(|flags| flags.split(',').any(|flag| flag == "failover_in_progress"));
        let old = master
            .get("ip")
            .cloned()
            .zip(master.get("port").and_then(|port| port.parse::<u16>().ok()));
        !failing_over || old.is_some_and(|old| self.addr_of(old) != *addr)
    }

    /// The master's address, from the first sentinel that knows it
    /// (`SENTINEL GET-MASTER-ADDR-BY-NAME`).
    async fn named(&self) -> RedisResult<ConnectionAddr> {
        let inner = &self.inner;
        match self.ask::<(String, u16)>(&self.get_master_addr()).await? {
            Some(named) => Ok(self.addr_of(named)),
            None => Err(RedisError::from((
                ErrorKind::MasterNameNotFoundBySentinel,
                "no master by that name",
                format!(
                    "the sentinels at {} know no master named {:?}",
                    inner.hosts, inner.master
                ),
            ))),
        }
    }

    /// `SENTINEL GET-MASTER-ADDR-BY-NAME <master>`.
    fn get_master_addr(&self) -> redis::Cmd {
        let mut command = redis::cmd("SENTINEL");
        command
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.inner.master);
        command
    }

    /// The address of the master at `host:port`, with the URL's TLS.
    fn addr_of(&self, (host, port): (String, u16)) -> ConnectionAddr {
        match self.inner.master_info.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => ConnectionAddr::TcpTls {
                host,
                port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            _ => ConnectionAddr::Tcp(host, port),
        }
    }

    /// The answer of the first sentinel that knows the answer to `command`;
    /// `None` when those that answer know nothing of it (a nil answer), the
    /// first error when none answers.
    async fn ask<T: FromRedisValue>(&self, command: &redis::Cmd) -> RedisResult<Option<T>> {
        let mut first_error = None;
        let mut answered = false;
        for index in 0..self.inner.sentinels.len() {
            match self.ask_one(index, command).await {
                Ok(Some(answer)) => return Ok(Some(answer)),
                Ok(None) => answered = true,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) if !answered => Err(error),
            _ => Ok(None),
        }
    }

    /// Sentinel `index`'s answer to `command`, on its connection (opened
    /// if need be; dropped when it fails).
    async fn ask_one<T: FromRedisValue>(
        &self,
        index: usize,
        command: &redis::Cmd,
    ) -> RedisResult<Option<T>> {
        let (info, open) = &self.inner.sentinels[index];
        let mut open = open.lock().await;
        let asked = async {
            if open.is_none() {
                let client = self.client(info.clone())?;
                *open = Some(
                    client
                        .get_multiplexed_async_connection_with_config(&config())
                        .await?,
                );
            }
            let connection = open.as_mut().expect("just opened");
            command.query_async::<Option<T>>(connection).await
        };
        let answer = asked.await;
        if answer.is_err() {
            *open = None;
        }
        answer
    }

    /// A client for `info`, with the URL's certificates.
    fn client(&self, info: ConnectionInfo) -> RedisResult<Client> {
        match &self.inner.tls {
            Some(tls) => Client::build_with_tls(info, tls.clone()),
            None => Client::open(info),
        }
    }
}

/// Time limits of the connections to sentinels and of the `ROLE` check.
fn config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(COMMAND_TIMEOUT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> Result<Sentinel, String> {
        Sentinel::from_url(url, None, Default::default()).expect("a sentinel URL")
    }

    #[test]
    fn sentinel_urls_name_the_sentinels_and_the_master() {
        let sentinel = parsed("redis+sentinel://app:pw@a:26379,b:26380/mymaster/2").unwrap();
        assert_eq!(sentinel.inner.master, "mymaster");
        assert_eq!(sentinel.inner.hosts, "a:26379,b:26380");
        assert_eq!(sentinel.inner.master_info.redis_settings().db(), 2);
        assert!(parsed("rediss+sentinel://a:26379/mymaster").is_ok());
        assert!(Sentinel::from_url("redis://a:6379", None, Default::default()).is_none());
    }

    #[test]
    fn bad_sentinel_urls_say_what_is_wrong() {
        let error = |url| parsed(url).err().expect("refused");
        assert!(error("redis+sentinel://a:26379").contains("names no master"));
        assert!(error("redis+sentinel://a:26379/").contains("names no master"));
        assert!(error("redis+sentinel://a/mymaster").contains("no port"));
        assert!(error("redis+sentinel://a:26379/mymaster/x").contains("not a number"));
    }
}
