//! The demo: the sample math service, implemented, served and called.
//!
//! `cargo run --example demo`

use std::time::{SystemTime, UNIX_EPOCH};

use generated_examples::math::math_bus::{Math, MathClient, MathServer};
use generated_examples::math::{NowReply, NowRequest, SumReply, SumRequest};
use redis_bus::codegen::prost_types::Timestamp;
use redis_bus::{Bus, Server, Status};

/// The math service: a sum and a clock.
struct Calculator;

#[redis_bus::codegen::async_trait]
impl Math for Calculator {
    async fn sum(&self, request: SumRequest) -> Result<SumReply, Status> {
        let sum = request
            .a
            .checked_add(request.b)
            .ok_or_else(|| Status::out_of_range("the sum overflows"))?;
        Ok(SumReply { sum })
    }

    async fn now(&self, _request: NowRequest) -> Result<NowReply, Status> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Status::internal("the clock is before 1970"))?;
        Ok(NowReply {
            time: Some(Timestamp {
                seconds: since_epoch.as_secs() as i64,
                nanos: since_epoch.subsec_nanos() as i32,
            }),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::in_memory();
    let server = Server::new(&bus)
        .add_service(MathServer::new(Calculator))
        .start()
        .await?;
    println!("serving math.Math as instance {}", server.instance_id());

    let math = MathClient::new(&bus);
    let sum = math.sum(SumRequest { a: 1, b: 2 }).await?;
    println!("math.Math/Sum {{a: 1, b: 2}} -> {}", sum.sum);
    let now = math.now(NowRequest { seed: 1 }).await?;
    println!(
        "math.Math/Now {{seed: 1}} -> {}",
        now.time.unwrap_or_default()
    );
    match math.sum(SumRequest { a: i64::MAX, b: 1 }).await {
        Ok(reply) => println!("unexpected: {}", reply.sum),
        Err(status) => println!("math.Math/Sum {{a: MAX, b: 1}} -> {status}"),
    }

    server.shutdown().await?;
    Ok(())
}
