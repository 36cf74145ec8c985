//! The JSON of the control API, shared by the server (`control.rs`) and the client: faults to inject and
//! the statistics a test reads back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fault target that matches every Fal model.
pub const ALL_FAL_MODELS: &str = "*";

/// The fault target for OpenAI chat completions.
pub const CHAT: &str = "chat";

/// A fault to inject: `{"target","kind","count","delay_ms"}`.
///
/// It hits requests for `target` submitted after it is set (requests refused with 401 or 422 are not
/// counted), `count` times (`None`: until cleared). When several faults match, the oldest wins and only it
/// is counted down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// A Fal model id exactly as submitted (`fal-ai/nano-banana/edit`), [`ALL_FAL_MODELS`] (`*`) or
    /// [`CHAT`] (`chat`).
    pub target: String,
    /// What goes wrong.
    pub kind: FaultKind,
    /// How many requests it hits; `None` (JSON `null` or absent) until cleared. Must be ≥ 1.
    #[serde(default)]
    pub count: Option<u32>,
    /// Extra work time in milliseconds for [`FaultKind::Slow`] (default 1000); ignored by the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl Fault {
    /// A fault on `target` that hits every request until cleared.
    pub fn new(target: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            target: target.into(),
            kind,
            count: None,
            delay_ms: None,
        }
    }

    /// A fault on `target` that hits the next request only.
    pub fn once(target: impl Into<String>, kind: FaultKind) -> Self {
        Self::new(target, kind).count(1)
    }

    /// Hits `count` requests, then ends.
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// A [`FaultKind::Slow`] fault adding `delay_ms` milliseconds of work.
    pub fn slow(target: impl Into<String>, delay_ms: u64) -> Self {
        Self {
            delay_ms: Some(delay_ms),
            ..Self::new(target, FaultKind::Slow)
        }
    }
}

/// What an injected fault does. `rate_limit`, `server_error`, `slow` and `malformed` apply to both APIs;
/// `stuck`, `failed` and `rejected` to Fal only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The submit (or chat call) is answered 429.
    RateLimit,
    /// The submit (or chat call) is answered 500.
    ServerError,
    /// The request stays `IN_QUEUE` until cancelled (Fal only).
    Stuck,
    /// The request completes with a retryable runner error: result 500 with `X-Fal-Retryable: true`
    /// (Fal only).
    Failed,
    /// The request completes with a 422 `content_policy_violation` (Fal only).
    Rejected,
    /// The work takes `delay_ms` longer (for chat: the answer comes `delay_ms` later).
    Slow,
    /// Fal: the request completes and its result is 200 JSON without `images`. Chat: 200 without
    /// `choices`.
    Malformed,
}

impl FaultKind {
    /// Whether this kind can target chat completions.
    pub fn applies_to_chat(self) -> bool {
        matches!(
            self,
            Self::RateLimit | Self::ServerError | Self::Slow | Self::Malformed
        )
    }
}

/// An injected fault as `GET /sandbox/faults` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveFault {
    /// The id `POST /sandbox/faults` answered.
    pub id: u64,
    /// The fault as set.
    #[serde(flatten)]
    pub fault: Fault,
    /// Requests it will still hit; `None` until cleared.
    pub remaining: Option<u32>,
}

/// `GET /sandbox/stats`: what the sandbox has seen since it started or was reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Per Fal model id (as submitted, subpath included).
    pub models: BTreeMap<String, ModelStats>,
    /// Per Fal key (the sandbox's own configured keys, not secrets).
    pub keys: BTreeMap<String, KeyStats>,
    /// Chat completions answered 200 (the `malformed` fault included).
    pub chat_completions: u64,
    /// Chat calls with a valid key that were refused (400, 429, 500).
    pub chat_errors: u64,
    /// The last 100 requests of both APIs, oldest first.
    pub recent: Vec<RecentRequest>,
}

/// Counters of one Fal model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStats {
    /// Submits accepted into the queue.
    pub submitted: u64,
    /// Requests completed with a result (`malformed` included).
    pub completed: u64,
    /// Requests completed with an error (runner failure, rejected prompt, undecodable input, ...).
    pub failed: u64,
    /// Requests cancelled while queued or in progress.
    pub cancelled: u64,
    /// Submits refused with 429 (the per-key cap or a `rate_limit` fault).
    pub rejected_429: u64,
    /// Submits refused otherwise: 422 validation errors and `server_error` faults.
    pub refused: u64,
}

/// Concurrency of one Fal key: requests `IN_QUEUE` or `IN_PROGRESS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStats {
    /// In flight now.
    pub in_flight: u64,
    /// The most in flight at once since start or reset.
    pub max_in_flight: u64,
}

/// Which API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// Fal's queue API.
    Fal,
    /// OpenAI chat completions.
    Openai,
}

/// One recent request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentRequest {
    /// Which API.
    pub api: Api,
    /// Fal's `request_id` (a UUID) or the completion's `id` (`chatcmpl-…`).
    pub request_id: String,
    /// The Fal model id, or the chat body's `model`.
    pub model: String,
    /// Fal: `IN_QUEUE`, `IN_PROGRESS` or `COMPLETED`. Chat: `COMPLETED`, or `ERROR` when refused.
    pub status: String,
    /// The error of a request that completed with one (`cancelled` for a cancelled one), or of a refused
    /// chat call.
    #[serde(default)]
    pub error: Option<String>,
    /// The request body, with every `data:` URI longer than 64 characters cut to its first 32 and its
    /// length.
    pub input: Value,
}

impl Stats {
    /// The counters of `model`, zero when it has seen nothing.
    pub fn model(&self, model: &str) -> ModelStats {
        self.models.get(model).copied().unwrap_or_default()
    }

    /// The concurrency of `key`, zero when it has seen nothing.
    pub fn key(&self, key: &str) -> KeyStats {
        self.keys.get(key).copied().unwrap_or_default()
    }
}
