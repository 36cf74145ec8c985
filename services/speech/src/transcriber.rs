//! Bounded transcription: at most `workers` whisper runs at once, each on a blocking thread (never on
//! the async runtime's worker threads), each with `threads_per_job` ggml threads. The gRPC `Transcribe`
//! call and the NATS worker share one [`Transcriber`], so the bound holds for the whole process.
//!
//! Decoding follows OpenAI's reference settings where whisper.cpp's defaults differ: non-speech tokens
//! (music notes, bracketed sound descriptions) are suppressed. Audio without speech — digital silence, or
//! audio whose every window whisper.cpp judges silent (`no_speech_thold`), or whose only output is a sound
//! marker such as `[BLANK_AUDIO]` or `(music)`, or that comes out without a single letter — is
//! [`TranscribeError::NoSpeech`], never an empty transcript.
//!
//! A whisper state (KV caches and compute buffers, tens to hundreds of MB for real models) is created on
//! first use and kept in a pool for the next job, since creating one costs as much as a short transcription.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mediabot_proto::jobs::v1::{Segment, Transcript};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use whisper_rs::{FullParams, SamplingStrategy, WhisperState};

use crate::audio::Pcm;
use crate::model::{Language, Model};

/// Errors transcribing.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// The audio holds no samples.
    #[error("no audio to transcribe")]
    NoAudio,
    /// The audio holds no speech (silence, music, noise).
    #[error("no speech found in the audio")]
    NoSpeech,
    /// The run was stopped because the service is shutting down.
    #[error("transcription aborted by shutdown")]
    Aborted,
    /// whisper.cpp failed (creating a state or running the model).
    #[error("whisper: {0}")]
    Whisper(#[from] whisper_rs::WhisperError),
    /// The blocking thread panicked or the pool was closed.
    #[error("transcription thread: {0}")]
    Thread(String),
}

/// What whisper is asked to do with the speech (its `task`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Task {
    /// Write down what is said, in the language it is said in.
    #[default]
    Transcribe,
    /// Write it down in English, whatever the spoken language (whisper's own translation).
    Translate,
}

/// How whisper decodes, beyond the language and the task: OpenAI's `prompt` and `temperature`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoding {
    /// whisper's initial prompt: text taken as coming before the audio (names, spellings, style); empty
    /// for none. NUL characters are dropped (whisper.cpp takes a C string).
    pub prompt: String,
    /// Temperature of the first pass, 0 to 1 (clamped); 0 decodes greedily, and whisper.cpp raises it by
    /// itself (`temperature_inc`) when a pass fails its entropy or log-probability checks.
    pub temperature: f32,
}

/// Below this RMS level (about -60 dBFS) the audio is taken as silence without running whisper.
pub const SILENCE_RMS: f32 = 0.001;

/// What whisper heard.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcription {
    /// The segments' text joined and trimmed (in English for [`Task::Translate`]); never empty.
    pub text: String,
    /// whisper's segments with their times, in order and not overlapping, sound markers left out; their
    /// texts joined make [`text`](Self::text).
    pub segments: Vec<Segment>,
    /// The spoken language: the requested language's code, or the detected one when the request said
    /// "auto"; empty if unknown.
    pub language: String,
    /// Whether the text was translated to English.
    pub translated: bool,
    /// Length of the audio that was transcribed.
    pub audio_duration: Duration,
    /// Wall time of the whisper run (excluding the wait for a free slot).
    pub processing_time: Duration,
}

impl Transcription {
    /// The result as carried in `JobCompleted` and answered by `Speech/Transcribe`.
    pub fn into_transcript(self) -> Transcript {
        Transcript {
            text: self.text,
            language: self.language,
            audio_duration_ms: u64::try_from(self.audio_duration.as_millis()).unwrap_or(u64::MAX),
            translated: self.translated,
            segments: self.segments,
        }
    }
}

/// Runs transcriptions on the loaded model with bounded concurrency. Clones share the bound.
#[derive(Clone)]
pub struct Transcriber {
    inner: Arc<Inner>,
}

struct Inner {
    model: Arc<Model>,
    permits: Arc<Semaphore>,
    states: Mutex<Vec<WhisperState>>,
    workers: usize,
    threads_per_job: usize,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber")
            .field("model", &self.inner.model)
            .field("workers", &self.inner.workers)
            .field("threads_per_job", &self.inner.threads_per_job)
            .finish()
    }
}

