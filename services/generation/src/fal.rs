//! A client of Fal's queue API (`https://queue.fal.run`), one model request at a time, as Fal's docs
//! describe it:
//!
//! 1. take a [`Slot`](crate::slots::Slot) of the key (at most `--fal-max-concurrent` requests in flight
//!    across replicas);
//! 2. `POST {queue_url}/{model id}` with `Authorization: Key <key>` → `request_id`, `status_url`,
//!    `response_url`, `cancel_url` (the URLs are used as given: Fal's drop the model id's subpath);
//!    429 and 5xx (and no answer) are retried up to [`SUBMIT_RETRIES`] times with exponential back-off,
//!    honouring `Retry-After`; another 4xx is a configuration problem of this model;
//! 3. poll `status_url` (every 250 ms, growing to 2 s) until `COMPLETED`, turning `IN_QUEUE` and
//!    `IN_PROGRESS` into progress (5 %, then rising toward 90 % with the time spent);
//! 4. `GET response_url`: 200 → `images[0].url` (or `image.url`, the shape of single-picture models such
//!    as face swap); then the slot is freed;
//! 5. download the picture (`https:` or `data:`), at most `max_image_bytes`.
//!
//! A 422 whose `detail` has `type: content_policy_violation` (at submit or as the result), or a result
//! flagged `has_nsfw_concepts`, is the user's: [`FalError::Rejected`]. Any other failure is this model's
//! ([`FalError::Failed`]): `image.generate` tries the next model of its chain, the other operations fail
//! as PROVIDER_FAILED. When the job's deadline
//! passes or the service stops while a request is at Fal, the request is cancelled there (`PUT
//! cancel_url`, best effort) and its slot freed.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder as _, ExponentialBuilder};
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::bounds::{Bounds, Interruption};
use crate::secret::Secret;
use crate::slots::{SlotError, Slots};

/// Retries of a submit answered 429 or 5xx (or not answered), after the first try.
pub const SUBMIT_RETRIES: usize = 3;
/// The first back-off before a submit is retried; it doubles (with jitter) up to [`SUBMIT_MAX_DELAY`].
pub const SUBMIT_MIN_DELAY: Duration = Duration::from_millis(500);
/// The longest back-off between submits.
pub const SUBMIT_MAX_DELAY: Duration = Duration::from_secs(8);
/// The longest `Retry-After` honoured; longer ones are cut to this (the job's deadline bounds it anyway).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The first pause between status polls.
pub const POLL_MIN: Duration = Duration::from_millis(250);
/// The longest pause between status polls.
pub const POLL_MAX: Duration = Duration::from_secs(2);
/// Status polls in a row that may fail (no answer, 5xx) before the model is given up.
pub const POLL_ERRORS: u32 = 5;
/// Timeout of one API call (submit, status, result, cancel).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The shortest timeout a submit is given, even when the deadline is nearer.
pub const MIN_CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// Timeout of one picture download.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// Progress reported while the request waits in Fal's queue.
pub const QUEUED_PERCENT: u32 = 5;
/// Progress reported when the work starts; it rises toward [`WORKING_MAX_PERCENT`].
pub const WORKING_MIN_PERCENT: u32 = 10;
/// Progress is never reported above this before the picture is here.
pub const WORKING_MAX_PERCENT: u32 = 90;
/// How fast progress rises while working: 63 % of the way after this long.
const WORKING_TIME_CONSTANT: Duration = Duration::from_secs(20);
/// Longest provider text kept in an error detail, characters.
const MAX_DETAIL_CHARS: usize = 300;

/// Why a model's request produced no picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FalError {
    /// The provider refused what the user asked (its content policy): no other model is tried.
    #[error("rejected by the provider ({status}): {message}")]
    Rejected {
        /// The provider's words.
        message: String,
        /// Where it came from: the HTTP status, or "result flagged unsafe".
        status: String,
    },
    /// This model failed (an error, retries spent, a malformed or unusable result): try the next one.
    #[error("{0}")]
    Failed(String),
    /// The job's deadline passed.
    #[error("the job's deadline passed")]
    TimedOut,
    /// The service is shutting down.
    #[error("stopped by shutdown")]
    Stopped,
    /// The provider-slots bucket failed (NATS).
    #[error("{0}")]
    Slots(String),
}

