//! The gateway's metrics port: `/healthz`, `/readyz` (200 with NATS and billing up, 503 once billing is
//! down), Bot API calls counted by method and outcome, and a second poller's 409s, in `/metrics` — the gateway started through
//! `Application::build` against the sandbox (flood control on), a real nats-server and the real billing
//! binary. The recorder is process-wide, so these tests have a binary of their own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[allow(dead_code, reason = "the system serves the `it` binary too")]
#[path = "it/system.rs"]
mod system;

use std::time::{Duration, Instant};

use service_runtime::metrics::find_sample;
use system::{USER, start};

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// GETs `path` until it answers `status`, failing after `deadline` with the last answer.
async fn wait_for_status(addr: std::net::SocketAddr, path: &str, status: u16, deadline: Duration) {
    let end = Instant::now() + deadline;
    loop {
        let (got, body) = get(addr, path).await;
        if got == status {
            return;
        }
        assert!(
            Instant::now() < end,
            "{path} answered {got} ({body}) instead of {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn requests(text: &str, method: &str, outcome: &str) -> f64 {
    find_sample(
        text,
        "mediabot_telegram_requests_total",
        &[("method", method), ("outcome", outcome)],
    )
    .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readyz_follows_billing_and_bot_api_calls_and_polling_conflicts_are_counted() {
    let mut system = start().await;
    let addr = system.metrics_addr;
    assert_eq!(get(addr, "/healthz").await.0, 200);
    // billing reports SERVING once its settlement consumer is set up on NATS.
    wait_for_status(addr, "/readyz", 200, Duration::from_secs(30)).await;

    let (_, before) = get(addr, "/metrics").await;
    // getMe at start-up went through the counted client.
    assert!(requests(&before, "GetMe", "ok") >= 1.0, "{before}");
    let sent_before = requests(&before, "SendMessage", "ok");
    let reply = system.ask(USER, "en", "/balance").await;
    assert!(reply.contains("30"), "{reply}");
    // The sandbox shows the message before the gateway's client has read the response and counted
    // it, so wait for the count to move; then it must have moved by exactly one.
    let end = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let (_, after) = get(addr, "/metrics").await;
        if requests(&after, "SendMessage", "ok") > sent_before || Instant::now() >= end {
            break after;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        requests(&after, "SendMessage", "ok") - sent_before,
        1.0,
        "{after}"
    );
    assert!(
        find_sample(
            &after,
            "mediabot_telegram_request_seconds_count",
            &[("method", "SendMessage")]
        )
        .is_some_and(|n| n >= 1.0),
        "{after}"
    );
    assert!(
        find_sample(&after, "mediabot_process_resident_memory_bytes", &[])
            .is_some_and(|rss| rss > 1_000_000.0),
        "{after}"
    );

    // A second poller of the same bot (as a second replica in long-polling mode would be): Telegram
    // ends the gateway's long poll with 409, and the gateway counts it as a conflict (and logs what to
    // do).
    let conflicts = |text: &str| {
        find_sample(
            text,
            "mediabot_telegram_polling_errors_total",
            &[("kind", "conflict")],
        )
        .unwrap_or(0.0)
    };
    let (_, before) = get(addr, "/metrics").await;
    assert_eq!(conflicts(&before), 0.0, "{before}");
    // Another instance's getUpdates, without an offset (it confirms nothing).
    let url = format!("{}/bot{}/getUpdates", system.sandbox_url(), system::TOKEN);
    let _ = reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({ "timeout": 1 }))
        .send()
        .await
        .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, after) = get(addr, "/metrics").await;
        if conflicts(&after) >= 1.0 {
            break;
        }
        assert!(Instant::now() < end, "no polling conflict counted: {after}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The gateway polls on and still answers.
    let reply = system.ask(USER, "en", "/balance").await;
    assert!(reply.contains("30"), "{reply}");

    system.billing_process.kill();
    wait_for_status(addr, "/readyz", 503, Duration::from_secs(15)).await;
    let (_, body) = get(addr, "/readyz").await;
    assert!(body.contains("billing"), "{body}");
    // Alive all the same.
    assert_eq!(get(addr, "/healthz").await.0, 200);
}
