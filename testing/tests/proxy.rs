//! The fault-injecting proxy (`redis_bus_testing::FaultProxy`) between a
//! client and a real redis-server: what fault tests rely on each fault to do.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use redis_bus_testing::{FaultProxy, HarnessError, RedisServer, free_port};

/// A port no test may ever use: the machine's own Redis may run there.
const SHARED_REDIS_PORT: u16 = 6379;

/// How long a test waits to conclude that a paused connection's reply is
/// held. Loopback answers in microseconds, so this is generous.
const HELD: Duration = Duration::from_millis(500);

/// Upper bound for things that should happen almost at once, polled.
const DEADLINE: Duration = Duration::from_secs(10);

/// A RESP `PING` and the server's reply, for tests on raw sockets.
const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";

fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    let connection =
        redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(1))?;
    // No test may hang on a reply that never comes.
    connection.set_read_timeout(Some(DEADLINE))?;
    Ok(connection)
}

fn query<T: redis::FromRedisValue>(
    connection: &mut redis::Connection,
    args: &[&str],
) -> redis::RedisResult<T> {
    let (name, rest) = args.split_first().expect("a command name");
    redis::cmd(name).arg(rest).query(connection)
}

fn ping(connection: &mut redis::Connection) -> redis::RedisResult<String> {
    query(connection, &["PING"])
}

/// Sends a raw `PING` on a socket that times reads out after `timeout`.
fn send_ping(addr: SocketAddr, timeout: Duration) -> TcpStream {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(timeout)).unwrap();
    socket.write_all(PING).unwrap();
    socket
}

/// Asserts that nothing arrives on `socket` before its read timeout.
fn assert_nothing_arrives(socket: &mut TcpStream) {
    let mut byte = [0u8; 1];
    match socket.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected the reply to be held, got {other:?}"),
    }
}

fn read_pong(socket: &mut TcpStream) {
    let mut reply = [0u8; PONG.len()];
    socket.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, PONG);
}

/// How many clients the server has, seen from a direct connection (which
/// counts itself).
fn server_clients(direct: &mut redis::Connection) -> usize {
    let list: String = query(direct, &["CLIENT", "LIST"]).unwrap();
    list.lines().count()
}

/// Polls `condition` until it holds, failing after `DEADLINE`.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: not after {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn proxy_forwards_commands_to_the_server() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();

    assert_ne!(proxy.port(), server.port());
    assert_ne!(proxy.port(), SHARED_REDIS_PORT);
    assert_eq!(proxy.url(), format!("redis://127.0.0.1:{}/", proxy.port()));
    assert_eq!(proxy.upstream(), server.addr());

    let mut through = connect(&proxy.url()).unwrap();
    assert_eq!(ping(&mut through).unwrap(), "PONG");
    let () = query(&mut through, &["SET", "greeting", "hello"]).unwrap();
    let value: String = query(&mut through, &["GET", "greeting"]).unwrap();
    assert_eq!(value, "hello");

    // It is the real server behind it.
    let mut direct = connect(&server.url()).unwrap();
    let value: String = query(&mut direct, &["GET", "greeting"]).unwrap();
    assert_eq!(value, "hello");

    assert_eq!(proxy.connections(), 1);
    assert!(proxy.bytes_forwarded() > 0);
    drop(through);
    wait_until("the closed connection leaves the count", || {
        proxy.connections() == 0
    });
}

#[test]
fn pause_holds_open_connections_while_new_ones_work() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut open = connect(&proxy.url()).unwrap();
    open.set_read_timeout(Some(HELD)).unwrap();
    let mut direct = connect(&server.url()).unwrap();

    proxy.pause();

    let held = query::<()>(&mut open, &["SET", "k", "held"]).unwrap_err();
    assert!(held.is_timeout(), "expected a timeout, got {held}");
    // Held, not forwarded: the server has not seen the SET.
    let seen: Option<String> = query(&mut direct, &["GET", "k"]).unwrap();
    assert_eq!(seen, None);
    // A connection opened during the pause goes through a healthy path.
    let mut fresh = connect(&proxy.url()).unwrap();
    assert_eq!(ping(&mut fresh).unwrap(), "PONG");
    assert_eq!(proxy.connections(), 2);

    proxy.resume();

    // The held SET is delivered first; the same connection then serves
    // (the redis client skips the late reply it timed out on).
    open.set_read_timeout(Some(DEADLINE)).unwrap();
    let value: String = query(&mut open, &["GET", "k"]).unwrap();
    assert_eq!(value, "held");
    let value: String = query(&mut fresh, &["GET", "k"]).unwrap();
    assert_eq!(value, "held");
}

