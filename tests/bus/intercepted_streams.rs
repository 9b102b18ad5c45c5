//! A server's interceptors run around its streaming calls too: a call of a
//! server- or client-streaming rpc without the token is refused with the
//! interceptor's status, one with it streams as usual, on both buses.

use crate::common;

use futures_util::StreamExt;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::random::{PickRequest, UuidsRequest};
use generated_examples::services::RandomService;
use redis_bus::{Bus, CallOptions, Code, InterceptedCall, Interceptor, Server, Status};

/// Refuses calls without `authorization: let-me-in`.
struct RequireToken;

#[redis_bus::async_trait]
impl Interceptor for RequireToken {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        match call.metadata.get("authorization") {
            Some("let-me-in") => Ok(()),
            _ => Err(Status::unauthenticated(format!(
                "{} needs the token",
                call.method.full_name
            ))),
        }
    }
}

/// The UUIDs of a call of `Uuids` for 3, or the status it ended with.
async fn three_uuids(random: &RandomClient) -> Result<Vec<String>, Status> {
    let mut stream = random
        .uuids(UuidsRequest {
            count: 3,
            interval_ms: 0,
        })
        .await?;
    let mut uuids = Vec::new();
    while let Some(reply) = stream.next().await {
        uuids.push(reply?.uuid);
    }
    Ok(uuids)
}

/// `Pick` from three items.
async fn pick(random: &RandomClient) -> Result<u64, Status> {
    let items = ["a", "b", "c"].map(|item| PickRequest {
        item: item.to_owned(),
    });
    let reply = random.pick(futures_util::stream::iter(items)).await?;
    Ok(reply.count)
}

async fn check(bus: Bus) {
    let _server = Server::new(&bus)
        .interceptor(RequireToken)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();
    let anonymous = RandomClient::new(&bus);
    let refused = three_uuids(&anonymous).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused}");
    assert!(
        refused.message().contains("random.Random/Uuids"),
        "{refused}"
    );
    let refused = pick(&anonymous).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused}");

    let options = CallOptions::new().metadata("authorization", "let-me-in");
    let signed = RandomClient::new(&bus).with_options(options);
    assert_eq!(three_uuids(&signed).await.unwrap().len(), 3);
    assert_eq!(pick(&signed).await.unwrap(), 3);
}

#[tokio::test]
async fn interceptors_run_around_streaming_calls() {
    common::on_each_bus(check).await;
}
