//! A handler's `Status` reaches the caller unchanged over Redis: code,
//! message and details.

use crate::common;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use generated_examples::random::ErrorRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::services::RandomService;
use redis_bus::{Code, Server};

#[tokio::test]
async fn handler_status_reaches_the_caller_unchanged() {
    let (_redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();

    let status = MathClient::new(&bus)
        .sum(SumRequest { a: i64::MAX, b: 1 })
        .await
        .expect_err("the sum overflows");
    assert_eq!(status.code(), Code::OutOfRange);
    assert_eq!(status.message(), "9223372036854775807 + 1 overflows");
    assert_eq!(&status.details()[..], b"overflow");

    let status = RandomClient::new(&bus)
        .error(ErrorRequest {
            message: "as asked: ünïcode and all".into(),
        })
        .await
        .expect_err("random.Error always fails");
    assert_eq!(status.code(), Code::Unknown);
    assert_eq!(status.message(), "as asked: ünïcode and all");
    assert!(status.details().is_empty());
    assert_eq!(status.to_string(), "UNKNOWN: as asked: ünïcode and all");
}
