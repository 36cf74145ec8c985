//! The transcription worker: pulls [`SpeechJobRequest`]s from the `JOBS_SPEECH` work queue (durable
//! consumer `speech-workers`), reads the audio from the media bucket, decodes and transcribes it, records the
//! outcome in the job-status bucket and publishes `JobCompleted` or `JobFailed` — and only then acks.
//!
//! Failure policy:
//! - a request that cannot be decoded is terminated (it can never succeed);
//! - bad input (missing object, corrupt/unsupported/too long audio) is a final `JobFailed` with its reason;
//! - anything else (NATS hiccups, a whisper error) is retried with a delay, except on the last deliveries
//!   (attempt ≥ max_deliver − 1), where the job is failed as `INTERNAL` so billing releases the hold and the
//!   user hears back, instead of JetStream dropping the message silently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::object_store::GetErrorKind;
use mediabot_proto::jobs::v1::{
    FailureReason, JobCompleted, JobFailed, JobKind, JobProgress, JobState, JobStatus,
    SpeechJobRequest, Transcript, job_completed,
};
use prost::Message as _;
use service_runtime::jetstream::{Delivery, Disposition, Pipeline, subjects};
use service_runtime::now_unix_ms;
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::audio::{self, AudioError};
use crate::model::Language;
use crate::transcriber::{TranscribeError, Transcriber};

/// Largest input object read from the media bucket, bytes (64 MiB); Telegram's getFile stops at 20 MB.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;
/// How long a delivered job may go without an ack before JetStream redelivers it (the consume loop
/// extends it with progress acks while the job runs).
pub const ACK_WAIT: Duration = Duration::from_secs(60);
/// Deliveries of one job before JetStream gives up on it.
pub const MAX_DELIVER: i64 = 5;
/// Delay before a job that hit a passing problem is delivered again.
const RETRY_DELAY: Duration = Duration::from_secs(5);
/// Progress events are published when whisper's percentage reaches each multiple of this.
const PROGRESS_STEP_PERCENT: u32 = 25;

/// What every job handler needs.
pub struct Worker {
    pipeline: Pipeline,
    transcriber: Transcriber,
    max_audio: Duration,
    max_deliver: i64,
    shutdown: CancellationToken,
}

/// Why a job did not complete.
#[derive(Debug, thiserror::Error)]
enum JobError {
    /// The job can never succeed; tell the user why.
    #[error("{detail}")]
    Final {
        reason: FailureReason,
        detail: String,
    },
    /// A passing problem; try again later.
    #[error("{0}")]
    Transient(String),
}

impl From<AudioError> for JobError {
    fn from(error: AudioError) -> Self {
        let reason = match error {
            AudioError::Corrupt(_) => FailureReason::CorruptInput,
            AudioError::Unsupported(_) => FailureReason::UnsupportedFormat,
            AudioError::TooLong { .. } => FailureReason::TooLarge,
        };
        JobError::Final {
            reason,
            detail: error.to_string(),
        }
    }
}

impl From<service_runtime::jetstream::Error> for JobError {
    fn from(error: service_runtime::jetstream::Error) -> Self {
        JobError::Transient(error.to_string())
    }
}

impl From<TranscribeError> for JobError {
    fn from(error: TranscribeError) -> Self {
        match error {
            TranscribeError::NoAudio => JobError::Final {
                reason: FailureReason::CorruptInput,
                detail: error.to_string(),
            },
            other => JobError::Transient(other.to_string()),
        }
    }
}

