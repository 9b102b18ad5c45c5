//! A server's interceptors run around streaming calls as around unary
//! ones: one that refuses a call without a token refuses streams both ways,
//! and the metadata it sets reaches every message the handler makes.

use super::numbers::{Numbers, pick_requests};
use crate::common::on_each_bus;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use generated_examples::random::UuidsRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use redis_bus::{CallOptions, Code, InterceptedCall, Interceptor, Server, Status};

/// Refuses calls without the token; vouches for the tenant of those with.
struct RequireToken;

#[redis_bus::async_trait]
impl Interceptor for RequireToken {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        if call.metadata.get("authorization") != Some("Bearer s3cret") {
            return Err(Status::unauthenticated(format!(
                "{} needs a token",
                call.method.full_name
            )));
        }
        call.metadata
            .insert("tenant", "acme")
            .map_err(Status::internal)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_interceptors_guard_streams_both_ways() {
    on_each_bus(|bus| async move {
        let numbers = Numbers::default();
        let _server = Server::new(&bus)
            .interceptor(RequireToken)
            .add_service(RandomServer::new(numbers.clone()))
            .start()
            .await
            .unwrap();
        let request = UuidsRequest {
            count: 5,
            interval_ms: 0,
        };
        let made = Arc::new(AtomicU64::new(0));

        let anonymous = RandomClient::new(&bus);
        let mut refused = anonymous.uuids(request).await.unwrap();
        let status = refused.message().await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status}");
        let status = anonymous.pick(pick_requests(3, &made)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status}");
        assert_eq!(numbers.made.load(Ordering::SeqCst), 0);
        assert_eq!(numbers.picked.load(Ordering::SeqCst), 0);

        let signed = RandomClient::new(&bus)
            .with_options(CallOptions::new().metadata("authorization", "Bearer s3cret"));
        let replies: Vec<_> = signed.uuids(request).await.unwrap().collect().await;
        assert_eq!(replies.len(), 5);
        assert!(replies.iter().all(Result::is_ok));
        assert!(
            numbers.tenant_seen.load(Ordering::SeqCst),
            "each message saw the tenant the interceptor set"
        );
        assert_eq!(signed.pick(pick_requests(3, &made)).await.unwrap().count, 3);
    })
    .await;
}