impl From<Interruption> for FalError {
    fn from(interruption: Interruption) -> Self {
        match interruption {
            Interruption::TimedOut => FalError::TimedOut,
            Interruption::Stopped => FalError::Stopped,
        }
    }
}

impl From<SlotError> for FalError {
    fn from(error: SlotError) -> Self {
        match error {
            SlotError::TimedOut { .. } => FalError::TimedOut,
            SlotError::Stopped => FalError::Stopped,
            SlotError::Nats(detail) => FalError::Slots(detail),
        }
    }
}

/// Raises the job's progress to `percent` unless it is already there or beyond (progress never goes back,
/// not even when the chain moves to the next model).
pub fn raise(progress: &watch::Sender<u32>, percent: u32) {
    progress.send_if_modified(|current| {
        if percent > *current {
            *current = percent;
            true
        } else {
            false
        }
    });
}

/// Where a request goes: Fal's endpoint id, and the name logs and metrics give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// The `model` label: an `image.generate` alias (`pro`), `edit/<alias>`, `retouch`, `face_swap`.
    pub label: &'a str,
    /// Fal's endpoint id, subpath included (`fal-ai/nano-banana-pro/edit`).
    pub fal_model: &'a str,
}

/// The queue's answer to a submit.
#[derive(Debug, Clone, serde::Deserialize)]
struct Submitted {
    request_id: String,
    status_url: String,
    response_url: String,
    cancel_url: String,
}

/// Fal's queue API with one key, its slots and a download limit.
#[derive(Debug, Clone)]
pub struct FalClient {
    http: reqwest::Client,
    queue_url: String,
    key: Secret,
    slots: Slots,
    max_image_bytes: u64,
}

impl FalClient {
    /// A client of the queue at `queue_url` (`https://queue.fal.run`; a trailing `/` is ignored) with
    /// `key`, its `slots`, and pictures up to `max_image_bytes`.
    pub fn new(
        http: reqwest::Client,
        queue_url: &str,
        key: Secret,
        slots: Slots,
        max_image_bytes: u64,
    ) -> Self {
        Self {
            http,
            queue_url: queue_url.trim_end_matches('/').to_string(),
            key,
            slots,
            max_image_bytes,
        }
    }

