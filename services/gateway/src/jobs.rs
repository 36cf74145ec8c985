//! Starting a paid job, so that money follows delivery and a job is never started twice:
//!
//! 1. The job id is derived from the chat, the message the user acted on and the operation with its
//!    parameters ([`JobId::derive`]): a double tap, a replayed update or a restarted gateway names the
//!    same job.
//! 2. The start is *claimed* in the `gateway-job-starts` bucket (an atomic create, shared by every gateway
//!    replica). Only the first claim goes on; a second one is told the job is already running. A claim left
//!    by a gateway that died before the job was queued goes stale after [`CLAIM_STALE`] and is taken over
//!    (every later step is idempotent per job id).
//! 3. Checks from the message metadata (size, duration) and the worker service's availability.
//! 4. billing `Reserve` — before anything is downloaded. Not enough money: the user is told the price and
//!    the balance from the error's details (no further call), and nothing else happens.
//! 5. Download from the Bot API, put the bytes in the object store (`in/<job_id>`), `Jobs/SubmitJob` on the
//!    operation's service. Any failure after the reserve releases the hold at once and says that nothing
//!    was charged.
//!
//! billing captures the hold only when the delivery consumer ([`crate::delivery`]) reports that the result
//! reached the chat; a job that fails or cannot be delivered is released.

use std::time::Duration;

use async_nats::jetstream::kv;
use job_pipeline::jetstream::input_key;
use mediabot_proto::JobId;
use mediabot_proto::billing::v1::{HoldState, ReleaseRequest, ReserveRequest};
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{
    InputParts, JobContext, JobOrigin, JobRequest, JobState, Operation,
};
use prost::Message as _;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{
    FileId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ReplyParameters,
};
use tonic::Code;
use tonic_types::StatusExt;
use tracing::Instrument;

use crate::activity::with_short_id;
use crate::backends::Availability;
use crate::bot_api;
use crate::i18n::{self, Lang};
use crate::{Error, Gateway};

/// Callback data prefix of the Cancel button under a job's status: `job:cancel:<job_id>` (47 bytes).
pub const CANCEL_PREFIX: &str = "job:cancel:";

/// Whether a job of `operation` gets a Cancel button under its status: the jobs that wait on a provider
/// (generation), which take seconds to minutes and whose handler stops on a cancel. Local operations
/// finish in a moment.
pub fn cancellable(operation: &Operation) -> bool {
    operation.service() == Some(mediabot_proto::Service::Generation)
}

/// The Cancel button under the status of `job_id`.
pub fn cancel_keyboard(lang: Lang, job_id: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        i18n::cancel_button(lang),
        format!("{CANCEL_PREFIX}{job_id}"),
    )]])
}

/// What became of a press of Cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// The cancel is asked for; the job's status will say how it ended.
    Requested,
    /// The job is finished already, or unknown: nothing to cancel.
    Finished,
    /// Someone other than the job's payer pressed it (in a group).
    NotYours,
}

/// Key-value bucket of job starts (key: job id, value: when the start was claimed, ms since the epoch).
pub const JOB_STARTS_BUCKET: &str = "gateway-job-starts";
/// A claim this old whose job never reached the queue belongs to a gateway that died mid-start.
pub const CLAIM_STALE: Duration = Duration::from_secs(60);

/// A file a user sent, as described by the message metadata (nothing downloaded yet).
#[derive(Debug, Clone)]
pub struct MediaRef {
    /// Bot API file id.
    pub file_id: FileId,
    /// Size in bytes as Telegram reports it.
    pub size_bytes: u64,
    /// MIME type if Telegram knows one.
    pub mime_type: Option<String>,
    /// File name, for documents.
    pub file_name: Option<String>,
    /// Duration in seconds, for voice notes, audio, videos and video notes (not for documents).
    pub duration_secs: Option<u32>,
}

/// Where the job's status is shown.
#[derive(Debug, Clone, Copy)]
pub enum StatusMessage {
    /// An existing bot message (the offer whose button was pressed), edited from now on.
    Edit(MessageId),
    /// A new message, sent as a reply to the user's message once the start is claimed.
    Reply,
}

