//! Every well-known type as request and reply, over a real Redis: through
//! the generated client, and as protobuf JSON through `DynamicClient` (the
//! path the `redis-bus` command takes).

use redis_bus::codegen::prost_types::{Any, Duration, Struct, Timestamp, Value, value};
use redis_bus::{Bus, DynamicClient, RunningServer, Server};
use redis_bus_corpus::Echoes;
use redis_bus_corpus::acme::wkt::v1::echo_bus::{EchoClient, EchoServer};
use redis_bus_testing::RedisServer;

/// A private Redis with the echo service served on it.
async fn serve() -> (RedisServer, Bus, RunningServer) {
    let redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .expect("the start does not panic")
        .expect("redis-server starts");
    let bus = Bus::connect(&redis.url(), "corpus")
        .await
        .expect("the bus connects");
    let server = Server::new(&bus)
        .add_service(EchoServer::new(Echoes))
        .start()
        .await
        .expect("the worker starts");
    (redis, bus, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_client_round_trips_every_well_known_type() {
    let (_redis, bus, _server) = serve().await;
    let echo = EchoClient::new(&bus);
    echo.ping(()).await.expect("Empty in, Empty out");
    assert_eq!(echo.now(()).await.unwrap().seconds, 1_700_000_000);
    let time = Timestamp {
        seconds: 10,
        nanos: 5,
    };
    assert_eq!(
        echo.later(time).await.unwrap(),
        Timestamp {
            seconds: 70,
            nanos: 5
        }
    );
    let second = Duration {
        seconds: 1,
        nanos: 0,
    };
    assert_eq!(echo.double(second).await.unwrap().seconds, 2);
    assert_eq!(echo.shout("hi".to_owned()).await.unwrap(), "HI");
    assert_eq!(echo.increment(41).await.unwrap(), 42);
    assert_eq!(echo.widen(1).await.unwrap(), 1 << 32);
    assert!(echo.negate(false).await.unwrap());
    assert_eq!(echo.half(3.0).await.unwrap(), 1.5);
    assert_eq!(echo.reverse(vec![1, 2, 3]).await.unwrap(), [3, 2, 1]);
    let reply = echo.describe(Struct::default()).await.unwrap();
    assert_eq!(
        reply.fields["count"].kind,
        Some(value::Kind::NumberValue(0.0))
    );
    let text = Value {
        kind: Some(value::Kind::StringValue("x".to_owned())),
    };
    assert_eq!(echo.wrap(text).await.unwrap().values.len(), 2);
    let any = Any {
        type_url: "type.googleapis.com/google.protobuf.Duration".to_owned(),
        value: vec![8, 3],
    };
    assert_eq!(echo.unpack(any.clone()).await.unwrap(), any);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_calls_speak_the_json_of_every_well_known_type() {
    let (_redis, bus, _server) = serve().await;
    let echo = DynamicClient::connect(&bus, "acme.wkt.v1.Echo")
        .await
        .expect("the service is live");
    for (method, request, reply) in [
        ("Ping", "{}", "{}"),
        (
            "Later",
            r#""2024-01-01T00:00:00Z""#,
            r#""2024-01-01T00:01:00Z""#,
        ),
        ("Double", r#""1.5s""#, r#""2s""#),
        ("Shout", r#""hi""#, r#""HI""#),
        ("Increment", r#""41""#, r#""42""#),
        ("Widen", "1", r#""4294967296""#),
        ("Negate", "true", "false"),
        ("Half", "3", "1.5"),
        ("Reverse", r#""AQID""#, r#""AwIB""#),
        ("Describe", r#"{"a": "b"}"#, r#"{"a":"b","count":1.0}"#),
        ("Wrap", r#""x""#, r#"["x","x"]"#),
        (
            "Unpack",
            r#"{"@type": "type.googleapis.com/google.protobuf.Duration", "value": "3s"}"#,
            r#"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"3s"}"#,
        ),
    ] {
        let message = echo
            .request_from_json(method, request)
            .unwrap_or_else(|status| panic!("{method}: {status}"));
        let answer = echo
            .call(method, &message)
            .await
            .unwrap_or_else(|status| panic!("{method}: {status}"));
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            reply,
            "{method} with {request}"
        );
    }
}
