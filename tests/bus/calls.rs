//! Calls over Redis: typed request in, typed reply out, many at once, spread
//! over several workers with each request handled exactly once, and buses
//! kept apart by name.

use crate::common;

use std::time::Duration;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::random::{PasswordRequest, UuidRequest};
use generated_examples::services::RandomService;
use redis_bus::{Bus, Code, Server};
use redis_bus_testing::RedisServer;

#[tokio::test]
async fn samples_answer_over_redis() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .expect("the worker starts");

    let math = MathClient::new(&bus);
    assert_eq!(math.sum(SumRequest { a: 1, b: 2 }).await.unwrap().sum, 3);
    let random = RandomClient::new(&bus);
    let uuid = random.uuid(UuidRequest {}).await.unwrap().uuid;
    assert_eq!(uuid.len(), 36, "{uuid}");
    let password = random
        .password(PasswordRequest { length: None })
        .await
        .unwrap();
    assert_eq!(password.password.len(), 12, "the default length");
    let password = random
        .password(PasswordRequest { length: Some(40) })
        .await
        .unwrap();
    assert_eq!(password.password.len(), 40);
    let refused = random
        .password(PasswordRequest { length: Some(0) })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_in_flight_each_get_their_own_reply() {
    let (_redis, bus) = common::redis_and_bus().await;
    let calculator = common::Calculator {
        sum_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let server = Server::new(&bus)
        .add_service(MathServer::new(calculator.clone()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    let calls: Vec<_> = (0..500)
        .map(|i| {
            let math = math.clone();
            tokio::spawn(async move { (i, math.sum(SumRequest { a: i, b: i }).await) })
        })
        .collect();
    for call in calls {
        let (i, reply) = call.await.unwrap();
        assert_eq!(reply.expect("every call is answered").sum, 2 * i);
    }
    assert_eq!(calculator.runs(), 500, "each request ran exactly once");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_the_load_and_each_request_runs_once() {
    let redis = RedisServer::start().expect("redis-server starts");
    let mut workers = Vec::new();
    let mut calculators = Vec::new();
    for _ in 0..3 {
        // Each worker has its own bus handle, as separate processes would.
        let bus = common::connect(&redis, "test").await;
        let calculator = common::Calculator {
            sum_delay: Duration::from_millis(2),
            ..Default::default()
        };
        let server = Server::new(&bus)
            .add_service(MathServer::new(calculator.clone()))
            .max_concurrency(8)
            .start()
            .await
            .unwrap();
        workers.push(server);
        calculators.push(calculator);
    }
    let bus = common::connect(&redis, "test").await;
    let math = MathClient::new(&bus);
    let calls: Vec<_> = (0..600)
        .map(|i| {
            let math = math.clone();
            tokio::spawn(async move { math.sum(SumRequest { a: i, b: 0 }).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("answered");
    }
    let runs: Vec<usize> = calculators.iter().map(common::Calculator::runs).collect();
    assert_eq!(
        runs.iter().sum::<usize>(),
        600,
        "every request ran exactly once: {runs:?}"
    );
    assert!(
        runs.iter().all(|&n| n > 0),
        "every worker took a share: {runs:?}"
    );
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn buses_with_different_names_do_not_see_each_other() {
    let redis = RedisServer::start().expect("redis-server starts");
    let blue = common::connect(&redis, "blue").await;
    let green = common::connect(&redis, "green").await;
    let _server = Server::new(&blue)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();

    assert_eq!(
        MathClient::new(&blue)
            .sum(SumRequest { a: 1, b: 1 })
            .await
            .unwrap()
            .sum,
        2
    );
    let status = MathClient::new(&green)
        .sum(SumRequest { a: 1, b: 1 })
        .await
        .expect_err("nobody serves math on green");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("\"green\""), "{status}");
}

#[tokio::test]
async fn url_with_user_and_password_connects() {
    let redis = RedisServer::builder()
        .args(["--user", "app", "on", ">s3cret", "~*", "&*", "+@all"])
        .args(["--user", "default", "off"])
        .start()
        .expect("redis-server with an ACL user starts");
    let url = format!("redis://app:s3cret@127.0.0.1:{}/", redis.port());
    let bus = common::connect_url(&url, "secure").await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    assert_eq!(
        MathClient::new(&bus)
            .sum(SumRequest { a: 2, b: 3 })
            .await
            .unwrap()
            .sum,
        5
    );

    let wrong = format!("redis://app:wrong@127.0.0.1:{}/", redis.port());
    let error = Bus::connect(&wrong, "secure")
        .await
        .expect_err("a wrong password is refused");
    assert!(error.is_permission_denied(), "{error:?}");
    assert!(
        !error.to_string().contains("wrong"),
        "the password never shows: {error}"
    );
}

#[tokio::test]
async fn unreachable_redis_is_a_connection_error_naming_the_url() {
    let port = redis_bus_testing::free_port().expect("a free port");
    let url = format!("redis://127.0.0.1:{port}/");
    let error = Bus::connect(&url, "test")
        .await
        .expect_err("nothing listens there");
    assert!(error.is_connection(), "{error:?}");
    assert!(error.to_string().contains(&url), "{error}");
}

#[tokio::test]
async fn invalid_url_and_bus_name_are_configuration_errors() {
    let error = Bus::connect("http://example.com", "test")
        .await
        .unwrap_err();
    assert!(error.is_config(), "{error:?}");
    let error = Bus::connect("redis://127.0.0.1:1/", "no spaces")
        .await
        .unwrap_err();
    assert!(error.is_config(), "{error:?}");
    assert!(
        error.to_string().contains("invalid bus name \"no spaces\""),
        "{error}"
    );
}
