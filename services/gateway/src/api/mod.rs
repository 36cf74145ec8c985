//! The OpenAI-compatible HTTP API for speech, served on `--api-listen` (off when unset):
//!
//! - `POST /v1/audio/transcriptions` and `POST /v1/audio/translations`: OpenAI's multipart form (`file`,
//!   `model`, `language`, `prompt`, `response_format` json | text | srt | vtt | verbose_json,
//!   `temperature`), answered when the transcript is ready, so OpenAI's client libraries work by changing
//!   their base URL;
//! - `POST /v1/jobs` (the same form plus `task`: `transcribe` or `translate`) answers `202` with a job id at
//!   once; `GET /v1/jobs/{id}` answers its status and, once done, its result in the format asked for
//!   (only to the account that started it).
//!
//! `Authorization: Bearer <key>` names a billing account (billing `ResolveApiKey`; users get a key with
//! `/apikey` in the bot), so the API is paid like the bot: a hold before the upload is stored, the same
//! `speech.transcribe` job on the same work queue, a capture of the actual length once the result is stored
//! (the delivery consumer publishes `jobs.delivered` for an API job, [`crate::delivery`]) and a release on
//! any failure. The length of an uploaded file is unknown before it is decoded, so the hold is for the
//! longest accepted audio, or, when the balance does not cover that, for the whole minutes it does cover;
//! the job then refuses longer audio (`Transcribe.max_audio_ms`), so the capture never exceeds the hold.
//!
//! Handlers only convert the form and delegate to [`Api`]; errors take OpenAI's shape ([`error`]).

pub mod error;
pub mod formats;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use job_pipeline::jetstream::input_key;
use mediabot_proto::JobId;
use mediabot_proto::Service;
use mediabot_proto::billing::v1::{
    PriceUnit, ReleaseRequest, ReserveRequest, ResolveApiKeyRequest,
};
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{
    FailureReason, JobContext, JobOrigin, JobRequest, JobState, Operation, Transcribe, Transcript,
    job_completed,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic_types::StatusExt;
use tracing::Instrument as _;

use crate::backends::Availability;
use crate::{Error, Gateway};
pub use error::ApiError;
pub use formats::ResponseFormat;

/// Key-value bucket of the API's jobs (key: job id; value: [`ApiJob`] as JSON): who may read a job and
/// how its result is rendered. Kept as long as job statuses.
pub const API_JOBS_BUCKET: &str = "gateway-api-jobs";
/// How often a waiting request looks at its job's status.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Room in a request body for the form's other fields and the multipart framing, bytes.
const FORM_OVERHEAD_BYTES: usize = 1 << 20;

/// A job started through the API, as recorded in [`API_JOBS_BUCKET`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiJob {
    /// The billing account that pays for it (the only one that may read it).
    pub account_id: i64,
    /// OpenAI's `response_format` name.
    pub response_format: String,
    /// The requested temperature (echoed in `verbose_json` segments).
    pub temperature: f32,
    /// When it was started, seconds since the Unix epoch.
    pub created_at: i64,
}

/// The API's shared state. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    gateway: Gateway,
    jobs: Arc<kv::Store>,
    sync_wait: Duration,
}

/// A parsed request form.
#[derive(Debug, Default)]
struct Form {
    file: Option<(Bytes, String, String)>,
    model: Option<String>,
    language: Option<String>,
    prompt: Option<String>,
    response_format: Option<String>,
    temperature: Option<String>,
    task: Option<String>,
}

/// A validated request: what to run on which file, and how to answer.
#[derive(Debug)]
struct Request {
    operation: Transcribe,
    bytes: Bytes,
    file_name: String,
    mime_type: String,
    format: ResponseFormat,
}

/// How a job ended, as far as the API can tell now.
enum Outcome {
    /// Not finished (or finished, not yet recorded as delivered).
    Pending(JobState),
    /// The transcript, stored and delivered (billing captures), and the worker's time on it, ms.
    Done(Box<Transcript>, u64),
    /// Failed (billing releases).
    Failed(FailureReason),
}

