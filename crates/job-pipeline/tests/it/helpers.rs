//! Shared set-up: a nats-server with the pipeline's streams and buckets, a scripted [`JobHandler`], and
//! waiting for a job's outcome event.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{self, DeliverPolicy};
use bytes::Bytes;
use futures::StreamExt;
use job_pipeline::jetstream::{self, EVENTS_STREAM, Pipeline, input_key, output_key, subjects};
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::{
    ImageResult, JobCompleted, JobContext, JobFailed, JobProgress, JobRequest, Operation,
    job_completed,
};
use nats_test_server::NatsServer;
use prost::Message as _;
use tokio_util::sync::CancellationToken;

pub async fn pipeline(nats: &NatsServer) -> Pipeline {
    Pipeline::setup(
        jetstream::connect(&nats.url(), "pipeline-tests")
            .await
            .unwrap(),
    )
    .await
    .unwrap()
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

/// An `image.upscale` ×2 request for `job_id` with its input at `in/<job_id>`.
pub fn request(job_id: &str) -> JobRequest {
    JobRequest {
        job_id: job_id.into(),
        operation: Some(Operation::upscale(2)),
        input_key: input_key(job_id),
        mime_type: "image/jpeg".into(),
        file_name: String::new(),
        context: Some(context()),
        submitted_at_unix_ms: 0,
    }
}

/// Stores `bytes` as `in/<new job id>`; returns the job id.
pub async fn put_input(pipeline: &Pipeline, bytes: &[u8]) -> String {
    let job_id = mediabot_proto::JobId::random().to_string();
    pipeline
        .media
        .put(input_key(&job_id).as_str(), &mut &bytes[..])
        .await
        .unwrap();
    job_id
}

/// A handler that answers from a script, one entry per run (then succeeds), and counts its runs. On
/// success it returns the input reversed as the result object.
#[derive(Clone, Default)]
pub struct Scripted {
    pub runs: Arc<AtomicUsize>,
    script: Arc<Mutex<VecDeque<JobError>>>,
}

impl Scripted {
    pub fn failing_with(errors: impl IntoIterator<Item = JobError>) -> Self {
        Self {
            runs: Arc::default(),
            script: Arc::new(Mutex::new(errors.into_iter().collect())),
        }
    }

    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

impl JobHandler for Scripted {
    fn service(&self) -> Service {
        Service::Imaging
    }

    async fn run(
        &self,
        job: &JobRequest,
        input: Bytes,
        progress: &Progress,
        _stop: &CancellationToken,
    ) -> Result<JobOutput, JobError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if let Some(error) = self.script.lock().unwrap().pop_front() {
            return Err(error);
        }
        progress.report(50).await;
        let reversed: Vec<u8> = input.iter().rev().copied().collect();
        Ok(JobOutput::with_object(
            job_completed::Result::Image(ImageResult {
                output_key: output_key(&job.job_id),
                mime_type: "application/octet-stream".into(),
                width_px: 1,
                height_px: 1,
                size_bytes: reversed.len() as u64,
                send_as_document: true,
                ..ImageResult::default()
            }),
            reversed,
        ))
    }
}

/// What a worker published for a job.
#[derive(Debug)]
pub enum Outcome {
    Completed(JobCompleted),
    Failed(JobFailed),
}

/// Reads the job's events from the start of the events stream until its outcome arrives (or `deadline`
/// passes); returns the outcome and the progress events seen before it.
pub async fn wait_outcome(
    pipeline: &Pipeline,
    job_id: &str,
    deadline: Duration,
) -> (Outcome, Vec<JobProgress>) {
    let stream = pipeline.jetstream.get_stream(EVENTS_STREAM).await.unwrap();
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
            _ => {}
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`, failing after `deadline`.
pub async fn poll_until<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < end,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the service's work queue holds `expected` messages.
pub async fn wait_for_depth(pipeline: &Pipeline, service: Service, expected: u64) {
    poll_until(
        Duration::from_secs(10),
        &format!("{expected} messages in {}", service.stream()),
        || async {
            (pipeline.queue_depth(service.stream()).await.ok() == Some(expected)).then_some(())
        },
    )
    .await;
}
