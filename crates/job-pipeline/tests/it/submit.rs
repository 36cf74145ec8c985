//! Submit through the one Jobs gRPC service: validation and its status codes, QUEUED, idempotency,
//! queue position, availability (health and FAILED_PRECONDITION).

use job_pipeline::JobQueue;
use job_pipeline::grpc::{self, HEALTH_SERVICE};
use job_pipeline::jetstream::Pipeline;
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::jobs::v1::{GetJobRequest, JobRequest, JobState, JobStatus, Operation};
use nats_test_server::NatsServer;
use prost::Message as _;
use service_runtime::grpc::GrpcServer;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_types::StatusExt as _;

use crate::helpers::{context, pipeline, put_input, request, wait_for_depth};

struct Served {
    client: JobsClient<Channel>,
    health: HealthClient<Channel>,
    pipeline: Pipeline,
    shutdown: CancellationToken,
    _nats: NatsServer,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The imaging job queue served over gRPC, as a worker service mounts it.
async fn serve(available: bool) -> Served {
    let nats = NatsServer::start().unwrap();
    let pipeline = pipeline(&nats).await;
    let mut queue = JobQueue::new(pipeline.clone(), Service::Imaging);
    if !available {
        queue = queue.not_available("no image codecs on this installation (set IMAGING_CODECS)");
    }
    let server = grpc::mount(GrpcServer::new().unwrap(), queue).await;
    let listener = service_runtime::grpc::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(listener, shutdown.clone()));
    let channel = tonic::transport::Endpoint::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    Served {
        client: JobsClient::new(channel.clone()),
        health: HealthClient::new(channel),
        pipeline,
        shutdown,
        _nats: nats,
    }
}

impl Served {
    async fn submit(&self, request: JobRequest) -> Result<u64, tonic::Status> {
        self.client
            .clone()
            .submit_job(request)
            .await
            .map(|r| r.into_inner().queue_position)
    }

    async fn get_job(&self, job_id: &str) -> Result<JobStatus, tonic::Status> {
        self.client
            .clone()
            .get_job(GetJobRequest {
                job_id: job_id.into(),
            })
            .await
            .map(|r| r.into_inner())
    }

    async fn health(&self) -> ServingStatus {
        self.health
            .clone()
            .check(HealthCheckRequest {
                service: HEALTH_SERVICE.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status()
    }
}

/// The field a BadRequest detail of an INVALID_ARGUMENT names.
fn bad_field(status: &tonic::Status) -> String {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

#[tokio::test]
async fn submit_validates_once_and_maps_every_error() {
    let app = serve(true).await;
    assert_eq!(app.health().await, ServingStatus::Serving);
    let job_id = put_input(&app.pipeline, b"input").await;

    let mut bad = request(&job_id);
    bad.job_id = "not-a-uuid".into();
    assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), "job_id");

    let mut bad = request(&job_id);
    bad.operation = None;
    assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), "operation");
    let mut bad = request(&job_id);
    bad.operation = Some(Operation::upscale(3));
    assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), "operation");
    let mut bad = request(&job_id);
    bad.operation = Some(Operation::transcribe("ru"));
    let status = app.submit(bad).await.unwrap_err();
    assert_eq!(bad_field(&status), "operation");
    assert!(status.message().contains("speech"), "{}", status.message());

    let mut bad = request(&job_id);
    bad.input_key = " ".into();
    assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), "input_key");
    let mut bad = request(&job_id);
    bad.context = None;
    assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), "context");
    for (field, mut context) in [
        ("context.chat_id", context()),
        ("context.user_id", context()),
    ] {
        if field == "context.chat_id" {
            context.chat_id = 0;
        } else {
            context.user_id = 0;
        }
        let mut bad = request(&job_id);
        bad.context = Some(context);
        assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), field);
    }

    let missing = mediabot_proto::JobId::random().to_string();
    let status = app.submit(request(&missing)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "no input object: {status:?}");
    assert_eq!(
        app.get_job(&missing).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(bad_field(&app.get_job("nope").await.unwrap_err()), "job_id");

    // Nothing invalid was queued or given a status.
    assert_eq!(
        app.pipeline
            .queue_depth(Service::Imaging.stream())
            .await
            .unwrap(),
        0
    );
    assert!(app.pipeline.get_status(&job_id).await.unwrap().is_none());
}

/// The queued message is the request as validated: canonical id, submit time set.
async fn queued_request(pipeline: &Pipeline) -> JobRequest {
    let stream = pipeline
        .jetstream
        .get_stream(Service::Imaging.stream())
        .await
        .unwrap();
    let message = stream
        .get_last_raw_message_by_subject(Service::Imaging.requested_subject())
        .await
        .unwrap();
    JobRequest::decode(message.payload).unwrap()
}

