//! The service end to end: Jobs/SubmitJob over gRPC, the worker through a real nats-server, the result in
//! the object store and the outcome events, for ×2 and ×4; plus the gRPC error codes and reflection.

use std::time::Duration;

use image::GenericImageView;
use job_pipeline::grpc::HEALTH_SERVICE;
use job_pipeline::jetstream::message_id;
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::{FailureReason, JobState, Operation, job_completed};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::helpers::{Outcome, context, fixture, request, spawn_app, spawn_app_with};

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upscales_a_rotated_photo_end_to_end() {
    let app = spawn_app().await;
    assert_eq!(app.health(HEALTH_SERVICE).await, ServingStatus::Serving);
    let job_id = app.put_input(&fixture("orientation/landscape_6.jpg")).await;

    let submitted = app.submit(&job_id).await.expect("accepted");
    assert_eq!(submitted.job_id, job_id);
    assert_eq!(submitted.queue_position, 0);

    let (outcome, progress) = app.wait_outcome(&job_id, DEADLINE).await;
    let Outcome::Completed(completed) = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    assert_eq!(completed.operation, Some(Operation::upscale(2)));
    assert_eq!(
        completed.context,
        Some(context()),
        "context copied verbatim"
    );
    assert!(
        progress
            .iter()
            .any(|p| p.state == JobState::Running as i32 && p.context == Some(context()))
    );
    let Some(job_completed::Result::Image(result)) = completed.result else {
        panic!("no image result")
    };
    assert_eq!(result.output_key, format!("out/{job_id}"));
    assert_eq!(
        (result.mime_type.as_str(), result.width_px, result.height_px),
        ("image/jpeg", 1200, 900)
    );
    assert!(!result.send_as_document);

    let bytes = app.read_object(&result.output_key).await;
    assert_eq!(bytes.len() as u64, result.size_bytes);
    let image = image::load_from_memory(&bytes).expect("the result decodes");
    assert_eq!(
        image.dimensions(),
        (1200, 900),
        "landscape, twice the oriented size"
    );

    let status = app.get_job(&job_id).await.expect("status");
    assert_eq!(status.state, JobState::Completed as i32);
    assert_eq!(
        status.completed.and_then(|c| c.result),
        Some(job_completed::Result::Image(result))
    );

    // Submitting the same job again is answered without running it again.
    let again = app.submit(&job_id).await.expect("idempotent");
    assert_eq!(
        (again.job_id.as_str(), again.queue_position),
        (job_id.as_str(), 0)
    );
    assert_eq!(
        app.get_job(&job_id).await.unwrap().state,
        JobState::Completed as i32
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_phone_photo_is_marked_for_sending_as_a_document() {
    let app = spawn_app().await;
    let job_id = app.put_input(&fixture("nokia-8.3-4608x1976.jpg")).await;
    app.submit(&job_id).await.expect("accepted");
    let (outcome, _) = app.wait_outcome(&job_id, DEADLINE).await;
    let Outcome::Completed(completed) = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    let Some(job_completed::Result::Image(result)) = completed.result else {
        panic!("no image result")
    };
    assert_eq!((result.width_px, result.height_px), (9216, 3952));
    assert!(result.send_as_document);
    let bytes = app.read_object(&result.output_key).await;
    assert_eq!(bytes.len() as u64, result.size_bytes);
    let reader = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .unwrap();
    assert_eq!(reader.into_dimensions().unwrap(), (9216, 3952));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_input_fails_with_corrupt_input() {
    let app = spawn_app().await;
    let job_id = app.put_input(&fixture("bad/corrupted.jpg")).await;
    app.submit(&job_id)
        .await
        .expect("accepted: the content is only checked by the worker");
    let (outcome, _) = app.wait_outcome(&job_id, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::CorruptInput as i32,
        "{}",
        failed.detail
    );
    assert_eq!(failed.context, Some(context()));
    assert!(!failed.detail.is_empty());
    let status = app.get_job(&job_id).await.expect("status");
    assert_eq!(status.state, JobState::Failed as i32);
    assert_eq!(
        status.failed.map(|f| f.reason),
        Some(FailureReason::CorruptInput as i32)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_fails_as_unsupported_and_a_vanished_input_as_missing() {
    let app = spawn_app().await;
    // HEIF is read since image.convert (libheif); a PDF is still not an image.
    let heif = app
        .put_input(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
        .await;
    app.submit(&heif).await.expect("accepted");
    let (outcome, _) = app.wait_outcome(&heif, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::UnsupportedFormat as i32,
        "{}",
        failed.detail
    );

    // A queued job whose input expired before a worker got to it.
    let job_id = mediabot_proto::JobId::random().to_string();
    app.pipeline
        .publish(
            Service::Imaging.requested_subject(),
            &message_id(&job_id, "requested"),
            &request(&job_id, Operation::upscale(2)),
        )
        .await
        .unwrap();
    let (outcome, _) = app.wait_outcome(&job_id, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::InputMissing as i32,
        "{}",
        failed.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_message_does_not_block_the_queue() {
    let app = spawn_app().await;
    app.pipeline
        .jetstream
        .publish(
            Service::Imaging.requested_subject(),
            "not protobuf \u{ff}".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let job_id = app.put_input(&fixture("canon-40d.jpg")).await;
    app.submit(&job_id).await.expect("accepted");
    let (outcome, _) = app.wait_outcome(&job_id, DEADLINE).await;
    assert!(matches!(outcome, Outcome::Completed(_)), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_and_get_errors() {
    let app = spawn_app().await;

    let missing = mediabot_proto::JobId::random().to_string();
    assert_eq!(
        app.submit(&missing).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        app.get_job(&missing).await.unwrap_err().code(),
        Code::NotFound
    );

    let status = app.submit("not-a-uuid").await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("job_id"), "{}", status.message());
    assert_eq!(
        app.get_job("not-a-uuid").await.unwrap_err().code(),
        Code::InvalidArgument
    );

    let job_id = app.put_input(&fixture("canon-40d.jpg")).await;
    let mut client = app.client.clone();
    for operation in [
        Operation::default(),
        Operation::upscale(3),
        Operation::transcribe("en"),
    ] {
        let status = client
            .submit_job(request(&job_id, operation.clone()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{operation:?}");
        assert!(
            status.message().contains("operation"),
            "{}",
            status.message()
        );
    }
    let mut no_context = request(&job_id, Operation::upscale(2));
    no_context.context = None;
    let status = client.submit_job(no_context).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("context"), "{}", status.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upscale_x4_end_to_end() {
    let app = spawn_app().await;
    let job_id = app.put_input(&fixture("orientation/landscape_8.jpg")).await;
    app.submit_upscale(&job_id, 4).await.expect("accepted");
    let (outcome, _) = app.wait_outcome(&job_id, DEADLINE).await;
    let Outcome::Completed(completed) = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    assert_eq!(completed.operation, Some(Operation::upscale(4)));
    let Some(job_completed::Result::Image(result)) = completed.result else {
        panic!("no image result")
    };
    assert_eq!(
        (result.mime_type.as_str(), result.width_px, result.height_px),
        ("image/jpeg", 2400, 1800),
        "four times the oriented 600x450"
    );
    let bytes = app.read_object(&result.output_key).await;
    let image = image::load_from_memory(&bytes).expect("the result decodes");
    assert_eq!(image.dimensions(), (2400, 1800));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upscale_x4_beyond_the_output_pixel_limit_fails_as_too_large() {
    // canon-40d is 100x68: ×2 is 27 200 pixels, ×4 is 108 800.
    let app = spawn_app_with(&["--max-output-pixels", "50000"]).await;
    let x4 = app.put_input(&fixture("canon-40d.jpg")).await;
    app.submit_upscale(&x4, 4).await.expect("accepted");
    let (outcome, _) = app.wait_outcome(&x4, DEADLINE).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("expected failure, got {outcome:?}")
    };
    assert_eq!(
        failed.reason,
        FailureReason::TooLarge as i32,
        "{}",
        failed.detail
    );
    assert_eq!(failed.operation, Some(Operation::upscale(4)));
    let x2 = app.put_input(&fixture("canon-40d.jpg")).await;
    app.submit_upscale(&x2, 2).await.expect("accepted");
    let (outcome, _) = app.wait_outcome(&x2, DEADLINE).await;
    assert!(matches!(outcome, Outcome::Completed(_)), "{outcome:?}");
}
