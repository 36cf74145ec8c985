//! The metrics port over real HTTP: `/metrics` renders what was recorded through the `metrics` facade
//! plus the process' own metrics, `/healthz` is always 200, `/readyz` follows the service's check. The
//! recorder is process-wide, so each test uses metric names no other test records.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use service_runtime::metrics::{MetricsServer, find_sample};
use tokio_util::sync::CancellationToken;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_render_counters_histograms_and_the_process() {
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(server.serve(shutdown.clone()));

    metrics::counter!("mediabot_runtime_test_total", "outcome" => "ok").increment(2);
    metrics::counter!("mediabot_runtime_test_total", "outcome" => "error").increment(1);
    metrics::histogram!("mediabot_runtime_test_seconds").record(0.3);
    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        find_sample(&text, "mediabot_runtime_test_total", &[("outcome", "ok")]),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        find_sample(
            &text,
            "mediabot_runtime_test_total",
            &[("outcome", "error")]
        ),
        Some(1.0)
    );
    // `_seconds` histograms are real Prometheus histograms with the shared buckets.
    assert_eq!(
        find_sample(
            &text,
            "mediabot_runtime_test_seconds_bucket",
            &[("le", "0.25")]
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        find_sample(
            &text,
            "mediabot_runtime_test_seconds_bucket",
            &[("le", "0.5")]
        ),
        Some(1.0)
    );
    assert_eq!(
        find_sample(&text, "mediabot_runtime_test_seconds_count", &[]),
        Some(1.0)
    );
    assert!(
        find_sample(&text, "mediabot_process_resident_memory_bytes", &[])
            .is_some_and(|rss| rss > 1_000_000.0),
        "{text}"
    );
    assert_eq!(get(addr, "/healthz").await.0, 200);
    // No check given: no readiness route.
    assert_eq!(get(addr, "/readyz").await.0, 404);

    shutdown.cancel();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn readyz_answers_the_check() {
    let ready = Arc::new(AtomicBool::new(false));
    let check = ready.clone();
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_readiness(move || {
            let ready = check.load(Ordering::SeqCst);
            async move {
                if ready {
                    Ok(())
                } else {
                    Err("billing is down".to_string())
                }
            }
        });
    let addr = server.local_addr();
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(shutdown.clone()));

    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready: billing is down\n")
    );
    assert_eq!(get(addr, "/healthz").await.0, 200);
    ready.store(true, Ordering::SeqCst);
    assert_eq!(get(addr, "/readyz").await.0, 200);
    shutdown.cancel();
}
