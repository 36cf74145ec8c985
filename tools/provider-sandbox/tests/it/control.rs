//! The control API through the typed client: faults listed and refused, stats with recent requests, reset.

use std::time::Duration;

use provider_sandbox::{
    Config,
    client::{Api, Fault, FaultKind},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{FAL_KEY, TestApp, jpeg_fixture};

#[tokio::test]
async fn stats_list_recent_requests_with_data_uris_shortened() {
    let app = TestApp::spawn().await;
    let input = jpeg_fixture("images/canon-40d.jpg");
    let result = app
        .generate(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "sepia", "image_urls": [input]}),
        )
        .await;
    assert!(result["images"][0]["url"].is_string());
    let stats = app.client.stats().await.unwrap();
    let recent = &stats.recent[0];
    assert_eq!(recent.api, Api::Fal);
    assert_eq!(recent.model, "fal-ai/nano-banana/edit");
    assert_eq!(recent.status, "COMPLETED");
    assert_eq!(recent.input["prompt"], "sepia");
    let shown = recent.input["image_urls"][0].as_str().unwrap();
    assert!(
        shown.starts_with("data:image/jpeg;base64,") && shown.ends_with(" bytes)"),
        "{shown}"
    );
    assert!(shown.len() < 80);
    let model = stats.model("fal-ai/nano-banana/edit");
    assert_eq!((model.submitted, model.completed, model.failed), (1, 1, 0));
    assert_eq!(stats.key(FAL_KEY).max_in_flight, 1);
}

#[tokio::test]
async fn bad_faults_are_refused() {
    let app = TestApp::spawn().await;
    for fault in [
        Fault::new("", FaultKind::Failed),
        Fault::new("fal-ai/flux/dev", FaultKind::Failed).count(0),
        Fault::new("chat", FaultKind::Rejected),
    ] {
        let err = app.client.set_fault(&fault).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{fault:?}");
    }
    let raw = app
        .http
        .post(app.url("/sandbox/faults"))
        .json(&json!({"target": "x", "kind": "explode"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let first = app.client.set_fault(&Fault::slow("x", 5)).await.unwrap();
    let second = app
        .client
        .set_fault(&Fault::new("y", FaultKind::Malformed))
        .await
        .unwrap();
    assert!(second > first);
    let faults = app.client.faults().await.unwrap();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0].fault.delay_ms, Some(5));
    assert_eq!(faults[1].remaining, None);
}

#[tokio::test]
async fn reset_forgets_everything() {
    let app = TestApp::spawn_with(Config {
        queue_time: Duration::from_secs(60),
        ..Config::for_tests()
    })
    .await;
    let submitted = app
        .submit_ok("fal-ai/flux/dev", &json!({"prompt": "x"}))
        .await;
    app.client
        .set_fault(&Fault::new("*", FaultKind::Failed))
        .await
        .unwrap();
    app.client.reset().await.unwrap();
    let stats = app.client.stats().await.unwrap();
    assert!(stats.models.is_empty() && stats.keys.is_empty() && stats.recent.is_empty());
    assert!(app.client.faults().await.unwrap().is_empty());
    assert_eq!(
        app.get(&submitted.status_url).await.status,
        StatusCode::NOT_FOUND
    );
    // The cap starts again from zero.
    let again = app
        .submit_ok("fal-ai/flux/dev", &json!({"prompt": "x"}))
        .await;
    assert_eq!(again.queue_position, 0);
}
