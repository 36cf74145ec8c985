//! The `mediabot.speech.v1.Speech` gRPC service: thin handlers that validate the request, call the job
//! pipeline or the transcriber, and map errors through [`crate::error::ApiError`].

use std::time::Duration;

use async_nats::jetstream::kv::CreateErrorKind;
use async_nats::jetstream::object_store::InfoErrorKind;
use bytes::Bytes;
use mediabot_proto::jobs::v1::{
    GetJobRequest, JobKind, JobState, JobStatus, SpeechJobRequest, SubmitJobResponse, Transcript,
};
use mediabot_proto::speech::v1::speech_server::{Speech, SpeechServer};
use mediabot_proto::speech::v1::{SubmitTranscriptionRequest, TranscribeRequest};
use prost::Message as _;
use service_runtime::jetstream::{Pipeline, SPEECH_STREAM, subjects};
use service_runtime::now_unix_ms;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::audio;
use crate::error::ApiError;
use crate::model::Language;
use crate::transcriber::Transcriber;

/// Largest audio accepted inline by `Transcribe`, bytes (4 MiB).
pub const MAX_INLINE_AUDIO_BYTES: usize = 4 << 20;
/// Room for the other fields and protobuf framing on top of the inline audio.
const MESSAGE_OVERHEAD_BYTES: usize = 64 << 10;

/// The speech gRPC service.
#[derive(Clone)]
pub struct SpeechService {
    pipeline: Pipeline,
    transcriber: Option<Transcriber>,
    max_audio: Duration,
    shutdown: CancellationToken,
}

impl SpeechService {
    /// A service publishing to `pipeline` and transcribing inline audio with `transcriber` (`None` when
    /// no model is configured: every call that needs one answers `FAILED_PRECONDITION`).
    pub fn new(
        pipeline: Pipeline,
        transcriber: Option<Transcriber>,
        max_audio: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            pipeline,
            transcriber,
            max_audio,
            shutdown,
        }
    }

    /// The tonic server, sized for [`MAX_INLINE_AUDIO_BYTES`] of inline audio.
    pub fn into_server(self) -> SpeechServer<Self> {
        SpeechServer::new(self)
            .max_decoding_message_size(MAX_INLINE_AUDIO_BYTES + MESSAGE_OVERHEAD_BYTES)
    }

    fn transcriber(&self) -> Result<&Transcriber, ApiError> {
        self.transcriber.as_ref().ok_or(ApiError::NoModel)
    }

    #[instrument(skip_all, fields(job_id = %job.job_id))]
    async fn submit(&self, job: SpeechJobRequest) -> Result<SubmitJobResponse, ApiError> {
        self.transcriber()?;
        match self.pipeline.media.info(&job.input_key).await {
            Ok(_) => {}
            Err(e) if e.kind() == InfoErrorKind::NotFound => {
                return Err(ApiError::InputNotFound(job.input_key));
            }
            Err(e) => return Err(ApiError::Nats(e.to_string())),
        }
        let queue_position = self
            .pipeline
            .queue_depth(SPEECH_STREAM)
            .await
            .map_err(|e| ApiError::Nats(e.to_string()))?;
        // QUEUED is written before publishing (a fast worker's RUNNING must not be overwritten by it) and
        // only if the job has no status yet, so a retried submit cannot move a running job back.
        let queued = JobStatus {
            job_id: job.job_id.clone(),
            kind: JobKind::Speech as i32,
            state: JobState::Queued as i32,
            completed: None,
            failed: None,
            updated_at_unix_ms: now_unix_ms(),
        };
        let created = match self
            .pipeline
            .job_status
            .create(&job.job_id, Bytes::from(queued.encode_to_vec()))
            .await
        {
            Ok(_) => true,
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => false,
            Err(e) => return Err(ApiError::Nats(e.to_string())),
        };
        let msg_id = format!("{}.requested", job.job_id);
        if let Err(error) = self
            .pipeline
            .publish(subjects::SPEECH_REQUESTED, &msg_id, &job)
            .await
        {
            if created {
                // Nothing was queued: do not leave a QUEUED status behind that no worker will ever update.
                let _ = self.pipeline.job_status.delete(&job.job_id).await;
            }
            return Err(if error.is_queue_full() {
                ApiError::QueueFull
            } else {
                ApiError::Nats(error.to_string())
            });
        }
        tracing::info!(queue_position, "transcription queued");
        Ok(SubmitJobResponse {
            job_id: job.job_id,
            queue_position,
        })
    }

    #[instrument(skip_all, fields(bytes = request.audio.len()))]
    async fn transcribe_inline(&self, request: TranscribeRequest) -> Result<Transcript, ApiError> {
        if request.audio.is_empty() {
            return Err(ApiError::InvalidField {
                field: "audio",
                reason: "is empty".into(),
            });
        }
        if request.audio.len() > MAX_INLINE_AUDIO_BYTES {
            return Err(ApiError::InvalidField {
                field: "audio",
                reason: format!(
                    "is {} bytes; at most {MAX_INLINE_AUDIO_BYTES} are accepted inline (use SubmitTranscription)",
                    request.audio.len()
                ),
            });
        }
        let language = Language::parse(&request.language)?;
        let transcriber = self.transcriber()?.clone();
        let max_audio = self.max_audio;
        let audio = request.audio;
        let pcm = tokio::task::spawn_blocking(move || audio::decode_to_16k_mono(&audio, max_audio))
            .await
            .map_err(|e| crate::transcriber::TranscribeError::Thread(e.to_string()))??;
        let transcription = transcriber
            .transcribe(pcm, language, None, self.shutdown.child_token())
            .await?;
        Ok(Transcript {
            text: transcription.text,
            language: transcription.language,
            audio_duration_ms: u64::try_from(transcription.audio_duration.as_millis())
                .unwrap_or(u64::MAX),
        })
    }
}

