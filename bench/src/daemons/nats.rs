//! `NatsServer`: a `nats-server` process on a free loopback port, killed on
//! drop.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use redis_bus_testing::free_port;

/// The program, looked up on PATH.
const NATS_SERVER: &str = "nats-server";

/// How long the server may take to answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How often readiness is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// How many ports to try when another process takes the chosen one between
/// finding it free and the server binding it.
const START_ATTEMPTS: u32 = 5;

/// A running nats-server.
pub struct NatsServer {
    /// The process; killed on drop.
    child: Child,
    /// The port it listens on.
    port: u16,
    /// Its log file, removed on drop.
    log: PathBuf,
}

impl NatsServer {
    /// Starts a server and waits until it greets clients; none when
    /// `nats-server` is not installed.
    pub async fn start() -> Result<Option<NatsServer>> {
        // Polling sleeps; keep it off the runtime's threads.
        tokio::task::spawn_blocking(start_blocking)
            .await
            .context("starting nats-server panicked")?
    }

    /// The operating system's id of the server process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

fn start_blocking() -> Result<Option<NatsServer>> {
    let mut last_log = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port().context("cannot find a free port for nats-server")?;
        let log = std::env::temp_dir().join(format!(
            "redis-bus-bench-nats-{}-{port}.log",
            std::process::id()
        ));
        let output = File::create(&log)
            .with_context(|| format!("cannot create the nats-server log {}", log.display()))?;
        let spawned = Command::new(NATS_SERVER)
            .args(["--addr", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let _ = fs::remove_file(&log);
                return Ok(None);
            }
            Err(error) => return Err(error).context("cannot start nats-server"),
        };
        let mut server = NatsServer { child, port, log };
        if wait_until_ready(&mut server)? {
            return Ok(Some(server));
        }
        // It exited: most likely the port was taken; try another.
        last_log = fs::read_to_string(&server.log).unwrap_or_default();
    }
    bail!("nats-server did not start after {START_ATTEMPTS} attempts; its last log:\n{last_log}")
}

/// Polls until the server sends its `INFO` greeting (true) or exits
/// (false); fails after `STARTUP_TIMEOUT`.
fn wait_until_ready(server: &mut NatsServer) -> Result<bool> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if server.child.try_wait()?.is_some() {
            return Ok(false);
        }
        if greets(server.port) {
            return Ok(true);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    bail!(
        "nats-server did not answer on port {} within {STARTUP_TIMEOUT:?}",
        server.port
    )
}

/// Whether a NATS server on `port` sends its `INFO` line.
fn greets(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_millis(250)))
        .is_err()
    {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("INFO")
}
