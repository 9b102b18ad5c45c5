pub mod math {
    redis_bus::include_proto!("math");
}
use math::math_bus::{Math, MathClient, MathServer};

struct Calculator;

#[redis_bus::async_trait]
impl Math for Calculator {
    async fn sum(&self, request: math::SumRequest) -> Result<math::SumReply, redis_bus::Status> {
        Ok(math::SumReply {
            sum: request.a + request.b,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let bus = redis_bus::Bus::connect(&url, "demo").await?;

    // A worker. Here it runs in the background of this process; a worker
    // process would rather `.serve().await`: serve until Ctrl-C or SIGTERM,
    // then stop gracefully.
    let worker = redis_bus::Server::new(&bus)
        .add_service(MathServer::new(Calculator))
        .start()
        .await?;

    // Any process on the same bus:
    let math = MathClient::new(&bus);
    let reply = math.sum(math::SumRequest { a: 1, b: 2 }).await?;
    println!("1 + 2 = {}", reply.sum);
    math.clear_cache()
        .sum(&math::SumRequest { a: 1, b: 2 })
        .await?; // one request
    math.clear_cache().sum_all().await?; // every sum, in O(1)

    worker.shutdown().await?;
    Ok(())
}