/// A job about to start: what, on which file, for whom, and where its status shows.
#[derive(Debug, Clone)]
pub struct JobStart {
    /// The operation with its parameters.
    pub operation: Operation,
    /// The input file; `None` for an operation that takes none (`image.generate`, `prompt.write`: the
    /// user's words are in its parameters).
    pub media: Option<MediaRef>,
    /// Further pictures of an operation that takes several ([`Operation::takes_parts`]: `image.edit`'s
    /// second to fourth picture, `image.face_swap`'s portrait); empty for every other operation.
    pub more_media: Vec<MediaRef>,
    /// The chat the result goes to.
    pub chat_id: ChatId,
    /// The paying Telegram user.
    pub user_id: i64,
    /// The user's message holding the file or the words (the job id derives from it; results reply to
    /// it).
    pub source_message: MessageId,
    /// The status message.
    pub status: StatusMessage,
    /// Reply language.
    pub lang: Lang,
}

impl JobStart {
    /// The job's id (see the module docs).
    pub fn job_id(&self) -> JobId {
        JobId::derive(self.chat_id.0, self.source_message.0, &self.operation)
    }
}

/// What became of a start request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// This request started (or failed to start, and the user was told why).
    New,
    /// The same job was started before (a double tap or a replayed update); nothing was done.
    AlreadyStarted {
        /// The job's state, if a worker service recorded one already.
        state: Option<JobState>,
    },
}

/// How far a start got, for the clean-up of a failure.
enum Stage {
    /// Nothing reserved yet: the claim may be given up, so the user can try again.
    BeforeReserve,
    /// A hold exists: release it; the job id is used up.
    Reserved,
}

impl Gateway {
    /// Claims and runs the start of a paid job up to the point where it is queued (or has failed without a
    /// charge, the user told why). Errors are for the log only.
    pub async fn start_job(&self, start: JobStart) -> Result<Started, Error> {
        match self.claim_start(&start).await? {
            Started::New => {
                self.start_claimed(start).await?;
                Ok(Started::New)
            }
            already => Ok(already),
        }
    }

    /// Claims the start of `start`'s job: [`Started::New`] when this caller is to run it (with
    /// [`start_claimed`](Self::start_claimed)), [`Started::AlreadyStarted`] when it was started before.
    pub async fn claim_start(&self, start: &JobStart) -> Result<Started, Error> {
        let job_id = start.job_id();
        let claimed = self.claim(&job_id).await?;
        if let Started::AlreadyStarted { state } = claimed {
            tracing::info!(job_id = %job_id, ?state, "job already started; not starting it again");
        }
        Ok(claimed)
    }

    /// Runs a claimed start up to the point where the job is queued, or fails without a charge and tells
    /// the user why. Errors are for the log only.
    pub async fn start_claimed(&self, start: JobStart) -> Result<(), Error> {
        let job_id = start.job_id();
        let span = tracing::info_span!(
            "start_job",
            job_id = %job_id,
            user_id = start.user_id,
            chat_id = start.chat_id.0,
            operation = start.operation.id().unwrap_or_default(),
        );
        async {
            let status = match start.status {
                StatusMessage::Edit(id) => id,
                StatusMessage::Reply => {
                    bot_api::call(
                        self.bot
                            .send_message(
                                start.chat_id,
                                with_short_id(i18n::receiving(start.lang), job_id.as_str()),
                            )
                            .reply_parameters(ReplyParameters::new(start.source_message)),
                    )
                    .await?
                    .id
                }
            };
            let Err((stage, text, error)) = self.run_start(&job_id, &start, status).await else {
                return Ok(());
            };
            if let Some(text) = text {
                self.set_status(start.chat_id, status, text).await;
            }
            match stage {
                Stage::BeforeReserve => self.unclaim(&job_id).await,
                Stage::Reserved => self.release(&job_id).await,
            }
            match error {
                Some(error) => {
                    tracing::warn!(%error, "job not started");
                    Err(error)
                }
                None => Ok(()),
            }
        }
        .instrument(span)
        .await
    }

