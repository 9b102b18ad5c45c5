//! The test harness itself (`redis_bus_testing`): what every other
//! integration test, and users' own service tests, rely on it to do.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use redis_bus_testing::{HarnessError, ReadyCheck, RedisCluster, RedisServer};

/// A port no test may ever use: the machine's own Redis may run there.
const SHARED_REDIS_PORT: u16 = 6379;

/// Upper bound for things that should happen almost at once (a killed
/// process's port refusing connections), polled rather than slept.
const DEADLINE: Duration = Duration::from_secs(10);

fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(1))
}

fn query<T: redis::FromRedisValue>(
    connection: &mut redis::Connection,
    args: &[&str],
) -> redis::RedisResult<T> {
    let (name, rest) = args.split_first().expect("a command name");
    redis::cmd(name).arg(rest).query(connection)
}

/// Polls until nothing accepts connections on `url` any more.
fn assert_refuses_connections_soon(url: &str) {
    let started = Instant::now();
    loop {
        match connect(url) {
            Err(e) if e.is_io_error() || e.is_connection_refusal() => return,
            Err(e) => panic!("unexpected error connecting to {url}: {e}"),
            Ok(_) if started.elapsed() > DEADLINE => {
                panic!("{url} still accepts connections after {DEADLINE:?}")
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[test]
fn server_answers_ping_on_its_own_port() {
    let server = RedisServer::start().unwrap();

    assert_ne!(server.port(), SHARED_REDIS_PORT);
    assert_eq!(
        server.url(),
        format!("redis://127.0.0.1:{}/", server.port())
    );
    let mut connection = connect(&server.url()).unwrap();
    let pong: String = query(&mut connection, &["PING"]).unwrap();
    assert_eq!(pong, "PONG");
    let () = query(&mut connection, &["SET", "greeting", "hello"]).unwrap();
    let value: String = query(&mut connection, &["GET", "greeting"]).unwrap();
    assert_eq!(value, "hello");
    assert!(
        server.log().contains("Ready to accept connections"),
        "log: {}",
        server.log()
    );
}

#[test]
fn server_runs_without_persistence_in_its_own_directory() {
    let server = RedisServer::start().unwrap();
    let mut connection = connect(&server.url()).unwrap();

    let save: Vec<String> = query(&mut connection, &["CONFIG", "GET", "save"]).unwrap();
    assert_eq!(save, ["save", ""]);
    let aof: Vec<String> = query(&mut connection, &["CONFIG", "GET", "appendonly"]).unwrap();
    assert_eq!(aof, ["appendonly", "no"]);
    let dir: Vec<String> = query(&mut connection, &["CONFIG", "GET", "dir"]).unwrap();
    let dir = std::path::PathBuf::from(&dir[1]);
    assert_eq!(
        dir.canonicalize().unwrap(),
        server.dir().canonicalize().unwrap()
    );
}

#[test]
fn dropping_the_server_kills_the_process_and_removes_its_directory() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let dir = server.dir().to_owned();
    connect(&url).unwrap();

    drop(server);

    assert_refuses_connections_soon(&url);
    assert!(!dir.exists(), "{} still exists", dir.display());
}

#[test]
fn killed_server_refuses_connections_but_keeps_its_log() {
    let mut server = RedisServer::start().unwrap();

    server.kill();

    assert_refuses_connections_soon(&server.url());
    assert!(server.log().contains("Ready to accept connections"));
    // Killing twice is harmless (a test may kill, then drop).
    server.kill();
}

#[test]
fn two_servers_run_side_by_side() {
    let first = RedisServer::start().unwrap();
    let second = RedisServer::start().unwrap();
    assert_ne!(first.port(), second.port());

    let mut one = connect(&first.url()).unwrap();
    let mut two = connect(&second.url()).unwrap();
    let () = query(&mut one, &["SET", "owner", "first"]).unwrap();

    let seen: Option<String> = query(&mut two, &["GET", "owner"]).unwrap();
    assert_eq!(seen, None, "the second server sees the first one's data");
    let seen: Option<String> = query(&mut one, &["GET", "owner"]).unwrap();
    assert_eq!(seen.as_deref(), Some("first"));
}

#[test]
fn extra_arguments_reach_the_server() {
    // A password-protected server answers PING with -NOAUTH, which the
    // readiness check must still count as "up".
    let server = RedisServer::builder()
        .arg("--requirepass")
        .arg("s3cret")
        .start()
        .unwrap();

    let mut anonymous = connect(&server.url()).unwrap();
    let refused = query::<String>(&mut anonymous, &["GET", "k"]).unwrap_err();
    assert_eq!(refused.code(), Some("NOAUTH"), "{refused}");

    let url = format!("redis://:s3cret@127.0.0.1:{}/", server.port());
    let mut authenticated = connect(&url).unwrap();
    let pong: String = query(&mut authenticated, &["PING"]).unwrap();
    assert_eq!(pong, "PONG");
}

#[cfg(unix)]
#[test]
fn log_ready_check_starts_a_server_without_a_plain_port() {
    use std::io::{Read, Write};

    // The shape of a TLS-only server (`--port 0 --tls-port ...`), with a
    // Unix socket standing in for TLS. The socket path is relative to the
    // server's `--dir`.
    let server = RedisServer::builder()
        .args(["--port", "0", "--unixsocket", "redis.sock"])
        .ready_check(ReadyCheck::LogContains(
            // What Redis 7.0 logs when its only listener is a Unix socket;
            // a TLS-only server logs "Ready to accept connections".
            "ready to accept connections at redis.sock".into(),
        ))
        .start()
        .unwrap();

    let mut socket = std::os::unix::net::UnixStream::connect(server.dir().join("redis.sock"))
        .expect("the server listens on its Unix socket");
    socket.write_all(b"PING\r\n").unwrap();
    let mut reply = [0u8; 7];
    socket.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+PONG\r\n");
}

#[test]
fn ping_check_gives_up_at_its_deadline_with_the_log() {
    let started = Instant::now();
    let error = RedisServer::builder()
        .args(["--port", "0", "--unixsocket", "redis.sock"])
        .startup_timeout(Duration::from_millis(300))
        .start()
        .unwrap_err();

    assert!(
        matches!(error, HarnessError::NotReady { .. }),
        "unexpected error: {error}"
    );
    let message = error.to_string();
    assert!(message.contains("not ready after"), "{message}");
    // The server's log is there, saying where it did listen.
    assert!(
        message.contains("accept connections at redis.sock"),
        "{message}"
    );
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
}

#[test]
fn startup_failure_reports_the_log() {
    let error = RedisServer::builder()
        .arg("--no-such-option")
        .arg("1")
        .start()
        .unwrap_err();

    assert!(
        matches!(error, HarnessError::Exited { .. }),
        "unexpected error: {error}"
    );
    // Redis's own complaint, from its console output.
    let message = error.to_string();
    assert!(message.contains("no-such-option"), "{message}");
    assert!(message.contains("Bad directive"), "{message}");
    // `.unwrap()` shows the same readable text.
    assert_eq!(format!("{error:?}"), message);
}

#[test]
fn missing_server_program_is_reported_with_an_install_hint() {
    let error = RedisServer::builder()
        .program("redis-server-that-is-not-installed")
        .start()
        .unwrap_err();

    assert!(
        matches!(error, HarnessError::NotInstalled { .. }),
        "unexpected error: {error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("redis-server-that-is-not-installed"),
        "{message}"
    );
    assert!(message.contains("PATH"), "{message}");
    assert!(
        message.contains("apt-get install redis-server"),
        "{message}"
    );
}

/// The cluster's slot map from one node's `CLUSTER SLOTS`: the first slot of
/// each range, mapped to the range's last slot and its master's port.
fn slot_map(node: &str) -> BTreeMap<u16, (u16, u16)> {
    let mut connection = connect(node).unwrap();
    let ranges: Vec<redis::Value> = query(&mut connection, &["CLUSTER", "SLOTS"]).unwrap();
    ranges
        .into_iter()
        .map(|range| {
            // [first, last, [host, port, id, ...], replicas...]
            let redis::Value::Array(range) = range else {
                panic!("unexpected CLUSTER SLOTS entry: {range:?}")
            };
            let slot = |value| redis::from_redis_value_ref::<u16>(value).unwrap();
            let redis::Value::Array(master) = &range[2] else {
                panic!("unexpected CLUSTER SLOTS master: {:?}", range[2])
            };
            (slot(&range[0]), (slot(&range[1]), slot(&master[1])))
        })
        .collect()
}

/// The port of the master that owns `slot`.
fn owner(map: &BTreeMap<u16, (u16, u16)>, slot: u16) -> u16 {
    let (_, &(last, port)) = map.range(..=slot).next_back().expect("a range");
    assert!(slot <= last, "slot {slot} is not served");
    port
}

#[test]
fn cluster_serves_keys_across_three_masters() {
    let cluster = RedisCluster::start().unwrap();
    let ports: BTreeSet<u16> = cluster.nodes().iter().map(RedisServer::port).collect();
    assert_eq!(ports.len(), 3);
    assert!(!ports.contains(&SHARED_REDIS_PORT));
    assert_eq!(cluster.urls().len(), 3);

    // Every node sees a healthy cluster of three masters.
    for url in cluster.urls() {
        let mut connection = connect(&url).unwrap();
        let info: String = query(&mut connection, &["CLUSTER", "INFO"]).unwrap();
        assert!(info.contains("cluster_state:ok"), "{url}: {info}");
        let nodes: String = query(&mut connection, &["CLUSTER", "NODES"]).unwrap();
        let masters: BTreeSet<u16> = nodes
            .lines()
            .filter(|line| line.contains("master") && line.contains("connected"))
            .map(|line| {
                let address = line.split(' ').nth(1).unwrap();
                let port = address.split(['@', ':']).nth(1).unwrap();
                port.parse().unwrap()
            })
            .collect();
        assert_eq!(masters, ports, "{url}: {nodes}");
    }

    // Every slot is served, and every master serves some of them.
    let map = slot_map(&cluster.urls()[0]);
    let served: u32 = map
        .iter()
        .map(|(&first, &(last, _))| u32::from(last - first) + 1)
        .sum();
    assert_eq!(served, 16_384);
    let owners: BTreeSet<u16> = map.values().map(|&(_, port)| port).collect();
    assert_eq!(owners, ports);

    // Keys written to their owners land on all three masters; the wrong
    // node redirects to the owner.
    let url_of = |port: u16| format!("redis://127.0.0.1:{port}/");
    let mut written_to = BTreeSet::new();
    for i in 0..30 {
        let key = format!("key-{i}");
        let mut any = connect(&cluster.urls()[0]).unwrap();
        let slot: u16 = query(&mut any, &["CLUSTER", "KEYSLOT", &key]).unwrap();
        let port = owner(&map, slot);
        let master = cluster.master_of(&key).expect("master_of finds the owner");
        assert_eq!(cluster.nodes()[master].port(), port, "master_of({key})");
        let mut on_owner = connect(&url_of(port)).unwrap();
        let () = query(&mut on_owner, &["SET", &key, &i.to_string()]).unwrap();
        let value: String = query(&mut on_owner, &["GET", &key]).unwrap();
        assert_eq!(value, i.to_string());
        written_to.insert(port);

        let other = *ports.iter().find(|&&p| p != port).unwrap();
        let mut elsewhere = connect(&url_of(other)).unwrap();
        let moved = query::<Option<String>>(&mut elsewhere, &["GET", &key]).unwrap_err();
        let owner_address = format!("127.0.0.1:{port}");
        assert_eq!(
            moved.redirect_node(),
            Some((owner_address.as_str(), slot)),
            "{moved}"
        );
    }
    assert_eq!(written_to, ports, "30 keys should reach every master");
}

#[test]
fn dropping_the_cluster_kills_every_node() {
    let cluster = RedisCluster::start().unwrap();
    let urls = cluster.urls();
    for url in &urls {
        connect(url).unwrap();
    }

    drop(cluster);

    for url in &urls {
        assert_refuses_connections_soon(url);
    }
}

#[test]
fn cluster_of_fewer_than_three_masters_is_refused() {
    let error = RedisCluster::builder().masters(2).start().unwrap_err();

    let message = error.to_string();
    assert!(message.contains("at least 3 masters"), "{message}");
}

#[test]
fn a_chosen_port_range_is_kept_and_taken_ports_are_skipped() {
    // Hold the first port of a range of free ports, so the server must
    // skip it.
    let first = redis_bus_testing::free_port().expect("a free port");
    let held = std::net::TcpListener::bind(("127.0.0.1", first));
    let server = RedisServer::builder()
        .ports(first..=first.saturating_add(20))
        .start()
        .expect("a port of the range is free");
    assert!(
        (first..=first.saturating_add(20)).contains(&server.port()),
        "{}",
        server.port()
    );
    if held.is_ok() {
        assert_ne!(server.port(), first, "the held port is skipped");
    }
    let mut connection = connect(&server.url()).expect("it accepts connections");
    let pong: String = query(&mut connection, &["PING"]).expect("it answers");
    assert_eq!(pong, "PONG");
}

#[test]
fn a_sentinel_deployment_with_an_acl_user_refuses_everyone_else() {
    let deployment = redis_bus_testing::RedisSentinel::builder()
        .user("bus", "s3cret")
        .start()
        .unwrap();
    let url = deployment.url();
    assert!(
        url.starts_with("redis+sentinel://bus:s3cret@127.0.0.1:"),
        "{url}"
    );
    let master = deployment.master_port().unwrap();
    for node in deployment.nodes() {
        let mut anonymous = connect(&node.url()).unwrap();
        let refused = query::<String>(&mut anonymous, &["PING"]).unwrap_err();
        assert_eq!(refused.code(), Some("NOAUTH"), "{refused}");
        let mut user = connect(&deployment.node_url(node)).unwrap();
        let role: Vec<redis::Value> = query(&mut user, &["ROLE"]).unwrap();
        let expected: &[u8] = if node.port() == master {
            b"master"
        } else {
            b"slave"
        };
        assert_eq!(role[0], redis::Value::BulkString(expected.to_vec()));
    }
}

#[test]
fn spawn_ready_waits_for_the_ready_line_within_its_limit() {
    let mut command = std::process::Command::new("sh");
    command.args(["-c", "echo starting; echo serving now; exec sleep 30"]);
    let mut child = redis_bus_testing::spawn_ready(&mut command, "serving", DEADLINE).unwrap();
    assert!(child.try_wait().unwrap().is_none(), "it still runs");
    child.kill().unwrap();
    child.wait().unwrap();

    let mut silent = std::process::Command::new("sh");
    silent.args(["-c", "exec sleep 30"]);
    let started = Instant::now();
    let error = redis_bus_testing::spawn_ready(&mut silent, "serving", Duration::from_millis(300))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "bounded");
    let message = error.to_string();
    assert!(
        matches!(error, HarnessError::ProcessNotReady { .. }),
        "{message}"
    );
    assert!(
        message.contains("`sh` did not print its ready line"),
        "{message}"
    );
    assert!(message.contains("(killed)"), "{message}");

    let mut failing = std::process::Command::new("sh");
    failing.args(["-c", "exit 3"]);
    let error = redis_bus_testing::spawn_ready(&mut failing, "serving", Duration::from_secs(1))
        .unwrap_err();
    assert!(error.to_string().contains("it exited"), "{error}");
}
