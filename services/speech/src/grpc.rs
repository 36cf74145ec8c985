//! The `mediabot.speech.v1.Speech` gRPC service — the inline `Transcribe` call: a thin handler that
//! validates the request, calls the transcriber and maps errors through [`crate::error::ApiError`].
//! Transcription jobs go through `mediabot.jobs.v1.Jobs`, which the job pipeline serves.

use std::time::Duration;

use mediabot_proto::jobs::v1::Transcript;
use mediabot_proto::speech::v1::TranscribeRequest;
use mediabot_proto::speech::v1::speech_server::{Speech, SpeechServer};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::audio;
use crate::error::ApiError;
use crate::model::Language;
use crate::transcriber::{Task, Transcriber};

/// Largest audio accepted inline by `Transcribe`, bytes (4 MiB).
pub const MAX_INLINE_AUDIO_BYTES: usize = 4 << 20;
/// Room for the other fields and protobuf framing on top of the inline audio.
const MESSAGE_OVERHEAD_BYTES: usize = 64 << 10;

/// The speech gRPC service.
#[derive(Clone)]
pub struct SpeechService {
    transcriber: Option<Transcriber>,
    max_audio: Duration,
    shutdown: CancellationToken,
}

impl SpeechService {
    /// A service transcribing inline audio with `transcriber` (`None` when no model is configured: every
    /// call answers `FAILED_PRECONDITION`); running calls are aborted when `shutdown` fires.
    pub fn new(
        transcriber: Option<Transcriber>,
        max_audio: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
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
                    "is {} bytes; at most {MAX_INLINE_AUDIO_BYTES} are accepted inline (submit a speech.transcribe job instead)",
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
        let task = if request.translate {
            Task::Translate
        } else {
            Task::Transcribe
        };
        let transcription = transcriber
            .transcribe(pcm, language, task, None, self.shutdown.child_token())
            .await?;
        Ok(transcription.into_transcript())
    }
}

#[tonic::async_trait]
impl Speech for SpeechService {
    async fn transcribe(
        &self,
        request: Request<TranscribeRequest>,
    ) -> Result<Response<Transcript>, Status> {
        Ok(Response::new(
            self.transcribe_inline(request.into_inner()).await?,
        ))
    }
}
