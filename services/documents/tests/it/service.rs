//! The service through gRPC and NATS: health, a document and a photo completed with their text stored
//! as the result object, bad files failed with the reason the user is told.

use std::time::Duration;

use mediabot_proto::jobs::v1::{FailureReason, Operation, job_completed};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::{Outcome, blank_jpeg, encrypted_pdf, fixture, spawn_app, true_lines};

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn serves_jobs_and_reports_serving() {
    let app = spawn_app().await;
    let status = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: "mediabot.jobs.v1.Jobs".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::Serving);

    let job = app
        .submit(
            &fixture("report-ru-en.pdf"),
            Operation::document_text("ru"),
            "report-ru-en.pdf",
        )
        .await;
    let Outcome::Completed(done) = app.wait_outcome(&job, DEADLINE).await else {
        panic!("the PDF failed");
    };
    let Some(job_completed::Result::Text(text)) = done.result else {
        panic!("not a text result: {done:?}");
    };
    assert_eq!((text.pages, text.source_format.as_str()), (3, "PDF"));
    assert_eq!(text.file_name, "report-ru-en.txt");
    assert_eq!(text.language, "ru,en");
    let whole = app.object_text(&text.output_key).await;
    assert_eq!(whole.chars().count() as u64, text.characters + 1);
    for line in true_lines() {
        assert!(whole.contains(&line), "{line:?} missing");
    }
    assert!(whole.starts_with(&text.text));

    let photo = app
        .submit(&fixture("page-photo-ru-en.jpg"), Operation::ocr("en"), "")
        .await;
    let Outcome::Completed(done) = app.wait_outcome(&photo, DEADLINE).await else {
        panic!("the photo failed");
    };
    let Some(job_completed::Result::Text(text)) = done.result else {
        panic!("not a text result");
    };
    assert_eq!((text.pages, text.source_format.as_str()), (1, "image"));
    assert_eq!(text.file_name, "text.txt");
    assert!(
        text.text.contains("Revenue grew by 12 percent"),
        "{}",
        text.text
    );
}

#[tokio::test]
async fn bad_files_fail_with_their_reason() {
    let app = spawn_app().await;
    let cases: [(Vec<u8>, Operation, &str, FailureReason); 4] = [
        (
            blank_jpeg(),
            Operation::ocr("ru"),
            "",
            FailureReason::NoText,
        ),
        (
            encrypted_pdf(),
            Operation::document_text("ru"),
            "secret.pdf",
            FailureReason::Encrypted,
        ),
        (
            b"\x7fELF\x02\x01\x01\0\0\0".repeat(50),
            Operation::document_text("en"),
            "notes.txt",
            FailureReason::UnsupportedFormat,
        ),
        (
            fixture("report-ru-en.pdf"),
            Operation::ocr("en"),
            "report.pdf",
            FailureReason::UnsupportedFormat,
        ),
    ];
    for (bytes, operation, name, expected) in cases {
        let job = app.submit(&bytes, operation, name).await;
        match app.wait_outcome(&job, DEADLINE).await {
            Outcome::Failed(failed) => assert_eq!(failed.reason(), expected, "{name}: {failed:?}"),
            Outcome::Completed(done) => panic!("{name} completed: {done:?}"),
        }
    }
}
