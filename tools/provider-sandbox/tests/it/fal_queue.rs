//! Fal's queue protocol: submit → status → result, the URLs it hands out, keys, validation, unknown ids,
//! cancelling, and the per-key concurrency cap.

use std::time::Duration;

use provider_sandbox::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{FAL_KEY, TestApp};

#[tokio::test]
async fn a_request_goes_through_the_queue_and_its_urls_name_only_owner_and_app() {
    let app = TestApp::spawn().await;
    let model = "fal-ai/bytedance/seedream/v4/text-to-image";
    let submitted = app
        .submit_ok(
            model,
            &json!({"prompt": "a lighthouse at dusk", "image_size": "square"}),
        )
        .await;
    let base = app.url(&format!(
        "/fal-ai/bytedance/requests/{}",
        submitted.request_id
    ));
    assert_eq!(submitted.response_url, base);
    assert_eq!(submitted.status_url, format!("{base}/status"));
    assert_eq!(submitted.cancel_url, format!("{base}/cancel"));
    assert_eq!(submitted.queue_position, 0);

    let (status, seen) = app.wait_completed(&submitted).await;
    assert_eq!(seen.last().map(String::as_str), Some("COMPLETED"));
    assert!(status.get("error").is_none(), "{status}");
    assert_eq!(status["response_url"], json!(submitted.response_url));
    let with_logs = app.get(&format!("{}?logs=1", submitted.status_url)).await;
    let logs = with_logs.body["logs"].as_array().unwrap();
    assert!(logs.len() >= 3, "{logs:?}");
    assert!(
        logs.iter()
            .all(|line| line["timestamp"].is_string() && line["message"].is_string())
    );

    let result = app.get(&submitted.response_url).await;
    assert_eq!(result.status, StatusCode::OK);
    let image = &result.body["images"][0];
    assert_eq!(image["width"], 512);
    assert_eq!(image["height"], 512);
    assert!(result.body["seed"].is_u64());

    // The subpath is not part of the request URLs, as on Fal.
    let with_subpath = app
        .get(&app.url(&format!(
            "/{model}/requests/{}/status",
            submitted.request_id
        )))
        .await;
    assert_eq!(with_subpath.status, StatusCode::NOT_FOUND);
    // Nor does another app's URL find it.
    let other_app = app
        .get(&app.url(&format!(
            "/fal-ai/flux/requests/{}/status",
            submitted.request_id
        )))
        .await;
    assert_eq!(other_app.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_status_shows_the_queue_then_the_work() {
    let app = TestApp::spawn_with(Config {
        // Long enough that the checks right after the submits land in the queue on a loaded machine.
        queue_time: Duration::from_millis(1000),
        work_time: Duration::from_millis(300),
        ..Config::for_tests()
    })
    .await;
    let first = app
        .submit_ok("fal-ai/flux/dev", &json!({"prompt": "one"}))
        .await;
    let second = app
        .submit_ok("fal-ai/flux/dev", &json!({"prompt": "two"}))
        .await;
    assert_eq!(second.queue_position, 1);
    let status = app.status(&second).await;
    assert_eq!(status["status"], "IN_QUEUE");
    assert_eq!(status["queue_position"], 1);
    let early = app.get(&first.response_url).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        early.body,
        json!({"detail": "Request is still in progress"})
    );
    let (_, seen) = app.wait_completed(&first).await;
    assert_eq!(seen, ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
}

#[tokio::test]
async fn keys_are_checked() {
    let app = TestApp::spawn().await;
    let body = json!({"prompt": "a cat"});
    let (status, answer) = app.submit_as("wrong-key", "fal-ai/flux/dev", &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(answer["detail"].is_string(), "{answer}");
    let no_header = app
        .http
        .post(app.url("/fal-ai/flux/dev"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_header.status(), StatusCode::UNAUTHORIZED);

    let submitted = app.submit_ok("fal-ai/flux/dev", &body).await;
    let status = app
        .http
        .get(&submitted.status_url)
        .header("Authorization", "Key wrong-key")
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_bodies_are_422_in_fal_s_shape() {
    let app = TestApp::spawn().await;
    let (status, answer) = app
        .submit("fal-ai/nano-banana-pro", &json!({"num_images": 1}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer,
        json!({"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]})
    );

    let (status, answer) = app
        .submit("fal-ai/nano-banana-pro", &json!({"prompt": ""}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["detail"][0]["loc"], json!(["body", "prompt"]));

    for (body, field) in [
        (
            json!({"prompt": "x", "image_size": {"width": 8000, "height": 512}}),
            "image_size",
        ),
        (
            json!({"prompt": "x", "image_size": {"width": 32, "height": 32}}),
            "image_size",
        ),
        (
            json!({"prompt": "x", "aspect_ratio": "50:1"}),
            "aspect_ratio",
        ),
        (json!({"prompt": "x", "num_images": 5}), "num_images"),
        (
            json!({"prompt": "x", "output_format": "gif"}),
            "output_format",
        ),
    ] {
        let (status, answer) = app.submit("fal-ai/flux/dev", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            answer["detail"][0]["loc"],
            json!(["body", field]),
            "{answer}"
        );
    }

    let not_json = app
        .http
        .post(app.url("/fal-ai/flux/dev"))
        .header("Authorization", format!("Key {FAL_KEY}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = not_json.json().await.unwrap();
    assert_eq!(answer["detail"][0]["type"], "json_invalid");

    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.model("fal-ai/flux/dev").refused, 6);
    assert_eq!(stats.model("fal-ai/flux/dev").submitted, 0);
}

#[tokio::test]
async fn unknown_requests_are_404() {
    let app = TestApp::spawn().await;
    let id = "3f0d6a4e-8a6c-4c39-9d0e-3f1f1b7a2a11";
    for url in [
        format!("/fal-ai/flux/requests/{id}/status"),
        format!("/fal-ai/flux/requests/{id}"),
        "/fal-ai/flux/requests/not-a-uuid".to_owned(),
    ] {
        assert_eq!(
            app.get(&app.url(&url)).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let (status, answer) = app
        .cancel(&app.url(&format!("/fal-ai/flux/requests/{id}/cancel")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer, json!({"status": "NOT_FOUND"}));
}

#[tokio::test]
async fn a_queued_request_can_be_cancelled_once() {
    let app = TestApp::spawn_with(Config {
        queue_time: Duration::from_secs(60),
        ..Config::for_tests()
    })
    .await;
    let submitted = app
        .submit_ok("fal-ai/flux/dev", &json!({"prompt": "x"}))
        .await;
    let (status, answer) = app.cancel(&submitted.cancel_url).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(answer, json!({"status": "CANCELLATION_REQUESTED"}));
    let status = app.status(&submitted).await;
    assert_eq!(status["status"], "COMPLETED");
    assert_eq!(status["error_type"], "request_cancelled");
    let result = app.get(&submitted.response_url).await;
    assert_eq!(result.status, StatusCode::BAD_REQUEST);
    assert_eq!(result.body, json!({"detail": "Request was cancelled"}));
    let (again, answer) = app.cancel(&submitted.cancel_url).await;
    assert_eq!(again, StatusCode::BAD_REQUEST);
    assert_eq!(answer, json!({"status": "ALREADY_COMPLETED"}));

    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.model("fal-ai/flux/dev").cancelled, 1);
    assert_eq!(stats.key(FAL_KEY).in_flight, 0);
}

#[tokio::test]
async fn each_key_may_have_ten_requests_in_flight() {
    let app = TestApp::spawn_with(Config {
        queue_time: Duration::from_secs(60),
        fal_keys: vec![FAL_KEY.to_owned(), "second-key".to_owned()],
        ..Config::for_tests()
    })
    .await;
    let app = std::sync::Arc::new(app);
    let mut submits = JoinSet::new();
    for n in 0..11 {
        let app = app.clone();
        submits.spawn(async move {
            app.submit(
                "fal-ai/flux/dev",
                &json!({"prompt": format!("request {n}")}),
            )
            .await
        });
    }
    let answers = submits.join_all().await;
    let accepted: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, body)| body)
        .collect();
    assert_eq!((accepted.len(), refused.len()), (10, 1), "{answers:?}");
    assert_eq!(
        refused[0],
        &json!({"detail": "Too many concurrent requests for this key"})
    );
    let mut positions: Vec<u64> = accepted
        .iter()
        .map(|body| body["queue_position"].as_u64().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..10).collect::<Vec<_>>());

    // Another key has a cap of its own.
    let (status, _) = app
        .submit_as(
            "second-key",
            "fal-ai/flux/dev",
            &json!({"prompt": "other key"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.key(FAL_KEY).in_flight, 10);
    assert_eq!(stats.key(FAL_KEY).max_in_flight, 10);
    assert_eq!(stats.key("second-key").max_in_flight, 1);
    assert_eq!(stats.model("fal-ai/flux/dev").rejected_429, 1);

    // A cancel frees a slot.
    let cancel_url = accepted[0]["cancel_url"].as_str().unwrap();
    assert_eq!(app.cancel(cancel_url).await.0, StatusCode::ACCEPTED);
    let (status, _) = app
        .submit("fal-ai/flux/dev", &json!({"prompt": "again"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.client.stats().await.unwrap().key(FAL_KEY).max_in_flight,
        10
    );
}

#[tokio::test]
async fn other_paths_are_404_and_health_is_ok() {
    let app = TestApp::spawn().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
    assert_eq!(
        app.get(&app.url("/files/nothing.png")).await.status,
        StatusCode::NOT_FOUND
    );
    let (status, _) = app.submit("single-segment", &json!({"prompt": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