    /// A picture from `endpoint` for the request body `input` (see the model list's `input` methods), for
    /// job `job_id`, within `bounds`; progress goes to `progress`. Errors: [`FalError`].
    pub async fn picture(
        &self,
        job_id: &str,
        endpoint: Endpoint<'_>,
        input: &Value,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<Bytes, FalError> {
        let span =
            tracing::info_span!("fal", model = %endpoint.label, endpoint = %endpoint.fal_model);
        self.picture_inner(job_id, endpoint, input, progress, bounds)
            .instrument(span)
            .await
    }

    async fn picture_inner(
        &self,
        job_id: &str,
        endpoint: Endpoint<'_>,
        input: &Value,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<Bytes, FalError> {
        let slot = self
            .slots
            .acquire(job_id, bounds.deadline, &bounds.stop)
            .await?;
        let url = self.request(endpoint, input, progress, bounds).await;
        // Held from the submit until the result is read: the request is in flight at Fal until then.
        slot.release().await;
        let url = url?;
        bounds.run(self.download(&url)).await
    }

    /// Submit, wait, read the result: the picture's URL. Cancels the request at Fal when the deadline or
    /// shutdown comes first.
    async fn request(
        &self,
        endpoint: Endpoint<'_>,
        input: &Value,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<String, FalError> {
        let submitted = self.submit(endpoint, input, bounds).await?;
        tracing::info!(request_id = %submitted.request_id, "submitted to Fal");
        // A submit is never abandoned half-way (Fal might have queued it): a limit reached meanwhile
        // cancels the request it made.
        if let Some(interruption) = bounds.interrupted() {
            self.cancel(&submitted).await;
            return Err(interruption.into());
        }
        raise(progress, QUEUED_PERCENT);
        if let Err(error) = bounds.run(self.wait(&submitted, progress)).await {
            if matches!(error, FalError::TimedOut | FalError::Stopped) {
                self.cancel(&submitted).await;
            }
            return Err(error);
        }
        bounds.run(self.result(&submitted)).await
    }

    /// `POST {queue}/{model}` with retries of 429, 5xx and unanswered calls. `bounds` end the waits
    /// between tries and shorten a call's timeout to the deadline, but never cut a call short.
    async fn submit(
        &self,
        endpoint: Endpoint<'_>,
        input: &Value,
        bounds: &Bounds,
    ) -> Result<Submitted, FalError> {
        let url = format!("{}/{}", self.queue_url, endpoint.fal_model);
        let mut delays = ExponentialBuilder::new()
            .with_min_delay(SUBMIT_MIN_DELAY)
            .with_factor(2.0)
            .with_max_delay(SUBMIT_MAX_DELAY)
            .with_max_times(SUBMIT_RETRIES)
            .with_jitter()
            .build();
        loop {
            let sent = self
                .http
                .post(&url)
                .header(AUTHORIZATION, self.authorization())
                .json(input)
                .timeout(
                    CALL_TIMEOUT
                        .min(bounds.deadline.saturating_duration_since(Instant::now()))
                        .max(MIN_CALL_TIMEOUT),
                )
                .send()
                .await;
            let (why, retry_after) = match sent {
                Err(error) => (format!("submit got no answer: {error}"), None),
                Ok(response) if response.status().is_success() => {
                    let body = response.text().await.unwrap_or_default();
                    return serde_json::from_str::<Submitted>(&body).map_err(|e| {
                        FalError::Failed(format!(
                            "the submit's answer is not a queued request ({e}): {}",
                            cut(&body)
                        ))
                    });
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(&response);
                    let body = response.text().await.unwrap_or_default();
                    if let Some(message) = content_policy(status, &body) {
                        return Err(FalError::Rejected {
                            message,
                            status: format!("submit answered {status}"),
                        });
                    }
                    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                        tracing::error!(
                            %status,
                            body = %cut(&body),
                            "Fal refused the request: check this model's entry in the model list"
                        );
                        return Err(FalError::Failed(format!(
                            "submit answered {status}: {}",
                            cut(&body)
                        )));
                    }
                    (
                        format!("submit answered {status}: {}", cut(&body)),
                        retry_after,
                    )
                }
            };
            let Some(delay) = delays.next() else {
                return Err(FalError::Failed(format!(
                    "{why} (after {SUBMIT_RETRIES} retries)"
                )));
            };
            let delay = retry_after.map_or(delay, |after| after.min(MAX_RETRY_AFTER));
            tracing::warn!(%why, ?delay, "Fal submit failed; retrying");
            bounds
                .run(async {
                    tokio::time::sleep(delay).await;
                    Ok::<_, FalError>(())
                })
                .await?;
        }
    }

    /// Polls `status_url` until `COMPLETED`.
    async fn wait(
        &self,
        submitted: &Submitted,
        progress: &watch::Sender<u32>,
    ) -> Result<(), FalError> {
        let mut pauses = ExponentialBuilder::new()
            .with_min_delay(POLL_MIN)
            .with_factor(1.5)
            .with_max_delay(POLL_MAX)
            .without_max_times()
            .build();
        let mut errors = 0;
        let mut working_since: Option<Instant> = None;
        loop {
            tokio::time::sleep(pauses.next().unwrap_or(POLL_MAX)).await;
            let answer = self
                .http
                .get(&submitted.status_url)
                .header(AUTHORIZATION, self.authorization())
                .timeout(CALL_TIMEOUT)
                .send()
                .await;
            let problem = match answer {
                Err(error) => format!("status got no answer: {error}"),
                Ok(response) if response.status().is_success() => {
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    match body["status"].as_str() {
                        Some("COMPLETED") => return Ok(()),
                        Some("IN_QUEUE") => raise(progress, QUEUED_PERCENT),
                        Some("IN_PROGRESS") => {
                            let since = *working_since.get_or_insert_with(Instant::now);
                            raise(progress, working_percent(since.elapsed()));
                        }
                        Some(other) => tracing::debug!(status = other, "unexpected Fal status"),
                        None => {
                            let shown: String = body.to_string().chars().take(200).collect();
                            tracing::warn!(answer = %shown, "a Fal status without a status");
                            errors += 1;
                            if errors >= POLL_ERRORS {
                                return Err(FalError::Failed(format!(
                                    "status answers without a status ({POLL_ERRORS} polls in a row)"
                                )));
                            }
                            continue;
                        }
                    }
                    errors = 0;
                    continue;
                }
                Ok(response) if response.status().is_client_error() => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    return Err(FalError::Failed(format!(
                        "status answered {status}: {}",
                        cut(&body)
                    )));
                }
                Ok(response) => format!("status answered {}", response.status()),
            };
            errors += 1;
            if errors >= POLL_ERRORS {
                return Err(FalError::Failed(format!(
                    "{problem} ({POLL_ERRORS} polls in a row)"
                )));
            }
            tracing::warn!(%problem, "polling Fal failed; polling on");
        }
    }

    /// `GET response_url`: the (first) picture's URL.
    async fn result(&self, submitted: &Submitted) -> Result<String, FalError> {
        let response = self
            .http
            .get(&submitted.response_url)
            .header(AUTHORIZATION, self.authorization())
            .timeout(CALL_TIMEOUT)
            .send()
            .await
            .map_err(|e| FalError::Failed(format!("result got no answer: {e}")))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            if let Some(message) = content_policy(status, &body) {
                return Err(FalError::Rejected {
                    message,
                    status: format!("result answered {status}"),
                });
            }
            return Err(FalError::Failed(format!(
                "the request completed with {status}: {}",
                cut(&body)
            )));
        }
        let result: Value = serde_json::from_str(&body).map_err(|e| {
            FalError::Failed(format!("the result is not JSON ({e}): {}", cut(&body)))
        })?;
        if result["has_nsfw_concepts"][0].as_bool() == Some(true) {
            return Err(FalError::Rejected {
                message: "The picture was flagged as unsafe by the provider's safety checker."
                    .into(),
                status: "result flagged has_nsfw_concepts".into(),
            });
        }
        picture_url(&result)
            .map(String::from)
            .ok_or_else(|| FalError::Failed(format!("the result has no images: {}", cut(&body))))
    }

