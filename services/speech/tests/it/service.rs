//! The service end to end: Jobs/SubmitJob in, NATS JetStream through the worker, events out; the inline
//! Transcribe call; health and availability without a model.

use std::time::Duration;

use job_pipeline::grpc::HEALTH_SERVICE as JOBS_SERVICE;
use job_pipeline::jetstream::{EVENTS_STREAM, Pipeline, input_key, message_id, subjects};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::{
    FailureReason, GetJobRequest, JobCompleted, JobContext, JobFailed, JobProgress, JobRequest,
    JobState, JobStatus, Operation, Transcript, job_completed,
};
use mediabot_proto::speech::v1::TranscribeRequest;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{TestApp, audio_fixture, poll_until, tiny_model_path, wav_16k};

const SPEECH_SERVICE: &str = "mediabot.speech.v1.Speech";

fn context() -> JobContext {
    JobContext {
        chat_id: 42,
        user_id: 7,
        status_message_id: 3,
        reply_to_message_id: 2,
        language_code: "en".into(),
        ..Default::default()
    }
}

fn submit_request(job_id: &str) -> JobRequest {
    language_request(job_id, "")
}

fn language_request(job_id: &str, language: &str) -> JobRequest {
    JobRequest {
        job_id: job_id.to_string(),
        operation: Some(Operation::transcribe(language)),
        input_key: input_key(job_id),
        mime_type: "audio/ogg".into(),
        file_name: String::new(),
        context: Some(context()),
        submitted_at_unix_ms: 0,
    }
}

async fn put_input(pipeline: &Pipeline, job_id: &str, bytes: &[u8]) {
    let mut reader = bytes;
    pipeline
        .media
        .put(input_key(job_id).as_str(), &mut reader)
        .await
        .expect("putting the input");
}

/// The last event on `subject` for `job_id`, if there is one yet.
async fn last_event<M: prost::Message + Default>(
    pipeline: &Pipeline,
    subject: &str,
    job_id: &str,
) -> Option<M> {
    let stream = pipeline.jetstream.get_stream(EVENTS_STREAM).await.ok()?;
    let message = stream.get_last_raw_message_by_subject(subject).await.ok()?;
    let event = M::decode(message.payload).ok()?;
    let id = format!("{job_id}.");
    let headers_match = message
        .headers
        .get("Nats-Msg-Id")
        .map(|v| v.as_str().starts_with(&id))
        .unwrap_or(false);
    headers_match.then_some(event)
}

async fn serving_status(app: &TestApp) -> i32 {
    let status = health_of(app, SPEECH_SERVICE).await;
    assert_eq!(
        health_of(app, JOBS_SERVICE).await,
        status,
        "Jobs and Speech are available together"
    );
    status
}

async fn health_of(app: &TestApp, service: &str) -> i32 {
    let mut health = HealthClient::new(app.channel().await);
    health
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status
}

