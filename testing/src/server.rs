//! `RedisServer`: one real `redis-server` process for a test, on a free port
//! of 127.0.0.1, with its own temporary directory, killed on drop.
//!
//! Also `RedisServerBuilder`, which adds arguments and chooses how readiness
//! is checked, and owns the start-up loop: spawn, poll until ready, retry on
//! a new port when another process took the chosen one.

use std::ffi::OsString;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::error::HarnessError;
use super::port::{free_cluster_port, free_port};
use super::ready::{ReadyCheck, log_says_listening, ping};

/// The program run by default, looked up on PATH.
const REDIS_SERVER: &str = "redis-server";

/// How long `start` waits for readiness unless told otherwise. A server
/// starts in milliseconds; ten seconds leaves room for a loaded CI machine.
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How often readiness is polled: often enough that a test pays at most a
/// few milliseconds over the server's real start-up time.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// How many ports `start` tries before giving up when each one is taken by
/// another process between the harness finding it free and the server
/// binding it (a rare race, so a few attempts are plenty).
const START_ATTEMPTS: u32 = 5;

/// What Redis logs when a port it must listen on is already bound.
const PORT_TAKEN: &str = "Address already in use";

/// The cluster node timeout (milliseconds) that cluster nodes start with:
/// Redis's default of 15 s makes failure detection slow in tests.
const CLUSTER_NODE_TIMEOUT_MS: &str = "5000";

/// A `redis-server` process started for a test.
///
/// It listens on 127.0.0.1 only, on a port chosen free at start, never 6379.
/// Persistence is off (`--save "" --appendonly no`) and its files live in a
/// temporary directory removed on drop. Dropping it kills the process (and
/// prints its log to stderr when the thread is panicking, so a failing test
/// shows what the server saw).
///
/// ```no_run
/// use redis_bus_testing::RedisServer;
///
/// let server = RedisServer::start()?;
/// let client = redis::Client::open(server.url())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Starting blocks the calling thread for the few milliseconds the server
/// needs; from async tests that is acceptable as set-up, or wrap it in
/// `tokio::task::spawn_blocking`.
pub struct RedisServer {
    /// The server process; reaped by `kill` or on drop.
    child: Child,
    /// The port given with `--port`.
    port: u16,
    /// The server's working directory (`--dir`), holding its log and, for a
    /// cluster node, `nodes.conf`. Removed when the server is dropped.
    dir: TempDir,
}

impl RedisServer {
    /// Starts a server with the harness defaults (see [`RedisServer`]),
    /// waiting until it answers `PING`.
    pub fn start() -> Result<RedisServer, HarnessError> {
        RedisServer::builder().start()
    }

