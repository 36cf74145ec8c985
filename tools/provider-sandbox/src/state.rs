//! Everything the sandbox remembers, in memory behind one mutex: Fal requests and their lifecycle, the
//! generated files, injected faults and the statistics. The lock is never held across an `.await`; the
//! methods here are the only place that changes a request's phase, so the per-key in-flight counts stay
//! consistent with it.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    client::{ALL_FAL_MODELS, ActiveFault, Api, CHAT, Fault, RecentRequest, Stats},
    error::{ControlError, FalError},
    fonts::Fonts,
};

/// How many recent requests `GET /sandbox/stats` lists.
const RECENT: usize = 100;

/// `data:` URIs longer than this are shortened in the stats.
const DATA_URI_SHOWN: usize = 64;

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The base URL in `response_url`s and file URLs, without a trailing `/`.
    pub public_url: String,
    /// Fal keys accepted.
    pub fal_keys: Vec<String>,
    /// The OpenAI key accepted.
    pub openai_key: String,
    /// How long a request stays `IN_QUEUE`.
    pub queue_time: Duration,
    /// How long it stays `IN_PROGRESS` (at least; rendering may take longer).
    pub work_time: Duration,
    /// Most requests in flight per Fal key.
    pub max_concurrent_per_key: usize,
}

/// What every handler shares.
#[derive(Debug)]
pub struct Shared {
    /// Start-up settings.
    pub settings: Settings,
    /// Fonts for lettering.
    pub fonts: Fonts,
    /// For fetching input images.
    pub http: reqwest::Client,
    /// Cancelled when the sandbox stops; every request's token is a child of it.
    pub shutdown: CancellationToken,
    /// Renders at once: one per CPU, so a burst of requests does not starve the HTTP side.
    pub renders: Semaphore,
    state: Mutex<State>,
}

impl Shared {
    /// Shared state with nothing in it.
    pub fn new(settings: Settings, fonts: Fonts, shutdown: CancellationToken) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            settings,
            fonts,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
            shutdown,
            renders: Semaphore::new(cpus),
            state: Mutex::new(State::default()),
        }
    }

    /// The state, locked. A panic while locked cannot leave it half-changed in a way that matters to a
    /// test double, so a poisoned lock is used as is.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a Fal request is in its lifecycle.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Waiting for a runner.
    InQueue,
    /// Being worked on.
    InProgress,
    /// Done, one way or another.
    Completed(Outcome),
}

/// How a Fal request ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The model's result JSON.
    Result(Value),
    /// An error: what `GET …/requests/{id}` answers, and the status's `error`/`error_type`.
    Failed {
        /// The result endpoint's answer.
        error: FalError,
        /// The status's `error`.
        message: String,
        /// The status's `error_type`.
        error_type: String,
    },
    /// Cancelled while queued or in progress.
    Cancelled,
}

/// One line of a request's logs, as Fal's status shows it.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// When, RFC 3339 UTC.
    pub timestamp: String,
    /// The text.
    pub message: String,
}

/// One Fal request.
#[derive(Debug)]
pub struct FalRequest {
    /// Submission order, for queue positions.
    pub seq: u64,
    /// The model id as submitted.
    pub model: String,
    /// `owner/app`: the part of the model id its URLs use.
    pub app: String,
    /// The key it was submitted with.
    pub key: String,
    /// The body, `data:` URIs shortened.
    pub input: Value,
    /// Where it is.
    pub phase: Phase,
    /// Cancelled to stop its task.
    pub cancel: CancellationToken,
    /// What the status shows with `?logs=1`.
    pub logs: Vec<LogLine>,
    /// When it was accepted.
    pub submitted_at: Instant,
}

/// A generated file, served at `/files/{name}`.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// The MIME type.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Bytes,
}

/// What `PUT …/cancel` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAnswer {
    /// It was queued or in progress and is now cancelled.
    Cancelled,
    /// It had already completed.
    AlreadyCompleted,
    /// No such request.
    NotFound,
}

/// Why a submit was refused before it was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The key has `max_concurrent_per_key` requests in flight.
    TooManyInFlight,
}