#[tokio::test]
async fn voice_note_is_transcribed_end_to_end() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    assert_eq!(serving_status(&app).await, ServingStatus::Serving as i32);
    let job_id = mediabot_proto::JobId::random().to_string();
    put_input(&app.pipeline, &job_id, &audio_fixture("jfk-voice.ogg")).await;

    let mut client = app.jobs().await;
    let response = client
        .submit_job(submit_request(&job_id))
        .await
        .expect("submit")
        .into_inner();
    assert_eq!(response.job_id, job_id);
    assert_eq!(response.queue_position, 0);

    let completed: JobCompleted = poll_until(Duration::from_secs(60), "JobCompleted", || {
        last_event(&app.pipeline, subjects::COMPLETED, &job_id)
    })
    .await;
    assert_eq!(completed.job_id, job_id);
    assert_eq!(completed.context, Some(context()));
    assert_eq!(completed.operation, Some(Operation::transcribe("")));
    let Some(job_completed::Result::Transcript(transcript)) = completed.result else {
        panic!("a transcript: {completed:?}");
    };
    assert!(
        (transcript.audio_duration_ms as i64 - 11_000).abs() <= 100,
        "{transcript:?}"
    );
    assert!(!transcript.language.is_empty());

    let status = client
        .get_job(GetJobRequest {
            job_id: job_id.clone(),
        })
        .await
        .expect("get job")
        .into_inner();
    assert_eq!(status.state, JobState::Completed as i32);
    assert_eq!(
        status.completed.and_then(|c| c.result),
        Some(job_completed::Result::Transcript(transcript))
    );
    let progress: JobProgress = last_event(&app.pipeline, subjects::PROGRESS, &job_id)
        .await
        .expect("a progress event");
    assert_eq!(progress.state, JobState::Running as i32);
    assert_eq!(progress.context, Some(context()));
    // The request was acknowledged, so the work queue is empty again.
    poll_until(Duration::from_secs(10), "an empty work queue", || async {
        (app.pipeline
            .queue_depth(Service::Speech.stream())
            .await
            .ok()
            == Some(0))
        .then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn bad_audio_fails_the_job_with_its_reason() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let job_id = mediabot_proto::JobId::random().to_string();
    put_input(
        &app.pipeline,
        &job_id,
        b"this is a text file, not a voice note",
    )
    .await;
    let mut client = app.jobs().await;
    client
        .submit_job(submit_request(&job_id))
        .await
        .expect("submit");

    let failed: JobFailed = poll_until(Duration::from_secs(30), "JobFailed", || {
        last_event(&app.pipeline, subjects::FAILED, &job_id)
    })
    .await;
    assert_eq!(failed.reason, FailureReason::UnsupportedFormat as i32);
    assert_eq!(failed.context, Some(context()));
    let status = client
        .get_job(GetJobRequest { job_id })
        .await
        .expect("get job")
        .into_inner();
    assert_eq!(status.state, JobState::Failed as i32);
    app.stop().await;
}

/// Each kind of bad input fails its job with a reason the gateway can explain (and billing releases the
/// hold on any failure): zero length, not audio, a truncated voice note, silence, a video without sound, a
/// video cut off, too long, too big.
#[tokio::test]
async fn bad_inputs_fail_their_jobs_with_clear_reasons() {
    let app = TestApp::spawn_with(Some(tiny_model_path()), |config| {
        config.max_audio_secs = 5;
        config.max_input_bytes = 1 << 20;
    })
    .await;
    let voice = audio_fixture("jfk-voice.ogg");
    let cases: Vec<(&str, Vec<u8>, FailureReason)> = vec![
        ("zero length", Vec::new(), FailureReason::CorruptInput),
        (
            "a JPEG photo",
            crate::helpers::fixture("images/canon-40d.jpg"),
            FailureReason::UnsupportedFormat,
        ),
        (
            "a voice note cut in the middle of a page",
            voice[..voice.len() / 2 + 7].to_vec(),
            FailureReason::CorruptInput,
        ),
        (
            "3 s of silence",
            wav_16k(&[0.0; 48_000]),
            FailureReason::NoSpeech,
        ),
        (
            "11 s over a 5 s limit",
            audio_fixture("jfk.mp3"),
            FailureReason::TooLarge,
        ),
        (
            "a video recorded without sound",
            crate::video::without_sound_track(&crate::helpers::fixture(
                crate::video::VIDEO_NOTE_RU,
            )),
            FailureReason::NoSpeech,
        ),
        (
            "a video note cut off before its index",
            crate::helpers::fixture(crate::video::VIDEO_NOTE_RU)[..50_000].to_vec(),
            FailureReason::CorruptInput,
        ),
        (
            "an 11 s video over a 5 s limit",
            crate::helpers::fixture(crate::video::JFK_MP4),
            FailureReason::TooLarge,
        ),
        (
            "2 MiB over a 1 MiB limit",
            wav_16k(&vec![0.1; 1 << 20]),
            FailureReason::TooLarge,
        ),
    ];
    let mut client = app.jobs().await;
    let mut jobs = Vec::new();
    for (what, bytes, reason) in cases {
        let job_id = mediabot_proto::JobId::random().to_string();
        put_input(&app.pipeline, &job_id, &bytes).await;
        client
            .submit_job(submit_request(&job_id))
            .await
            .unwrap_or_else(|e| panic!("{what}: submit: {e}"));
        jobs.push((what, job_id, reason));
    }
    for (what, job_id, reason) in jobs {
        let status = poll_until(Duration::from_secs(60), what, || {
            let mut client = client.clone();
            let job_id = job_id.clone();
            async move {
                let status = client.get_job(GetJobRequest { job_id }).await.ok()?;
                let status = status.into_inner();
                (status.state == JobState::Failed as i32).then_some(status)
            }
        })
        .await;
        let failed = status.failed.expect("a JobFailed");
        assert_eq!(
            FailureReason::try_from(failed.reason),
            Ok(reason),
            "{what}: {}",
            failed.detail
        );
        assert!(!failed.detail.is_empty(), "{what}: a detail for the logs");
        eprintln!("{what}: {reason:?} — {}", failed.detail);
    }
    app.stop().await;
}

#[tokio::test]
async fn submit_validates_the_request() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let mut client = app.jobs().await;

    let mut bad_id = submit_request("not-a-uuid");
    bad_id.input_key = "in/x".into();
    let status = client.submit_job(bad_id).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    let job_id = mediabot_proto::JobId::random().to_string();
    let mut no_context = submit_request(&job_id);
    no_context.context = None;
    assert_eq!(
        client.submit_job(no_context).await.unwrap_err().code(),
        Code::InvalidArgument
    );

    assert_eq!(
        client
            .submit_job(language_request(&job_id, "klingon"))
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );

    let mut image_job = submit_request(&job_id);
    image_job.operation = Some(Operation::upscale(2));
    let status = client.submit_job(image_job).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "not speech's: {status:?}"
    );

    let status = client
        .submit_job(submit_request(&job_id))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "no input object: {status:?}");

    let status = client.get_job(GetJobRequest { job_id }).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn a_russian_voice_note_is_transcribed_with_the_language_asked_for() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let job_id = mediabot_proto::JobId::random().to_string();
    put_input(&app.pipeline, &job_id, &audio_fixture("ru-voice.ogg")).await;
    app.jobs()
        .await
        .submit_job(language_request(&job_id, "ru"))
        .await
        .expect("submit");
    let completed: JobCompleted = poll_until(Duration::from_secs(60), "JobCompleted", || {
        last_event(&app.pipeline, subjects::COMPLETED, &job_id)
    })
    .await;
    assert_eq!(completed.operation, Some(Operation::transcribe("ru")));
    let Some(job_completed::Result::Transcript(transcript)) = completed.result else {
        panic!("a transcript: {completed:?}");
    };
    assert_eq!(transcript.language, "ru", "the language asked for is used");
    app.stop().await;
}