    /// The steps after the claim. `Err` carries how far it got, the text for the user (if any) and the
    /// error to log (none when the user's request was simply refused, e.g. no money).
    async fn run_start(
        &self,
        job_id: &JobId,
        start: &JobStart,
        status: MessageId,
    ) -> Result<(), (Stage, Option<String>, Option<Error>)> {
        let lang = start.lang;
        let refuse = |text: String| (Stage::BeforeReserve, Some(text), None);
        let Some(service) = start.operation.service() else {
            return Err(refuse(i18n::try_later(lang)));
        };
        for media in start.media.iter().chain(&start.more_media) {
            if media.size_bytes > self.limits.max_file_bytes {
                return Err(refuse(i18n::file_too_big(
                    lang,
                    self.limits.max_file_bytes >> 20,
                )));
            }
            if media.duration_secs.unwrap_or(0) > self.limits.max_audio_secs {
                return Err(refuse(i18n::audio_too_long(
                    lang,
                    self.limits.max_audio_secs / 60,
                )));
            }
        }
        match self.backends.availability(service).await {
            Ok(Availability::Ready) => {}
            Ok(Availability::NotSetUp) => {
                return Err(refuse(i18n::not_set_up(lang, &start.operation)));
            }
            Err(error) => {
                return Err((
                    Stage::BeforeReserve,
                    Some(i18n::try_later(lang)),
                    Some(error),
                ));
            }
        }

        let reserve = ReserveRequest {
            job_id: job_id.to_string(),
            account_id: start.user_id,
            operation: Some(start.operation.clone()),
            audio_duration_ms: start
                .media
                .as_ref()
                .map_or(0, |media| self.limits.hold_audio_ms(media)),
        };
        match self.backends.reserve(reserve).await {
            Ok(hold) => {
                if hold.state != HoldState::Pending as i32 {
                    // A hold of this job id was settled long ago (its claim expired): the job is done.
                    tracing::info!(state = hold.state, "the job's hold is already settled");
                    return Ok(());
                }
            }
            Err(status) if status.code() == Code::FailedPrecondition => {
                let text = self.insufficient_funds_text(start, &status).await;
                return Err(refuse(text));
            }
            Err(status) => {
                return Err((
                    Stage::BeforeReserve,
                    Some(i18n::try_later(lang)),
                    Some(Error::Backend {
                        service: "billing",
                        status,
                    }),
                ));
            }
        }
        let reserved = |text: String, error: Error| (Stage::Reserved, Some(text), Some(error));

        // The input file, stored where the worker reads it; an operation without one has an empty key.
        let key = match &start.media {
            Some(media) => self.store_input(job_id, start, media, status).await?,
            None => String::new(),
        };
        let request = JobRequest {
            job_id: job_id.to_string(),
            operation: Some(start.operation.clone()),
            input_key: key.clone(),
            mime_type: start
                .media
                .as_ref()
                .and_then(|m| m.mime_type.clone())
                .unwrap_or_default(),
            file_name: start
                .media
                .as_ref()
                .and_then(|m| m.file_name.clone())
                .unwrap_or_default(),
            context: Some(JobContext {
                chat_id: start.chat_id.0,
                user_id: start.user_id,
                status_message_id: status.0,
                reply_to_message_id: start.source_message.0,
                language_code: lang.code().to_string(),
                origin: JobOrigin::Telegram as i32,
            }),
            submitted_at_unix_ms: 0,
        };
        // "Queued" before the job exists: once submitted, a worker may finish it (or fail it in a few
        // milliseconds) and the delivery consumer edit the status before an edit made here would land,
        // which would then cover the outcome with "queued" for good.
        let keyboard =
            cancellable(&start.operation).then(|| cancel_keyboard(lang, job_id.as_str()));
        self.set_status_marked(
            start.chat_id,
            status,
            with_short_id(i18n::queued(lang, 0), job_id.as_str()),
            keyboard.clone(),
        )
        .await;
        let submitted = match self.backends.jobs(service) {
            Ok(mut jobs) => jobs.submit_job(request).await.map_err(|status| {
                let text = if status.code() == Code::FailedPrecondition {
                    i18n::not_set_up(lang, &start.operation)
                } else {
                    i18n::try_later(lang)
                };
                (
                    text,
                    Error::Backend {
                        service: service.name(),
                        status,
                    },
                )
            }),
            Err(error) => Err((i18n::try_later(lang), error)),
        };
        match submitted {
            Ok(response) => {
                let position = response.into_inner().queue_position;
                tracing::info!(position, "job queued");
                // Jobs ahead: say how many, unless a worker has taken the job meanwhile.
                if position > 0 && self.still_queued(job_id).await {
                    self.set_status_marked(
                        start.chat_id,
                        status,
                        with_short_id(i18n::queued(lang, position), job_id.as_str()),
                        keyboard,
                    )
                    .await;
                }
                Ok(())
            }
            Err((text, error)) => {
                if !key.is_empty() {
                    self.delete_object(&key).await;
                }
                Err(reserved(text, error))
            }
        }
    }