    /// Returns a builder to add arguments or change how readiness is checked.
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::new()
    }

    /// The port the server was told to listen on (`--port`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address of the server's plain port: 127.0.0.1 and
    /// [`port`](Self::port), e.g. for [`FaultProxy::start`](crate::FaultProxy::start).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The URL of the server's plain port: `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The operating system's id of the server process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's working directory (`--dir`), removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far, followed by anything it printed to stdout or
    /// stderr (Redis reports bad arguments there, before its log is open).
    pub fn log(&self) -> String {
        let mut log = read_lossy(&self.log_path());
        let console = read_lossy(&self.console_path());
        if !console.trim().is_empty() {
            if !log.is_empty() && !log.ends_with('\n') {
                log.push('\n');
            }
            log.push_str("--- stdout/stderr ---\n");
            log.push_str(&console);
        }
        log
    }

    /// Kills the server with SIGKILL and waits for it to end, as a crash
    /// would. Its directory and log stay readable until the value is dropped.
    /// Killing a server that already ended does nothing.
    pub fn kill(&mut self) {
        // Errors mean the process is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Where `--logfile` points.
    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Where the process's stdout and stderr go.
    fn console_path(&self) -> PathBuf {
        self.dir.path().join("console.log")
    }

    /// Polls `check` until it passes, the process exits or `timeout` passes.
    fn wait_until_ready(&mut self, check: &ReadyCheck, timeout: Duration) -> Result<(), Failure> {
        let started = Instant::now();
        loop {
            // Checking the process first means a server that died is
            // reported as such, with its log, rather than as "not ready".
            let exited = self
                .child
                .try_wait()
                .map_err(|e| HarnessError::io("waiting for redis-server", e))?;
            if let Some(status) = exited {
                let log = self.log();
                if log.contains(PORT_TAKEN) {
                    return Err(Failure::PortTaken { log });
                }
                return Err(HarnessError::Exited {
                    port: self.port,
                    status,
                    log,
                }
                .into());
            }
            let last_check = match check {
                // PING first: it is what waits for the server to start;
                // the log then says whether the answer came from it.
                ReadyCheck::Ping => ping(self.port).and_then(|()| log_says_listening(&self.log())),
                ReadyCheck::LogContains(text) if self.log().contains(text.as_str()) => Ok(()),
                ReadyCheck::LogContains(text) => Err(format!("log does not contain {text:?} yet")),
                ReadyCheck::Spawned => Ok(()),
            };
            let Err(last_check) = last_check else {
                return Ok(());
            };
            if started.elapsed() >= timeout {
                return Err(HarnessError::NotReady {
                    port: self.port,
                    waited: started.elapsed(),
                    last_check,
                    log: self.log(),
                }
                .into());
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        // A failing test is the moment the server's view matters; printing
        // on every drop would bury passing tests' output in logs.
        if std::thread::panicking() {
            eprintln!(
                "---- redis-server 127.0.0.1:{} (pid {}) log ----\n{}\n---- end of log ----",
                self.port,
                self.child.id(),
                self.log().trim_end()
            );
        }
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("pid", &self.child.id())
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// Configures and starts a [`RedisServer`]:
/// `RedisServer::builder().arg("--requirepass").arg("secret").start()`.
#[derive(Debug, Clone)]
pub struct RedisServerBuilder {
    /// The program to run: `redis-server` from PATH unless changed.
    program: OsString,
    /// Arguments passed after the harness's own, so they override them.
    args: Vec<OsString>,
    /// How to decide that the server is ready.
    ready_check: ReadyCheck,
    /// How long to wait for readiness before failing.
    startup_timeout: Duration,
    /// Whether the server is a Redis Cluster node: it then gets the cluster
    /// flags and a port whose bus port (port + 10000) is free as well.
    cluster_node: bool,
    /// The ports the server may take, when chosen (else any free one).
    ports: Option<std::ops::RangeInclusive<u16>>,
    /// For a sentinel: the lines of its configuration file, which Sentinel
    /// requires (and rewrites), written into the server's directory.
    sentinel_config: Option<String>,
}

impl RedisServerBuilder {
    /// A builder with the defaults of [`RedisServer::start`].
    fn new() -> Self {
        RedisServerBuilder {
            program: REDIS_SERVER.into(),
            args: Vec::new(),
            ready_check: ReadyCheck::default(),
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            cluster_node: false,
            ports: None,
            sentinel_config: None,
        }
    }

    /// Adds one argument for `redis-server`, e.g. `.arg("--maxmemory").arg("10mb")`.
    ///
    /// Arguments come after the harness's own (`--port`, `--bind 127.0.0.1`,
    /// `--save ""`, `--appendonly no`, `--dir`, `--logfile`,
    /// `--daemonize no`), and Redis keeps the last value of an option, so
    /// they can override them: `--port 0` with `--tls-port` serves TLS only
    /// (combine it with [`ReadyCheck::LogContains`]).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds several arguments, as [`arg`](Self::arg) does.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Chooses how readiness is checked (default: [`ReadyCheck::Ping`]).
    pub fn ready_check(mut self, check: ReadyCheck) -> Self {
        self.ready_check = check;
        self
    }

    /// How long to wait for readiness before failing (default: 10 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Runs another program instead of `redis-server` from PATH (a path to
    /// a specific build, or a compatible server).
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = program.into();
        self
    }

    /// Starts the server on a port of `ports` (`6400..=6499`, or one port
    /// `6400..=6400`) instead of any free one: for a firewall, or to find
    /// the server from outside the test. Ports in use are skipped.
    pub fn ports(mut self, ports: std::ops::RangeInclusive<u16>) -> Self {
        self.ports = Some(ports);
        self
    }

    /// Makes the server a Redis Cluster node (used by `RedisCluster`).
    pub(crate) fn cluster_node(mut self) -> Self {
        self.cluster_node = true;
        self
    }

    /// Makes the server a Redis Sentinel with this configuration (used by
    /// `RedisSentinel`).
    pub(crate) fn sentinel(mut self, config: String) -> Self {
        self.sentinel_config = Some(config);
        self
    }

    /// Starts the server and waits until it is ready.
    ///
    /// Fails with the server's log in the error when the process exits or
    /// is not ready in time, and with an installation hint when the program
    /// cannot be run. A port taken by another process in the meantime is
    /// retried on a new port a few times.
    pub fn start(&self) -> Result<RedisServer, HarnessError> {
        if let Some(ports) = &self.ports {
            let mut candidates = ports.clone();
            return self.start_on(move || {
                candidates
                    .by_ref()
                    .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
                    .ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::AddrInUse,
                            "every port of the chosen range is in use",
                        )
                    })
            });
        }
        if self.cluster_node {
            self.start_on(free_cluster_port)
        } else {
            self.start_on(free_port)
        }
    }

    /// Starts the server on the first port from `next_port` that it can
    /// bind. Tests hand in ports known to be taken.
    fn start_on(
        &self,
        mut next_port: impl FnMut() -> std::io::Result<u16>,
    ) -> Result<RedisServer, HarnessError> {
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let port =
                next_port().map_err(|e| HarnessError::io("finding a free port on 127.0.0.1", e))?;
            let mut server = self.spawn(port)?;
            match server.wait_until_ready(&self.ready_check, self.startup_timeout) {
                Ok(()) => return Ok(server),
                Err(Failure::PortTaken { log }) => last_log = log,
                Err(Failure::Fatal(error)) => return Err(error),
            }
        }
        Err(HarnessError::PortsTaken {
            attempts: START_ATTEMPTS,
            log: last_log,
        })
    }

    /// Spawns the process on `port` in a new temporary directory.
    fn spawn(&self, port: u16) -> Result<RedisServer, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("redis-bus-test-")
            .tempdir()
            .map_err(|e| HarnessError::io("creating a temporary directory", e))?;
        let path = dir.path();
        let console = File::create(path.join("console.log"))
            .map_err(|e| HarnessError::io("creating console.log", e))?;
        let console_err = console
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating console.log's handle", e))?;

        let mut command = Command::new(&self.program);
        if let Some(config) = &self.sentinel_config {
            // The configuration file must come first, before any option.
            let file = path.join("sentinel.conf");
            std::fs::write(&file, config)
                .map_err(|e| HarnessError::io("writing sentinel.conf", e))?;
            command.arg(file).arg("--sentinel");
        }
        command
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(path)
            .arg("--logfile")
            .arg(path.join("redis.log"))
            .args(["--daemonize", "no"]);
        if self.cluster_node {
            command
                .args(["--cluster-enabled", "yes", "--cluster-config-file"])
                .arg(path.join("nodes.conf"))
                .args(["--cluster-node-timeout", CLUSTER_NODE_TIMEOUT_MS])
                // A replica syncs at once instead of 5 s later (Redis waits
                // that long for more replicas to share a diskless sync).
                .args(["--repl-diskless-sync-delay", "0"]);
        }
        let child = command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(console_err)
            .spawn()
            .map_err(|e| spawn_error(&self.program, e))?;
        Ok(RedisServer { child, port, dir })
    }
}

