//! The samples as a team would run them: the accounts service calls the
//! random and math services across the bus from its handler.

use crate::common;

use generated_examples::accounts::OpenRequest;
use generated_examples::accounts::accounts_bus::{AccountsClient, AccountsServer};
use generated_examples::math::math_bus::MathServer;
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::{AccountsService, MathService, RandomService};
use redis_bus::{Code, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_open_calls_random_and_math_across_the_bus() {
    let (redis, bus) = common::redis_and_bus().await;
    // Three workers, as three teams would deploy them.
    let math_bus = common::connect(&redis, "test").await;
    let random_bus = common::connect(&redis, "test").await;
    let _math = Server::new(&math_bus)
        .add_service(MathServer::new(MathService))
        .start()
        .await
        .unwrap();
    let _random = Server::new(&random_bus)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();
    let _accounts = Server::new(&bus)
        .add_service(AccountsServer::new(AccountsService::new(&bus)))
        .start()
        .await
        .unwrap();

    let accounts = AccountsClient::new(&bus);
    let account = accounts
        .open(OpenRequest {
            name: "ada".into(),
            password_length: Some(16),
        })
        .await
        .expect("the account opens");
    assert_eq!(account.name, "ada");
    assert_eq!(account.id.len(), 36);
    assert_eq!(account.password.len(), 16);
    assert!(account.opened_at.is_some());
    let other = accounts
        .open(OpenRequest {
            name: "bob".into(),
            password_length: None,
        })
        .await
        .unwrap();
    assert_eq!(other.password.len(), 12, "random's default length");
    assert_ne!(other.id, account.id);

    let status = accounts
        .open(OpenRequest {
            name: " ".into(),
            password_length: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // A failure deep in the tree reaches the caller unchanged.
    let status = accounts
        .open(OpenRequest {
            name: "eve".into(),
            password_length: Some(0),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "length must be between 1 and 1024, not 0");
}
