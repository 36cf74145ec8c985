//! The provider metrics (listed in the crate README, "Metrics"), beside the job pipeline's own job
//! metrics (docs/architecture.md, "Metrics and traces"):
//!
//! - `mediabot_provider_requests_total{provider, model, outcome}`: requests to a provider by how they
//!   ended ([`Outcome`]); `provider` is `fal` (one model attempt of a job: slot, submit, wait, result,
//!   download, decode; `model` the alias) or `llm` (one chat completion with its retries, `model` the
//!   configured LLM model);
//! - `mediabot_provider_request_seconds{provider, model, outcome}`: how long each took.
//!
//! `model` comes from the model list or the configuration, never from a job, so the series stay few.

use std::time::Duration;

/// How one provider request ended: the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `completed`: a result (a picture, a text) came back.
    Completed,
    /// `rejected`: the provider refused what the user asked (content policy).
    Rejected,
    /// `failed`: the provider failed (errors, retries spent, a malformed or unusable result).
    Failed,
    /// `timed_out`: the job's deadline passed first; the request was cancelled at the provider.
    TimedOut,
    /// `interrupted`: the service shut down first; the request was cancelled at the provider.
    Interrupted,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// The `provider` label of Fal.
pub const FAL: &str = "fal";
/// The `provider` label of the chat-completions LLM.
pub const LLM: &str = "llm";

/// Records one request to `provider` for `model` that ended as `outcome` after `elapsed`.
pub fn provider_request(provider: &'static str, model: &str, outcome: Outcome, elapsed: Duration) {
    metrics::counter!(
        "mediabot_provider_requests_total",
        "provider" => provider,
        "model" => model.to_string(),
        "outcome" => outcome.as_str(),
    )
    .increment(1);
    metrics::histogram!(
        "mediabot_provider_request_seconds",
        "provider" => provider,
        "model" => model.to_string(),
        "outcome" => outcome.as_str(),
    )
    .record(elapsed.as_secs_f64());
}
