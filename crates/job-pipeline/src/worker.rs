//! Running jobs: the [`JobHandler`] trait a worker service implements (the operation itself, nothing else)
//! and the [`Worker`] that does the rest of the lifecycle once for every service.
//!
//! Per delivery of a `JobRequest` from the service's work queue (`jobs.<service>.requested`, durable consumer
//! `<service>-workers`), the worker:
//!
//! 1. decodes it — an undecodable message is terminated (it can never succeed);
//! 2. republishes the recorded outcome if the job is already COMPLETED or FAILED (an earlier delivery died
//!    between recording and acking) and acks;
//! 3. gives a **poison job** up: a delivery whose attempt number is beyond [`WorkerConfig::max_deliver`]
//!    means every earlier delivery died without answering (SIGKILL, the OOM killer). The job is not run
//!    again: it is recorded and published as `JobFailed` `WORKER_LOST` and terminated. The consumer's
//!    JetStream `max_deliver` is [`WorkerConfig::max_deliver`] + [`EXTRA_DELIVERIES`], so that delivery
//!    happens;
//! 4. records RUNNING and publishes progress 0;
//! 5. reads the input (`INPUT_MISSING` when gone, `TOO_LARGE` above [`WorkerConfig::max_input_bytes`]);
//! 6. runs the handler, with a [`Progress`] reporter and a cancellation token for hard stops;
//! 7. on success stores the result object at `out/<job_id>`, records COMPLETED and publishes
//!    `JobCompleted`; on a [`JobError`] records FAILED and publishes `JobFailed`, or retries;
//! 8. acks — only after the outcome is recorded and published.
//!
//! Error classes ([`JobError`]): the user's input fails at once with its reason; a transient problem is
//! retried with exponential back-off ([`retry_delay`], 1 s doubling to 30 s, from `backon`) and reported
//! `INTERNAL` on the last run ([`WorkerConfig::max_deliver`]); an internal error (a bug) fails at once as
//! `INTERNAL`. Failures of the pipeline's own NATS calls are transient too.
//!
//! Redelivery is safe: the output key and every message id depend only on the job id, so a second run
//! overwrites the same object and its events are de-duplicated by JetStream.
//!
//! Shutdown: [`Worker::run`] stops pulling when its token is cancelled and waits for running jobs. The same
//! token is handed to handlers as their hard stop: a handler may finish its job (imaging does) or abort it
//! (speech stops whisper); an error returned after the token fired leaves the job for redelivery instead of
//! failing it. The interrupted delivery counts towards [`WorkerConfig::max_deliver`].
//!
//! Cancel: a user's cancel ([`Pipeline::request_cancel`], a key in the `job-cancels` bucket, which every
//! worker watches) fires the stop token of that job alone. A handler that returns early on it (generation
//! cancels the request at the provider) fails the job as `CANCELLED`, so its hold is released; one that
//! finishes anyway completes it as usual. A job cancelled while still queued fails as `CANCELLED` when a
//! worker takes it, without running.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::object_store::GetErrorKind;
use backon::{BackoffBuilder as _, ExponentialBuilder};
use bytes::Bytes;
use futures::StreamExt as _;
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::{
    FailureReason, JobCompleted, JobFailed, JobProgress, JobRequest, JobState, JobStatus,
    job_completed,
};
use prost::Message as _;
use tokio::io::AsyncReadExt as _;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::jetstream::{self, Delivery, Disposition, Pipeline, message_id, output_key, subjects};
use crate::metrics::{self, JobOutcome};
use crate::now_unix_ms;

/// Deliveries JetStream makes beyond [`WorkerConfig::max_deliver`]: the first of them finds a job that no
/// worker finished and records it as `WORKER_LOST`; the others are there in case recording that fails.
pub const EXTRA_DELIVERIES: i64 = 3;
/// Longest `JobFailed.provider_message`, characters.
pub const MAX_PROVIDER_MESSAGE_CHARS: usize = 500;
/// Longest delay before a transient failure is retried.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// The operation a worker service runs: everything job-specific and nothing of the lifecycle.
pub trait JobHandler: Send + Sync + 'static {
    /// The service whose work queue this handler takes jobs from.
    fn service(&self) -> Service;

    /// Runs `job` on its `input` bytes (the object at `job.input_key`; empty for an operation that takes
    /// no input object).
    ///
    /// `progress` publishes percentages to the user, best effort. `stop` is cancelled when the process
    /// shuts down: a handler may ignore it (the job finishes first) or return early with any error (the job
    /// is then left for redelivery, not failed). A result object in the [`JobOutput`] is stored at
    /// [`output_key`]`(job_id)`, which the handler names in its result.
    fn run(
        &self,
        job: &JobRequest,
        input: Bytes,
        progress: &Progress,
        stop: &CancellationToken,
    ) -> impl Future<Output = Result<JobOutput, JobError>> + Send;
}