impl Api {
    /// The API over `gateway`'s backends, creating its jobs bucket; a synchronous request waits at most
    /// `sync_wait` for its transcript.
    pub async fn new(gateway: Gateway, sync_wait: Duration) -> Result<Self, Error> {
        let jobs = job_pipeline::jetstream::key_value_bucket(
            &gateway.pipeline.jetstream,
            API_JOBS_BUCKET,
            "jobs started through the HTTP API: account and response format",
            job_pipeline::jetstream::MEDIA_TTL,
        )
        .await?;
        Ok(Self {
            gateway,
            jobs: Arc::new(jobs),
            sync_wait,
        })
    }

    /// The routes, with the request body capped at the file limit plus room for the form.
    pub fn router(self) -> Router {
        let limit = usize::try_from(self.gateway.limits.max_file_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(FORM_OVERHEAD_BYTES);
        Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
            .route("/v1/audio/translations", post(translations))
            .route("/v1/jobs", post(create_job))
            .route("/v1/jobs/{id}", get(get_job))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self)
    }

    /// Serves the routes on `listener` until `shutdown` fires.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    }

    /// The account of the request's `Authorization: Bearer <key>`.
    async fn account(&self, headers: &HeaderMap) -> Result<i64, ApiError> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::invalid_api_key(
                    "no API key: send `Authorization: Bearer <key>`; get a key with /apikey in the bot",
                )
            })?;
        let resolved = self
            .gateway
            .backends
            .billing
            .clone()
            .resolve_api_key(ResolveApiKeyRequest {
                api_key: key.to_string(),
            })
            .await;
        match resolved {
            Ok(response) => Ok(response.into_inner().account_id),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Err(ApiError::invalid_api_key(
                    "incorrect API key provided; get a new one with /apikey in the bot",
                ))
            }
            Err(status) => {
                tracing::warn!(%status, "billing ResolveApiKey failed");
                Err(ApiError::unavailable(
                    "billing is unavailable; retry later (nothing was charged)",
                ))
            }
        }
    }

    /// Reserves, stores the input, records the job and submits it; on any failure after the reserve the
    /// hold is released.
    async fn start(&self, account_id: i64, request: Request) -> Result<(JobId, ApiJob), ApiError> {
        let job_id = JobId::random();
        let span = tracing::info_span!("api_job", job_id = %job_id, account_id, format = request.format.name());
        async {
            match self.gateway.backends.availability(Service::Speech).await {
                Ok(Availability::Ready) => {}
                Ok(Availability::NotSetUp) => {
                    return Err(ApiError::unavailable(
                        "transcription is not set up on this installation (no speech model)",
                    ));
                }
                Err(error) => {
                    tracing::warn!(%error, "speech is unavailable");
                    return Err(ApiError::unavailable("speech is unavailable; retry later"));
                }
            }
            let temperature = request.operation.temperature;
            let operation = self
                .reserve(&job_id, account_id, request.operation.clone())
                .await?;
            let record = ApiJob {
                account_id,
                response_format: request.format.name().to_string(),
                temperature,
                created_at: job_pipeline::now_unix_ms() / 1000,
            };
            if let Err(error) = self
                .submit(&job_id, account_id, operation, request, &record)
                .await
            {
                self.release(&job_id).await;
                return Err(error);
            }
            Ok((job_id.clone(), record))
        }
        .instrument(span)
        .await
    }

    /// Holds the price of the longest accepted audio, or of the whole minutes the balance covers (then
    /// the job is limited to them). Returns the operation to run.
    async fn reserve(
        &self,
        job_id: &JobId,
        account_id: i64,
        params: Transcribe,
    ) -> Result<Operation, ApiError> {
        let backends = &self.gateway.backends;
        let mut operation = Operation::from(Params::Transcribe(params.clone()));
        let max_ms = u64::from(self.gateway.limits.max_audio_secs) * 1000;
        let request = |operation: &Operation, audio_duration_ms| ReserveRequest {
            job_id: job_id.to_string(),
            account_id,
            operation: Some(operation.clone()),
            audio_duration_ms,
        };
        let status = match backends.reserve(request(&operation, max_ms)).await {
            Ok(_) => return Ok(operation),
            Err(status) => status,
        };
        if status.code() != Code::FailedPrecondition {
            return Err(billing_error(&status));
        }
        let available = status
            .get_error_details()
            .error_info()
            .and_then(|info| info.metadata.get("available_minor")?.parse::<i64>().ok())
            .unwrap_or(0);
        let prices = self.gateway.backends.prices().await.map_err(|error| {
            tracing::warn!(%error, "billing ListPrices failed");
            ApiError::unavailable("billing is unavailable; retry later (nothing was charged)")
        })?;
        let Some((per_minute, entry)) = price_of(&prices, &operation, 60_000) else {
            return Err(ApiError::unavailable("transcription has no price here"));
        };
        let minutes = if entry.unit() == PriceUnit::StartedMinute && per_minute > 0 {
            available / per_minute
        } else {
            0
        };
        let refuse = || {
            ApiError::insufficient_quota(format!(
                "not enough money: a minute of audio costs {per_minute} and {available} is available \
                 (minor units of {}); top up in the bot",
                entry.currency
            ))
        };
        if minutes < 1 {
            return Err(refuse());
        }
        let covered_ms = u64::try_from(minutes)
            .unwrap_or(0)
            .saturating_mul(60_000)
            .min(max_ms);
        if let Some(Params::Transcribe(p)) = operation.params.as_mut() {
            p.max_audio_ms = covered_ms;
        }
        match backends.reserve(request(&operation, covered_ms)).await {
            Ok(_) => {
                tracing::info!(
                    covered_ms,
                    "held what the balance covers; the job is limited to it"
                );
                Ok(operation)
            }
            Err(status) if status.code() == Code::FailedPrecondition => Err(refuse()),
            Err(status) => Err(billing_error(&status)),
        }
    }

    /// Stores the input, records the job for `GET /v1/jobs/{id}` and submits it to speech.
    async fn submit(
        &self,
        job_id: &JobId,
        account_id: i64,
        operation: Operation,
        request: Request,
        record: &ApiJob,
    ) -> Result<(), ApiError> {
        let key = input_key(job_id.as_str());
        let stored = self
            .gateway
            .pipeline
            .media
            .put(key.as_str(), &mut &request.bytes[..])
            .await;
        if let Err(error) = stored {
            tracing::warn!(%error, "storing the input failed");
            return Err(ApiError::unavailable("storage is unavailable; retry later"));
        }
        let value = serde_json::to_vec(record).map_err(|_| ApiError::internal())?;
        if let Err(error) = self.jobs.put(job_id.as_str(), value.into()).await {
            tracing::warn!(%error, "recording the API job failed");
            self.gateway.delete_object(&key).await;
            return Err(ApiError::unavailable("storage is unavailable; retry later"));
        }
        let job = JobRequest {
            job_id: job_id.to_string(),
            operation: Some(operation),
            input_key: key.clone(),
            mime_type: request.mime_type,
            file_name: request.file_name,
            context: Some(JobContext {
                user_id: account_id,
                origin: JobOrigin::Api as i32,
                ..Default::default()
            }),
            submitted_at_unix_ms: 0,
        };
        let submitted = match self.gateway.backends.jobs(Service::Speech) {
            Ok(mut jobs) => jobs.submit_job(job).await.map_err(|status| {
                tracing::warn!(%status, "SubmitJob failed");
                match status.code() {
                    Code::InvalidArgument => {
                        ApiError::invalid_param("language", status.message().to_string())
                    }
                    Code::FailedPrecondition => ApiError::unavailable(
                        "transcription is not set up on this installation (no speech model)",
                    ),
                    _ => ApiError::unavailable(
                        "the speech queue is unavailable or full; retry later",
                    ),
                }
            }),
            Err(error) => {
                tracing::warn!(%error, "no speech backend");
                Err(ApiError::unavailable("speech is unavailable"))
            }
        };
        match submitted {
            Ok(response) => {
                tracing::info!(
                    position = response.into_inner().queue_position,
                    bytes = request.bytes.len(),
                    "API job queued"
                );
                Ok(())
            }
            Err(error) => {
                self.gateway.delete_object(&key).await;
                Err(error)
            }
        }
    }

    async fn release(&self, job_id: &JobId) {
        let released = self
            .gateway
            .backends
            .billing
            .clone()
            .release(ReleaseRequest {
                job_id: job_id.to_string(),
            })
            .await;
        if let Err(status) = released {
            tracing::error!(%status, "releasing the hold of an API job that did not start failed");
        }
    }

    /// Where the job stands: done only once the delivery consumer recorded it delivered (so billing's
    /// capture is on its way before the result is handed out).
    async fn outcome(&self, job_id: &str) -> Result<Outcome, Error> {
        let Some(status) = self.gateway.pipeline.get_status(job_id).await? else {
            return Ok(Outcome::Pending(JobState::Queued));
        };
        let state = JobState::try_from(status.state).unwrap_or(JobState::Unspecified);
        match state {
            JobState::Failed => {
                let reason = status
                    .failed
                    .map(|f| FailureReason::try_from(f.reason).unwrap_or(FailureReason::Internal))
                    .unwrap_or(FailureReason::Internal);
                Ok(Outcome::Failed(reason))
            }
            JobState::Completed => {
                let delivered = self
                    .gateway
                    .deliveries
                    .get(job_id)
                    .await
                    .map_err(|e| Error::KeyValue(e.to_string()))?;
                let processing_ms = status.completed.as_ref().map_or(0, |c| c.processing_ms);
                match (
                    delivered.as_deref(),
                    status.completed.and_then(|c| c.result),
                ) {
                    (Some(b"delivered"), Some(job_completed::Result::Transcript(t))) => {
                        Ok(Outcome::Done(Box::new(t), processing_ms))
                    }
                    (Some(b"delivered"), _) => Ok(Outcome::Failed(FailureReason::Internal)),
                    _ => Ok(Outcome::Pending(JobState::Running)),
                }
            }
            other => Ok(Outcome::Pending(other)),
        }
    }

    /// Waits for the job's outcome, at most the sync wait.
    async fn wait(
        &self,
        job_id: &JobId,
    ) -> Result<Result<(Transcript, u64), FailureReason>, ApiError> {
        let deadline = tokio::time::Instant::now() + self.sync_wait;
        loop {
            match self.outcome(job_id.as_str()).await {
                Ok(Outcome::Done(transcript, processing_ms)) => {
                    return Ok(Ok((*transcript, processing_ms)));
                }
                Ok(Outcome::Failed(reason)) => return Ok(Err(reason)),
                Ok(Outcome::Pending(_)) => {}
                Err(error) => tracing::debug!(%error, "reading the job's status failed; retrying"),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::still_running(job_id.as_str()));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The job as `GET /v1/jobs/{id}` answers it.
    async fn job_object(
        &self,
        job_id: &str,
        record: &ApiJob,
    ) -> Result<serde_json::Value, ApiError> {
        let outcome = self.outcome(job_id).await.map_err(|error| {
            tracing::warn!(%error, "reading a job's status failed");
            ApiError::unavailable("job statuses are unavailable; retry later")
        })?;
        let format = ResponseFormat::parse(&record.response_format).unwrap_or_default();
        let mut object = json!({
            "id": job_id,
            "object": "audio.job",
            "created_at": record.created_at,
            "response_format": format.name(),
        });
        match outcome {
            Outcome::Pending(JobState::Running) => object["status"] = json!("in_progress"),
            Outcome::Pending(_) => object["status"] = json!("queued"),
            Outcome::Done(transcript, _) => {
                object["status"] = json!("completed");
                object["result"] = format.render(&transcript, record.temperature);
            }
            Outcome::Failed(reason) => {
                object["status"] = json!("failed");
                let error = ApiError::job_failed(reason, self.gateway.limits.max_audio_secs);
                object["error"] = error.body()["error"].clone();
            }
        }
        Ok(object)
    }
}

/// A billing failure other than "not enough money".
fn billing_error(status: &tonic::Status) -> ApiError {
    tracing::warn!(%status, "billing Reserve failed");
    match status.code() {
        Code::InvalidArgument => ApiError::unavailable("transcription has no price here"),
        _ => ApiError::unavailable("billing is unavailable; retry later (nothing was charged)"),
    }
}

/// Which endpoint a form came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Transcriptions,
    Translations,
    Jobs,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let bad_body = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("the request is over the size limit")
        } else {
            ApiError::invalid_param(
                "file",
                format!("malformed multipart body: {}", error.body_text()),
            )
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad_body)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let mime_type = field.content_type().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(bad_body)?;
            form.file = Some((bytes, file_name, mime_type));
            continue;
        }
        let slot = match name.as_str() {
            "model" => &mut form.model,
            "language" => &mut form.language,
            "prompt" => &mut form.prompt,
            "response_format" => &mut form.response_format,
            "temperature" => &mut form.temperature,
            "task" => &mut form.task,
            // OpenAI's other fields (timestamp_granularities[], stream, ...) are not used here.
            _ => continue,
        };
        *slot = Some(field.text().await.map_err(bad_body)?);
    }
    Ok(form)
}

