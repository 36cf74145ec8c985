//! A client of any OpenAI-compatible chat-completions endpoint (`POST {base}/chat/completions` with
//! `Authorization: Bearer <key>`), for the two things this service asks an LLM:
//!
//! - [`LlmClient::write_prompt`] (`prompt.write`): a detailed English image prompt in labelled sections
//!   from the user's idea, cut to [`MAX_PROMPT_CHARS`];
//! - [`LlmClient::translate`]: a prompt in another script translated to English, for models that
//!   understand English best (the model list's `translate_prompt`).
//!
//! Each call has a timeout (`--llm-timeout-secs`, 60 s by default); no answer, 429 and 5xx are retried
//! up to [`LLM_RETRIES`] times with exponential back-off, honouring `Retry-After`. Any other error status,
//! or a 200 without a text in `choices[0].message.content`, fails at once.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder as _, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::{Value, json};

use crate::bounds::{Bounds, Interruption};
use crate::metrics::{self, Outcome};
use crate::secret::Secret;

/// Retries of a call answered 429 or 5xx, or not answered in time, after the first try.
pub const LLM_RETRIES: usize = 3;
/// The first back-off before a retry; it doubles (with jitter) up to 8 s.
pub const LLM_MIN_DELAY: Duration = Duration::from_millis(500);
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The longest prompt `prompt.write` returns, characters (what `image.generate` accepts).
pub const MAX_PROMPT_CHARS: usize = 4000;
/// The length asked of a written prompt, characters.
pub const MIN_PROMPT_CHARS: usize = 1000;

/// The system message of `prompt.write`.
pub const WRITE_PROMPT_SYSTEM: &str = "You write prompts for image-generation models. From the user's \
idea, write one detailed image-generation prompt in English, whatever language the idea is written in. \
Structure it in these labelled sections, in this order, each on its own line and a few sentences long: \
Subject, Composition, Lighting, Colour palette, Style, Details, Camera/technique, Mood. Be concrete and \
visual, keep everything the user asked for and add nothing that contradicts it. Write at least 1000 \
characters. Reply with the prompt only: no title, no preamble, no notes, no quotation marks.";

/// The system message of a translation.
pub const TRANSLATE_SYSTEM: &str =
    "Translate the user's image description into English. Reply with the translation only.";

/// Why a chat completion gave no text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// An error status, retries spent, or a malformed answer.
    #[error("{0}")]
    Failed(String),
    /// The job's deadline passed.
    #[error("the job's deadline passed")]
    TimedOut,
    /// The service is shutting down.
    #[error("stopped by shutdown")]
    Stopped,
}

impl From<Interruption> for LlmError {
    fn from(interruption: Interruption) -> Self {
        match interruption {
            Interruption::TimedOut => LlmError::TimedOut,
            Interruption::Stopped => LlmError::Stopped,
        }
    }
}

/// A chat completion's text and the model that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// `choices[0].message.content`, trimmed.
    pub text: String,
    /// The answer's `model` (as the endpoint names it), else the one asked for.
    pub model: String,
}

/// One endpoint, key and model.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    base_url: String,
    key: Secret,
    model: String,
    timeout: Duration,
}

