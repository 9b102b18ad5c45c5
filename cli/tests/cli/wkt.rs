//! `call` with well-known types: `google.protobuf.Empty` in and out, and
//! the JSON forms of timestamps, durations and wrappers.

use redis_bus::Server;
use redis_bus_corpus::Echoes;
use redis_bus_corpus::acme::wkt::v1::echo_bus::EchoServer;

use crate::common::{redis_and_bus, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_take_and_print_well_known_types() {
    let (redis, bus) = redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(EchoServer::new(Echoes))
        .start()
        .await
        .expect("the worker starts");
    let empty = run(&redis, &["call", "acme.wkt.v1.Echo/Ping", "{}"])
        .await
        .ok();
    assert_eq!(empty, "{}\n", "Empty in, Empty out");
    let without_json = run(&redis, &["call", "acme.wkt.v1.Echo/Ping"]).await.ok();
    assert_eq!(without_json, "{}\n");
    for (method, request, reply) in [
        (
            "Later",
            r#""2024-01-01T00:00:00Z""#,
            "\"2024-01-01T00:01:00Z\"\n",
        ),
        ("Double", r#""1.5s""#, "\"2s\"\n"),
        ("Shout", r#""hi""#, "\"HI\"\n"),
    ] {
        let method = format!("acme.wkt.v1.Echo/{method}");
        let out = run(&redis, &["call", &method, request]).await.ok();
        assert_eq!(out, reply, "{method} with {request}");
    }
}
