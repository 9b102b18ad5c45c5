//! `rediss://` URLs: calls over TLS to a redis-server whose certificate a
//! CA made at test time signed; a wrong CA gets a clear error, not a hang.

use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::services::MathService;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use redis_bus::{Bus, Server};
use redis_bus_testing::{ReadyCheck, RedisServer, free_port};

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
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();
    Pki {
        ca: ca.pem(),
        server_certificate: server.pem(),
        server_key: server_key.serialize_pem(),
    }
}

/// A redis-server that only speaks TLS, and the URL to reach it.
fn tls_redis(pki: &Pki, files: &tempfile::TempDir) -> (RedisServer, String) {
    let write = |name: &str, pem: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    let (certificate, key, ca) = (
        write("server.pem", &pki.server_certificate),
        write("server.key", &pki.server_key),
        write("ca.pem", &pki.ca),
    );
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
    let bus = Bus::builder(&url, "secure")
        .tls_ca(pki.ca.clone())
        .connect()
        .await
        .expect("the bus connects over TLS");
    let _server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
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
