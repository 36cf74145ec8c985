//! billing's Prometheus metrics, scraped over HTTP from the metrics port of a service started as in
//! production (`Application::build`), on SQLite and on PostgreSQL. The recorder is process-wide, so these
//! tests live in a binary of their own and the backends run one after the other: every change in a
//! counter is this test's doing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[allow(dead_code, reason = "the helpers serve the `it` binary too")]
#[path = "it/helpers.rs"]
mod helpers;

use helpers::{Backend, job_id, spawn_app, upscale_2x};
use mediabot_proto::billing::v1::{CaptureRequest, ReleaseRequest};
use service_runtime::metrics::find_sample;

async fn scrape(addr: std::net::SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn holds(scrape: &str, outcome: &str) -> f64 {
    find_sample(
        scrape,
        "mediabot_billing_holds_total",
        &[("operation", "image.upscale"), ("outcome", outcome)],
    )
    .unwrap_or(0.0)
}

fn captured_minor(scrape: &str) -> f64 {
    find_sample(
        scrape,
        "mediabot_billing_captured_minor_total",
        &[("operation", "image.upscale")],
    )
    .unwrap_or(0.0)
}

/// Two reserves, a capture and a release — each repeated, as redelivered events and retries do — count
/// each transition once and the captured money once; a third hold left pending shows in the gauges.
async fn hold_transitions_are_counted_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = scrape(app.metrics_addr).await;
    let (charged, returned) = (job_id(), job_id());
    for _ in 0..2 {
        app.reserve(&charged, 42, upscale_2x()).await.unwrap();
        app.reserve(&returned, 42, upscale_2x()).await.unwrap();
    }
    let mut client = app.client.clone();
    for _ in 0..2 {
        client
            .capture(CaptureRequest {
                job_id: charged.clone(),
                amount_minor: None,
            })
            .await
            .unwrap();
        client
            .release(ReleaseRequest {
                job_id: returned.clone(),
            })
            .await
            .unwrap();
    }
    // A third hold stays pending: the sweeper's gauges count it (and it is not overdue: 30 min to go).
    app.reserve(&job_id(), 43, upscale_2x()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let after = loop {
        let after = scrape(app.metrics_addr).await;
        if find_sample(&after, "mediabot_billing_holds_pending", &[]) == Some(1.0) {
            break after;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "mediabot_billing_holds_pending is not 1 after 10 s: {after}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        find_sample(&after, "mediabot_billing_holds_overdue", &[]),
        Some(0.0)
    );
    assert_eq!(
        holds(&after, "placed") - holds(&before, "placed"),
        3.0,
        "{after}"
    );
    assert_eq!(holds(&after, "captured") - holds(&before, "captured"), 1.0);
    assert_eq!(holds(&after, "released") - holds(&before, "released"), 1.0);
    assert_eq!(holds(&after, "expired") - holds(&before, "expired"), 0.0);
    // image.upscale ×2 costs 500 kopecks in the shipped price list.
    assert_eq!(captured_minor(&after) - captured_minor(&before), 500.0);
    assert!(
        find_sample(&after, "mediabot_process_resident_memory_bytes", &[])
            .is_some_and(|rss| rss > 1_000_000.0),
        "no process RSS in {after}"
    );
    let health = reqwest::get(format!("http://{}/healthz", app.metrics_addr))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hold_metrics_on_sqlite_then_postgres() {
    hold_transitions_are_counted_once(Backend::Sqlite).await;
    hold_transitions_are_counted_once(Backend::Postgres).await;
}