#[derive(Debug)]
enum Recent {
    Fal(Uuid),
    Chat(RecentRequest),
}

/// The sandbox's memory.
#[derive(Debug, Default)]
pub struct State {
    requests: HashMap<Uuid, FalRequest>,
    next_seq: u64,
    faults: Vec<ActiveFault>,
    next_fault_id: u64,
    files: HashMap<String, StoredFile>,
    stats: Stats,
    recent: VecDeque<Recent>,
}

impl State {
    /// Injects a fault. Errors: an empty target, a `count` of 0, or a Fal-only kind aimed at `chat`.
    pub fn add_fault(&mut self, fault: Fault) -> Result<u64, ControlError> {
        if fault.target.trim().is_empty() {
            return Err(ControlError("target must not be empty".into()));
        }
        if fault.count == Some(0) {
            return Err(ControlError("count must be at least 1 (or null)".into()));
        }
        if fault.target == CHAT && !fault.kind.applies_to_chat() {
            return Err(ControlError(format!(
                "{:?} faults apply to Fal models only; chat takes rate_limit, server_error, slow, malformed",
                fault.kind
            )));
        }
        self.next_fault_id += 1;
        let id = self.next_fault_id;
        self.faults.push(ActiveFault {
            id,
            remaining: fault.count,
            fault,
        });
        Ok(id)
    }

    /// The active faults, oldest first.
    pub fn faults(&self) -> Vec<ActiveFault> {
        self.faults.clone()
    }

    /// Removes every fault; returns how many there were.
    pub fn clear_faults(&mut self) -> usize {
        std::mem::take(&mut self.faults).len()
    }

