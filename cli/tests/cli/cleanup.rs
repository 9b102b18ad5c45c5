//! `cleanup`: every key of the bus removed, after a confirmation that a
//! script must give with `--yes`.

use crate::common::{redis_with_samples, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_refuses_without_yes_when_nobody_can_confirm() {
    let (redis, bus, _server) = redis_with_samples().await;
    let before = bus.count_keys().await.expect("counted");
    assert!(before > 0);
    // stdin is not a terminal (the test closes it): no prompt, no hang.
    let error = run(&redis, &["cleanup"]).await.error();
    assert_eq!(
        error,
        format!(
            "error: refusing to remove {before} keys of bus \"cli-test\" without \
             confirmation: stdin is not a terminal (pass --yes to remove them)\n"
        )
    );
    assert_eq!(
        bus.count_keys().await.expect("counted"),
        before,
        "nothing removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_with_yes_removes_every_key() {
    let (redis, bus, server) = redis_with_samples().await;
    run(&redis, &["call", "math.Math/Now", r#"{"seed": 1}"#])
        .await
        .ok();
    // With the workers stopped, nothing registers again afterwards.
    server.shutdown().await.expect("the workers stop");
    let before = bus.count_keys().await.expect("counted");
    assert!(before > 0, "the cached reply and statistics are kept");

    let out = run(&redis, &["cleanup", "--yes"]).await.ok();
    assert_eq!(
        out,
        format!("removed {before} keys from bus \"cli-test\"\n")
    );
    assert_eq!(bus.count_keys().await.expect("counted"), 0);

    let out = run(&redis, &["cleanup"]).await.ok();
    assert_eq!(out, "bus \"cli-test\" holds no keys\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_warns_of_live_workers() {
    let (redis, _bus, _server) = redis_with_samples().await;
    let out = run(&redis, &["cleanup", "-y"]).await.ok();
    assert!(
        out.ends_with(
            "\n1 worker is still live on the bus: it registers again with the next heartbeat; \
             stop it for the bus to stay empty\n"
        ) && out.starts_with("removed "),
        "{out}"
    );
}
