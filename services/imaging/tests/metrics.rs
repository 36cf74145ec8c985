//! imaging's Prometheus metrics — the job pipeline's, which every worker service gets — scraped over
//! HTTP from the metrics port of the service started as in production (`Application::build`) against a
//! real nats-server, after real jobs. The recorder is process-wide, so this test has a binary of its own:
//! every job counted is this test's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests fail loudly"
)]

#[allow(dead_code, reason = "the helpers serve the `it` binary too")]
#[path = "it/helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use helpers::{Outcome, fixture, spawn_app};
use service_runtime::metrics::find_sample;

async fn scrape(addr: std::net::SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Scrapes until `ready` holds for the exposition (the worker records a job's metrics right after
/// publishing its outcome), or fails after 10 s showing the last scrape.
async fn scrape_until(addr: std::net::SocketAddr, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(addr).await;
        if ready(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never got there:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn jobs(text: &str, outcome: &str) -> Option<f64> {
    find_sample(
        text,
        "mediabot_jobs_total",
        &[
            ("service", "imaging"),
            ("operation", "image.upscale"),
            ("outcome", outcome),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_upscale_and_one_corrupt_input_are_counted_with_their_latencies() {
    let app = spawn_app().await;
    let before = scrape(app.metrics_addr).await;
    assert_eq!(jobs(&before, "completed"), None, "{before}");

    let photo = app.put_input(&fixture("canon-40d.jpg")).await;
    app.submit(&photo).await.unwrap();
    let (outcome, _) = app.wait_outcome(&photo, Duration::from_secs(60)).await;
    assert!(matches!(outcome, Outcome::Completed(_)), "{outcome:?}");
    let corrupt = app.put_input(&fixture("bad/corrupted.jpg")).await;
    app.submit(&corrupt).await.unwrap();
    let (outcome, _) = app.wait_outcome(&corrupt, Duration::from_secs(60)).await;
    assert!(matches!(outcome, Outcome::Failed(_)), "{outcome:?}");

    let text = scrape_until(app.metrics_addr, |t| {
        jobs(t, "completed").is_some() && jobs(t, "failed_input").is_some()
    })
    .await;
    assert_eq!(jobs(&text, "completed"), Some(1.0), "{text}");
    assert_eq!(jobs(&text, "failed_input"), Some(1.0), "{text}");
    assert_eq!(jobs(&text, "failed_internal"), None, "{text}");
    let upscale = [("service", "imaging"), ("operation", "image.upscale")];
    // Both jobs waited in the queue once (first delivery) and ran once.
    assert_eq!(
        find_sample(&text, "mediabot_job_queue_wait_seconds_count", &upscale),
        Some(2.0),
        "{text}"
    );
    let completed = [
        ("service", "imaging"),
        ("operation", "image.upscale"),
        ("outcome", "completed"),
    ];
    assert_eq!(
        find_sample(&text, "mediabot_job_run_seconds_count", &completed),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        find_sample(&text, "mediabot_job_end_to_end_seconds_count", &completed),
        Some(1.0),
        "{text}"
    );
    // A real upscale takes time: the run's sum is positive, and end to end includes it.
    let run = find_sample(&text, "mediabot_job_run_seconds_sum", &completed).unwrap();
    let total = find_sample(&text, "mediabot_job_end_to_end_seconds_sum", &completed).unwrap();
    assert!(
        run > 0.0 && total + 0.002 >= run,
        "run {run} s, end to end {total} s"
    );
    // The work queue is empty again, as the consumer info sampled at start said too.
    assert_eq!(
        find_sample(
            &text,
            "mediabot_consumer_pending_messages",
            &[("stream", "JOBS_IMAGING"), ("consumer", "imaging-workers")],
        ),
        Some(0.0),
        "{text}"
    );
    assert!(
        find_sample(&text, "mediabot_process_resident_memory_bytes", &[])
            .is_some_and(|rss| rss > 1_000_000.0),
        "no process RSS in {text}"
    );
}