#[test]
fn held_reply_arrives_after_resume() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut socket = send_ping(proxy.addr(), HELD);
    read_pong(&mut socket);

    proxy.pause();
    socket.write_all(PING).unwrap();
    assert_nothing_arrives(&mut socket);
    proxy.resume();

    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    read_pong(&mut socket);
}

#[test]
fn pause_all_holds_new_connections_too() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();

    proxy.pause_all();
    // The connection is accepted, but its first command is held.
    let mut socket = send_ping(proxy.addr(), HELD);
    assert_nothing_arrives(&mut socket);
    proxy.resume();

    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    read_pong(&mut socket);
}

#[test]
fn cut_closes_open_connections_on_both_sides() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut open = connect(&proxy.url()).unwrap();
    assert_eq!(ping(&mut open).unwrap(), "PONG");
    let mut direct = connect(&server.url()).unwrap();
    assert_eq!(server_clients(&mut direct), 2);

    proxy.cut();

    assert_eq!(proxy.connections(), 0);
    let error = ping(&mut open).unwrap_err();
    assert!(error.is_io_error(), "expected an I/O error, got {error}");
    assert!(!error.is_timeout(), "the connection hung instead: {error}");
    // The server saw its client leave.
    wait_until("the server drops the cut client", || {
        server_clients(&mut direct) == 1
    });
    // The proxy still serves new connections.
    let mut fresh = connect(&proxy.url()).unwrap();
    assert_eq!(ping(&mut fresh).unwrap(), "PONG");
    assert_eq!(proxy.connections(), 1);
}

#[test]
fn cut_drops_what_a_pause_held() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut open = connect(&proxy.url()).unwrap();
    open.set_read_timeout(Some(HELD)).unwrap();

    proxy.pause();
    let held = query::<()>(&mut open, &["SET", "k", "held"]).unwrap_err();
    assert!(held.is_timeout(), "expected a timeout, got {held}");
    proxy.cut();
    proxy.resume();

    let mut fresh = connect(&proxy.url()).unwrap();
    let seen: Option<String> = query(&mut fresh, &["GET", "k"]).unwrap();
    assert_eq!(seen, None, "the held SET reached the server");
}

#[test]
fn latency_delays_each_direction() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut connection = connect(&proxy.url()).unwrap();
    let latency = Duration::from_millis(150);

    proxy.set_latency(latency);
    let started = Instant::now();
    assert_eq!(ping(&mut connection).unwrap(), "PONG");

    // The request and the reply each wait at least `latency`.
    let round_trip = started.elapsed();
    assert!(round_trip >= 2 * latency, "round trip took {round_trip:?}");
    proxy.set_latency(Duration::ZERO);
    assert_eq!(ping(&mut connection).unwrap(), "PONG");
}

#[test]
fn dropping_the_proxy_closes_everything_even_while_paused() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let addr = proxy.addr();
    let mut open = connect(&proxy.url()).unwrap();
    let mut socket = send_ping(addr, DEADLINE);
    read_pong(&mut socket);
    proxy.pause();
    socket.write_all(PING).unwrap();

    // Returns: the paused pumps are woken and joined.
    drop(proxy);

    let error = ping(&mut open).unwrap_err();
    assert!(error.is_io_error(), "expected an I/O error, got {error}");
    assert!(!error.is_timeout(), "the connection hung instead: {error}");
    // The held PING was dropped, not delivered.
    let mut rest = Vec::new();
    match socket.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "got {rest:?}"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
    }
    let refused = TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused}");
}

#[test]
fn connections_to_a_dead_upstream_close_at_once() {
    // Nothing listens on a port that was just free.
    let proxy = FaultProxy::start(("127.0.0.1", free_port().unwrap())).unwrap();

    let mut socket = send_ping(proxy.addr(), DEADLINE);
    let mut rest = Vec::new();
    match socket.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "got {rest:?}"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
    }
    assert_eq!(proxy.connections(), 0);
}

#[test]
fn start_without_an_upstream_address_is_refused() {
    let error = FaultProxy::start(&[][..] as &[SocketAddr]).unwrap_err();

    assert!(
        matches!(error, HarnessError::Io { .. }),
        "unexpected error: {error}"
    );
    let message = error.to_string();
    assert!(message.contains("upstream"), "{message}");
    assert!(message.contains("no address"), "{message}");
}
