//! The whisper model: loaded once at start-up from a whisper.cpp ggml file and shared by every
//! transcription, and the spoken-language setting a job asks for.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use whisper_rs::{WhisperContext, WhisperContextParameters};

/// Errors loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file does not exist or cannot be read.
    #[error("reading the whisper model {path}: {source}")]
    Read {
        /// The configured path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// whisper.cpp refused the file (not a ggml whisper model, or damaged).
    #[error("loading the whisper model {path}: {source}")]
    Load {
        /// The configured path.
        path: PathBuf,
        /// Cause.
        source: whisper_rs::WhisperError,
    },
}

/// A loaded whisper model. Cheap to share through an `Arc`; states for concurrent transcriptions are
/// created from it (see [`crate::transcriber::Transcriber`]).
pub struct Model {
    pub(crate) context: WhisperContext,
    path: PathBuf,
    load_time: Duration,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("path", &self.path)
            .field("load_time", &self.load_time)
            .finish()
    }
}

/// How whisper.cpp runs a loaded model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelOptions {
    /// Flash attention in the encoder and decoder (whisper.cpp's `flash_attn`; whisper.cpp's own default
    /// is on, whisper-rs 0.16's off). Off by default here: on this project's 2-core machine it made a
    /// transcription 9 % slower (base, jfk, one thread: 20.4 s against 18.7 s; pywhispercpp 13.5 s), while
    /// the peak RSS fell from 505 to 328 MiB (`speech-bench --flash-attention true|false`). Cannot be
    /// combined with DTW token timestamps, which the service does not use.
    pub flash_attention: bool,
}

impl Model {
    /// [`Model::load_with`] with the default [`ModelOptions`] (flash attention off).
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        Self::load_with(path, ModelOptions::default())
    }

    /// Loads a whisper.cpp ggml model file (e.g. `ggml-base.bin`). Blocking: reads the whole file
    /// (75 MB for base, 466 MB for small); call it from a blocking thread.
    ///
    /// whisper.cpp's own log lines are routed to `tracing` (target `whisper_rs`).
    pub fn load_with(path: &Path, options: ModelOptions) -> Result<Self, ModelError> {
        install_whisper_logging();
        // whisper.cpp prints a C-level error and returns null for a missing file; checking first gives
        // the operator a proper message.
        std::fs::metadata(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let started = Instant::now();
        let mut params = WhisperContextParameters::default();
        params.flash_attn(options.flash_attention);
        let context =
            WhisperContext::new_with_params(path, params).map_err(|source| ModelError::Load {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            context,
            path: path.to_path_buf(),
            load_time: started.elapsed(),
        })
    }

    /// Where the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long loading took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// True for multilingual models (n_vocab ≥ 51865); English-only models (`*.en.bin`) are not.
    pub fn is_multilingual(&self) -> bool {
        self.context.is_multilingual()
    }
}

fn install_whisper_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(whisper_rs::install_logging_hooks);
}

/// The spoken language of a job: detect it, or a language whisper knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Language {
    /// Detect the language from the first 30 s of audio.
    Auto,
    /// A whisper language code such as `"en"` or `"ru"` (ISO 639-1 where one exists).
    Code(String),
}

/// A language whisper does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown language {0:?}: use \"auto\" or an ISO 639-1 code such as \"en\" or \"ru\"")]
pub struct UnknownLanguage(pub String);

impl Language {
    /// Parses a request's language: empty or `"auto"` is [`Language::Auto`]; otherwise a code or name
    /// whisper knows (`"en"`, `"ru"`, `"english"`), case-insensitive, normalised to the code.
    pub fn parse(value: &str) -> Result<Self, UnknownLanguage> {
        let value = value.trim().to_ascii_lowercase();
        if value.is_empty() || value == "auto" {
            return Ok(Self::Auto);
        }
        // whisper_lang_id panics on an interior NUL; real language names are short and alphabetic.
        if value.len() > 20 || !value.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(UnknownLanguage(value));
        }
        match whisper_rs::get_lang_id(&value).and_then(whisper_rs::get_lang_str) {
            Some(code) => Ok(Self::Code(code.to_string())),
            None => Err(UnknownLanguage(value)),
        }
    }

    /// The code to send on the wire: `"auto"` or the language code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Auto => "auto",
            Self::Code(code) => code,
        }
    }
}