/// What a handler produced.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutput {
    /// The result carried in `JobCompleted` (and the job status).
    pub result: job_completed::Result,
    /// Bytes to store at `out/<job_id>` before the job is reported complete, if the result is a file.
    pub object: Option<Bytes>,
}

impl JobOutput {
    /// A result with no file (a transcript).
    pub fn new(result: job_completed::Result) -> Self {
        Self {
            result,
            object: None,
        }
    }

    /// A result whose file the pipeline stores at [`output_key`]`(job_id)`; `result` names that key.
    pub fn with_object(result: job_completed::Result, object: impl Into<Bytes>) -> Self {
        Self {
            result,
            object: Some(object.into()),
        }
    }
}

/// Why a handler did not produce a result; the variant decides what happens to the job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The user's input can never work (corrupt, unsupported, too big): fail at once with `reason`.
    #[error("{detail}")]
    Input {
        /// The reason the user is told.
        reason: FailureReason,
        /// A short English explanation for logs and operators.
        detail: String,
    },
    /// A passing problem (a dependency down, a resource busy): retry with back-off; on the last run the
    /// job fails as `INTERNAL`.
    #[error("transient: {0}")]
    Transient(String),
    /// A bug or an impossible state: fail at once as `INTERNAL` (retrying would repeat it).
    #[error("internal: {0}")]
    Internal(String),
    /// A hosted provider refused what the user asked for (a prompt its safety checker rejected): fail at
    /// once as `REJECTED`, with the provider's words in `JobFailed.provider_message`.
    #[error("rejected by the provider: {provider_message} ({detail})")]
    Rejected {
        /// The provider's reason in its own words, shown to the user quoted (cut to 500 characters).
        provider_message: String,
        /// A short English explanation for logs and operators (the model, the HTTP status).
        detail: String,
    },
}

impl JobError {
    /// An input error.
    pub fn input(reason: FailureReason, detail: impl Into<String>) -> Self {
        JobError::Input {
            reason,
            detail: detail.into(),
        }
    }
}

/// Publishes a running job's progress (`JobProgress` on `jobs.progress`, message id
/// `<job_id>.progress.<percent>`), best effort: a lost event only delays the user's "working" message.
/// Cheap to clone into a task that forwards percentages from a blocking thread.
#[derive(Clone)]
pub struct Progress {
    pipeline: Pipeline,
    event: Arc<JobProgress>,
}

impl Progress {
    fn new(pipeline: Pipeline, job: &JobRequest) -> Self {
        Self {
            pipeline,
            event: Arc::new(JobProgress {
                job_id: job.job_id.clone(),
                operation: job.operation.clone(),
                state: JobState::Running as i32,
                percent: 0,
                context: job.context.clone(),
                remaining_ms: 0,
            }),
        }
    }

    /// Reports `percent` (clamped to 0..=100) done, with no estimate of the time left.
    pub async fn report(&self, percent: u32) {
        self.report_with_estimate(percent, None).await;
    }

