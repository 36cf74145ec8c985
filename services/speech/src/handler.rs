//! The speech [`JobHandler`] for `speech.transcribe`: decodes the audio on a blocking thread, transcribes
//! it with the shared [`Transcriber`] and forwards whisper's percentages as progress. The job pipeline does
//! the rest of the lifecycle (status, input, events, retries, acks).
//!
//! On shutdown a running transcription is aborted (whisper stops at its next check) and the job is left
//! for redelivery: a long transcription would otherwise hold the process for minutes.

use std::time::Duration;

use bytes::Bytes;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{FailureReason, JobRequest, job_completed};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::audio;
use crate::model::Language;
use crate::transcriber::{Task, Transcriber};

/// Progress events are published when whisper's percentage reaches each multiple of this.
const PROGRESS_STEP_PERCENT: u32 = 25;

/// Transcribes `speech.transcribe` jobs.
#[derive(Debug, Clone)]
pub struct SpeechHandler {
    transcriber: Transcriber,
    max_audio: Duration,
}

impl SpeechHandler {
    /// A handler transcribing with `transcriber`, refusing audio longer than `max_audio` (TOO_LARGE).
    pub fn new(transcriber: Transcriber, max_audio: Duration) -> Self {
        Self {
            transcriber,
            max_audio,
        }
    }
}

impl JobHandler for SpeechHandler {
    fn service(&self) -> Service {
        Service::Speech
    }

    async fn run(
        &self,
        job: &JobRequest,
        input: Bytes,
        progress: &Progress,
        stop: &CancellationToken,
    ) -> Result<JobOutput, JobError> {
        let params = job.operation.as_ref().and_then(|o| o.params.clone());
        let Some(Params::Transcribe(params)) = params else {
            return Err(JobError::Internal(format!(
                "not a speech operation: {params:?}"
            )));
        };
        let language = Language::parse(&params.language)
            .map_err(|e| JobError::input(FailureReason::UnsupportedFormat, e.to_string()))?;
        let task = if params.translate {
            Task::Translate
        } else {
            Task::Transcribe
        };
        let max_audio = self.max_audio;
        let pcm = tokio::task::spawn_blocking(move || audio::decode_to_16k_mono(&input, max_audio))
            .await
            .map_err(|e| JobError::Internal(format!("decoding thread: {e}")))??;
        let (percent_tx, percent_rx) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_progress(progress.clone(), percent_rx));
        let outcome = self
            .transcriber
            .transcribe(pcm, language, task, Some(percent_tx), stop.child_token())
            .await;
        // The sender is gone once the run ends, so the forwarder drains and stops.
        let _ = forwarder.await;
        let transcription = outcome?;
        tracing::info!(
            processing_ms = transcription.processing_time.as_millis(),
            audio_ms = transcription.audio_duration.as_millis(),
            language = %transcription.language,
            translated = transcription.translated,
            "transcribed"
        );
        Ok(JobOutput::new(job_completed::Result::Transcript(
            transcription.into_transcript(),
        )))
    }
}

/// Reports progress each time whisper's percentage reaches the next step (25, 50, 75).
async fn forward_progress(progress: Progress, mut percents: mpsc::UnboundedReceiver<u32>) {
    let mut next = PROGRESS_STEP_PERCENT;
    while let Some(percent) = percents.recv().await {
        if percent >= next && percent < 100 {
            let step = percent / PROGRESS_STEP_PERCENT * PROGRESS_STEP_PERCENT;
            progress.report(step).await;
            next = step + PROGRESS_STEP_PERCENT;
        }
    }
}