    /// The oldest fault matching `target` (a Fal model id, or [`CHAT`]), counted down; it is removed when
    /// used up.
    pub fn take_fault(&mut self, target: &str) -> Option<Fault> {
        let position = self.faults.iter().position(|active| {
            active.fault.target == target
                || (active.fault.target == ALL_FAL_MODELS && target != CHAT)
        })?;
        let active = &mut self.faults[position];
        let fault = active.fault.clone();
        if let Some(remaining) = &mut active.remaining {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.faults.remove(position);
            }
        }
        Some(fault)
    }

    /// Forgets everything: faults, requests (their tasks are cancelled), files and stats.
    pub fn reset(&mut self) {
        for request in self.requests.values() {
            request.cancel.cancel();
        }
        *self = Self {
            next_seq: self.next_seq,
            next_fault_id: self.next_fault_id,
            ..Self::default()
        };
    }

    /// Counts a submit refused with 429.
    pub fn count_429(&mut self, model: &str) {
        self.stats
            .models
            .entry(model.to_owned())
            .or_default()
            .rejected_429 += 1;
    }

    /// Counts a submit refused otherwise (422, an injected 500).
    pub fn count_refused(&mut self, model: &str) {
        self.stats
            .models
            .entry(model.to_owned())
            .or_default()
            .refused += 1;
    }

    /// Queues a request unless its key is at the cap. Returns the request's queue position.
    pub fn submit(
        &mut self,
        id: Uuid,
        request: NewRequest,
        max_in_flight: usize,
    ) -> Result<u64, Refusal> {
        let key_stats = self.stats.keys.entry(request.key.clone()).or_default();
        if key_stats.in_flight >= max_in_flight as u64 {
            self.count_429(&request.model);
            return Err(Refusal::TooManyInFlight);
        }
        key_stats.in_flight += 1;
        key_stats.max_in_flight = key_stats.max_in_flight.max(key_stats.in_flight);
        self.stats
            .models
            .entry(request.model.clone())
            .or_default()
            .submitted += 1;
        self.next_seq += 1;
        let position = self.queued_before(&request.key, self.next_seq);
        self.requests.insert(
            id,
            FalRequest {
                seq: self.next_seq,
                app: app_of(&request.model).to_owned(),
                model: request.model,
                key: request.key,
                input: shorten_data_uris(request.input),
                phase: Phase::InQueue,
                cancel: request.cancel,
                logs: vec![log_line("Request added to the queue")],
                submitted_at: Instant::now(),
            },
        );
        self.remember(Recent::Fal(id));
        Ok(position)
    }

    /// The request `id` if it belongs to `app` (`owner/app`): Fal's URLs name the app, and another
    /// app's URL does not find it.
    pub fn request(&self, app: &str, id: Uuid) -> Option<&FalRequest> {
        self.requests.get(&id).filter(|request| request.app == app)
    }

    /// Requests of `key` submitted before sequence number `seq` and still queued.
    pub fn queued_before(&self, key: &str, seq: u64) -> u64 {
        self.requests
            .values()
            .filter(|other| {
                other.key == key && other.seq < seq && matches!(other.phase, Phase::InQueue)
            })
            .count() as u64
    }

    /// Moves a queued request to `IN_PROGRESS`; false if it is gone or no longer queued.
    pub fn start(&mut self, id: Uuid, message: String) -> bool {
        match self.requests.get_mut(&id) {
            Some(request) if matches!(request.phase, Phase::InQueue) => {
                request.phase = Phase::InProgress;
                request.logs.push(log_line(&message));
                true
            }
            _ => false,
        }
    }

    /// Completes a request in progress with `outcome`, storing its files; nothing if it is gone or was
    /// cancelled meanwhile.
    pub fn complete(&mut self, id: Uuid, outcome: Outcome, files: Vec<(String, StoredFile)>) {
        let Some(request) = self.requests.get_mut(&id) else {
            return;
        };
        if matches!(request.phase, Phase::Completed(_)) {
            return;
        }
        let message = match &outcome {
            Outcome::Result(_) => format!(
                "Completed in {} ms",
                request.submitted_at.elapsed().as_millis()
            ),
            Outcome::Failed { message, .. } => format!("Failed: {message}"),
            Outcome::Cancelled => "Cancelled".to_owned(),
        };
        request.logs.push(log_line(&message));
        let model = self.stats.models.entry(request.model.clone()).or_default();
        match &outcome {
            Outcome::Result(_) => model.completed += 1,
            Outcome::Failed { .. } => model.failed += 1,
            Outcome::Cancelled => model.cancelled += 1,
        }
        if let Some(key) = self.stats.keys.get_mut(&request.key) {
            key.in_flight = key.in_flight.saturating_sub(1);
        }
        request.phase = Phase::Completed(outcome);
        self.files.extend(files);
    }

    /// Cancels a queued or running request of `app`.
    pub fn cancel(&mut self, app: &str, id: Uuid) -> CancelAnswer {
        let Some(request) = self.request(app, id) else {
            return CancelAnswer::NotFound;
        };
        if matches!(request.phase, Phase::Completed(_)) {
            return CancelAnswer::AlreadyCompleted;
        }
        request.cancel.cancel();
        self.complete(id, Outcome::Cancelled, Vec::new());
        CancelAnswer::Cancelled
    }

    /// A generated file.
    pub fn file(&self, name: &str) -> Option<StoredFile> {
        self.files.get(name).cloned()
    }

    /// Records a chat completion (answered or refused).
    pub fn record_chat(&mut self, entry: RecentRequest) {
        if entry.error.is_some() {
            self.stats.chat_errors += 1;
        } else {
            self.stats.chat_completions += 1;
        }
        self.remember(Recent::Chat(RecentRequest {
            input: shorten_data_uris(entry.input.clone()),
            ..entry
        }));
    }

    fn remember(&mut self, entry: Recent) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(entry);
    }

    /// The statistics, with the recent requests' current status.
    pub fn stats(&self) -> Stats {
        let recent = self
            .recent
            .iter()
            .filter_map(|entry| match entry {
                Recent::Chat(chat) => Some(chat.clone()),
                Recent::Fal(id) => self.requests.get(id).map(|request| {
                    let (status, error) = match &request.phase {
                        Phase::InQueue => ("IN_QUEUE", None),
                        Phase::InProgress => ("IN_PROGRESS", None),
                        Phase::Completed(Outcome::Result(_)) => ("COMPLETED", None),
                        Phase::Completed(Outcome::Failed { message, .. }) => {
                            ("COMPLETED", Some(message.clone()))
                        }
                        Phase::Completed(Outcome::Cancelled) => {
                            ("COMPLETED", Some("cancelled".to_owned()))
                        }
                    };
                    RecentRequest {
                        api: Api::Fal,
                        request_id: id.to_string(),
                        model: request.model.clone(),
                        status: status.to_owned(),
                        error,
                        input: request.input.clone(),
                    }
                }),
            })
            .collect();
        Stats {
            recent,
            ..self.stats.clone()
        }
    }
}

