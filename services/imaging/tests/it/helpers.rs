//! `spawn_app()`: the imaging service started through `Application::build` on port 0 against its own
//! nats-server, with a gRPC client and direct access to the JetStream pipeline for setting up inputs and
//! watching outcome events.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{self, DeliverPolicy};
use clap::Parser;
use futures::StreamExt;
use imaging::{Application, Config};
use job_pipeline::jetstream::{self, EVENTS_STREAM, Pipeline, subjects};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::jobs::v1::{
    GetJobRequest, JobCompleted, JobContext, JobFailed, JobProgress, JobRequest, JobStatus,
    Operation, SubmitJobResponse,
};
use nats_test_server::NatsServer;
use prost::Message as _;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/images/"
);

/// The bytes of `fixtures/images/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A job request for `operation` on `in/<job_id>`, with [`context`].
pub fn request(job_id: &str, operation: Operation) -> JobRequest {
    JobRequest {
        job_id: job_id.to_string(),
        operation: Some(operation),
        input_key: jetstream::input_key(job_id),
        mime_type: "image/jpeg".into(),
        file_name: String::new(),
        context: Some(context()),
        submitted_at_unix_ms: 0,
    }
}

/// A running service and what a test needs to talk to it.
pub struct TestApp {
    pub client: JobsClient<Channel>,
    /// The metrics port (`/metrics`).
    #[allow(dead_code, reason = "read by the metrics test binary")]
    pub metrics_addr: std::net::SocketAddr,
    pub channel: Channel,
    pub pipeline: Pipeline,
    shutdown: CancellationToken,
    _nats: NatsServer,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// What the worker published for a job.
#[derive(Debug)]
pub enum Outcome {
    Completed(JobCompleted),
    Failed(JobFailed),
}

/// The context every test job carries; events must copy it verbatim.
pub fn context() -> JobContext {
    JobContext {
        chat_id: -100_123,
        user_id: 42,
        status_message_id: 7,
        reply_to_message_id: 6,
        language_code: "ru".into(),
        ..Default::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The service with extra flags (`["--max-output-pixels", "1000"]`).
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    service_runtime::telemetry::init_for_tests();
    let nats = NatsServer::start().expect("nats-server starts");
    let url = nats.url();
    let mut args = vec![
        "imaging",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--nats-url",
        &url,
        "--workers",
        "2",
        "--ack-wait-secs",
        "10",
    ];
    args.extend_from_slice(flags);
    let config = Config::parse_from(args);
    let app = Application::build(config)
        .await
        .expect("the service builds");
    let addr = app.grpc_addr();
    let metrics_addr = app.metrics_addr();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    let pipeline = Pipeline::setup(jetstream::connect(&url, "imaging-tests").await.unwrap())
        .await
        .unwrap();
    TestApp {
        client: JobsClient::new(channel.clone()),
        metrics_addr,
        channel,
        pipeline,
        shutdown,
        _nats: nats,
    }
}

impl TestApp {
    /// Puts a fixture into the media bucket as `in/<new uuid>`; returns the job id.
    pub async fn put_input(&self, bytes: &[u8]) -> String {
        let job_id = mediabot_proto::JobId::random().to_string();
        self.pipeline
            .media
            .put(jetstream::input_key(&job_id).as_str(), &mut &bytes[..])
            .await
            .unwrap();
        job_id
    }

    /// Submits `image.upscale` ×2 of `in/<job_id>`.
    pub async fn submit(&self, job_id: &str) -> Result<SubmitJobResponse, tonic::Status> {
        self.submit_upscale(job_id, 2).await
    }

    /// Submits `image.upscale` by `factor` of `in/<job_id>`.
    pub async fn submit_upscale(
        &self,
        job_id: &str,
        factor: u32,
    ) -> Result<SubmitJobResponse, tonic::Status> {
        self.client
            .clone()
            .submit_job(request(job_id, Operation::upscale(factor)))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn get_job(&self, job_id: &str) -> Result<JobStatus, tonic::Status> {
        self.client
            .clone()
            .get_job(GetJobRequest {
                job_id: job_id.to_string(),
            })
            .await
            .map(|r| r.into_inner())
    }

    pub async fn health(&self, service: &str) -> ServingStatus {
        let mut health = HealthClient::new(self.channel.clone());
        let response = health
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await
            .unwrap();
        response.into_inner().status()
    }

    /// Reads the job's events from the start of the events stream with an ephemeral consumer until its
    /// outcome arrives (or `deadline` passes); returns the outcome and the progress events seen before it.
    pub async fn wait_outcome(
        &self,
        job_id: &str,
        deadline: Duration,
    ) -> (Outcome, Vec<JobProgress>) {
        let stream = self
            .pipeline
            .jetstream
            .get_stream(EVENTS_STREAM)
            .await
            .unwrap();
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                deliver_policy: DeliverPolicy::All,
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut progress = Vec::new();
        let end = Instant::now() + deadline;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, messages.next())
                .await
                .unwrap_or_else(|_| panic!("no outcome for job {job_id} within {deadline:?}"))
                .expect("stream open")
                .expect("message");
            message.ack().await.unwrap();
            let payload = message.payload.clone();
            match message.subject.as_str() {
                subjects::PROGRESS => {
                    let event = JobProgress::decode(payload).unwrap();
                    if event.job_id == job_id {
                        progress.push(event);
                    }
                }
                subjects::COMPLETED => {
                    let event = JobCompleted::decode(payload).unwrap();
                    if event.job_id == job_id {
                        return (Outcome::Completed(event), progress);
                    }
                }
                subjects::FAILED => {
                    let event = JobFailed::decode(payload).unwrap();
                    if event.job_id == job_id {
                        return (Outcome::Failed(event), progress);
                    }
                }
                other => panic!("unexpected subject {other}"),
            }
        }
    }

    /// The bytes of an object in the media bucket.
    pub async fn read_object(&self, key: &str) -> Vec<u8> {
        let mut object = self.pipeline.media.get(key).await.unwrap();
        let mut bytes = Vec::new();
        object.read_to_end(&mut bytes).await.unwrap();
        bytes
    }
}