/// Why one start attempt failed: worth another port, or final.
enum Failure {
    /// The server could not bind its port: another process took it.
    PortTaken {
        /// The server's log, kept for the error if every attempt fails.
        log: String,
    },
    /// Anything else: reported to the caller as is.
    Fatal(HarnessError),
}

impl From<HarnessError> for Failure {
    fn from(error: HarnessError) -> Self {
        Failure::Fatal(error)
    }
}

/// Turns a failure to spawn `program` into an error, with an installation
/// hint when the program is missing.
pub(crate) fn spawn_error(program: &std::ffi::OsStr, error: std::io::Error) -> HarnessError {
    let program = program.to_string_lossy().into_owned();
    if error.kind() == std::io::ErrorKind::NotFound {
        HarnessError::NotInstalled {
            program,
            source: error,
        }
    } else {
        HarnessError::io(format!("spawning `{program}`"), error)
    }
}

/// Reads a file as text, or an empty string when it does not exist yet.
fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;

    #[test]
    fn start_retries_on_another_port_when_its_port_is_taken() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken_port = taken.local_addr().unwrap().port();
        let mut ports = vec![free_port(), Ok(taken_port)];

        let server = RedisServer::builder()
            .start_on(|| ports.pop().unwrap())
            .unwrap();

        assert_ne!(server.port(), taken_port);
        assert!(ports.is_empty(), "the free port was never tried");
    }

    #[test]
    fn a_port_taken_by_another_redis_is_not_mistaken_for_the_new_one() {
        // The other server answers PING on the port, as a server that
        // another test started there a moment earlier would.
        let other = RedisServer::start().unwrap();
        let mut ports = vec![free_port(), Ok(other.port())];

        let server = RedisServer::builder()
            .start_on(|| ports.pop().unwrap())
            .unwrap();

        assert_ne!(server.port(), other.port());
        assert!(ports.is_empty(), "the free port was never tried");
        assert!(
            server.log().contains("Ready to accept connections"),
            "{}",
            server.log()
        );
    }

    #[test]
    fn start_gives_up_when_every_port_is_taken() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken_port = taken.local_addr().unwrap().port();

        let error = RedisServer::builder()
            .start_on(|| Ok(taken_port))
            .unwrap_err();

        let message = error.to_string();
        assert!(
            matches!(
                error,
                HarnessError::PortsTaken {
                    attempts: START_ATTEMPTS,
                    ..
                }
            ),
            "{message}"
        );
        assert!(message.contains(PORT_TAKEN), "{message}");
    }
}
