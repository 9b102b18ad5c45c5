//! `FaultProxy`: a TCP proxy between a client and a real `redis-server` that
//! injects network faults on command, while traffic flows.
//!
//! Each fault stands for a network failure a client must live through, and
//! holds until undone (the [`FaultProxy`] documentation has the details):
//! - `pause`: a NAT or load-balancer failover forgetting the flows open now;
//!   they hang silently, new ones work; until `resume`, which delivers what
//!   was held;
//! - `pause_all`: a partition; every connection, new ones too, hangs until
//!   `resume`;
//! - `cut`: a server restart; every open connection closes, at once, once;
//! - `set_latency`: a slow link; every chunk waits, until set back to zero.
//!
//! Dropping the proxy closes its port and every connection, and joins all
//! its threads before it returns.
//!
//! Why threads and blocking sockets rather than an async runtime: the
//! harness is synchronous and depends on no runtime, and tests drive the
//! proxy from sync code, from `#[tokio::test]` of either flavour, or from
//! other threads. Its own threads work under all of them; a proxy running
//! on the test's runtime would stall whenever the test blocks that runtime.
//! Tests open a handful of connections, so two threads per connection cost
//! nothing, and each fault takes effect at once through one lock and a
//! condition variable, with no polling.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::error::HarnessError;

/// How long the proxy waits to connect to the upstream for each accepted
/// connection. The upstream is a local server: it answers or refuses at
/// once, and a longer wait would stall the connections queued behind it.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most a pump reads, then holds or forwards, at a time.
const CHUNK_SIZE: usize = 16 * 1024;

/// How long the accept loop rests after a failed `accept` (out of file
/// descriptors, say), so that a lasting failure does not spin a core.
const ACCEPT_RETRY: Duration = Duration::from_millis(10);

