//! The bus's metrics served to Prometheus: the `Metrics` interceptor on
//! both sides records them through the `metrics` crate, and
//! `metrics-exporter-prometheus` serves them over HTTP.
//!
//! `cargo run --example prometheus` makes a few calls in this process
//! (`Bus::in_memory()`; with `REDIS_URL` set, over that Redis), then serves
//! the metrics at <http://127.0.0.1:9000/metrics> until Ctrl-C.

use std::net::SocketAddr;

use generated_examples::random::UuidRequest;
use generated_examples::random::random_bus::{RandomClient, RandomServer};
use generated_examples::services::RandomService;
use metrics_exporter_prometheus::PrometheusBuilder;
use redis_bus::{Bus, Metrics, Server};

/// Serves the metrics at `address`, then serves random and calls it with
/// the metrics recorded on both sides.
async fn run(bus: Bus, address: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    PrometheusBuilder::new()
        .with_http_listener(address)
        .install()?;
    let server = Server::new(&bus)
        .interceptor(Metrics::server())
        .add_service(RandomServer::new(RandomService))
        .start()
        .await?;
    let random = RandomClient::new(&bus.with_interceptor(Metrics::client()));
    for _ in 0..3 {
        random.uuid(UuidRequest {}).await?;
    }
    server.shutdown().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = match std::env::var("REDIS_URL") {
        Ok(url) => Bus::connect(&url, "examples").await?,
        Err(_) => Bus::in_memory(),
    };
    let address: SocketAddr = ([127, 0, 0, 1], 9000).into();
    run(bus, address).await?;
    println!("serving the metrics at http://{address}/metrics until Ctrl-C");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, TcpListener};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One scrape of `address`'s `/metrics`, bounded in time.
    async fn scrape(address: SocketAddr) -> String {
        let scrape = async {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        };
        tokio::time::timeout(Duration::from_secs(10), scrape)
            .await
            .expect("the exporter answers within 10 s")
    }

    #[tokio::test]
    async fn serves_the_bus_metrics_to_a_scrape() {
        let redis = redis_bus_testing::RedisServer::start().unwrap();
        let bus = redis_bus::Bus::connect(&redis.url(), "examples")
            .await
            .unwrap();
        // A free port, for the exporter to bind again.
        let address = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        super::run(bus, address).await.unwrap();
        let response = scrape(address).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        for name in [
            "redis_bus_calls_total{side=\"client\",method=\"random.Random/Uuid\",code=\"OK\"} 3",
            "redis_bus_calls_total{side=\"server\",method=\"random.Random/Uuid\",code=\"OK\"} 3",
            "redis_bus_call_duration_seconds",
            "redis_bus_calls_in_flight{side=\"server\",method=\"random.Random/Uuid\"} 0",
        ] {
            assert!(response.contains(name), "{name} in:\n{response}");
        }
    }
}
