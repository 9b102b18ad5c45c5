//! `rediss://` URLs: calls over TLS to a redis-server whose certificate a
//! CA made at test time signed; a wrong CA gets a clear error, not a hang.

use std::path::PathBuf;
use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::services::MathService;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use redis_bus::{Bus, CallOptions, RunningServer, Server};
use redis_bus_testing::{ReadyCheck, RedisSentinel, RedisServer, free_port};

/// A CA, and a server certificate it signed for 127.0.0.1.
struct Pki {
    ca: String,
    server_certificate: String,
    server_key: String,
}

/// A new CA, and a certificate for 127.0.0.1 and localhost signed by it.
fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Names of their own: OpenSSL (redis-server checking its replication
    // peer) takes a certificate whose subject is its issuer's for
    // self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "redis-bus test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    server_params
        .distinguished_name
        .push(DnType::CommonName, "redis-bus test server");
    let server_key = KeyPair::generate().unwrap();
    let server = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();
    Pki {
        ca: ca.pem(),
        server_certificate: server.pem(),
        server_key: server_key.serialize_pem(),
    }
}

/// The server certificate, its key and the CA, written as PEM files into
/// `files`, for redis-server.
fn pem_files(pki: &Pki, files: &tempfile::TempDir) -> (PathBuf, PathBuf, PathBuf) {
    let write = |name: &str, pem: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    (
        write("server.pem", &pki.server_certificate),
        write("server.key", &pki.server_key),
        write("ca.pem", &pki.ca),
    )
}

/// A bus on `url` that trusts `pki`'s CA, and a server of math on it.
async fn bus_serving_math(pki: &Pki, url: &str, connected: &str) -> (Bus, RunningServer) {
    let bus = Bus::builder(url, "secure")
        .tls_ca(pki.ca.clone())
        .connect()
        .await
        .expect(connected);
    let server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    (bus, server)
}

/// A redis-server that only speaks TLS, and the URL to reach it.
fn tls_redis(pki: &Pki, files: &tempfile::TempDir) -> (RedisServer, String) {
    let (certificate, key, ca) = pem_files(pki, files);
    let port = free_port().unwrap();
    let redis = RedisServer::builder()
        .args(["--port", "0", "--tls-port", &port.to_string()])
        .arg("--tls-cert-file")
        .arg(certificate)
        .arg("--tls-key-file")
        .arg(key)
        .arg("--tls-ca-cert-file")
        .arg(ca)
        .args(["--tls-auth-clients", "no"])
        .ready_check(ReadyCheck::LogContains(
            "Ready to accept connections".into(),
        ))
        .start()
        .expect("redis-server starts with TLS");
    (redis, format!("rediss://127.0.0.1:{port}/"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_over_tls() {
    let pki = pki();
    let files = tempfile::tempdir().unwrap();
    let (_redis, url) = tls_redis(&pki, &files);
    let (bus, _server) = bus_serving_math(&pki, &url, "the bus connects over TLS").await;
    let reply = MathClient::new(&bus)
        .sum(SumRequest { a: 20, b: 22 })
        .await
        .unwrap();
    assert_eq!(reply.sum, 42);
    assert_eq!(
        bus.discovery().services().await.unwrap()[0].name,
        "math.Math"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_a_clear_error_not_a_hang() {
    let pki = pki();
    let files = tempfile::tempdir().unwrap();
    let (_redis, url) = tls_redis(&pki, &files);
    let stranger = self::pki();
    let connecting = Bus::builder(&url, "secure").tls_ca(stranger.ca).connect();
    let error = tokio::time::timeout(Duration::from_secs(10), connecting)
        .await
        .expect("a wrong CA fails, it does not hang")
        .expect_err("a certificate from another CA is refused");
    assert!(error.is_connection(), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.to_lowercase().contains("certificate"), "{message}");

    let plain = url.replace("rediss://", "redis://");
    let error = tokio::time::timeout(Duration::from_secs(10), Bus::connect(&plain, "secure"))
        .await
        .expect("plain text to a TLS port fails, it does not hang")
        .expect_err("a TLS port does not speak plain text");
    assert!(error.to_string().contains(&plain), "{error}");
}

/// Through Sentinel over TLS (`rediss+sentinel://`): the sentinels and the
/// data nodes all speak TLS, the bus finds the master and calls go through,
/// and after `SENTINEL FAILOVER` they go through on the new master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_over_tls_through_sentinel_and_a_failover() {
    let pki = pki();
    let files = tempfile::tempdir().unwrap();
    let (certificate, key, ca) = pem_files(&pki, &files);
    let deployment = tokio::task::spawn_blocking(move || {
        RedisSentinel::builder()
            .tls(certificate, key, ca)
            .start()
            .expect("a Sentinel deployment starts with TLS")
    })
    .await
    .unwrap();
    let url = deployment.url();
    assert!(url.starts_with("rediss+sentinel://"), "{url}");

    let error = tokio::time::timeout(Duration::from_secs(10), Bus::connect(&url, "secure"))
        .await
        .expect("an unknown CA fails, it does not hang")
        .expect_err("the system's trust store does not know the test CA");
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error:#}"
    );

    let connected = "the bus connects through the sentinels over TLS";
    let (bus, _server) = bus_serving_math(&pki, &url, connected).await;
    let math = MathClient::new(&bus);
    assert_eq!(math.sum(SumRequest { a: 20, b: 22 }).await.unwrap().sum, 42);

    let old = deployment.master_port().unwrap();
    let deployment = tokio::task::spawn_blocking(move || {
        deployment.failover().unwrap();
        deployment
            .wait_for_new_master(old, Duration::from_secs(15))
            .unwrap();
        deployment
    })
    .await
    .unwrap();
    // The bus checks the sentinels every second; calls are served again
    // within a few. (A call sent to the old master before the bus's next
    // check is lost with it: it fails at its deadline, here 1 s.)
    let math = math.with_options(CallOptions::new().timeout(Duration::from_secs(1)));
    let last_error = std::sync::Mutex::new(None);
    let served_again = async {
        loop {
            match math.sum(SumRequest { a: 1, b: 2 }).await {
                Ok(reply) => break reply.sum,
                Err(status) => {
                    *last_error.lock().unwrap() = Some(status);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    };
    let sum = tokio::time::timeout(Duration::from_secs(10), served_again)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "calls go through on the new master; the last failed with {:?}",
                last_error.lock().unwrap()
            )
        });
    assert_eq!(sum, 3);
    drop(deployment);
}
