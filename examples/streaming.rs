//! Streaming rpcs on the random sample, in one process:
//! `cargo run --example streaming`. `Uuids` streams its replies,
//! `Pick` reads a stream of requests.

use futures_util::StreamExt;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::random::{PickRequest, UuidsRequest};
use generated_examples::services::RandomService;
use redis_bus::{Bus, CallOptions, Server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::in_memory();
    let _server = Server::new(&bus)
        .add_service(RandomServer::new(RandomService))
        .start()
        .await?;
    // At most 16 replies wait for this caller to read them.
    let random = RandomClient::new(&bus).with_options(CallOptions::new().stream_window(16));

    let mut uuids = random
        .uuids(UuidsRequest {
            count: 3,
            interval_ms: 0,
        })
        .await?;
    while let Some(reply) = uuids.message().await? {
        println!("uuid {}", reply.uuid);
    }

    let fruit = ["apple", "pear", "plum"].map(|item| PickRequest { item: item.into() });
    let picked = random.pick(futures_util::stream::iter(fruit)).await?;
    println!("picked {} of {}", picked.item, picked.count);

    // A stream is a `Stream` too; dropping it cancels the call.
    let first_two: Vec<_> = random
        .uuids(UuidsRequest {
            count: 1000,
            interval_ms: 0,
        })
        .await?
        .take(2)
        .collect()
        .await;
    println!("took {} of 1000", first_two.len());
    Ok(())
}