#[tokio::test]
async fn submit_queues_once_with_its_position_and_never_moves_a_job_back() {
    let app = serve(true).await;
    let first = put_input(&app.pipeline, b"one").await;
    let second = put_input(&app.pipeline, b"two").await;

    // Upper case: the canonical form is what is queued and answered.
    let mut upper = request(&first);
    upper.job_id = first.to_uppercase();
    let response = app
        .client
        .clone()
        .submit_job(upper)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (response.job_id.as_str(), response.queue_position),
        (first.as_str(), 0)
    );
    let queued = queued_request(&app.pipeline).await;
    assert_eq!(queued.job_id, first);
    assert!(queued.submitted_at_unix_ms > 0);
    assert_eq!(queued.context, Some(context()));
    assert_eq!(
        app.get_job(&first).await.unwrap().state,
        JobState::Queued as i32
    );

    assert_eq!(
        app.submit(request(&second)).await.unwrap(),
        1,
        "one job ahead"
    );
    // A double tap: the same job again is de-duplicated, not queued twice.
    app.submit(request(&first)).await.unwrap();
    wait_for_depth(&app.pipeline, Service::Imaging, 2).await;

    // A job a worker already took is answered without being queued again or moved back to QUEUED.
    let mut running = app.get_job(&second).await.unwrap();
    running.state = JobState::Running as i32;
    app.pipeline.put_status(&running).await.unwrap();
    assert_eq!(app.submit(request(&second)).await.unwrap(), 0);
    assert_eq!(
        app.get_job(&second).await.unwrap().state,
        JobState::Running as i32
    );
    wait_for_depth(&app.pipeline, Service::Imaging, 2).await;
}

#[tokio::test]
async fn an_unavailable_service_refuses_jobs_and_is_not_serving() {
    let app = serve(false).await;
    assert_eq!(app.health().await, ServingStatus::NotServing);
    let job_id = put_input(&app.pipeline, b"input").await;
    let status = app.submit(request(&job_id)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("IMAGING_CODECS"),
        "{}",
        status.message()
    );
    assert_eq!(
        app.pipeline
            .queue_depth(Service::Imaging.stream())
            .await
            .unwrap(),
        0
    );
    // Validation still comes first: a malformed request is INVALID_ARGUMENT either way.
    let mut bad = request(&job_id);
    bad.job_id = "nope".into();
    assert_eq!(bad_field(&app.submit(bad).await.unwrap_err()), "job_id");
}

#[tokio::test]
async fn a_queued_job_knows_how_many_jobs_are_ahead_of_it_as_the_queue_moves() {
    let app = serve(true).await;
    let mut jobs = Vec::new();
    for bytes in [b"one", b"two", b"six"] {
        let job_id = put_input(&app.pipeline, bytes).await;
        app.submit(request(&job_id)).await.unwrap();
        jobs.push(job_id);
    }
    let mut sequences = Vec::new();
    for job_id in &jobs {
        let status = app.get_job(job_id).await.unwrap();
        assert!(status.queue_sequence > 0, "{status:?}");
        sequences.push(status.queue_sequence);
    }
    let stream = Service::Imaging.stream();
    let mut positions = Vec::new();
    for &sequence in &sequences {
        positions.push(app.pipeline.queue_position(stream, sequence).await.unwrap());
    }
    assert_eq!(positions, [0, 1, 2]);

    // A worker takes the first two and finishes the second first: one job is left ahead of the third.
    let consumer = app
        .pipeline
        .durable_consumer(
            stream,
            Service::Imaging.consumer(),
            None,
            std::time::Duration::from_secs(30),
            5,
        )
        .await
        .unwrap();
    let mut batch = consumer.fetch().max_messages(2).messages().await.unwrap();
    let _first = futures::StreamExt::next(&mut batch).await.unwrap().unwrap();
    let second = futures::StreamExt::next(&mut batch).await.unwrap().unwrap();
    second.double_ack().await.unwrap();
    assert_eq!(
        app.pipeline
            .queue_position(stream, sequences[2])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.pipeline
            .queue_position(stream, sequences[0])
            .await
            .unwrap(),
        0
    );

    // Once RUNNING, a QUEUED-only change is refused and the status stays as the worker wrote it.
    let mut running = app.get_job(&jobs[0]).await.unwrap();
    running.state = JobState::Running as i32;
    app.pipeline.put_status(&running).await.unwrap();
    let amended = app
        .pipeline
        .amend_status(&jobs[0], JobState::Queued, |status| {
            status.queue_sequence = 999;
            true
        })
        .await
        .unwrap();
    assert!(!amended);
    assert_eq!(
        app.get_job(&jobs[0]).await.unwrap().queue_sequence,
        sequences[0]
    );
}