#[tokio::test]
async fn transcribe_takes_inline_mp3() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let mut client = app.client().await;
    let transcript = client
        .transcribe(TranscribeRequest {
            audio: audio_fixture("jfk.mp3"),
            language: "en".into(),
            translate: false,
        })
        .await
        .expect("transcribe")
        .into_inner();
    assert!(
        (transcript.audio_duration_ms as i64 - 11_000).abs() <= 100,
        "{transcript:?}"
    );
    assert_eq!(transcript.language, "en");

    let status = client
        .transcribe(TranscribeRequest {
            audio: b"not audio".to_vec(),
            language: String::new(),
            translate: false,
        })
        .await;
    assert_eq!(status.unwrap_err().code(), Code::InvalidArgument);
    let status = client
        .transcribe(TranscribeRequest {
            audio: vec![],
            language: String::new(),
            translate: false,
        })
        .await;
    assert_eq!(status.unwrap_err().code(), Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn without_a_model_the_service_is_up_but_not_serving() {
    let app = TestApp::spawn(None).await;
    assert_eq!(serving_status(&app).await, ServingStatus::NotServing as i32);
    let job_id = mediabot_proto::JobId::random().to_string();
    put_input(&app.pipeline, &job_id, &audio_fixture("jfk-voice.ogg")).await;
    let mut client = app.client().await;

    let status = app
        .jobs()
        .await
        .submit_job(submit_request(&job_id))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("WHISPER_MODEL"),
        "{}",
        status.message()
    );
    let status = client
        .transcribe(TranscribeRequest {
            audio: audio_fixture("jfk.mp3"),
            language: String::new(),
            translate: false,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // Nothing was queued.
    assert_eq!(
        app.pipeline
            .queue_depth(Service::Speech.stream())
            .await
            .unwrap(),
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_job_that_already_completed_is_not_run_again() {
    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let job_id = mediabot_proto::JobId::random().to_string();
    // The outcome is on record but the request was never acknowledged (a worker died in between). The
    // input object is gone, so running the job again would fail it: the recorded outcome must win.
    let completed = JobCompleted {
        job_id: job_id.clone(),
        operation: Some(Operation::transcribe("auto")),
        context: Some(context()),
        result: Some(job_completed::Result::Transcript(Transcript {
            text: "recorded".into(),
            language: "en".into(),
            audio_duration_ms: 1234,
            translated: false,
            segments: Vec::new(),
        })),
        processing_ms: 1,
        completed_at_unix_ms: 1,
    };
    let status = JobStatus {
        job_id: job_id.clone(),
        operation: Some(Operation::transcribe("auto")),
        state: JobState::Completed as i32,
        completed: Some(completed.clone()),
        failed: None,
        updated_at_unix_ms: 1,
        context: None,
        ..Default::default()
    };
    app.pipeline.put_status(&status).await.unwrap();
    let request = language_request(&job_id, "auto");
    app.pipeline
        .publish(
            Service::Speech.requested_subject(),
            &message_id(&job_id, "requested"),
            &request,
        )
        .await
        .unwrap();

    let event: JobCompleted =
        poll_until(Duration::from_secs(30), "the recorded JobCompleted", || {
            last_event(&app.pipeline, subjects::COMPLETED, &job_id)
        })
        .await;
    assert_eq!(event, completed);
    assert!(
        last_event::<JobFailed>(&app.pipeline, subjects::FAILED, &job_id)
            .await
            .is_none()
    );
    app.stop().await;
}

/// A job may ask for less than the service's limit (the HTTP API does, for the length its hold covers):
/// longer audio fails as TOO_LARGE; a prompt and a temperature within range are accepted.
#[tokio::test]
async fn a_jobs_own_audio_limit_is_honoured() {
    use mediabot_proto::jobs::v1::operation::Params;

    let app = TestApp::spawn(Some(tiny_model_path())).await;
    let job_id = mediabot_proto::JobId::random().to_string();
    put_input(&app.pipeline, &job_id, &audio_fixture("jfk.wav")).await;
    let mut request = submit_request(&job_id);
    if let Some(Params::Transcribe(p)) = request.operation.as_mut().and_then(|o| o.params.as_mut())
    {
        p.max_audio_ms = 5_000;
        p.prompt = "President Kennedy".into();
        p.temperature = 0.2;
    }
    let mut client = app.jobs().await;
    client.submit_job(request).await.expect("submit");
    let failed: JobFailed = poll_until(Duration::from_secs(30), "JobFailed", || {
        last_event(&app.pipeline, subjects::FAILED, &job_id)
    })
    .await;
    assert_eq!(failed.reason, FailureReason::TooLarge as i32, "{failed:?}");

    // Out-of-range parameters are refused at submit.
    let job_id = mediabot_proto::JobId::random().to_string();
    put_input(&app.pipeline, &job_id, &audio_fixture("jfk.wav")).await;
    let mut request = submit_request(&job_id);
    if let Some(Params::Transcribe(p)) = request.operation.as_mut().and_then(|o| o.params.as_mut())
    {
        p.temperature = 1.5;
    }
    let refused = client.submit_job(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    app.stop().await;
}