/// A TCP proxy on a free port of 127.0.0.1 that forwards every connection to
/// one upstream address and injects faults on command.
///
/// Point the client at [`url`](FaultProxy::url) instead of the server's
/// URL; every connection the proxy accepts is forwarded to the upstream in
/// both directions until a test calls one of the faults:
///
/// - [`pause`](FaultProxy::pause) freezes the connections open at that
///   moment: they stay open, nothing is forwarded either way, and the bytes
///   sent meanwhile are held, not dropped. This is what a NAT or
///   load-balancer failover does to the flows it forgets: no FIN, no RST,
///   writes succeed (into buffers) and replies never come. Connections opened
///   later forward normally, as new flows through a new path do. It holds
///   until [`resume`](FaultProxy::resume), which delivers the held bytes in
///   order, as TCP retransmission would after a path heals. Unlike a real
///   black hole, TCP itself never notices: both peers' kernels talk to the
///   proxy's, which keeps acknowledging, so keepalives and
///   `TCP_USER_TIMEOUT` never fire. Only application-level timeouts (a read
///   timeout, a health-check `PING`) detect it, which is what a client must
///   rely on anyway: TCP's own detection takes minutes.
/// - [`pause_all`](FaultProxy::pause_all) is a full partition: it freezes the
///   open connections and every connection opened until `resume`. A new
///   connection is still accepted (the proxy's kernel completes the TCP
///   handshake) but its first command, `HELLO` or `AUTH` included, hangs.
/// - [`cut`](FaultProxy::cut) closes every open connection at once, on both
///   sides, as a server restart or a proxy failing over does: the client sees
///   the connection end (FIN, then RST if it writes), the server sees its
///   client leave. It is one-shot; new connections work at once.
/// - [`set_latency`](FaultProxy::set_latency) holds each forwarded chunk for
///   at least the given time after the proxy read it, in both directions, so
///   a round trip pays it twice. Chunks of one direction go one at a time,
///   so a burst read as several chunks pays it per chunk: a slow link, not
///   only a long one. It holds until set to zero again.
///
/// Dropping the proxy closes its port (new connections are refused), closes
/// every connection as `cut` does, held bytes included, and joins all its
/// threads before it returns.
///
/// Every method takes `&self` and may be called from any thread while
/// traffic flows.
///
/// ```no_run
/// use std::time::Duration;
/// use redis_bus_testing::{FaultProxy, RedisServer};
///
/// let server = RedisServer::start()?;
/// let proxy = FaultProxy::start(server.addr())?;
/// let mut connection = redis::Client::open(proxy.url())?.get_connection()?;
/// connection.set_read_timeout(Some(Duration::from_millis(500)))?;
///
/// proxy.pause();
/// let held: redis::RedisResult<String> = redis::cmd("PING").query(&mut connection);
/// assert!(held.unwrap_err().is_timeout());
/// proxy.resume();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FaultProxy {
    /// Where the proxy listens.
    addr: SocketAddr,
    /// Where it forwards to.
    upstream: SocketAddr,
    /// What the accept loop, the pumps and the fault methods share.
    shared: Arc<Shared>,
    /// The accept loop, which returns the handles of the pumps it started
    /// so that drop can join them. `None` once joined.
    acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 forwarding to `upstream`,
    /// e.g. `FaultProxy::start(server.addr())`.
    ///
    /// The upstream is resolved once, here, and connected to once per
    /// accepted connection; it need not be up yet. While it refuses, each
    /// client connection is accepted and closed at once.
    pub fn start(upstream: impl ToSocketAddrs) -> Result<FaultProxy, HarnessError> {
        let resolving = "resolving the fault proxy's upstream address";
        let upstream = upstream
            .to_socket_addrs()
            .map_err(|e| HarnessError::io(resolving, e))?
            .next()
            .ok_or_else(|| {
                let none = io::Error::new(io::ErrorKind::InvalidInput, "no address given");
                HarnessError::io(resolving, none)
            })?;
        // Binding port 0 and keeping the listener leaves no window for
        // another process to take the port, unlike `free_port`.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| HarnessError::io("binding the fault proxy on 127.0.0.1", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the fault proxy's address", e))?;
        let shared = Arc::new(Shared::default());
        let acceptor = thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(listener, upstream, &shared)
            })
            .map_err(|e| HarnessError::io("starting the fault proxy's thread", e))?;
        Ok(FaultProxy {
            addr,
            upstream,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The port the proxy listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address the proxy listens on: 127.0.0.1 and [`port`](Self::port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to give clients instead of the server's:
    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port())
    }

    /// The address every connection is forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// Freezes every connection open now: each stays open but forwards
    /// nothing in either direction, holding what it receives, until
    /// [`resume`](Self::resume). Connections opened later forward normally.
    ///
    /// A chunk the proxy was already writing when `pause` was called still
    /// arrives; anything sent after `pause` returns is held.
    pub fn pause(&self) {
        for link in self.shared.lock().links.values_mut() {
            link.frozen = true;
        }
    }

    /// Freezes every connection, the open ones and those opened until
    /// [`resume`](Self::resume): a partition. New connections are still
    /// accepted, but nothing they send is forwarded.
    pub fn pause_all(&self) {
        let mut state = self.shared.lock();
        state.all_paused = true;
        for link in state.links.values_mut() {
            link.frozen = true;
        }
    }

    /// Ends [`pause`](Self::pause) and [`pause_all`](Self::pause_all):
    /// every connection forwards again, the held bytes first, in order.
    pub fn resume(&self) {
        let mut state = self.shared.lock();
        state.all_paused = false;
        for link in state.links.values_mut() {
            link.frozen = false;
        }
        self.shared.changed.notify_all();
    }

    /// Closes every open connection now, on both sides, dropping any bytes
    /// held by a pause. Connections opened afterwards work normally.
    pub fn cut(&self) {
        self.shared.cut();
    }

    /// Holds each chunk forwarded from now on, in either direction, for at
    /// least `latency` after the proxy read it. `Duration::ZERO` removes the
    /// latency, also from chunks already waiting.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
        self.shared.changed.notify_all();
    }

    /// How many connections are open through the proxy. A connection counts
    /// from the moment the proxy has connected it to the upstream until both
    /// of its directions have ended, or until a `cut`.
    pub fn connections(&self) -> usize {
        self.shared.lock().links.len()
    }

    /// How many bytes the proxy has forwarded so far, both directions and all
    /// connections together. Bytes held by a pause are not counted until
    /// they are forwarded.
    pub fn bytes_forwarded(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // `accept` cannot be interrupted: a connection of our own wakes it,
        // and the loop sees `stopping` and ends, closing the listener.
        let _ = TcpStream::connect(self.addr);
        let pumps = self
            .acceptor
            .take()
            .and_then(|acceptor| acceptor.join().ok())
            .unwrap_or_default();
        // Cutting after the accept loop ended leaves no connection behind;
        // it wakes the paused pumps and fails the blocked reads and writes,
        // so every pump ends and the joins return.
        self.shared.cut();
        for pump in pumps {
            let _ = pump.join();
        }
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream)
            .field("connections", &self.connections())
            .finish()
    }
}

/// The state behind the proxy, shared by its threads.
#[derive(Default)]
struct Shared {
    /// The connections and the faults in force.
    state: Mutex<State>,
    /// Signalled whenever a held chunk may have become free to go: on
    /// resume, on a latency change, and when connections close.
    changed: Condvar,
    /// Set by drop: the accept loop ends at its next connection.
    stopping: AtomicBool,
    /// The total for `bytes_forwarded`.
    bytes: AtomicU64,
}

/// What the fault methods change and the pumps obey.
#[derive(Default)]
struct State {
    /// The open connections by id; a connection missing from here is closed,
    /// and its pumps stop at their next chunk.
    links: HashMap<u64, Link>,
    /// The id of the next connection.
    next_id: u64,
    /// Whether `pause_all` is in force, so new connections start frozen.
    all_paused: bool,
    /// How long each chunk waits before it is forwarded.
    latency: Duration,
}

