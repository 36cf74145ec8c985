//! Injected faults on the Fal side: each kind, counts, targets.

use std::time::{Duration, Instant};

use provider_sandbox::client::{ALL_FAL_MODELS, Fault, FaultKind};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{FAL_KEY, TestApp};

const MODEL: &str = "fal-ai/nano-banana-pro";

fn body() -> serde_json::Value {
    json!({"prompt": "a paper boat", "image_size": {"width": 128, "height": 128}})
}

#[tokio::test]
async fn rate_limit_and_server_error_refuse_the_submit() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::once(MODEL, FaultKind::RateLimit))
        .await
        .unwrap();
    app.client
        .set_fault(&Fault::once(MODEL, FaultKind::ServerError))
        .await
        .unwrap();
    let (status, answer) = app.submit(MODEL, &body()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer["detail"].is_string());
    let (status, _) = app.submit(MODEL, &body()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let submitted = app.submit_ok(MODEL, &body()).await;
    app.wait_completed(&submitted).await;

    let stats = app.client.stats().await.unwrap();
    let model = stats.model(MODEL);
    assert_eq!(
        (
            model.rejected_429,
            model.refused,
            model.submitted,
            model.completed
        ),
        (1, 1, 1, 1)
    );
    assert!(app.client.faults().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_stuck_request_stays_queued_until_cancelled() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::once(MODEL, FaultKind::Stuck))
        .await
        .unwrap();
    let stuck = app.submit_ok(MODEL, &body()).await;
    // A request behind it completes; the stuck one has not moved.
    let next = app.submit_ok(MODEL, &body()).await;
    assert_eq!(next.queue_position, 1);
    app.wait_completed(&next).await;
    let status = app.status(&stuck).await;
    assert_eq!(status["status"], "IN_QUEUE");
    assert_eq!(status["queue_position"], 0);
    assert_eq!(app.client.stats().await.unwrap().key(FAL_KEY).in_flight, 1);

    let (cancelled, _) = app.cancel(&stuck.cancel_url).await;
    assert_eq!(cancelled, StatusCode::ACCEPTED);
    let (status, _) = app.wait_completed(&stuck).await;
    assert_eq!(status["error_type"], "request_cancelled");
    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.key(FAL_KEY).in_flight, 0);
    assert_eq!(stats.model(MODEL).cancelled, 1);
}

#[tokio::test]
async fn failed_requests_are_retryable_500s() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::once(MODEL, FaultKind::Failed))
        .await
        .unwrap();
    let (status, answer) = app.outcome(MODEL, &body()).await;
    assert_eq!(status["status"], "COMPLETED");
    assert_eq!(status["error_type"], "runner_server_error");
    assert!(status["error"].is_string());
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.headers["x-fal-retryable"], "true");
    assert!(answer.body["detail"].is_string());
    assert_eq!(app.client.stats().await.unwrap().model(MODEL).failed, 1);
}

#[tokio::test]
async fn rejected_prompts_are_content_policy_violations() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::once(MODEL, FaultKind::Rejected))
        .await
        .unwrap();
    let (status, answer) = app.outcome(MODEL, &body()).await;
    assert_eq!(status["error_type"], "content_policy_violation");
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = &answer.body["detail"][0];
    assert_eq!(detail["loc"], json!(["body", "prompt"]));
    assert_eq!(detail["type"], "content_policy_violation");
    assert!(detail["msg"].as_str().unwrap().contains("rejected"));
}

#[tokio::test]
async fn slow_requests_take_longer() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::slow(MODEL, 400).count(1))
        .await
        .unwrap();
    let started = Instant::now();
    let submitted = app.submit_ok(MODEL, &body()).await;
    app.wait_completed(&submitted).await;
    assert!(started.elapsed() >= Duration::from_millis(400 + 50));
    assert_eq!(
        app.get(&submitted.response_url).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_results_have_no_images() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::once(MODEL, FaultKind::Malformed))
        .await
        .unwrap();
    let (status, answer) = app.outcome(MODEL, &body()).await;
    assert!(status.get("error").is_none());
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.get("images").is_none(), "{}", answer.body);
    assert!(answer.body["seed"].is_u64());
}

#[tokio::test]
async fn faults_hit_their_target_for_their_count() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::new(MODEL, FaultKind::RateLimit).count(2))
        .await
        .unwrap();
    // Another model is not hit.
    assert_eq!(
        app.submit("fal-ai/flux/dev", &body()).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.submit(MODEL, &body()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let faults = app.client.faults().await.unwrap();
    assert_eq!(faults[0].remaining, Some(1));
    assert_eq!(
        app.submit(MODEL, &body()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(app.submit(MODEL, &body()).await.0, StatusCode::OK);

    // `*` hits every Fal model until cleared, but not chat.
    app.client
        .set_fault(&Fault::new(ALL_FAL_MODELS, FaultKind::ServerError))
        .await
        .unwrap();
    for model in [MODEL, "fal-ai/flux/dev", "fal-ai/nano-banana/edit"] {
        let (status, _) = app
            .submit(
                model,
                &json!({"prompt": "x", "image_urls": ["https://example.invalid/a.png"]}),
            )
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{model}");
    }
    let chat = app
        .chat(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(chat.status, StatusCode::OK);
    assert_eq!(app.client.clear_faults().await.unwrap(), 1);
    assert_eq!(app.submit(MODEL, &body()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_running_request_can_be_cancelled() {
    let app = TestApp::spawn().await;
    app.client
        .set_fault(&Fault::slow(MODEL, 60_000).count(1))
        .await
        .unwrap();
    let submitted = app.submit_ok(MODEL, &body()).await;
    let deadline = Instant::now() + crate::helpers::DEADLINE;
    while app.status(&submitted).await["status"] != "IN_PROGRESS" {
        assert!(Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, answer) = app.cancel(&submitted.cancel_url).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(answer, json!({"status": "CANCELLATION_REQUESTED"}));
    let status = app.status(&submitted).await;
    assert_eq!(status["status"], "COMPLETED");
    assert_eq!(status["error"], "Request was cancelled");
    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.key(FAL_KEY).in_flight, 0);
    assert_eq!(stats.recent[0].error.as_deref(), Some("cancelled"));
}