    /// Reports `percent` (clamped to 0..=100) done and, when known, the estimated time `remaining` until
    /// the job is done (`JobProgress.remaining_ms`, rounded to whole milliseconds).
    pub async fn report_with_estimate(&self, percent: u32, remaining: Option<Duration>) {
        let percent = percent.min(100);
        let mut event = (*self.event).clone();
        event.percent = percent;
        event.remaining_ms = remaining
            .map(|r| u64::try_from(r.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        // The status keeps the latest percent for `GetJob` and the gateway's /status; only while the job
        // is RUNNING, so a late report never overwrites the outcome.
        if let Err(error) = self
            .pipeline
            .amend_status(&event.job_id, JobState::Running, |status| {
                let newer = percent > status.percent;
                status.percent = status.percent.max(percent);
                newer
            })
            .await
        {
            tracing::debug!(%error, percent, "recording progress in the status failed");
        }
        let msg_id = message_id(&event.job_id, &format!("progress.{percent}"));
        if let Err(error) = self
            .pipeline
            .publish(subjects::PROGRESS, &msg_id, &event)
            .await
        {
            tracing::debug!(%error, percent, "publishing progress failed");
        }
    }
}

/// How a [`Worker`] runs jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a delivered job may go without a sign of life before JetStream redelivers it; progress acks
    /// are sent every third of it while the job runs.
    pub ack_wait: Duration,
    /// Runs of one job at most (≥ 1). A transient failure on the last one fails the job as `INTERNAL`; a
    /// delivery beyond it (every run died) fails it as `WORKER_LOST` without running it.
    pub max_deliver: i64,
    /// Largest input object read, bytes; a bigger one fails as `TOO_LARGE` before it is read.
    pub max_input_bytes: u64,
}

impl WorkerConfig {
    /// A worker service's configuration from its flags: `workers` jobs at once (`None` or 0: the available
    /// cores), `ack_wait_secs` (at least 1), `max_deliver` runs, inputs up to `max_input_bytes`.
    pub fn from_flags(
        workers: Option<usize>,
        ack_wait_secs: u64,
        max_deliver: i64,
        max_input_bytes: u64,
    ) -> Self {
        let concurrency = workers.filter(|&n| n > 0).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        Self {
            concurrency,
            ack_wait: Duration::from_secs(ack_wait_secs.max(1)),
            max_deliver,
            max_input_bytes,
        }
    }
}

impl Default for WorkerConfig {
    /// 1 job at once, 30 s ack wait, 5 runs, 64 MiB inputs.
    fn default() -> Self {
        Self {
            concurrency: 1,
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_input_bytes: 64 << 20,
        }
    }
}

/// The delay before the retry that follows a transient failure of run `attempt` (1-based): 1 s, 2 s, 4 s,
/// … at most [`MAX_RETRY_DELAY`] — exponential back-off from `backon`, without jitter (one job, not a
/// crowd of clients).
pub fn retry_delay(attempt: i64) -> Duration {
    let index = usize::try_from(attempt.max(1) - 1).unwrap_or(0);
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_secs(1))
        .with_factor(2.0)
        .with_max_delay(MAX_RETRY_DELAY)
        .without_max_times()
        .build()
        .nth(index)
        .unwrap_or(MAX_RETRY_DELAY)
}

/// Takes jobs of one service from its work queue and runs them through a [`JobHandler`].
pub struct Worker<H> {
    inner: Arc<Inner<H>>,
    consumer: PullConsumer,
}

