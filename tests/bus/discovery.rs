//! Every serving instance registers itself with everything tools need, keeps
//! the registration alive with its heartbeat, disappears by itself when
//! killed, and at once when stopped; discovery lists services, instances and
//! descriptors and reports changes; nothing here uses KEYS.

use crate::common;

use std::time::{Duration, SystemTime};

use generated_examples::math::math_bus::{self, MathServer};
use generated_examples::random::random_bus::RandomServer;
use generated_examples::services::RandomService;
use redis_bus::{Change, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_worker_appears_with_its_registration() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .add_service(RandomServer::new(RandomService))
        .start()
        .await
        .unwrap();
    let discovery = bus.discovery();

    let services = discovery.services().await.unwrap();
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["math.Math", "random.Random"]);
    let math = &services[0];
    assert_eq!(math.versions, vec![("1.2.0".to_owned(), 1)]);
    assert_eq!(math.instances, 1);
    let sum = math
        .methods
        .iter()
        .find(|m| m.name == "Sum")
        .expect("Sum is registered");
    assert_eq!(sum.cache_key.as_deref(), Some("{a}/{b}"));
    assert_eq!(sum.cache_ttl_seconds, Some(3600));
    assert!(sum.idempotent);
    assert_eq!(
        sum.schema_fingerprint,
        math_bus::methods::SUM.schema_fingerprint
    );
    let random = &services[1];
    let password = random
        .methods
        .iter()
        .find(|m| m.name == "Password")
        .unwrap();
    assert_eq!(password.timeout_ms, Some(2000));

    let instances = discovery.instances("math.Math").await.unwrap();
    assert_eq!(instances.len(), 1);
    let instance = &instances[0];
    assert_eq!(instance.id, server.instance_id());
    assert_eq!(instance.version, "1.2.0");
    assert_eq!(instance.pid, std::process::id());
    assert!(!instance.host.is_empty());
    let age = SystemTime::now()
        .duration_since(instance.started_at)
        .unwrap();
    assert!(age < Duration::from_secs(60), "started just now: {age:?}");
    assert_eq!(&instance.descriptors[..], math_bus::FILE_DESCRIPTOR_SET);

    let pool = discovery
        .descriptors("math.Math")
        .await
        .unwrap()
        .expect("math is live");
    let service = pool.get_service_by_name("math.Math").expect("described");
    assert_eq!(
        service
            .methods()
            .map(|m| m.name().to_owned())
            .collect::<Vec<_>>(),
        ["Sum", "Now"]
    );
    assert!(discovery.descriptors("nope.Nope").await.unwrap().is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_stop_deregisters_at_once() {
    let (_redis, bus) = common::redis_and_bus().await;
    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    assert_eq!(
        bus.discovery().instances("math.Math").await.unwrap().len(),
        1
    );
    server.shutdown().await.unwrap();
    assert!(
        bus.discovery()
            .instances("math.Math")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(bus.discovery().services().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_disappears_by_itself_within_the_heartbeat_bound() {
    let (redis, bus) = common::redis_and_bus().await;
    let mut worker = common::process::spawn_math_worker(&redis.url(), "test", Duration::ZERO);
    let discovery = bus.discovery();
    assert_eq!(discovery.instances("math.Math").await.unwrap().len(), 1);

    worker.kill().expect("kill the worker");
    worker.wait().expect("reap it");
    // The registration lives 600 ms after the last heartbeat (the tests'
    // setting); nothing else is running that could remove it.
    let bound = tokio::time::Instant::now() + Duration::from_secs(3);
    while !discovery.instances("math.Math").await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < bound,
            "the dead worker is still listed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next change, within a bound.
async fn next_change(watch: &mut redis_bus::Watch) -> Change {
    tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("a change within the bound")
        .expect("the watch goes on")
        .expect("the registry reads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reports_services_and_instances_coming_and_going() {
    let (redis, bus) = common::redis_and_bus().await;
    let mut watch = bus.discovery().watch().await.unwrap();

    let server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    assert_eq!(
        next_change(&mut watch).await,
        Change::ServiceUp {
            service: "math.Math".into()
        }
    );
    match next_change(&mut watch).await {
        Change::InstanceUp(instance) => {
            assert_eq!(instance.id, server.instance_id());
            assert!(
                instance.methods.iter().any(|m| m.name == "Now"),
                "methods travel along"
            );
        }
        other => panic!("expected the instance to come up, got {other:?}"),
    }

    let mut killed = common::process::spawn_math_worker(&redis.url(), "test", Duration::ZERO);
    let killed_id = match next_change(&mut watch).await {
        Change::InstanceUp(instance) => instance.id,
        other => panic!("expected the second instance, got {other:?}"),
    };
    killed.kill().unwrap();
    killed.wait().unwrap();
    match next_change(&mut watch).await {
        Change::InstanceDown { id, .. } => assert_eq!(id, killed_id, "the killed worker went down"),
        other => panic!("expected the killed instance to go down, got {other:?}"),
    }

    let id = server.instance_id().to_owned();
    server.shutdown().await.unwrap();
    assert_eq!(
        next_change(&mut watch).await,
        Change::InstanceDown {
            service: "math.Math".into(),
            version: "1.2.0".into(),
            id
        }
    );
    assert_eq!(
        next_change(&mut watch).await,
        Change::ServiceDown {
            service: "math.Math".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_is_read_without_keys_or_scan() {
    let (redis, bus) = common::redis_and_bus().await;
    let _server = Server::new(&bus)
        .add_service(MathServer::new(common::Calculator::default()))
        .start()
        .await
        .unwrap();
    let mut inspect = common::inspect(&redis);
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut inspect)
        .unwrap();
    bus.discovery().services().await.unwrap();
    bus.discovery().instances("math.Math").await.unwrap();
    bus.discovery().descriptors("math.Math").await.unwrap();
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut inspect)
        .unwrap();
    assert!(stats.contains("cmdstat_smembers"), "{stats}");
    assert!(
        !stats.contains("cmdstat_keys") && !stats.contains("cmdstat_scan"),
        "{stats}"
    );
}