    /// Downloads the job's input file from the Bot API and stores it at `in/<job_id>`; returns the key.
    /// An operation that takes several pictures gets them all (`media`, then `start.more_media`) in one
    /// `InputParts` object. Runs after the reserve, so its failures release the hold.
    async fn store_input(
        &self,
        job_id: &JobId,
        start: &JobStart,
        media: &MediaRef,
        status: MessageId,
    ) -> Result<String, (Stage, Option<String>, Option<Error>)> {
        let lang = start.lang;
        let reserved = |text: String, error: Error| (Stage::Reserved, Some(text), Some(error));
        if matches!(start.status, StatusMessage::Edit(_)) {
            let text = with_short_id(i18n::receiving(lang), job_id.as_str());
            self.set_status(start.chat_id, status, text).await;
        }
        let downloaded = if start.operation.takes_parts() {
            let mut parts = Vec::with_capacity(1 + start.more_media.len());
            let mut failed = None;
            for part in std::iter::once(media).chain(&start.more_media) {
                match self.download(&part.file_id).await {
                    Ok(bytes) => parts.push(bytes),
                    Err(error) => {
                        failed = Some(error);
                        break;
                    }
                }
            }
            match failed {
                Some(error) => Err(error),
                None => Ok(InputParts { parts }.encode_to_vec()),
            }
        } else {
            self.download(&media.file_id).await
        };
        let bytes = match downloaded {
            Ok(bytes) => bytes,
            Err(error) => {
                let text = if is_file_too_big(&error) {
                    i18n::file_too_big(lang, self.limits.max_file_bytes >> 20)
                } else {
                    i18n::try_later(lang)
                };
                return Err(reserved(text, error));
            }
        };
        let key = input_key(job_id.as_str());
        if let Err(error) = self
            .pipeline
            .media
            .put(key.as_str(), &mut bytes.as_slice())
            .await
        {
            return Err(reserved(
                i18n::try_later(lang),
                Error::ObjectStore(error.to_string()),
            ));
        }
        tracing::debug!(bytes = bytes.len(), "input stored");
        Ok(key)
    }