struct Inner<H> {
    pipeline: Pipeline,
    handler: H,
    config: WorkerConfig,
    stop: CancellationToken,
    /// The stop token of each job this worker runs, by job id: a cancel request fires it.
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl<H: JobHandler> Worker<H> {
    /// Creates (or updates) the service's durable consumer (`<service>-workers`, JetStream `max_deliver`
    /// = `config.max_deliver` + [`EXTRA_DELIVERIES`]). Jobs queued from now on wait for [`run`](Self::run).
    pub async fn new(
        pipeline: Pipeline,
        handler: H,
        config: WorkerConfig,
    ) -> Result<Self, jetstream::Error> {
        let service = handler.service();
        let config = WorkerConfig {
            concurrency: config.concurrency.max(1),
            ack_wait: config.ack_wait.max(Duration::from_secs(1)),
            max_deliver: config.max_deliver.max(1),
            ..config
        };
        let consumer = pipeline
            .durable_consumer(
                service.stream(),
                service.consumer(),
                Some(service.requested_subject()),
                config.ack_wait,
                config.max_deliver + EXTRA_DELIVERIES,
            )
            .await?;
        Ok(Self {
            inner: Arc::new(Inner {
                pipeline,
                handler,
                config,
                stop: CancellationToken::new(),
                running: Mutex::new(HashMap::new()),
            }),
            consumer,
        })
    }

    /// Runs jobs until `shutdown` is cancelled; then takes no more, and returns once the running ones have
    /// finished (or, if their handlers stop on `shutdown`, been left for redelivery).
    pub async fn run(self, shutdown: CancellationToken) {
        let Self { inner, consumer } = self;
        let config = inner.config;
        let stopping = shutdown.clone();
        let stop = inner.stop.clone();
        let forward = tokio::spawn(async move {
            stopping.cancelled().await;
            stop.cancel();
        });
        let cancels = tokio::spawn(watch_cancels(inner.clone()));
        tracing::info!(
            service = %inner.handler.service(),
            concurrency = config.concurrency,
            max_deliver = config.max_deliver,
            "worker taking jobs"
        );
        jetstream::consume(
            consumer,
            config.concurrency,
            config.ack_wait,
            shutdown,
            move |delivery| {
                let inner = inner.clone();
                async move { inner.handle(delivery).await }
            },
        )
        .await;
        forward.abort();
        cancels.abort();
    }
}

/// Fires the stop token of each running job whose cancel is requested, for as long as the worker runs
/// (re-watching after a NATS failure). Requests made before a job started are found by the check before
/// it runs.
async fn watch_cancels<H: JobHandler>(inner: Arc<Inner<H>>) {
    loop {
        match inner.pipeline.job_cancels.watch_all().await {
            Ok(mut updates) => {
                while let Some(update) = updates.next().await {
                    match update {
                        Ok(entry)
                            if entry.operation == async_nats::jetstream::kv::Operation::Put =>
                        {
                            inner.cancel_running(&entry.key);
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "watching cancel requests failed");
                            break;
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not watch cancel requests"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A job's entry in [`Inner::running`], removed when dropped.
struct Running<'a> {
    running: &'a Mutex<HashMap<String, CancellationToken>>,
    job_id: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.job_id);
        }
    }
}

impl<H: JobHandler> Inner<H> {
    /// Fires the stop token of `job_id` if this worker runs it.
    fn cancel_running(&self, job_id: &str) {
        let token = self
            .running
            .lock()
            .ok()
            .and_then(|running| running.get(job_id).cloned());
        if let Some(token) = token {
            tracing::info!(job_id, "cancel requested; stopping the job");
            token.cancel();
        }
    }

    /// Registers `job_id` as running with a stop token of its own (fired by shutdown too).
    fn register(&self, job_id: &str) -> (CancellationToken, Running<'_>) {
        let token = self.stop.child_token();
        if let Ok(mut running) = self.running.lock() {
            running.insert(job_id.to_string(), token.clone());
        }
        (
            token,
            Running {
                running: &self.running,
                job_id: job_id.to_string(),
            },
        )
    }

    async fn handle(&self, delivery: Delivery) -> Disposition {
        let job = match JobRequest::decode(delivery.message.payload.clone()) {
            Ok(job) if !job.job_id.is_empty() => job,
            Ok(_) => {
                tracing::error!(subject = %delivery.message.subject, "job request without a job id; terminating it");
                return Disposition::Term;
            }
            Err(error) => {
                tracing::error!(%error, subject = %delivery.message.subject, "undecodable job request; terminating it");
                return Disposition::Term;
            }
        };
        let attempt = delivery.attempt;
        let span = tracing::info_span!(
            "job",
            job_id = %job.job_id,
            operation = job.operation.as_ref().and_then(|o| o.id()).unwrap_or_default(),
            user_id = job.context.as_ref().map(|c| c.user_id).unwrap_or_default(),
            attempt,
        );
        self.handle_job(job, attempt).instrument(span).await
    }

    async fn handle_job(&self, job: JobRequest, attempt: i64) -> Disposition {
        let started = Instant::now();
        let (disposition, outcome) = self.handle_run(&job, attempt, started).await;
        if let Some(outcome) = outcome {
            metrics::job_finished(self.handler.service(), &job, outcome, started.elapsed());
        }
        disposition
    }

    /// One delivery of `job`: what to tell JetStream, and how the run ended (`None` when the job was not
    /// run: an outcome recorded earlier was published again, or NATS failed before it started).
    async fn handle_run(
        &self,
        job: &JobRequest,
        attempt: i64,
        started: Instant,
    ) -> (Disposition, Option<JobOutcome>) {
        let max_deliver = self.config.max_deliver;
        // A final status means an earlier delivery finished the job but may have died before its event
        // was stored or the request acked: publish the recorded outcome again (de-duplicated) and stop.
        match self.pipeline.republish_recorded_outcome(&job.job_id).await {
            Ok(true) => return (Disposition::Ack, None),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "reading the job status failed; retrying");
                return (Disposition::Retry(retry_delay(attempt)), None);
            }
        }
        if attempt > max_deliver {
            let detail = format!(
                "delivered {attempt} times; none of the {max_deliver} runs finished (the worker died: killed, out of memory, crashed)"
            );
            tracing::error!(%detail, "poison job given up");
            return match self
                .fail(
                    job,
                    FailureReason::WorkerLost,
                    detail,
                    String::new(),
                    started,
                )
                .await
            {
                Ok(()) => (Disposition::Term, Some(JobOutcome::WorkerLost)),
                Err(error) => {
                    tracing::error!(%error, "could not record the lost job");
                    (Disposition::Retry(retry_delay(attempt)), None)
                }
            };
        }
        // Registered before the check, so a cancel asked for in between fires the token.
        let (job_stop, _running) = self.register(&job.job_id);
        let cancelled_before = match self.pipeline.cancel_requested(&job.job_id).await {
            Ok(asked) => asked,
            Err(error) => {
                tracing::warn!(%error, "could not read the job's cancel request; running it");
                false
            }
        };
        let outcome = if cancelled_before {
            None
        } else {
            metrics::job_started(self.handler.service(), job, attempt);
            match self.run(job, started, &job_stop).await {
                Ok(()) => return (Disposition::Ack, Some(JobOutcome::Completed)),
                Err(error) => Some(error),
            }
        };
        if self.stop.is_cancelled() {
            tracing::info!(error = ?outcome, "job stopped by shutdown; left for redelivery");
            return (
                Disposition::Retry(Duration::ZERO),
                Some(JobOutcome::Interrupted),
            );
        }
        let outcome = match outcome {
            Some(error) if !job_stop.is_cancelled() => error,
            error => {
                let detail = match error {
                    None => "cancelled by the user before it ran".to_string(),
                    Some(error) => format!("cancelled by the user while running ({error})"),
                };
                tracing::info!(%detail, "job cancelled");
                return match self
                    .fail(
                        job,
                        FailureReason::Cancelled,
                        detail,
                        String::new(),
                        started,
                    )
                    .await
                {
                    Ok(()) => (Disposition::Ack, Some(JobOutcome::Cancelled)),
                    Err(error) => {
                        tracing::error!(%error, "could not record the cancel; retrying");
                        (Disposition::Retry(retry_delay(attempt)), None)
                    }
                };
            }
        };
        let failed_as = if matches!(outcome, JobError::Input { .. } | JobError::Rejected { .. }) {
            JobOutcome::FailedInput
        } else {
            JobOutcome::FailedInternal
        };
        let mut provider_message = String::new();
        let (reason, detail) = match outcome {
            JobError::Input { reason, detail } => {
                tracing::info!(?reason, %detail, "job failed: its input");
                (reason, detail)
            }
            JobError::Rejected {
                provider_message: message,
                detail,
            } => {
                tracing::info!(%message, %detail, "job failed: rejected by the provider");
                provider_message = message.chars().take(MAX_PROVIDER_MESSAGE_CHARS).collect();
                (FailureReason::Rejected, detail)
            }
            JobError::Internal(detail) => {
                tracing::error!(%detail, "job failed: internal error");
                (FailureReason::Internal, detail)
            }
            JobError::Transient(detail) if attempt >= max_deliver => {
                tracing::error!(%detail, "job failed on its last run");
                (
                    FailureReason::Internal,
                    format!("gave up after {attempt} runs: {detail}"),
                )
            }
            JobError::Transient(detail) => {
                let delay = retry_delay(attempt);
                tracing::warn!(%detail, ?delay, "job hit a passing problem; retrying");
                return (Disposition::Retry(delay), Some(JobOutcome::Retried));
            }
        };
        match self
            .fail(job, reason, detail, provider_message, started)
            .await
        {
            Ok(()) => (Disposition::Ack, Some(failed_as)),
            Err(error) => {
                tracing::error!(%error, "could not record the failure; retrying");
                (
                    Disposition::Retry(retry_delay(attempt)),
                    Some(JobOutcome::Retried),
                )
            }
        }
    }

    /// Runs the job to a recorded and published outcome (`Ok`), or says why not; `stop` is the job's own
    /// stop token (shutdown or the user's cancel).
    async fn run(
        &self,
        job: &JobRequest,
        started: Instant,
        stop: &CancellationToken,
    ) -> Result<(), JobError> {
        let transient = |e: jetstream::Error| JobError::Transient(e.to_string());
        self.pipeline
            .put_status(&status(job, JobState::Running))
            .await
            .map_err(transient)?;
        let progress = Progress::new(self.pipeline.clone(), job);
        progress.report(0).await;
        // An operation without an input object (`image.generate`) has an empty key.
        let input = if job.input_key.is_empty() {
            Bytes::new()
        } else {
            self.read_input(&job.input_key).await?
        };
        let input_bytes = input.len();
        let output = self.handler.run(job, input, &progress, stop).await?;

        let mut size_bytes = 0;
        if let Some(object) = &output.object {
            let key = output_key(&job.job_id);
            size_bytes = object.len();
            self.pipeline
                .media
                .put(key.as_str(), &mut object.as_ref())
                .await
                .map_err(|e| JobError::Transient(format!("writing {key}: {e}")))?;
        }
        let completed = JobCompleted {
            job_id: job.job_id.clone(),
            operation: job.operation.clone(),
            context: job.context.clone(),
            result: Some(output.result),
            processing_ms: elapsed_ms(started),
            completed_at_unix_ms: now_unix_ms(),
        };
        let mut done = status(job, JobState::Completed);
        done.completed = Some(completed.clone());
        self.pipeline.put_status(&done).await.map_err(transient)?;
        self.pipeline
            .publish(
                subjects::COMPLETED,
                &message_id(&job.job_id, "completed"),
                &completed,
            )
            .await
            .map_err(transient)?;
        tracing::info!(
            input_bytes,
            output_bytes = size_bytes,
            processing_ms = completed.processing_ms,
            "job completed"
        );
        Ok(())
    }

    /// The input bytes. Errors: `INPUT_MISSING` when the object is gone, `TOO_LARGE` above the limit,
    /// transient when NATS fails.
    async fn read_input(&self, key: &str) -> Result<Bytes, JobError> {
        let mut object = match self.pipeline.media.get(key).await {
            Ok(object) => object,
            Err(e) if e.kind() == GetErrorKind::NotFound => {
                return Err(JobError::input(
                    FailureReason::InputMissing,
                    format!("input {key} is not in the media bucket (expired or never stored)"),
                ));
            }
            Err(e) => return Err(JobError::Transient(format!("reading {key}: {e}"))),
        };
        let size = object.info().size as u64;
        let max = self.config.max_input_bytes;
        if size > max {
            return Err(JobError::input(
                FailureReason::TooLarge,
                format!("the input is {size} bytes; at most {max} are accepted"),
            ));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| JobError::Transient(format!("reading {key}: {e}")))?;
        Ok(Bytes::from(bytes))
    }

    /// Records and publishes a final failure.
    async fn fail(
        &self,
        job: &JobRequest,
        reason: FailureReason,
        detail: String,
        provider_message: String,
        started: Instant,
    ) -> Result<(), jetstream::Error> {
        let failed = JobFailed {
            job_id: job.job_id.clone(),
            operation: job.operation.clone(),
            context: job.context.clone(),
            reason: reason as i32,
            detail,
            failed_at_unix_ms: now_unix_ms(),
            provider_message,
        };
        let mut record = status(job, JobState::Failed);
        record.failed = Some(failed.clone());
        self.pipeline.put_status(&record).await?;
        self.pipeline
            .publish(
                subjects::FAILED,
                &message_id(&job.job_id, "failed"),
                &failed,
            )
            .await?;
        tracing::info!(?reason, processing_ms = elapsed_ms(started), "job failed");
        Ok(())
    }
}

fn status(job: &JobRequest, state: JobState) -> JobStatus {
    JobStatus {
        job_id: job.job_id.clone(),
        operation: job.operation.clone(),
        state: state as i32,
        completed: None,
        failed: None,
        updated_at_unix_ms: now_unix_ms(),
        context: job.context.clone(),
        ..Default::default()
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_up_to_thirty_seconds() {
        let delays: Vec<u64> = (1..=8).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