impl Worker {
    /// A worker transcribing with `transcriber`, refusing audio longer than `max_audio`; running jobs are
    /// aborted (and redelivered later) when `shutdown` fires.
    pub fn new(
        pipeline: Pipeline,
        transcriber: Transcriber,
        max_audio: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            pipeline,
            transcriber,
            max_audio,
            max_deliver: MAX_DELIVER,
            shutdown,
        }
    }

    /// Handles one delivery; the returned disposition tells the consume loop how to acknowledge it.
    pub async fn handle(self: Arc<Self>, delivery: Delivery) -> Disposition {
        let request = match SpeechJobRequest::decode(delivery.message.payload.clone()) {
            Ok(request) => request,
            Err(error) => {
                tracing::error!(%error, subject = %delivery.message.subject, "undecodable speech job; dropping it");
                return Disposition::Term;
            }
        };
        let attempt = delivery.attempt;
        let span = tracing::info_span!("speech_job", job_id = %request.job_id, attempt);
        async move {
            let started = Instant::now();
            match self.run(&request, started).await {
                Ok(()) => Disposition::Ack,
                Err(JobError::Final { reason, detail }) => {
                    tracing::info!(?reason, %detail, "speech job failed");
                    self.fail(&request, reason, detail).await
                }
                Err(JobError::Transient(detail)) if attempt >= self.max_deliver - 1 => {
                    tracing::error!(%detail, "speech job failed on its last attempts; reporting it as failed");
                    self.fail(&request, FailureReason::Internal, detail).await
                }
                Err(JobError::Transient(detail)) => {
                    tracing::warn!(%detail, "speech job hit a passing problem; it will be retried");
                    Disposition::Retry(RETRY_DELAY)
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn run(&self, request: &SpeechJobRequest, started: Instant) -> Result<(), JobError> {
        let job_id = &request.job_id;
        // A redelivery after the outcome was recorded (the process died before acking): publish the same
        // event again (de-duplicated by its message id) instead of transcribing twice.
        if self.pipeline.republish_recorded_outcome(job_id).await? {
            return Ok(());
        }
        self.pipeline
            .put_status(&status(job_id, JobState::Running))
            .await?;
        self.progress(request, 0).await;

        let bytes = self.read_input(&request.input_key).await?;
        let max_audio = self.max_audio;
        let decode_started = Instant::now();
        let pcm = tokio::task::spawn_blocking(move || audio::decode_to_16k_mono(&bytes, max_audio))
            .await
            .map_err(|e| JobError::Transient(format!("decoding thread: {e}")))??;
        tracing::debug!(
            decode_ms = decode_started.elapsed().as_millis(),
            audio_ms = pcm.duration.as_millis(),
            "audio decoded"
        );

        let language = Language::parse(&request.language).map_err(|e| JobError::Final {
            reason: FailureReason::UnsupportedFormat,
            detail: e.to_string(),
        })?;
        let (progress_tx, progress_rx) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_progress(
            self.pipeline.clone(),
            request.clone(),
            progress_rx,
        ));
        let outcome = self
            .transcriber
            .transcribe(
                pcm,
                language,
                Some(progress_tx),
                self.shutdown.child_token(),
            )
            .await;
        // The sender is gone once the run ends, so the forwarder drains and stops.
        let _ = forwarder.await;
        let transcription = outcome?;
        tracing::info!(
            processing_ms = transcription.processing_time.as_millis(),
            audio_ms = transcription.audio_duration.as_millis(),
            language = %transcription.language,
            "transcribed"
        );

        let completed = JobCompleted {
            job_id: job_id.clone(),
            kind: JobKind::Speech as i32,
            context: request.context.clone(),
            result: Some(job_completed::Result::Transcript(Transcript {
                text: transcription.text,
                language: transcription.language,
                audio_duration_ms: u64::try_from(transcription.audio_duration.as_millis())
                    .unwrap_or(u64::MAX),
            })),
            processing_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            completed_at_unix_ms: now_unix_ms(),
        };
        let mut done = status(job_id, JobState::Completed);
        done.completed = Some(completed.clone());
        self.pipeline.put_status(&done).await?;
        self.pipeline
            .publish(
                subjects::COMPLETED,
                &format!("{job_id}.completed"),
                &completed,
            )
            .await?;
        Ok(())
    }

    async fn read_input(&self, key: &str) -> Result<Vec<u8>, JobError> {
        let mut object = match self.pipeline.media.get(key).await {
            Ok(object) => object,
            Err(e) if e.kind() == GetErrorKind::NotFound => {
                return Err(JobError::Final {
                    reason: FailureReason::InputMissing,
                    detail: format!("input object {key:?} is not in the media bucket"),
                });
            }
            Err(e) => return Err(JobError::Transient(format!("reading {key:?}: {e}"))),
        };
        let size = object.info.size as u64;
        if size > MAX_INPUT_BYTES {
            return Err(JobError::Final {
                reason: FailureReason::TooLarge,
                detail: format!("input is {size} bytes; the limit is {MAX_INPUT_BYTES}"),
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| JobError::Transient(format!("reading {key:?}: {e}")))?;
        Ok(bytes)
    }

    /// Records and publishes the failure; acks once both are done, retries if NATS refused them.
    async fn fail(
        &self,
        request: &SpeechJobRequest,
        reason: FailureReason,
        detail: String,
    ) -> Disposition {
        let job_id = &request.job_id;
        let failed = JobFailed {
            job_id: job_id.clone(),
            kind: JobKind::Speech as i32,
            context: request.context.clone(),
            reason: reason as i32,
            detail,
            failed_at_unix_ms: now_unix_ms(),
        };
        let mut record = status(job_id, JobState::Failed);
        record.failed = Some(failed.clone());
        let outcome = async {
            self.pipeline.put_status(&record).await?;
            self.pipeline
                .publish(subjects::FAILED, &format!("{job_id}.failed"), &failed)
                .await
        }
        .await;
        match outcome {
            Ok(_) => Disposition::Ack,
            Err(error) => {
                tracing::warn!(%error, "recording a failed job failed; it will be retried");
                Disposition::Retry(RETRY_DELAY)
            }
        }
    }

    async fn progress(&self, request: &SpeechJobRequest, percent: u32) {
        publish_progress(&self.pipeline, request, percent).await;
    }
}

fn status(job_id: &str, state: JobState) -> JobStatus {
    JobStatus {
        job_id: job_id.to_string(),
        kind: JobKind::Speech as i32,
        state: state as i32,
        completed: None,
        failed: None,
        updated_at_unix_ms: now_unix_ms(),
    }
}

/// Publishes a progress event each time whisper's percentage reaches the next step (25, 50, 75).
async fn forward_progress(
    pipeline: Pipeline,
    request: SpeechJobRequest,
    mut rx: mpsc::UnboundedReceiver<u32>,
) {
    let mut next = PROGRESS_STEP_PERCENT;
    while let Some(percent) = rx.recv().await {
        if percent >= next && percent < 100 {
            let step = percent / PROGRESS_STEP_PERCENT * PROGRESS_STEP_PERCENT;
            publish_progress(&pipeline, &request, step).await;
            next = step + PROGRESS_STEP_PERCENT;
        }
    }
}

/// Best effort: a lost progress event only delays the user's "working" message.
async fn publish_progress(pipeline: &Pipeline, request: &SpeechJobRequest, percent: u32) {
    let event = JobProgress {
        job_id: request.job_id.clone(),
        kind: JobKind::Speech as i32,
        state: JobState::Running as i32,
        percent,
        context: request.context.clone(),
    };
    let msg_id = format!("{}.progress.{percent}", request.job_id);
    if let Err(error) = pipeline.publish(subjects::PROGRESS, &msg_id, &event).await {
        tracing::debug!(%error, percent, "publishing progress failed");
    }
}