    /// Claims the start of `job_id`: [`Started::New`] when this caller starts it, else
    /// [`Started::AlreadyStarted`] (with the job's recorded state, `None` while it is still being queued).
    async fn claim(&self, job_id: &JobId) -> Result<Started, Error> {
        let now = job_pipeline::now_unix_ms();
        let value = bytes::Bytes::from(now.to_string());
        match self.job_starts.create(job_id.as_str(), value.clone()).await {
            Ok(_) => return Ok(Started::New),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::KeyValue(e.to_string())),
        }
        if let Some(status) = self.pipeline.get_status(job_id.as_str()).await? {
            let state = JobState::try_from(status.state).unwrap_or(JobState::Unspecified);
            return Ok(Started::AlreadyStarted { state: Some(state) });
        }
        let entry = self
            .job_starts
            .entry(job_id.as_str())
            .await
            .map_err(|e| Error::KeyValue(e.to_string()))?;
        let Some(entry) = entry else {
            // Given up by its owner just now (the start was refused): claim it afresh.
            return match self.job_starts.create(job_id.as_str(), value).await {
                Ok(_) => Ok(Started::New),
                Err(_) => Ok(Started::AlreadyStarted { state: None }),
            };
        };
        let claimed_at: i64 = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let stale = now.saturating_sub(claimed_at)
            > i64::try_from(CLAIM_STALE.as_millis()).unwrap_or(i64::MAX);
        if stale && entry.operation == kv::Operation::Put {
            // Compare-and-set on the revision: of several replicas taking over, one wins.
            if self
                .job_starts
                .update(job_id.as_str(), value, entry.revision)
                .await
                .is_ok()
            {
                tracing::warn!(
                    claimed_at,
                    "taking over a start left by a gateway that stopped mid-way"
                );
                return Ok(Started::New);
            }
        }
        Ok(Started::AlreadyStarted { state: None })
    }

    /// Whether `job_id`'s recorded state is still QUEUED (no worker has taken it). `false` when it cannot
    /// be read: the status edit this guards is the one to skip.
    async fn still_queued(&self, job_id: &JobId) -> bool {
        match self.pipeline.get_status(job_id.as_str()).await {
            Ok(Some(status)) => status.state == JobState::Queued as i32,
            Ok(None) => false,
            Err(error) => {
                tracing::debug!(%error, "could not read the job's state");
                false
            }
        }
    }

    /// Gives up a claim whose start was refused before anything was reserved, so the user may try again.
    async fn unclaim(&self, job_id: &JobId) {
        if let Err(error) = self.job_starts.purge(job_id.as_str()).await {
            tracing::debug!(%error, "could not give up a refused start's claim; it expires by itself");
        }
    }

    async fn release(&self, job_id: &JobId) {
        let released = self
            .backends
            .billing
            .clone()
            .release(ReleaseRequest {
                job_id: job_id.to_string(),
            })
            .await;
        if let Err(status) = released {
            // The sweeper releases the hold after its timeout; log loudly so operators know.
            tracing::error!(%status, "releasing the hold of a job that did not start failed");
        }
    }

    pub(crate) async fn download(&self, file_id: &FileId) -> Result<Vec<u8>, Error> {
        let file = bot_api::call(self.bot.get_file(file_id.clone())).await?;
        let mut bytes = Vec::with_capacity(file.meta.size as usize);
        self.bot
            .inner()
            .download_file(&file.path, &mut bytes)
            .await?;
        Ok(bytes)
    }

    pub(crate) async fn delete_object(&self, key: &str) {
        if let Err(error) = self.pipeline.media.delete(key).await {
            tracing::debug!(%error, key, "could not delete an object; it expires by itself");
        }
    }

    /// "Not enough money" with the price and the available balance from the Reserve error's
    /// `INSUFFICIENT_FUNDS` details; without details, the price from the cached price list.
    async fn insufficient_funds_text(&self, start: &JobStart, status: &tonic::Status) -> String {
        let lang = start.lang;
        let details = status.get_error_details();
        let info = details.error_info();
        let field = |name: &str| -> Option<i64> { info?.metadata.get(name)?.parse().ok() };
        let currency = info
            .and_then(|i| i.metadata.get("currency").cloned())
            .unwrap_or_default();
        match (field("price_minor"), field("available_minor")) {
            (Some(price), Some(available)) => i18n::insufficient_funds(
                lang,
                &i18n::money(lang, price, &currency),
                &i18n::money(lang, available, &currency),
            ),
            _ => {
                let price = match self.backends.prices().await {
                    Ok(prices) => {
                        let audio_ms = start
                            .media
                            .as_ref()
                            .map_or(0, |media| self.limits.hold_audio_ms(media));
                        price_of(&prices, &start.operation, audio_ms)
                            .map(|(amount, p)| i18n::money(lang, amount, &p.currency))
                            .unwrap_or_default()
                    }
                    Err(_) => String::new(),
                };
                i18n::insufficient_funds(lang, &price, "—")
            }
        }
    }

    /// Replaces the text of a status message (dropping any keyboard). Best effort: the message may be
    /// gone, and the outcome is told by the delivery consumer anyway.
    pub(crate) async fn set_status(&self, chat: ChatId, message: MessageId, text: String) {
        self.set_status_marked(chat, message, text, None).await;
    }

    /// [`set_status`](Self::set_status) with `keyboard` under the text (a job's Cancel button).
    pub(crate) async fn set_status_marked(
        &self,
        chat: ChatId,
        message: MessageId,
        text: String,
        keyboard: Option<InlineKeyboardMarkup>,
    ) {
        let mut request = self.bot.edit_message_text(chat, message, text);
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        match bot_api::call(request).await {
            Ok(_) | Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => {}
            Err(error) => tracing::warn!(%error, "could not update the status message"),
        }
    }

    /// A press of Cancel under the status of `job_id` by `user_id`: asks the job's worker to stop it
    /// when the job is the presser's and not finished. Errors: NATS failing.
    pub async fn cancel_job(&self, job_id: &str, user_id: i64) -> Result<Cancel, Error> {
        let Some(status) = self.pipeline.get_status(job_id).await? else {
            return Ok(Cancel::Finished);
        };
        if status.context.as_ref().map(|c| c.user_id) != Some(user_id) {
            return Ok(Cancel::NotYours);
        }
        let state = JobState::try_from(status.state).unwrap_or(JobState::Unspecified);
        if !matches!(state, JobState::Queued | JobState::Running) {
            return Ok(Cancel::Finished);
        }
        self.pipeline.request_cancel(job_id).await?;
        tracing::info!(job_id, user_id, "the user asked to cancel a job");
        Ok(Cancel::Requested)
    }
}

fn is_file_too_big(error: &Error) -> bool {
    matches!(error, Error::Telegram(teloxide::RequestError::Api(api)) if api.to_string().contains("file is too big"))
}