    /// The picture at `url`: a `data:` URL's bytes, or an http(s) download (without the key: Fal's files
    /// are on a public CDN). At most `max_image_bytes`.
    async fn download(&self, url: &str) -> Result<Bytes, FalError> {
        if let Some(data) = url.strip_prefix("data:") {
            return decode_data_url(data, self.max_image_bytes);
        }
        let mut response = self
            .http
            .get(url)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|e| FalError::Failed(format!("downloading the picture: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FalError::Failed(format!(
                "the picture's URL answered {status}"
            )));
        }
        let too_big = || {
            FalError::Failed(format!(
                "the picture is over {} bytes",
                self.max_image_bytes
            ))
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_image_bytes)
        {
            return Err(too_big());
        }
        let mut bytes = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FalError::Failed(format!("downloading the picture: {e}")))?
        {
            if (bytes.len() + chunk.len()) as u64 > self.max_image_bytes {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes.freeze())
    }

    /// `PUT cancel_url`, best effort: a request left running would only cost money and hold Fal's
    /// concurrency until it ends.
    async fn cancel(&self, submitted: &Submitted) {
        let answer = self
            .http
            .put(&submitted.cancel_url)
            .header(AUTHORIZATION, self.authorization())
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match answer {
            Ok(response) => {
                tracing::info!(request_id = %submitted.request_id, status = %response.status(), "cancelled at Fal")
            }
            Err(error) => {
                tracing::warn!(request_id = %submitted.request_id, %error, "cancelling at Fal failed")
            }
        }
    }

    fn authorization(&self) -> String {
        format!("Key {}", self.key.expose())
    }
}

/// The percentage shown while the model works for `elapsed`: from [`WORKING_MIN_PERCENT`] rising toward
/// [`WORKING_MAX_PERCENT`], never reaching it (the time a model takes is not known).
pub fn working_percent(elapsed: Duration) -> u32 {
    let share = 1.0 - (-elapsed.as_secs_f64() / WORKING_TIME_CONSTANT.as_secs_f64()).exp();
    let span = f64::from(WORKING_MAX_PERCENT - WORKING_MIN_PERCENT);
    (WORKING_MIN_PERCENT + (span * share) as u32).min(WORKING_MAX_PERCENT - 1)
}

/// The picture's URL in a result: `images[0].url` (most image models) or `image.url` (models that make
/// one picture, such as face swap).
pub fn picture_url(result: &Value) -> Option<&str> {
    [&result["images"][0]["url"], &result["image"]["url"]]
        .into_iter()
        .find_map(|url| url.as_str().filter(|url| !url.is_empty()))
}