/// A submit about to be queued.
#[derive(Debug)]
pub struct NewRequest {
    /// The model id as submitted.
    pub model: String,
    /// The Fal key.
    pub key: String,
    /// The body.
    pub input: Value,
    /// Stops its task.
    pub cancel: CancellationToken,
}

/// `owner/app` of a model id: its first two path segments.
pub fn app_of(model: &str) -> &str {
    match model.match_indices('/').nth(1) {
        Some((end, _)) => &model[..end],
        None => model,
    }
}

/// Fal's log line shape: `{"message","level","source","timestamp"}`.
pub fn log_json(line: &LogLine) -> Value {
    json!({
        "message": line.message,
        "level": "INFO",
        "source": "user",
        "timestamp": line.timestamp,
    })
}

fn log_line(message: &str) -> LogLine {
    LogLine {
        timestamp: rfc3339(SystemTime::now()),
        message: message.to_owned(),
    }
}

/// `2026-12-07T19:20:00.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The JSON with every `data:` URI longer than 64 characters cut to its first 32 and its length, so the
/// stats stay small and readable.
pub fn shorten_data_uris(value: Value) -> Value {
    match value {
        Value::String(text) if text.starts_with("data:") && text.len() > DATA_URI_SHOWN => {
            let head: String = text.chars().take(32).collect();
            Value::String(format!("{head}… ({} bytes)", text.len()))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(shorten_data_uris).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, shorten_data_uris(value)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::FaultKind;

    #[test]
    fn apps_are_the_first_two_segments() {
        assert_eq!(app_of("fal-ai/nano-banana-pro"), "fal-ai/nano-banana-pro");
        assert_eq!(app_of("fal-ai/nano-banana/edit"), "fal-ai/nano-banana");
        assert_eq!(
            app_of("fal-ai/bytedance/seedream/v4/text-to-image"),
            "fal-ai/bytedance"
        );
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let time = UNIX_EPOCH + Duration::from_millis(1_796_670_000_123);
        assert_eq!(rfc3339(time), "2026-12-07T19:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn faults_count_down_and_the_oldest_wins() {
        let mut state = State::default();
        state
            .add_fault(Fault::once("fal-ai/a", FaultKind::Failed))
            .unwrap();
        state.add_fault(Fault::new("*", FaultKind::Slow)).unwrap();
        assert_eq!(
            state.take_fault("fal-ai/a").unwrap().kind,
            FaultKind::Failed
        );
        assert_eq!(state.take_fault("fal-ai/a").unwrap().kind, FaultKind::Slow);
        assert!(state.take_fault(CHAT).is_none());
        assert!(state.add_fault(Fault::new(CHAT, FaultKind::Stuck)).is_err());
        assert!(
            state
                .add_fault(Fault::new("x", FaultKind::Stuck).count(0))
                .is_err()
        );
        assert_eq!(state.clear_faults(), 1);
    }

    #[test]
    fn data_uris_are_shortened() {
        let long = format!("data:image/png;base64,{}", "A".repeat(100));
        let shown = shorten_data_uris(json!({"image_urls": [long, "https://x/y.png"]}));
        assert_eq!(
            shown["image_urls"][0],
            "data:image/png;base64,AAAAAAAAAA… (122 bytes)"
        );
        assert_eq!(shown["image_urls"][1], "https://x/y.png");
    }
}