/// Parses a job id: a UUID in its canonical hyphenated form, returned lower-case.
fn parse_job_id(value: &str) -> Result<String, ApiError> {
    match uuid::Uuid::try_parse(value) {
        Ok(id) if value.len() == 36 => Ok(id.hyphenated().to_string()),
        _ => Err(ApiError::InvalidField {
            field: "job_id",
            reason: format!("{value:?} is not a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8"),
        }),
    }
}

/// Validates a submit request and turns it into the job message the worker receives.
fn job_from_request(request: SubmitTranscriptionRequest) -> Result<SpeechJobRequest, ApiError> {
    {
        let job_id = parse_job_id(&request.job_id)?;
        if request.input_key.trim().is_empty() {
            return Err(ApiError::InvalidField {
                field: "input_key",
                reason: "is empty".into(),
            });
        }
        let language = Language::parse(&request.language)?;
        let context = request.context.ok_or(ApiError::InvalidField {
            field: "context",
            reason: "is missing".into(),
        })?;
        Ok(SpeechJobRequest {
            job_id,
            input_key: request.input_key,
            mime_type: request.mime_type,
            language: language.as_str().to_string(),
            context: Some(context),
            submitted_at_unix_ms: now_unix_ms(),
        })
    }
}

#[tonic::async_trait]
impl Speech for SpeechService {
    async fn submit_transcription(
        &self,
        request: Request<SubmitTranscriptionRequest>,
    ) -> Result<Response<SubmitJobResponse>, Status> {
        let job = job_from_request(request.into_inner())?;
        Ok(Response::new(self.submit(job).await?))
    }

    async fn get_job(
        &self,
        request: Request<GetJobRequest>,
    ) -> Result<Response<JobStatus>, Status> {
        let job_id = parse_job_id(&request.into_inner().job_id)?;
        let status = self
            .pipeline
            .get_status(&job_id)
            .await
            .map_err(|e| ApiError::Nats(e.to_string()))?
            .ok_or(ApiError::JobNotFound(job_id))?;
        Ok(Response::new(status))
    }

    async fn transcribe(
        &self,
        request: Request<TranscribeRequest>,
    ) -> Result<Response<Transcript>, Status> {
        Ok(Response::new(
            self.transcribe_inline(request.into_inner()).await?,
        ))
    }
}
