//! `ReadyCheck`: how the harness decides that a freshly spawned server is
//! ready to serve, and the checks themselves.
//!
//! The harness polls a check until it passes, the process exits or a
//! deadline passes; it never sleeps a fixed time and hopes.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// How long one PING may take. Loopback answers in microseconds; a longer
/// wait means the server is busy starting (the next poll tries again) or
/// that something else holds the port, in which case the harness should
/// soon notice its own server exiting, not wait here.
const PING_TIMEOUT: Duration = Duration::from_millis(250);

/// How [`RedisServerBuilder::start`] decides that the server is ready.
///
/// [`RedisServerBuilder::start`]: crate::RedisServerBuilder::start
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadyCheck {
    /// The server's own log says it listens (`Ready to accept connections`,
    /// or `Sentinel ID is` for a Sentinel) and it answers `PING` on its plain
    /// port (the default). Any reply counts except `-LOADING`, so a server
    /// started with `--requirepass` or an ACL file (which answers `-NOAUTH`)
    /// is ready as soon as it listens. The log is what tells this server
    /// from another process that took the same port a moment earlier: the
    /// other one answers `PING` too.
    #[default]
    Ping,
    /// The server's log (or console output) contains this text. Use it for a
    /// server whose plain port is disabled (`--port 0` with `--tls-port`),
    /// e.g. `ReadyCheck::LogContains("Ready to accept connections".into())`.
    LogContains(String),
    /// Do not wait: `start` returns as soon as the process is spawned and the
    /// test does its own waiting. A port taken by another process is then
    /// not detected (nor retried).
    Spawned,
}

/// What a Redis server logs once it listens on every port it was given (a
/// server that cannot bind one exits before logging it); a Sentinel logs its
/// ID instead, also after binding.
const LISTENING: [&str; 2] = ["Ready to accept connections", "Sentinel ID is"];

/// Whether a server's own log says that it listens.
pub(crate) fn log_says_listening(log: &str) -> Result<(), String> {
    if LISTENING.iter().any(|line| log.contains(line)) {
        Ok(())
    } else {
        Err(format!("its log does not say {:?} yet", LISTENING[0]))
    }
}

/// Sends an inline `PING` to 127.0.0.1:`port` and reads one reply line.
///
/// This speaks raw RESP rather than going through the redis client so that
/// it works whatever authentication the test configured: the point is only
/// to learn whether the server answers. Returns what went wrong otherwise,
/// for the "not ready" error message.
pub(crate) fn ping(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let fail = |what: &str, e: std::io::Error| format!("PING {addr}: {what}: {e}");
    let mut stream =
        TcpStream::connect_timeout(&addr, PING_TIMEOUT).map_err(|e| fail("connect", e))?;
    stream
        .set_read_timeout(Some(PING_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(PING_TIMEOUT)))
        .map_err(|e| fail("set timeout", e))?;
    stream
        .write_all(b"PING\r\n")
        .map_err(|e| fail("write", e))?;

    let mut reply = Vec::new();
    let mut buf = [0u8; 256];
    while !reply.ends_with(b"\r\n") {
        let n = stream.read(&mut buf).map_err(|e| fail("read", e))?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&reply);
    let line = line.trim_end();
    // `-LOADING` is the one error that means "not yet"; any other error
    // (`-NOAUTH`, `-DENIED`) comes from a server that is up.
    let answered =
        line.starts_with('+') || (line.starts_with('-') && !line.starts_with("-LOADING"));
    if answered {
        Ok(())
    } else {
        Err(format!("PING {addr}: got {line:?}"))
    }
}