impl Form {
    /// Validates the form for `endpoint`.
    fn validate(self, endpoint: Endpoint, max_file_bytes: u64) -> Result<Request, ApiError> {
        let Some((bytes, file_name, mime_type)) = self.file else {
            return Err(ApiError::invalid_param(
                "file",
                "missing the `file` field (the audio file)",
            ));
        };
        if bytes.is_empty() {
            return Err(ApiError::invalid_param("file", "the file is empty"));
        }
        if bytes.len() as u64 > max_file_bytes {
            return Err(ApiError::too_large(format!(
                "the file is {} bytes; at most {max_file_bytes} are accepted",
                bytes.len()
            )));
        }
        if self.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            return Err(ApiError::invalid_param(
                "model",
                "missing the `model` field (any name, e.g. whisper-1: this installation's model is used)",
            ));
        }
        let format = ResponseFormat::parse(self.response_format.as_deref().unwrap_or_default())
            .ok_or_else(|| {
                ApiError::invalid_param(
                    "response_format",
                    "must be one of json, text, srt, verbose_json, vtt",
                )
            })?;
        let temperature = match self.temperature.as_deref().map(str::trim) {
            None | Some("") => 0.0,
            Some(raw) => raw
                .parse::<f32>()
                .ok()
                .filter(|t| (0.0..=1.0).contains(t))
                .ok_or_else(|| {
                    ApiError::invalid_param("temperature", "must be a number from 0 to 1")
                })?,
        };
        let translate = match endpoint {
            Endpoint::Transcriptions => false,
            Endpoint::Translations => true,
            Endpoint::Jobs => match self.task.as_deref().map(str::trim) {
                None | Some("") | Some("transcribe") => false,
                Some("translate") => true,
                Some(_) => {
                    return Err(ApiError::invalid_param(
                        "task",
                        "must be transcribe or translate",
                    ));
                }
            },
        };
        let language = match endpoint {
            // OpenAI's translations take no language: whisper detects it.
            Endpoint::Translations => "auto".to_string(),
            _ => self
                .language
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
        };
        let operation = Transcribe {
            language: if language.is_empty() {
                "auto".into()
            } else {
                language
            },
            translate,
            prompt: self.prompt.unwrap_or_default(),
            temperature,
            max_audio_ms: 0,
        };
        let check = Operation::from(Params::Transcribe(operation.clone()));
        if let Err(error) = check.validate() {
            let param = match &error {
                mediabot_proto::catalog::InvalidOperation::Param { param, .. } => *param,
                mediabot_proto::catalog::InvalidOperation::Missing => "file",
            };
            let message = match param {
                "language" => "must be an ISO 639-1 code such as en or ru".to_string(),
                _ => error.to_string(),
            };
            return Err(ApiError::invalid_param(param, message));
        }
        Ok(Request {
            operation,
            bytes,
            file_name,
            mime_type,
            format,
        })
    }
}