/// `Retry-After` in seconds, if the answer has one.
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// The provider's message when a 422's `detail` (FastAPI's list of `{loc, msg, type}`) has an entry of
/// type `content_policy_violation`.
pub fn content_policy(status: StatusCode, body: &str) -> Option<String> {
    if status != StatusCode::UNPROCESSABLE_ENTITY {
        return None;
    }
    let body: Value = serde_json::from_str(body).ok()?;
    let entry = body["detail"]
        .as_array()?
        .iter()
        .find(|entry| entry["type"].as_str() == Some("content_policy_violation"))?;
    Some(
        entry["msg"]
            .as_str()
            .filter(|msg| !msg.trim().is_empty())
            .unwrap_or("The request was refused by the provider's content policy.")
            .to_string(),
    )
}

/// The bytes of a `data:` URL (after `data:`): base64 only, at most `max_bytes`.
pub fn decode_data_url(data: &str, max_bytes: u64) -> Result<Bytes, FalError> {
    let (meta, payload) = data
        .split_once(',')
        .ok_or_else(|| FalError::Failed("a data: URL without a comma".into()))?;
    if !meta.ends_with(";base64") {
        return Err(FalError::Failed(format!(
            "a data: URL that is not base64 ({})",
            cut(meta)
        )));
    }
    if payload.len() as u64 / 4 * 3 > max_bytes {
        return Err(FalError::Failed(format!(
            "the picture is over {max_bytes} bytes"
        )));
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map(Bytes::from)
        .map_err(|e| FalError::Failed(format!("a data: URL that does not decode: {e}")))
}

/// `text` cut to [`MAX_DETAIL_CHARS`] characters, for error details.
fn cut(text: &str) -> String {
    let mut chars = text.chars();
    let kept: String = chars.by_ref().take(MAX_DETAIL_CHARS).collect();
    if chars.next().is_some() {
        format!("{kept}…")
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn content_policy_refusals() {
        let body = r#"{"detail":[{"loc":["body","prompt"],"msg":"The prompt was rejected","type":"content_policy_violation"}]}"#;
        assert_eq!(
            content_policy(StatusCode::UNPROCESSABLE_ENTITY, body).as_deref(),
            Some("The prompt was rejected")
        );
        assert_eq!(content_policy(StatusCode::BAD_REQUEST, body), None);
        let other =
            r#"{"detail":[{"loc":["body","image_size"],"msg":"too big","type":"value_error"}]}"#;
        assert_eq!(
            content_policy(StatusCode::UNPROCESSABLE_ENTITY, other),
            None
        );
        assert_eq!(
            content_policy(StatusCode::UNPROCESSABLE_ENTITY, r#"{"detail":"x"}"#),
            None
        );
    }

    #[test]
    fn picture_urls_in_either_shape() {
        let url = |v: Value| picture_url(&v).map(String::from);
        assert_eq!(
            url(serde_json::json!({"images": [{"url": "https://a/1.png"}, {"url": "x"}]}))
                .as_deref(),
            Some("https://a/1.png")
        );
        assert_eq!(
            url(serde_json::json!({"image": {"url": "https://a/s.jpg", "width": 10}})).as_deref(),
            Some("https://a/s.jpg")
        );
        assert_eq!(url(serde_json::json!({"images": []})), None);
        assert_eq!(url(serde_json::json!({"images": [{"url": ""}]})), None);
    }

    #[test]
    fn data_urls() {
        let png = decode_data_url("image/png;base64,aGVsbG8=", 100).unwrap();
        assert_eq!(&png[..], b"hello");
        assert!(decode_data_url("image/png,hello", 100).is_err());
        assert!(decode_data_url("image/png;base64,aGVsbG8=", 3).is_err());
        assert!(decode_data_url("image/png;base64,!!!", 100).is_err());
    }

    #[test]
    fn progress_rises_and_never_falls() {
        assert_eq!(working_percent(Duration::ZERO), WORKING_MIN_PERCENT);
        let (mut last, mut seconds) = (0, 0);
        while seconds < 600 {
            let percent = working_percent(Duration::from_secs(seconds));
            assert!(percent >= last && percent < WORKING_MAX_PERCENT);
            last = percent;
            seconds += 5;
        }
        let (tx, rx) = watch::channel(0);
        raise(&tx, 40);
        raise(&tx, 5);
        assert_eq!(*rx.borrow(), 40);
    }
}