impl LlmClient {
    /// A client of `base_url` (`https://api.openai.com/v1`; a trailing `/` is ignored) asking `model`
    /// with `key`, each call waiting at most `timeout`.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        key: Secret,
        model: &str,
        timeout: Duration,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            model: model.to_string(),
            timeout,
        }
    }

    /// An English image prompt from `idea` (written in `language`, ISO 639-1, or "auto"/empty), at most
    /// [`MAX_PROMPT_CHARS`] characters.
    pub async fn write_prompt(
        &self,
        idea: &str,
        language: &str,
        bounds: &Bounds,
    ) -> Result<Completion, LlmError> {
        let system = match language {
            "" | "auto" => WRITE_PROMPT_SYSTEM.to_string(),
            code => format!(
                "{WRITE_PROMPT_SYSTEM} The idea is written in the language with ISO 639-1 code \"{code}\"."
            ),
        };
        let mut completion = self.complete(&system, idea, bounds).await?;
        completion.text = cut_at_word(&completion.text, MAX_PROMPT_CHARS);
        Ok(completion)
    }

    /// `text` in English.
    pub async fn translate(&self, text: &str, bounds: &Bounds) -> Result<String, LlmError> {
        let completion = self.complete(TRANSLATE_SYSTEM, text, bounds).await?;
        Ok(cut_at_word(&completion.text, MAX_PROMPT_CHARS))
    }

    /// One chat completion of a system and a user message, with retries, within `bounds`.
    pub async fn complete(
        &self,
        system: &str,
        user: &str,
        bounds: &Bounds,
    ) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let result = bounds.run(self.complete_with_retries(system, user)).await;
        let outcome = match &result {
            Ok(_) => Outcome::Completed,
            Err(LlmError::Failed(_)) => Outcome::Failed,
            Err(LlmError::TimedOut) => Outcome::TimedOut,
            Err(LlmError::Stopped) => Outcome::Interrupted,
        };
        metrics::provider_request(metrics::LLM, &self.model, outcome, started.elapsed());
        result
    }

    async fn complete_with_retries(
        &self,
        system: &str,
        user: &str,
    ) -> Result<Completion, LlmError> {
        let url = format!("{}/chat/completions", self.base_url);
        let body = json!({
            "model": self.model,
            "messages": [
                { "role": "system", "content": system },
                { "role": "user", "content": user },
            ],
        });
        let mut delays = ExponentialBuilder::new()
            .with_min_delay(LLM_MIN_DELAY)
            .with_factor(2.0)
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(LLM_RETRIES)
            .with_jitter()
            .build();
        loop {
            let sent = self
                .http
                .post(&url)
                .bearer_auth(self.key.expose())
                .json(&body)
                .timeout(self.timeout)
                .send()
                .await;
            let (why, retry_after) = match sent {
                Err(error) => (format!("no answer: {error}"), None),
                Ok(response) if response.status().is_success() => {
                    let answer: Value = response
                        .json()
                        .await
                        .map_err(|e| LlmError::Failed(format!("the answer is not JSON: {e}")))?;
                    return self.completion(&answer);
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = response.text().await.unwrap_or_default();
                    let message = error_message(&text);
                    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                        tracing::error!(%status, %message, "the LLM refused the call");
                        return Err(LlmError::Failed(format!("answered {status}: {message}")));
                    }
                    (format!("answered {status}: {message}"), retry_after)
                }
            };
            let Some(delay) = delays.next() else {
                return Err(LlmError::Failed(format!(
                    "{why} (after {LLM_RETRIES} retries)"
                )));
            };
            let delay = retry_after.map_or(delay, |after| after.min(MAX_RETRY_AFTER));
            tracing::warn!(%why, ?delay, "LLM call failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn completion(&self, answer: &Value) -> Result<Completion, LlmError> {
        let text = answer["choices"][0]["message"]["content"]
            .as_str()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| {
                let shown: String = answer.to_string().chars().take(300).collect();
                LlmError::Failed(format!("the answer has no text in choices: {shown}"))
            })?;
        Ok(Completion {
            text: text.to_string(),
            model: answer["model"]
                .as_str()
                .filter(|m| !m.is_empty())
                .unwrap_or(&self.model)
                .to_string(),
        })
    }
}

/// Whether `text` has letters outside the Latin script (Cyrillic, Greek, CJK, ...): such a prompt is
/// translated for models that want English.
pub fn needs_translation(text: &str) -> bool {
    text.chars().any(|c| c.is_alphabetic() && !is_latin(c))
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c as u32,
            0x00C0..=0x024F // Latin-1 Supplement letters, Latin Extended-A and -B
            | 0x1E00..=0x1EFF // Latin Extended Additional
            | 0x00AA | 0x00BA)
}

/// `text` cut to at most `max` characters, at the last whitespace before the cut when there is one in
/// its last fifth.
pub fn cut_at_word(text: &str, max: usize) -> String {
    let text = text.trim();
    let Some((end, _)) = text.char_indices().nth(max) else {
        return text.to_string();
    };
    let head = &text[..end];
    match head.rfind(char::is_whitespace) {
        Some(space) if head[..space].chars().count() >= max * 4 / 5 => {
            head[..space].trim_end().to_string()
        }
        _ => head.to_string(),
    }
}

/// The error text of an OpenAI-style error body (`{"error":{"message":..}}`), else the body, cut.
fn error_message(body: &str) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| body.to_string());
    message.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert!(needs_translation("Кот в космосе"));
        assert!(needs_translation("a cat 在太空"));
        assert!(!needs_translation("A café in Zürich, 1920s, łódź"));
        assert!(!needs_translation("1234 — !?"));
    }

    #[test]
    fn cuts() {
        assert_eq!(cut_at_word("  short  ", 10), "short");
        let long = "word ".repeat(1000);
        let cut = cut_at_word(&long, 4000);
        assert!(
            cut.chars().count() <= 4000 && cut.ends_with("word"),
            "{cut:?}"
        );
        let solid = "x".repeat(5000);
        assert_eq!(cut_at_word(&solid, 4000).len(), 4000);
        let cyrillic = "я".repeat(4001);
        assert_eq!(cut_at_word(&cyrillic, 4000).chars().count(), 4000);
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            error_message(r#"{"error":{"message":"Rate limit","type":"x"}}"#),
            "Rate limit"
        );
        assert_eq!(error_message("oops"), "oops");
    }
}