/// One proxied connection: the client's socket and ours to the upstream.
struct Link {
    /// Handles on both sockets, kept so that `cut` can shut them down while
    /// the pumps are blocked reading or writing them.
    client: TcpStream,
    upstream: TcpStream,
    /// Whether a pause holds this connection.
    frozen: bool,
    /// How many of its two directions still run; at zero it is removed.
    pumps_running: u8,
}

impl Link {
    /// Shuts both sockets down, which ends both pumps' reads and writes.
    fn shut_down(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.upstream.shutdown(Shutdown::Both);
    }
}

impl Shared {
    /// Locks the state. A panicking pump cannot leave it half-changed, so a
    /// poisoned lock is still good to use.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection and starts its two pumps. Registering comes
    /// first, so a connection is subject to `pause` and `cut` before it can
    /// forward its first byte.
    fn open(
        self: &Arc<Self>,
        client: TcpStream,
        upstream: TcpStream,
    ) -> io::Result<[JoinHandle<()>; 2]> {
        // Requests and replies are small: Nagle's algorithm would delay them.
        client.set_nodelay(true)?;
        upstream.set_nodelay(true)?;
        let mut link = Link {
            client: client.try_clone()?,
            upstream: upstream.try_clone()?,
            frozen: false,
            pumps_running: 2,
        };
        let (to_upstream, to_client) = (upstream.try_clone()?, client.try_clone()?);
        let id = {
            let mut state = self.lock();
            let id = state.next_id;
            state.next_id += 1;
            link.frozen = state.all_paused;
            state.links.insert(id, link);
            id
        };
        let pump = |from: TcpStream, to: TcpStream| {
            let shared = Arc::clone(self);
            thread::spawn(move || shared.pump(id, from, to))
        };
        Ok([pump(client, to_upstream), pump(upstream, to_client)])
    }

    /// Forwards one direction of connection `id`, chunk by chunk, obeying
    /// the faults, until either side closes or fails or the link is cut.
    fn pump(&self, id: u64, mut from: TcpStream, mut to: TcpStream) {
        let mut chunk = vec![0; CHUNK_SIZE];
        loop {
            let len = match from.read(&mut chunk) {
                // The sender is done: pass its FIN on, and let the other
                // direction finish (a client may still await replies).
                Ok(0) => {
                    let _ = to.shutdown(Shutdown::Write);
                    break;
                }
                Ok(len) => len,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.close(id);
                    break;
                }
            };
            if !self.hold(id, Instant::now()) {
                break;
            }
            self.bytes.fetch_add(len as u64, Ordering::Relaxed);
            if to.write_all(&chunk[..len]).is_err() {
                self.close(id);
                break;
            }
        }
        let mut state = self.lock();
        if let Some(link) = state.links.get_mut(&id) {
            link.pumps_running -= 1;
            if link.pumps_running == 0 {
                state.links.remove(&id);
            }
        }
    }

    /// Waits until connection `id` may forward a chunk read at `read_at`:
    /// no pause holds it and the latency has passed. Returns false when the
    /// connection was closed meanwhile; the chunk is then dropped with it.
    fn hold(&self, id: u64, read_at: Instant) -> bool {
        let mut state = self.lock();
        loop {
            let Some(link) = state.links.get(&id) else {
                return false;
            };
            let due = read_at + state.latency;
            let now = Instant::now();
            state = if link.frozen {
                self.changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner)
            } else if now < due {
                self.changed
                    .wait_timeout(state, due - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            } else {
                return true;
            };
        }
    }

    /// Closes connection `id` after one of its sockets failed.
    fn close(&self, id: u64) {
        if let Some(link) = self.lock().links.remove(&id) {
            link.shut_down();
            self.changed.notify_all();
        }
    }

    /// Closes every connection.
    fn cut(&self) {
        for (_, link) in self.lock().links.drain() {
            link.shut_down();
        }
        self.changed.notify_all();
    }
}

/// Accepts connections and connects each to `upstream` until the proxy is
/// dropped; returns the pumps it started, for drop to join.
fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    shared: &Arc<Shared>,
) -> Vec<JoinHandle<()>> {
    let mut pumps = Vec::new();
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        // Forgetting finished pumps keeps a long-lived proxy's list short.
        pumps.retain(|pump: &JoinHandle<()>| !pump.is_finished());
        let Ok(client) = client else {
            thread::sleep(ACCEPT_RETRY);
            continue;
        };
        // An upstream that refuses is passed on: dropping the client's
        // connection closes it at once, as the server's refusal would.
        let Ok(upstream) = TcpStream::connect_timeout(&upstream, UPSTREAM_CONNECT_TIMEOUT) else {
            continue;
        };
        // A connection that cannot be set up (out of file descriptors) is
        // closed; the next one may fare better.
        if let Ok(started) = shared.open(client, upstream) {
            pumps.extend(started);
        }
    }
    pumps
}