impl Transcriber {
    /// At most `workers` (≥ 1) transcriptions at once, `threads_per_job` (≥ 1) threads each.
    pub fn new(model: Arc<Model>, workers: usize, threads_per_job: usize) -> Self {
        let workers = workers.max(1);
        Self {
            inner: Arc::new(Inner {
                model,
                permits: Arc::new(Semaphore::new(workers)),
                states: Mutex::new(Vec::with_capacity(workers)),
                workers,
                threads_per_job: threads_per_job.max(1),
            }),
        }
    }

    /// How many transcriptions may run at once.
    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    /// Transcribes (or, for [`Task::Translate`], translates to English) 16 kHz mono `pcm` spoken in
    /// `language`, waiting for a free slot first.
    ///
    /// `progress` receives whisper's percentages (0..=100) as they come, best effort. When `abort` is
    /// cancelled the run stops at whisper's next check and returns [`TranscribeError::Aborted`].
    /// Errors: [`TranscribeError::NoAudio`] for no samples, [`TranscribeError::NoSpeech`] when nothing
    /// was said (checked from the level first, so silence costs no whisper run).
    pub async fn transcribe(
        &self,
        pcm: Pcm,
        language: Language,
        task: Task,
        progress: Option<mpsc::UnboundedSender<u32>>,
        abort: CancellationToken,
    ) -> Result<Transcription, TranscribeError> {
        self.transcribe_with(pcm, language, task, Decoding::default(), progress, abort)
            .await
    }

    /// [`transcribe`](Self::transcribe) with a prompt and a temperature ([`Decoding`]).
    pub async fn transcribe_with(
        &self,
        pcm: Pcm,
        language: Language,
        task: Task,
        decoding: Decoding,
        progress: Option<mpsc::UnboundedSender<u32>>,
        abort: CancellationToken,
    ) -> Result<Transcription, TranscribeError> {
        if pcm.samples.is_empty() {
            return Err(TranscribeError::NoAudio);
        }
        if pcm.rms() < SILENCE_RMS {
            return Err(TranscribeError::NoSpeech);
        }
        let permit = tokio::select! {
            permit = self.inner.permits.clone().acquire_owned() => {
                permit.map_err(|e| TranscribeError::Thread(e.to_string()))?
            }
            _ = abort.cancelled() => return Err(TranscribeError::Aborted),
        };
        let inner = self.inner.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _entered = span.enter();
            inner.run(&pcm, &language, task, &decoding, progress, abort)
        })
        .await
        .map_err(|e| TranscribeError::Thread(e.to_string()))?
    }
}

