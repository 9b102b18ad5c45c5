//! Authentication with metadata and interceptors: a server interceptor
//! refuses calls without the right token (`UNAUTHENTICATED`), a client
//! interceptor sends it with every call of a bus handle.
//!
//! `cargo run --example auth` runs in this process (`Bus::in_memory()`);
//! with `REDIS_URL` set, over that Redis.

use generated_examples::random::UuidRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::services::RandomService;
use redis_bus::{Bus, CallOptions, Code, InterceptedCall, Interceptor, Server, Status};

/// Refuses calls that do not carry `authorization: Bearer <token>`.
struct RequireToken(String);

#[redis_bus::async_trait]
impl Interceptor for RequireToken {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        match call.metadata.get("authorization") {
            Some(value) if value.strip_prefix("Bearer ") == Some(self.0.as_str()) => Ok(()),
            Some(_) => Err(Status::unauthenticated("the token is not valid")),
            None => Err(Status::unauthenticated(format!(
                "{} needs an authorization token",
                call.method.full_name
            ))),
        }
    }
}

/// Sends `authorization: Bearer <token>` with every call.
struct SendToken(String);

#[redis_bus::async_trait]
impl Interceptor for SendToken {
    async fn before(&self, call: &mut InterceptedCall) -> Result<(), Status> {
        call.metadata
            .insert("authorization", format!("Bearer {}", self.0))
            .map_err(Status::internal)
    }
}

/// Serves random with the token check, then calls it without and with the
/// token.
async fn run(bus: Bus) -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::new(&bus)
        .interceptor(RequireToken("s3cret".to_owned()))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await?;

    let anonymous = RandomClient::new(&bus).uuid(UuidRequest {}).await;
    let refused = anonymous.expect_err("a call without a token is refused");
    assert_eq!(refused.code(), Code::Unauthenticated);
    println!("without a token: {refused}");

    let signed = bus.clone().with_interceptor(SendToken("s3cret".to_owned()));
    let reply = RandomClient::new(&signed).uuid(UuidRequest {}).await?;
    println!("with the token: {}", reply.uuid);

    // The same, for one client only: metadata set in its call options.
    let options = CallOptions::new().metadata("authorization", "Bearer s3cret");
    let reply = RandomClient::new(&bus)
        .with_options(options)
        .uuid(UuidRequest {})
        .await?;
    println!("with the token in the call options: {}", reply.uuid);

    server.shutdown().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = match std::env::var("REDIS_URL") {
        Ok(url) => Bus::connect(&url, "examples").await?,
        Err(_) => Bus::in_memory(),
    };
    run(bus).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn runs_in_memory_and_on_redis() {
        super::run(redis_bus::Bus::in_memory()).await.unwrap();
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let bus = redis_bus::Bus::connect(&redis.url(), "examples")
            .await
            .unwrap();
        super::run(bus).await.unwrap();
    }
}
