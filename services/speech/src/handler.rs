//! The speech [`JobHandler`] for `speech.transcribe`: decodes the audio on a blocking thread, transcribes
//! it with the shared [`Transcriber`] and forwards whisper's percentages as progress, with an estimate of
//! the time left, at most every [`PROGRESS_INTERVAL`]. The job pipeline does the rest of the lifecycle
//! (status, input, events, retries, acks).
//!
//! On shutdown a running transcription is aborted (whisper stops at its next check) and the job is left
//! for redelivery: a long transcription would otherwise hold the process for minutes.

use std::time::{Duration, Instant};

use bytes::Bytes;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{FailureReason, JobRequest, job_completed};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::audio;
use crate::model::Language;
use crate::transcriber::{Decoding, Task, Transcriber};

/// Least time between two progress events of one job. whisper.cpp reports a percentage per 30 s window
/// of audio (a second or two of work each for real models), which is more often than a user needs and
/// than the gateway may edit a message (Telegram: about one message a second per chat).
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(2);

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
        // A job may ask for less than the service's limit (the HTTP API: the length its hold covers).
        let max_audio = match params.max_audio_ms {
            0 => self.max_audio,
            ms => self.max_audio.min(Duration::from_millis(ms)),
        };
        let decoding = Decoding {
            prompt: params.prompt.clone(),
            temperature: params.temperature,
        };
        let pcm = tokio::task::spawn_blocking(move || audio::decode_to_16k_mono(&input, max_audio))
            .await
            .map_err(|e| JobError::Internal(format!("decoding thread: {e}")))??;
        let (percent_tx, percent_rx) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_progress(progress.clone(), percent_rx));
        let outcome = self
            .transcriber
            .transcribe_with(
                pcm,
                language,
                task,
                decoding,
                Some(percent_tx),
                stop.child_token(),
            )
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

/// Publishes whisper's percentages as they grow, at most one event per [`PROGRESS_INTERVAL`] (a percentage
/// that arrives sooner is skipped, not delayed; 100 % is left to the job's completion), each with the time
/// left estimated from the run's pace so far.
async fn forward_progress(progress: Progress, mut percents: mpsc::UnboundedReceiver<u32>) {
    let mut pacer = ProgressPacer::new(PROGRESS_INTERVAL);
    while let Some(percent) = percents.recv().await {
        if let Some((percent, remaining)) = pacer.offer(percent, Instant::now()) {
            progress
                .report_with_estimate(percent, Some(remaining))
                .await;
        }
    }
}

/// Decides which of whisper's percentages become progress events, and estimates the time left.
///
/// The clock starts at the first percentage offered (whisper calls back at 0 % as its first window
/// starts). The estimate is linear: `elapsed × (100 − p) / p`, good enough for speech, whose cost per
/// window of audio is about even.
#[derive(Debug, Clone)]
pub struct ProgressPacer {
    interval: Duration,
    started: Option<Instant>,
    last_sent: Option<(Instant, u32)>,
}

impl ProgressPacer {
    /// A pacer letting one event through per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            started: None,
            last_sent: None,
        }
    }

    /// Offers whisper's `percent` seen at `now`: `Some((percent, time left))` when it should be
    /// published (it is above 0 and the last one sent, below 100, and `interval` has passed since the
    /// last event), `None` otherwise.
    pub fn offer(&mut self, percent: u32, now: Instant) -> Option<(u32, Duration)> {
        let started = *self.started.get_or_insert(now);
        if percent == 0 || percent >= 100 {
            return None;
        }
        if let Some((at, sent)) = self.last_sent
            && (percent <= sent || now.saturating_duration_since(at) < self.interval)
        {
            return None;
        }
        self.last_sent = Some((now, percent));
        let elapsed = now.saturating_duration_since(started);
        let remaining = elapsed
            .checked_mul(100 - percent)
            .map_or(Duration::MAX, |d| d / percent);
        Some((percent, remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_paced_and_only_grow() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut pacer = ProgressPacer::new(Duration::from_secs(2));
        assert_eq!(pacer.offer(0, at(0)), None);
        // 10 % after 1 s: 9 s left.
        assert_eq!(
            pacer.offer(10, at(1000)),
            Some((10, Duration::from_secs(9)))
        );
        // Too soon after the last event.
        assert_eq!(pacer.offer(20, at(2000)), None);
        // Interval passed: 50 % after 4 s, 4 s left.
        assert_eq!(
            pacer.offer(50, at(4000)),
            Some((50, Duration::from_secs(4)))
        );
        // Never back, never 100 (the completion says that).
        assert_eq!(pacer.offer(40, at(7000)), None);
        assert_eq!(pacer.offer(100, at(9000)), None);
        assert_eq!(
            pacer.offer(75, at(9000)),
            Some((75, Duration::from_secs(3)))
        );
    }
}