impl Inner {
    fn run(
        &self,
        pcm: &Pcm,
        language: &Language,
        task: Task,
        decoding: &Decoding,
        progress: Option<mpsc::UnboundedSender<u32>>,
        abort: CancellationToken,
    ) -> Result<Transcription, TranscribeError> {
        let pooled = self
            .states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut state = match pooled {
            Some(state) => state,
            None => self.model.context.create_state()?,
        };
        let started = Instant::now();
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(i32::try_from(self.threads_per_job).unwrap_or(1));
        match language {
            // None means "detect" and, unlike Some("auto"), does not leak a CString per call.
            Language::Auto => params.set_language(None),
            Language::Code(code) => params.set_language(Some(code.as_str())),
        }
        params.set_translate(task == Task::Translate);
        let prompt = decoding.prompt.replace('\0', "");
        if !prompt.trim().is_empty() {
            // whisper-rs keeps this C string for good (about the prompt's size per job that has one).
            params.set_initial_prompt(&prompt);
        }
        if decoding.temperature > 0.0 {
            params.set_temperature(decoding.temperature.clamp(0.0, 1.0));
        }
        // OpenAI's reference decoder suppresses these too (its `suppress_tokens="-1"`): without it whisper
        // answers music or noise with "♪" or "(music)" instead of nothing.
        params.set_suppress_nst(true);
        // Timestamps on: each segment gets its start and end (subtitles are made from them).
        params.set_no_timestamps(false);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        // whisper-rs never frees the closures handed to FullParams, so they capture only a shared slot that
        // is emptied after the run: the sender and the token are then dropped (closing the progress channel)
        // and each run leaks just the two small slot handles.
        let progress = Arc::new(Mutex::new(progress));
        let abort_slot = Arc::new(Mutex::new(Some(abort.clone())));
        {
            let progress = progress.clone();
            params.set_progress_callback_safe(move |percent: i32| {
                if let Some(tx) = lock(&progress).as_ref() {
                    let _ = tx.send(percent.clamp(0, 100) as u32);
                }
            });
        }
        {
            let abort_slot = abort_slot.clone();
            // Boxed on purpose: whisper-rs 0.16's set_abort_callback_safe casts its user data to `*mut F` but
            // stores a `Box<dyn FnMut>`, which is only the same type when F is that box.
            let callback: Box<dyn FnMut() -> bool> = Box::new(move || {
                lock(&abort_slot)
                    .as_ref()
                    .is_some_and(CancellationToken::is_cancelled)
            });
            params.set_abort_callback_safe(callback);
        }

        let outcome = state.full(params, &pcm.samples);
        lock(&progress).take();
        lock(&abort_slot).take();
        if abort.is_cancelled() {
            return Err(TranscribeError::Aborted);
        }
        outcome?;
        let audio_ms = u64::try_from(pcm.duration.as_millis()).unwrap_or(u64::MAX);
        let mut text = String::new();
        let mut segments = Vec::new();
        for segment in state.as_iter() {
            // Lossy: a token boundary may split a UTF-8 character; a replacement char beats losing the text.
            let piece = segment.to_str_lossy()?;
            if !is_sound_marker(&piece) {
                text.push_str(&piece);
                segments.push(Segment {
                    start_ms: centiseconds_to_ms(segment.start_timestamp()),
                    end_ms: centiseconds_to_ms(segment.end_timestamp()),
                    text: piece.trim().to_string(),
                });
            }
        }
        let segments = tidy_segments(segments, audio_ms);
        // The state goes back to the pool whatever the outcome from here on.
        let text = text.trim().to_string();
        let language = match language {
            Language::Code(code) => code.clone(),
            // An English-only model detects nothing: whisper.cpp decodes English, and the state's
            // language id is not a detection (tiny.en reported Albanian for jfk.wav).
            Language::Auto if !self.model.is_multilingual() => "en".to_string(),
            Language::Auto => whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or_default()
                .to_string(),
        };
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(state);
        // Speech written down has letters; what whisper makes of noise is often only digits and signs
        // ("1.5%").
        if !text.chars().any(char::is_alphabetic) {
            return Err(TranscribeError::NoSpeech);
        }
        Ok(Transcription {
            text,
            segments,
            language,
            translated: task == Task::Translate,
            audio_duration: pcm.duration,
            processing_time: started.elapsed(),
        })
    }
}

/// A whisper timestamp (centiseconds, never negative in practice) in milliseconds.
fn centiseconds_to_ms(centiseconds: i64) -> u64 {
    u64::try_from(centiseconds).unwrap_or(0).saturating_mul(10)
}

/// Makes whisper's segments safe to render as subtitles: times within `0..=audio_ms`, each segment
/// starting no earlier than the previous one ended and ending no earlier than it starts. whisper.cpp's
/// times are usually in order already; at a 30 s window boundary a segment's end can run past the next
/// start, or the last one past the end of the audio.
pub fn tidy_segments(segments: Vec<Segment>, audio_ms: u64) -> Vec<Segment> {
    let mut previous_end = 0;
    segments
        .into_iter()
        .filter(|segment| !segment.text.is_empty())
        .map(|mut segment| {
            segment.start_ms = segment
                .start_ms
                .clamp(previous_end, audio_ms.max(previous_end));
            segment.end_ms = segment
                .end_ms
                .clamp(segment.start_ms, audio_ms.max(segment.start_ms));
            previous_end = segment.end_ms;
            segment
        })
        .collect()
}

/// Whether a segment is only a description of a sound, not speech: `[BLANK_AUDIO]`, `(music)`,
/// `[Applause]`, `♪` — what whisper writes for stretches without words.
pub fn is_sound_marker(segment: &str) -> bool {
    let trimmed = segment.trim();
    // One bracketed span and nothing else: "[BLANK_AUDIO]", not "[laughs] well, yes [laughs]".
    let bracketed = |open: char, close: char| {
        trimmed.len() >= 2
            && trimmed.starts_with(open)
            && trimmed.ends_with(close)
            && !trimmed[1..trimmed.len() - 1].contains([open, close])
    };
    trimmed.is_empty()
        || bracketed('[', ']')
        || bracketed('(', ')')
        || bracketed('*', '*')
        || !trimmed.chars().any(char::is_alphanumeric)
}

/// Locks a mutex, ignoring poisoning: every value guarded here stays valid even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
