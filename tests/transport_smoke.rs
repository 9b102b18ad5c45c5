mod common;

use generated_examples::math::SumRequest;
use generated_examples::math::math_bus::{MathClient, MathServer};
use redis_bus::Server;

#[tokio::test]
async fn smoke() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let math = MathClient::new(&bus);
    for i in 0..100 {
        let reply = math.sum(SumRequest { a: i, b: 1 }).await.unwrap();
        assert_eq!(reply.sum, i + 1);
    }
    server.shutdown().await.unwrap();
}