async fn transcriptions(
    State(api): State<Api>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    synchronous(&api, &headers, multipart, Endpoint::Transcriptions)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn translations(
    State(api): State<Api>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    synchronous(&api, &headers, multipart, Endpoint::Translations)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// A transcription answered when it is done (the job id in `x-job-id`, the worker's time in
/// `openai-processing-ms`).
async fn synchronous(
    api: &Api,
    headers: &HeaderMap,
    multipart: Multipart,
    endpoint: Endpoint,
) -> Result<Response, ApiError> {
    // The body is read before the key is checked: a client still uploading when a 401 came back would
    // see its connection cut instead of the answer.
    let form = read_form(multipart).await?;
    let account = api.account(headers).await?;
    let request = form.validate(endpoint, api.gateway.limits.max_file_bytes)?;
    let format = request.format;
    let (job_id, record) = api.start(account, request).await?;
    match api.wait(&job_id).await? {
        Ok((transcript, processing_ms)) => {
            let mut response = format.respond(&transcript, record.temperature);
            let headers = response.headers_mut();
            if let Ok(value) = job_id.as_str().parse() {
                headers.insert("x-job-id", value);
            }
            // OpenAI's header for the time the model took.
            headers.insert("openai-processing-ms", processing_ms.into());
            Ok(response)
        }
        Err(reason) => Err(ApiError::job_failed(
            reason,
            api.gateway.limits.max_audio_secs,
        )),
    }
}

/// `POST /v1/jobs`: starts the job and answers 202 with its id.
async fn create_job(State(api): State<Api>, headers: HeaderMap, multipart: Multipart) -> Response {
    start_job(&api, &headers, multipart)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn start_job(
    api: &Api,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let form = read_form(multipart).await?;
    let account = api.account(headers).await?;
    let request = form.validate(Endpoint::Jobs, api.gateway.limits.max_file_bytes)?;
    let (job_id, record) = api.start(account, request).await?;
    let body = json!({
        "id": job_id.as_str(),
        "object": "audio.job",
        "status": "queued",
        "created_at": record.created_at,
        "response_format": record.response_format,
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// `GET /v1/jobs/{id}`: the job's status and, once done, its result (only to its own account).
async fn get_job(State(api): State<Api>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    job_status(&api, &headers, &id)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn job_status(api: &Api, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let account = api.account(headers).await?;
    let job_id = JobId::parse(id).map_err(|_| ApiError::job_not_found(id))?;
    let entry = api.jobs.get(job_id.as_str()).await.map_err(|error| {
        tracing::warn!(%error, "reading the API jobs bucket failed");
        ApiError::unavailable("job records are unavailable; retry later")
    })?;
    let record = entry
        .and_then(|bytes| serde_json::from_slice::<ApiJob>(&bytes).ok())
        .filter(|record| record.account_id == account)
        .ok_or_else(|| ApiError::job_not_found(id))?;
    Ok(Json(api.job_object(job_id.as_str(), &record).await?).into_response())
}
