//! Tools call services without generated code, through the descriptors the
//! workers published: JSON in, JSON out, sharing the cache with generated
//! clients; JSON that does not fit gets an error naming the field.

use crate::common;

use generated_examples::math::NowRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::{MathService, RandomService};
use redis_bus::{Code, DynamicClient, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_calls_speak_json() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();
    let math = DynamicClient::connect(&bus, "math.Math").await.unwrap();
    let request = math
        .request_from_json("Sum", r#"{"a": 1, "b": "2"}"#)
        .unwrap();
    let reply = math.call("Sum", &request).await.unwrap();
    assert_eq!(serde_json::to_string(&reply).unwrap(), r#"{"sum":"3"}"#);

    let random = DynamicClient::connect(&bus, "random.Random").await.unwrap();
    let empty = random.request_from_json("Password", "{}").unwrap();
    let reply = random.call("Password", &empty).await.unwrap();
    let password = serde_json::to_value(&reply).unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_that_does_not_fit_names_the_field() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let math = DynamicClient::connect(&bus, "math.Math").await.unwrap();
    let status = math
        .request_from_json("Sum", r#"{"a": 1, "c": 2}"#)
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "the JSON does not fit math.SumRequest: field `c`: unrecognized field name 'c'"
    );
    let status = math
        .request_from_json("Sum", r#"{"a": "one"}"#)
        .unwrap_err();
    assert_eq!(
        status.message(),
        "the JSON does not fit math.SumRequest: field `a`: invalid digit found in string"
    );
    let status = math.request_from_json("Divide", "{}").unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(
        status
            .message()
            .contains("has no method \"Divide\" (its methods: Sum, Now)"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_service_names_the_live_ones() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let error = DynamicClient::connect(&bus, "nope.Nope").await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "no live worker serves nope.Nope on bus \"test\" (live services: math.Math)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_and_generated_clients_share_the_cache() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let typed = MathClient::new(&bus)
        .now(NowRequest { seed: 4 })
        .await
        .unwrap();
    let math = DynamicClient::connect(&bus, "math.Math").await.unwrap();
    let request = math.request_from_json("Now", r#"{"seed": 4}"#).unwrap();
    let dynamic = math.call("Now", &request).await.unwrap();
    // The protobuf JSON mapping writes a Timestamp in RFC 3339.
    let typed_json = serde_json::Value::String(typed.time.unwrap().to_string());
    assert_eq!(
        serde_json::to_value(&dynamic).unwrap()["time"],
        typed_json,
        "the same cached reply"
    );

    assert!(math.clear_cache("Now", Some(&request)).await.unwrap());
    let fresh = MathClient::new(&bus)
        .now(NowRequest { seed: 4 })
        .await
        .unwrap();
    assert_ne!(
        fresh.time, typed.time,
        "cleared for the generated client too"
    );
}
