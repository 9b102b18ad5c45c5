//! Finding free TCP ports on 127.0.0.1 for test servers.
//!
//! The OS hands out a free port when a socket binds port 0; the harness
//! releases that socket and passes the port to `redis-server`. Another process
//! can take the port in between, so callers must be ready to retry: the
//! server harness does (see `RedisServerBuilder::start`).

use std::io;
use std::net::{Ipv4Addr, TcpListener};

/// How far above its client port a Redis Cluster node listens for its
/// cluster bus (fixed by Redis unless `cluster-port` is set).
pub(crate) const CLUSTER_BUS_OFFSET: u16 = 10_000;

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// Useful for servers configured by hand, e.g. a TLS port given with
/// `.arg("--tls-port").arg(free_port()?.to_string())`. The port is only
/// reserved while this function runs: another process may take it before
/// your server binds it, so a caller that must be reliable retries on
/// "Address already in use".
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Returns a port `p` such that both `p` and `p + 10000` (a cluster node's
/// bus port) were free a moment ago.
pub(crate) fn free_cluster_port() -> io::Result<u16> {
    // The OS picks from its ephemeral range (32768-60999 on Linux), part of
    // which has no room for the bus port below 65536; a few draws always
    // find one that fits.
    let mut last_error = None;
    for _ in 0..100 {
        let client = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = client.local_addr()?.port();
        let Some(bus_port) = port.checked_add(CLUSTER_BUS_OFFSET) else {
            continue;
        };
        // Holding `client` while probing the bus port keeps the OS from
        // handing the same port out twice in this loop.
        match TcpListener::bind((Ipv4Addr::LOCALHOST, bus_port)) {
            Ok(_) => return Ok(port),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "no free port with a free cluster bus port (port + 10000)",
        )
    }))
}
