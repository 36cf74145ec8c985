//! speech's Prometheus metrics, scraped over HTTP from the metrics port of the service started as in
//! production (`Application::build`) with a real model file and a real nats-server: the model's load
//! time, and the job pipeline's counters for a transcription job. The recorder is process-wide, so this
//! test has a binary of its own.
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

use std::time::Duration;

use helpers::{TestApp, poll_until, tiny_model_path};
use job_pipeline::jetstream::input_key;
use mediabot_proto::jobs::v1::{JobContext, JobRequest, Operation};
use service_runtime::metrics::find_sample;

async fn scrape(addr: std::net::SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn model_load_time_and_a_failed_transcription_are_exported() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let text = scrape(app.metrics_addr).await;
    let load = find_sample(
        &text,
        "mediabot_speech_model_load_seconds",
        &[("model", "speech-tiny-model.bin")],
    );
    assert!(load.is_some_and(|s| s > 0.0 && s < 60.0), "{text}");

    let job_id = mediabot_proto::JobId::random().to_string();
    app.pipeline
        .media
        .put(
            input_key(&job_id).as_str(),
            &mut &b"this is a text file, not a voice note"[..],
        )
        .await
        .unwrap();
    app.jobs()
        .await
        .submit_job(JobRequest {
            job_id: job_id.clone(),
            operation: Some(Operation::transcribe("en")),
            input_key: input_key(&job_id),
            mime_type: "audio/ogg".into(),
            file_name: String::new(),
            context: Some(JobContext {
                chat_id: 42,
                user_id: 7,
                status_message_id: 0,
                reply_to_message_id: 0,
                language_code: "en".into(),
                ..Default::default()
            }),
            submitted_at_unix_ms: 0,
        })
        .await
        .unwrap();
    let labels = [
        ("service", "speech"),
        ("operation", "speech.transcribe"),
        ("outcome", "failed_input"),
    ];
    let text = poll_until(
        Duration::from_secs(30),
        "the failed job's metrics",
        || async {
            let text = scrape(app.metrics_addr).await;
            find_sample(&text, "mediabot_jobs_total", &labels).map(|_| text)
        },
    )
    .await;
    assert_eq!(
        find_sample(&text, "mediabot_jobs_total", &labels),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        find_sample(
            &text,
            "mediabot_jobs_total",
            &[("service", "speech"), ("outcome", "completed")]
        ),
        None,
        "{text}"
    );
    assert_eq!(
        find_sample(&text, "mediabot_job_run_seconds_count", &labels),
        Some(1.0),
        "{text}"
    );
    app.stop().await;
}
