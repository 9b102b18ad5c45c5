//! What `top` costs Redis, measured on a bus of 100 services (the math
//! sample under 100 package names, each called so that its 2 methods have
//! statistics): the commands Redis runs per second with `top --json`
//! running, less those it runs for the workers alone, from `INFO
//! commandstats`. The budget keeps it cheap; the number measured is in
//! cli/README.md.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use generated_examples::math::math_bus::{self, MathServer};
use generated_examples::services::MathService;
use redis_bus::async_trait;
use redis_bus::codegen::prost::Message;
use redis_bus::codegen::prost_types::FileDescriptorSet;
use redis_bus::{Bus, DynamicClient, Server, ServiceInfo, Status};

use crate::common::{BUS, command, redis_and_bus};

/// How many services the bus has.
const SERVICES: usize = 100;

/// How long each measurement lasts.
const WINDOW: Duration = Duration::from_secs(10);

/// The most commands per second `top` may cost with 100 services.
const BUDGET: f64 = 600.0;

/// The math sample under another package name, `load<n>`.
struct Renamed {
    info: &'static ServiceInfo,
    inner: MathServer<MathService>,
}

#[async_trait]
impl redis_bus::Service for Renamed {
    fn info(&self) -> &'static ServiceInfo {
        self.info
    }

    async fn call(&self, method: &str, request: &[u8]) -> Result<Vec<u8>, Status> {
        self.inner.call(method, request).await
    }

    fn cache_key(&self, method: &str, request: &[u8]) -> Option<Result<String, Status>> {
        self.inner.cache_key(method, request)
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The math sample's description with its package `math` renamed to
/// `package`, everywhere a name holds it.
fn renamed_info(package: &str) -> &'static ServiceInfo {
    let math = &math_bus::SERVICE;
    let rename = |name: &str| name.replacen("math.", &format!("{package}."), 1);
    let methods: Vec<redis_bus::MethodInfo> = math
        .methods
        .iter()
        .map(|method| {
            let mut renamed = *method;
            renamed.full_name = leak(rename(method.full_name));
            renamed.request_type = leak(rename(method.request_type));
            renamed.reply_type = leak(rename(method.reply_type));
            renamed
        })
        .collect();
    let mut set = FileDescriptorSet::decode(math.file_descriptor_set).expect("decodes");
    for file in &mut set.file {
        if file.package() != "math" {
            continue;
        }
        file.package = Some(package.to_owned());
        file.name = Some(format!("{package}/{}", file.name()));
        let dotted = |name: &mut Option<String>| {
            if let Some(name) = name {
                *name = name.replacen(".math.", &format!(".{package}."), 1);
            }
        };
        for message in &mut file.message_type {
            for field in &mut message.field {
                dotted(&mut field.type_name);
            }
        }
        for service in &mut file.service {
            for method in &mut service.method {
                dotted(&mut method.input_type);
                dotted(&mut method.output_type);
            }
        }
    }
    let mut info = *math;
    info.name = leak(format!("{package}.Math"));
    info.methods = Box::leak(methods.into_boxed_slice());
    info.file_descriptor_set = Box::leak(set.encode_to_vec().into_boxed_slice());
    Box::leak(Box::new(info))
}

/// Every command Redis has run, from `INFO commandstats`, and (as
/// `bytes out`) what it has sent, from `INFO stats`.
async fn commands(redis: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .arg("stats")
        .query_async(redis)
        .await
        .expect("INFO answers");
    info.lines()
        .filter_map(|line| {
            if let Some(bytes) = line.strip_prefix("total_net_output_bytes:") {
                return Some((BYTES_OUT.to_owned(), bytes.trim().parse().ok()?));
            }
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// The entry of what Redis sent, among the commands.
const BYTES_OUT: &str = "bytes out";

/// Commands per second between two counts, by command, without `INFO`
/// itself.
fn per_second(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
    seconds: f64,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .filter(|(name, _)| name.as_str() != "info")
        .map(|(name, calls)| {
            let rate = (calls - before.get(name).copied().unwrap_or(0)) as f64 / seconds;
            (name.clone(), rate)
        })
        .collect()
}

/// Counts what Redis runs over `WINDOW`, per second by command.
async fn measure(redis: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, f64> {
    let before = commands(redis).await;
    let started = Instant::now();
    tokio::time::sleep(WINDOW).await;
    let after = commands(redis).await;
    per_second(&before, &after, started.elapsed().as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_stays_cheap_for_redis_with_100_services() {
    let (redis, bus) = redis_and_bus().await;
    let mut server = Server::new(&bus);
    for n in 0..SERVICES {
        server = server.add_service(Renamed {
            info: renamed_info(&format!("load{n}")),
            inner: MathServer::new(MathService),
        });
    }
    let _server = server.start().await.expect("the workers start");
    let caller = Bus::connect(&redis.url(), BUS).await.expect("connects");
    for n in 0..SERVICES {
        let client = DynamicClient::connect(&caller, &format!("load{n}.Math"))
            .await
            .expect("the renamed service is live");
        for (method, json) in [("Sum", r#"{"a": 1, "b": 2}"#), ("Now", r#"{"seed": 1}"#)] {
            let request = client.request_from_json(method, json).expect("fits");
            client.call(method, &request).await.expect("answers");
        }
    }
    caller.flush_stats().await.expect("sent");
    let client = redis::Client::open(redis.url()).expect("a URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    // Let the workers add the reports in, then count what they cost alone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let workers = measure(&mut connection).await;
    let mut top = command(&redis, &["--json", "top"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("top starts");
    // Read as it comes: a full pipe would stop top.
    let mut stdout = top.stdout.take().expect("piped");
    let reader = tokio::spawn(async move {
        let mut read = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut read).await;
        read
    });
    let with_top = measure(&mut connection).await;
    top.kill().await.expect("top stops");
    let output = reader.await.expect("read");
    let samples: Vec<serde_json::Value> = String::from_utf8_lossy(&output)
        .lines()
        // The kill may cut the last line short.
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert!(
        samples.len() >= 8,
        "a sample every second: {}",
        samples.len()
    );
    let last = samples.last().expect("a sample");
    assert_eq!(
        last["methods"].as_array().map(Vec::len),
        Some(2 * SERVICES),
        "every method is shown"
    );

    let total = |rates: &BTreeMap<String, f64>| {
        rates
            .iter()
            .filter(|(name, _)| name.as_str() != BYTES_OUT)
            .map(|(_, rate)| rate)
            .sum::<f64>()
    };
    let mut cost: BTreeMap<String, f64> = with_top
        .iter()
        .map(|(name, rate)| {
            (
                name.clone(),
                rate - workers.get(name).copied().unwrap_or(0.0),
            )
        })
        .filter(|(_, rate)| *rate > 0.5)
        .collect();
    let bytes = cost.remove(BYTES_OUT).unwrap_or(0.0);
    let top_cost = total(&with_top) - total(&workers);
    println!(
        "with {SERVICES} services: the workers alone {:.0} commands/s; top adds {top_cost:.0} \
         commands/s ({:.0} KB/s from Redis): {cost:.0?}",
        total(&workers),
        bytes / 1000.0
    );
    assert!(
        top_cost < BUDGET,
        "top costs {top_cost:.0} commands/s: {cost:.0?}"
    );
}
