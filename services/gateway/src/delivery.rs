//! Delivers job outcomes to chats and reports what reached the user, so that money follows delivery.
//! Runs as the durable consumer `gateway-delivery` on the job events stream, so events that arrive while the
//! gateway is down are delivered when it comes back.
//!
//! - `jobs.progress` edits the status message ("working… 50 %, about 2 min left"), best effort and at most
//!   once per [`PROGRESS_EDIT_INTERVAL`] per job ([`ProgressEdits`]): Telegram allows about one message a
//!   second per chat, and the Bot API client's throttle paces sends but not edits.
//! - `jobs.completed` sends the result as a reply to the user's message (an image always as a document at
//!   full resolution, with a preview as its thumbnail and a caption saying its size and format; a short
//!   transcript as text with its language and, under it, the operations table's buttons for a transcript:
//!   Translate to English; a long one — [`LONG_AUDIO_MS`] of audio or more, or text that does not fit one
//!   message — as the start of its text in the chat and the whole as `.txt`, `.srt` and `.vtt` documents,
//!   one album; text from a document or a photo as its beginning in the chat with a summary — pages,
//!   characters, words, languages — and the whole as a `.txt` document) and removes the status message; then it publishes `jobs.delivered` with the transcribed
//!   length (billing captures its price, at most the hold). When the Bot API refuses the result for good (the bot
//!   was blocked, the chat is gone, the file was refused) or keeps failing past [`GIVE_UP_AFTER`]
//!   deliveries, the user is told (where still possible) and `jobs.undelivered` is published (billing
//!   releases the hold): nobody pays for a result they did not receive.
//! - `jobs.failed` turns the status message into a plain explanation saying that nothing was charged
//!   (billing releases on the event itself).
//! - A job of the HTTP API ([`crate::api`], `JobContext.origin` = API) has no chat: its result stays in the
//!   `job-status` bucket, where the API reads it, so `jobs.completed` is reported delivered at once (billing
//!   captures) and `jobs.failed` is only recorded.
//!
//! Each outcome is recorded in the `gateway-deliveries` bucket (job id → `delivered` / `undelivered` /
//! `failed`) after it is handled; a redelivered event finds the record, publishes the same report again
//! (de-duplicated by its message id, and idempotent in billing) and is not sent twice. Once an outcome is
//! handled, the job's input and result are deleted from the media bucket.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream::Message as NatsMessage;
use job_pipeline::jetstream::{Delivery, Disposition, message_id, subjects};
use mediabot_proto::billing::v1::GetBalanceRequest;
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{
    ExtractedText, FailureReason, Generate, ImageArchive, ImageResult, JobCompleted, JobContext,
    JobDelivered, JobFailed, JobOrigin, JobProgress, JobState, JobUndelivered, Operation,
    PromptText, Transcript, job_completed,
};
use prost::Message as _;
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, InputMedia, InputMediaDocument,
    MessageId, ReplyParameters,
};
use tokio::io::AsyncReadExt;
use tracing::Instrument as _;

use crate::activity::with_short_id;
use crate::bot_api;
use crate::i18n::{self, Lang};
use crate::operations::{self, Input};
use crate::subtitles;
use crate::{Error, Gateway};

/// How long an event may stay unacknowledged before redelivery (extended while a delivery runs).
pub const ACK_WAIT: Duration = Duration::from_secs(60);
/// Deliveries of one event before JetStream gives up on it (a delivery gives up by itself before).
pub const MAX_DELIVER: i64 = 20;
/// Deliveries of a completed event after which a result that still could not be sent (network trouble,
/// the Bot API failing) is reported undelivered, so the user's money is released.
pub const GIVE_UP_AFTER: i64 = 10;
/// Telegram's longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4096;
/// Audio at least this long (milliseconds) is a long recording: its transcript also comes as `.txt`,
/// `.srt` and `.vtt` documents, whatever the length of its text.
pub const LONG_AUDIO_MS: u64 = 60_000;
/// Least time between two progress edits of one job's status message. Telegram allows about one
/// message a second per chat (edits count) and answers bursts with 429; a status that changes every few
/// seconds is as informative.
pub const PROGRESS_EDIT_INTERVAL: Duration = Duration::from_secs(3);
/// A job's progress entry older than this is forgotten (its outcome went to another replica).
const PROGRESS_ENTRY_TTL: Duration = Duration::from_secs(600);

/// The progress edits this gateway made: per job, when and at what percentage. Decides whether a
/// `jobs.progress` event is shown (rarely enough for Telegram, and never going back when events arrive
/// out of order). In memory, per replica: a replica that sees a job's events for the first time may edit
/// once more; Telegram's 429 (handled by `bot_api::call`) stays the backstop.
#[derive(Debug, Default)]
pub struct ProgressEdits {
    last: Mutex<HashMap<String, (Instant, u32)>>,
}

impl ProgressEdits {
    /// Whether `percent` of `job_id` may be shown at `now`: above the last one shown and at least
    /// [`PROGRESS_EDIT_INTERVAL`] after it. Records it when so.
    pub fn admit(&self, job_id: &str, percent: u32, now: Instant) -> bool {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&(at, shown)) = last.get(job_id)
            && (percent <= shown || now.saturating_duration_since(at) < PROGRESS_EDIT_INTERVAL)
        {
            return false;
        }
        if last.len() >= 1024 {
            last.retain(|_, (at, _)| now.saturating_duration_since(*at) < PROGRESS_ENTRY_TTL);
        }
        last.insert(job_id.to_string(), (now, percent));
        true
    }

    /// Forgets `job_id` (its outcome was handled).
    pub fn forget(&self, job_id: &str) {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(job_id);
    }
}

/// What became of a job's outcome, as recorded in the deliveries bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// The result reached the chat (`jobs.delivered` published).
    Delivered,
    /// The result could not be delivered (`jobs.undelivered` published).
    Undelivered,
    /// The job failed and the user was told.
    Failed,
}

impl Record {
    fn as_str(self) -> &'static str {
        match self {
            Record::Delivered => "delivered",
            Record::Undelivered => "undelivered",
            Record::Failed => "failed",
        }
    }

    fn parse(bytes: &[u8]) -> Option<Self> {
        match bytes {
            b"delivered" => Some(Record::Delivered),
            b"undelivered" => Some(Record::Undelivered),
            b"failed" => Some(Record::Failed),
            _ => None,
        }
    }
}

/// Handles one job event.
pub async fn handle(gateway: Gateway, delivery: Delivery) -> Disposition {
    let message = &delivery.message;
    let result = match message.subject.as_str() {
        subjects::PROGRESS => on_progress(&gateway, message).await,
        subjects::COMPLETED => on_completed(&gateway, message, delivery.attempt).await,
        subjects::FAILED => on_failed(&gateway, message).await,
        // Our own reports to billing.
        subjects::DELIVERED | subjects::UNDELIVERED => Ok(()),
        other => {
            tracing::warn!(subject = other, "unexpected subject on the events stream");
            Ok(())
        }
    };
    match result {
        Ok(()) => Disposition::Ack,
        Err(Error::Decode(error)) => {
            tracing::error!(%error, "dropping an undecodable event");
            Disposition::Term
        }
        Err(Error::Telegram(teloxide::RequestError::RetryAfter(after))) => {
            Disposition::Retry(after.duration() + Duration::from_millis(100))
        }
        Err(error) => {
            tracing::warn!(%error, attempt = delivery.attempt, "handling a job event failed; will retry");
            Disposition::Retry(Duration::from_secs(2))
        }
    }
}

async fn on_progress(gateway: &Gateway, message: &NatsMessage) -> Result<(), Error> {
    let progress = JobProgress::decode(message.payload.clone())?;
    let Some(context) = progress.context.as_ref() else {
        return Ok(());
    };
    if progress.state != JobState::Running as i32 || context.status_message_id == 0 {
        return Ok(());
    }
    // Never move a finished job's message back to "working". A worker records a job's outcome in its
    // status before it publishes the outcome, so only a job still RUNNING there may have its "working"
    // shown: the outcome's edit, if one is on the way, then comes after this one. (The deliveries bucket
    // is written only after the outcome's edit, too late to tell a progress event handled alongside it.)
    match gateway.pipeline.get_status(&progress.job_id).await {
        Ok(Some(status)) if status.state == JobState::Running as i32 => {}
        Ok(_) => return Ok(()),
        Err(error) => {
            tracing::debug!(%error, job_id = %progress.job_id, "progress edit skipped: no job state");
            return Ok(());
        }
    }
    if !gateway
        .progress_edits
        .admit(&progress.job_id, progress.percent, Instant::now())
    {
        return Ok(());
    }
    let lang = Lang::from_code(Some(&context.language_code));
    let mut edit = gateway.bot.edit_message_text(
        ChatId(context.chat_id),
        MessageId(context.status_message_id),
        with_short_id(
            i18n::working_with_estimate(lang, progress.percent, progress.remaining_ms),
            &progress.job_id,
        ),
    );
    // A job that can be cancelled keeps its Cancel button while it runs.
    if progress
        .operation
        .as_ref()
        .is_some_and(crate::jobs::cancellable)
    {
        edit = edit.reply_markup(crate::jobs::cancel_keyboard(lang, &progress.job_id));
    }
    let edit = bot_api::call(edit).await;
    // Progress is best effort: the status message may be gone already (the result arrived first).
    if let Err(error) = edit {
        tracing::debug!(%error, job_id = %progress.job_id, "progress edit skipped");
    }
    Ok(())
}

async fn on_completed(gateway: &Gateway, message: &NatsMessage, attempt: i64) -> Result<(), Error> {
    let event = JobCompleted::decode(message.payload.clone())?;
    let context = event.context.clone().unwrap_or_default();
    let span = tracing::info_span!(
        "deliver",
        job_id = %event.job_id,
        operation = event.operation.as_ref().and_then(|o| o.id()).unwrap_or_default(),
        chat_id = context.chat_id,
        user_id = context.user_id,
    );
    deliver_completed(gateway, event, context, attempt)
        .instrument(span)
        .await
}

/// Sends a completed job's result to its chat and reports the outcome, in the `deliver` span.
async fn deliver_completed(
    gateway: &Gateway,
    event: JobCompleted,
    context: JobContext,
    attempt: i64,
) -> Result<(), Error> {
    let operation = event.operation.clone().unwrap_or_default();
    // What billing captures for: the length actually transcribed (a per-minute price), not the
    // length the message claimed when the hold was placed.
    let audio_duration_ms = match &event.result {
        Some(job_completed::Result::Transcript(transcript)) => transcript.audio_duration_ms,
        _ => 0,
    };
    if let Some(record) = recorded(gateway, &event.job_id).await {
        tracing::info!(?record, "outcome already handled; reporting it again");
        if record != Record::Failed {
            let delivered = Report {
                record,
                detail: "",
                audio_duration_ms,
            };
            report(gateway, &event.job_id, &operation, &context, delivered).await?;
        }
        return Ok(());
    }
    let sent = match &event.result {
        // An API job's result stays in the job-status bucket, where the HTTP API reads it: stored and
        // retrievable is delivered.
        Some(_) if is_api(&context) => Ok(()),
        Some(job_completed::Result::Image(image)) => {
            deliver_image(gateway, &context, &operation, image).await
        }
        Some(job_completed::Result::Archive(archive)) => {
            deliver_archive(gateway, &context, &operation, archive).await
        }
        Some(job_completed::Result::Transcript(transcript)) => {
            deliver_transcript(gateway, &context, transcript).await
        }
        Some(job_completed::Result::Text(text)) => deliver_text(gateway, &context, text).await,
        Some(job_completed::Result::Prompt(prompt)) => {
            deliver_prompt(gateway, &context, prompt).await
        }
        None => Err(Error::NoResult),
    };
    let (record, detail) = match sent {
        Ok(()) => {
            tracing::info!(processing_ms = event.processing_ms, "result delivered");
            (Record::Delivered, String::new())
        }
        Err(error) if is_permanent(&error) || attempt >= GIVE_UP_AFTER => {
            tracing::warn!(%error, attempt, "the result cannot be delivered; releasing the user's money");
            let lang = Lang::from_code(Some(&context.language_code));
            // Best effort: if the bot is blocked or the chat is gone, nobody can be told.
            if let Err(told) =
                set_status_or_send(gateway, &context, i18n::undeliverable(lang)).await
            {
                tracing::info!(error = %told, "could not tell the user either");
            }
            (Record::Undelivered, error.to_string())
        }
        Err(error) => return Err(error),
    };
    let outcome = Report {
        record,
        detail: &detail,
        audio_duration_ms,
    };
    report(gateway, &event.job_id, &operation, &context, outcome).await?;
    settle(gateway, &event.job_id, record).await;
    record_outcome(&operation, record, event.completed_at_unix_ms);
    Ok(())
}

/// Counts a job outcome the gateway handled (`mediabot_deliveries_total{operation, outcome}`:
/// `delivered`, `undelivered`, `failed`) and, for a delivered result, the time from the worker's
/// completion to the chat (`mediabot_delivery_seconds{operation}`).
fn record_outcome(operation: &Operation, record: Record, completed_at_unix_ms: i64) {
    let operation = operation.id().unwrap_or("unknown");
    metrics::counter!(
        "mediabot_deliveries_total",
        "operation" => operation,
        "outcome" => record.as_str(),
    )
    .increment(1);
    let elapsed_ms = job_pipeline::now_unix_ms().saturating_sub(completed_at_unix_ms);
    if record == Record::Delivered && completed_at_unix_ms > 0 && elapsed_ms >= 0 {
        metrics::histogram!("mediabot_delivery_seconds", "operation" => operation)
            .record(elapsed_ms as f64 / 1000.0);
    }
}

async fn on_failed(gateway: &Gateway, message: &NatsMessage) -> Result<(), Error> {
    let event = JobFailed::decode(message.payload.clone())?;
    let context = event.context.clone().unwrap_or_default();
    if recorded(gateway, &event.job_id).await.is_some() {
        tracing::info!(job_id = %event.job_id, "failure already told; skipping the duplicate");
        return Ok(());
    }
    let reason = FailureReason::try_from(event.reason).unwrap_or(FailureReason::Internal);
    if is_api(&context) {
        // No chat to tell: the HTTP API reads the failure from the job's status.
        tracing::info!(job_id = %event.job_id, ?reason, detail = %event.detail, "API job failed");
        settle(gateway, &event.job_id, Record::Failed).await;
        record_outcome(&event.operation.unwrap_or_default(), Record::Failed, 0);
        return Ok(());
    }
    let lang = Lang::from_code(Some(&context.language_code));
    let is_speech = event.operation.as_ref().and_then(Operation::service)
        == Some(mediabot_proto::Service::Speech);
    let text = if reason == FailureReason::TooLarge && is_speech {
        // Audio whose message had no duration, found too long once decoded: say the limit.
        i18n::audio_too_long(lang, gateway.limits.max_audio_secs / 60)
    } else if reason == FailureReason::Rejected {
        // The provider's own words: the user can change what they asked for.
        i18n::job_rejected(lang, &event.provider_message)
    } else {
        i18n::job_failed(lang, reason)
    };
    match set_status_or_send(gateway, &context, text).await {
        Ok(()) => {}
        Err(error) if is_permanent(&error) => {
            tracing::info!(%error, job_id = %event.job_id, "could not tell the user about a failed job");
        }
        Err(error) => return Err(error),
    }
    tracing::info!(job_id = %event.job_id, ?reason, detail = %event.detail, "failure told");
    settle(gateway, &event.job_id, Record::Failed).await;
    record_outcome(&event.operation.unwrap_or_default(), Record::Failed, 0);
    Ok(())
}

/// What a report to billing says.
struct Report<'a> {
    record: Record,
    /// Why it was not delivered (the Bot API's error), for `jobs.undelivered`.
    detail: &'a str,
    /// The transcribed length, for `jobs.delivered` (0: not a transcript).
    audio_duration_ms: u64,
}

/// Publishes `jobs.delivered` or `jobs.undelivered` for billing.
async fn report(
    gateway: &Gateway,
    job_id: &str,
    operation: &Operation,
    context: &JobContext,
    outcome: Report<'_>,
) -> Result<(), Error> {
    let now = job_pipeline::now_unix_ms();
    let Report {
        record,
        detail,
        audio_duration_ms,
    } = outcome;
    match record {
        Record::Delivered => {
            let event = JobDelivered {
                job_id: job_id.to_string(),
                operation: Some(operation.clone()),
                context: Some(context.clone()),
                delivered_at_unix_ms: now,
                audio_duration_ms,
            };
            gateway
                .pipeline
                .publish(
                    subjects::DELIVERED,
                    &message_id(job_id, "delivered"),
                    &event,
                )
                .await?;
        }
        Record::Undelivered => {
            let event = JobUndelivered {
                job_id: job_id.to_string(),
                operation: Some(operation.clone()),
                context: Some(context.clone()),
                detail: detail.to_string(),
                undelivered_at_unix_ms: now,
            };
            gateway
                .pipeline
                .publish(
                    subjects::UNDELIVERED,
                    &message_id(job_id, "undelivered"),
                    &event,
                )
                .await?;
        }
        Record::Failed => {}
    }
    Ok(())
}

/// Records the outcome and deletes the job's input and result. Both best effort: a lost record means a
/// redelivered event is sent again; a kept object expires with the bucket's time-to-live.
async fn settle(gateway: &Gateway, job_id: &str, record: Record) {
    gateway.progress_edits.forget(job_id);
    if let Err(error) = gateway
        .deliveries
        .put(job_id, record.as_str().as_bytes().to_vec().into())
        .await
    {
        tracing::warn!(%error, job_id, "recording the outcome failed; a redelivery may send it twice");
    }
    if let Err(error) = gateway.pipeline.discard_media(job_id).await {
        tracing::debug!(%error, job_id, "could not delete the job's media; they expire by themselves");
    }
}

async fn recorded(gateway: &Gateway, job_id: &str) -> Option<Record> {
    match gateway.deliveries.get(job_id).await {
        Ok(Some(bytes)) => Record::parse(&bytes).or(Some(Record::Delivered)),
        _ => None,
    }
}

/// Whether a job came from the HTTP API (no chat to deliver to).
fn is_api(context: &JobContext) -> bool {
    context.origin == JobOrigin::Api as i32
}

/// Whether retrying a failed Bot API call cannot help: the API refused it (blocked, chat gone, file
/// refused, message too long). Network trouble and flood control are passing.
fn is_permanent(error: &Error) -> bool {
    matches!(
        error,
        Error::Telegram(
            teloxide::RequestError::Api(_) | teloxide::RequestError::MigrateToChatId(_)
        ) | Error::NoResult
    )
}

async fn available_balance(gateway: &Gateway, context: &JobContext, lang: Lang) -> String {
    let balance = gateway
        .backends
        .billing
        .clone()
        .get_balance(GetBalanceRequest {
            account_id: context.user_id,
        })
        .await;
    match balance {
        Ok(b) => {
            let b = b.into_inner();
            i18n::money(lang, b.available_minor, &b.currency)
        }
        Err(status) => {
            tracing::warn!(%status, "billing GetBalance failed; result sent without the balance");
            "—".into()
        }
    }
}

fn reply_to(context: &JobContext) -> Option<ReplyParameters> {
    (context.reply_to_message_id != 0).then(|| ReplyParameters {
        allow_sending_without_reply: Some(true),
        ..ReplyParameters::new(MessageId(context.reply_to_message_id))
    })
}

/// The result's file name: the operation id and parameter values, e.g. `image-upscale-4.jpg`,
/// `image-convert-webp-lossy.webp`; `image-add-text.jpg` for text on a picture.
fn file_name(operation: &Operation, extension: &str) -> String {
    let mut name = operation.id().unwrap_or("result").replace('.', "-");
    // Their parameters are text digests and options: the name says what it is, no more.
    if let Some(id @ ("image.add_text" | "image.generate")) = operation.id() {
        return format!("{}.{extension}", id.replace(['.', '_'], "-"));
    }
    for (_, value) in operation.params() {
        name.push('-');
        name.push_str(&value.replace('_', "-"));
    }
    format!("{name}.{extension}")
}

/// An album job's result: its ZIP archive as one document, `album-<operation>.zip`.
async fn deliver_archive(
    gateway: &Gateway,
    context: &JobContext,
    operation: &Operation,
    archive: &ImageArchive,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let bytes = read_object(gateway, &archive.output_key, archive.size_bytes).await?;
    let name = format!("album-{}", file_name(&operation.clone().times(0), "zip"));
    let balance = available_balance(gateway, context, lang).await;
    let caption = i18n::archive_result(
        lang,
        operation,
        archive.images,
        archive.size_bytes,
        &balance,
    );
    let mut send = gateway
        .bot
        .send_document(
            ChatId(context.chat_id),
            InputFile::memory(bytes).file_name(name),
        )
        .caption(caption);
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    bot_api::call(send).await?;
    delete_status(gateway, context).await;
    Ok(())
}

/// A result object's bytes (`size_bytes`: the expected size, to allocate once).
async fn read_object(gateway: &Gateway, key: &str, size_bytes: u64) -> Result<Vec<u8>, Error> {
    let mut object = gateway
        .pipeline
        .media
        .get(key)
        .await
        .map_err(|e| Error::ObjectStore(e.to_string()))?;
    let mut bytes = Vec::with_capacity(usize::try_from(size_bytes).unwrap_or(0));
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| Error::ObjectStore(e.to_string()))?;
    Ok(bytes)
}

async fn deliver_image(
    gateway: &Gateway,
    context: &JobContext,
    operation: &Operation,
    image: &ImageResult,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let bytes = read_object(gateway, &image.output_key, image.size_bytes).await?;
    let extension = match image.mime_type.as_str() {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    // Always a document: a photo would be recompressed and downsized by Telegram (to 2560 px), and the
    // user paid for these exact pixels (and, for a PNG, its transparency).
    let file = InputFile::memory(bytes).file_name(file_name(operation, extension));
    let balance = available_balance(gateway, context, lang).await;
    let caption = i18n::image_result(lang, operation, image, &balance);
    let chat = ChatId(context.chat_id);
    let mut send = gateway.bot.send_document(chat, file).caption(caption);
    if let Some(keyboard) = buttons_under_image(gateway, lang).await {
        send = send.reply_markup(keyboard);
    }
    if !image.preview_jpeg.is_empty() {
        send =
            send.thumbnail(InputFile::memory(image.preview_jpeg.clone()).file_name("preview.jpg"));
    }
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    bot_api::call(send).await?;
    delete_status(gateway, context).await;
    Ok(())
}

async fn deliver_transcript(
    gateway: &Gateway,
    context: &JobContext,
    transcript: &Transcript,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let balance = available_balance(gateway, context, lang).await;
    let footer = i18n::transcript_done(lang, &transcript.language, transcript.translated, &balance);
    let text = if transcript.text.trim().is_empty() {
        i18n::no_speech(lang)
    } else {
        transcript.text.clone()
    };
    let keyboard = buttons_under_transcript(gateway, lang, transcript).await;
    let long = transcript.audio_duration_ms >= LONG_AUDIO_MS
        || text.chars().count() + footer.chars().count() + 2 > MAX_MESSAGE_CHARS;
    if long && !transcript.text.trim().is_empty() {
        return deliver_long_transcript(gateway, context, transcript, &footer, keyboard).await;
    }
    let mut chunks = i18n::split_message(&text, MAX_MESSAGE_CHARS);
    match chunks.last_mut() {
        Some(last) if last.chars().count() + footer.chars().count() + 2 <= MAX_MESSAGE_CHARS => {
            last.push_str("\n\n");
            last.push_str(&footer);
        }
        _ => chunks.push(footer),
    }
    let chat = ChatId(context.chat_id);
    let count = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut send = gateway.bot.send_message(chat, chunk);
        // Every part replies to the user's recording: a button under the last one finds it that way.
        if let Some(reply) = reply_to(context) {
            send = send.reply_parameters(reply);
        }
        if i + 1 == count
            && let Some(keyboard) = keyboard.clone()
        {
            send = send.reply_markup(keyboard);
        }
        bot_api::call(send).await?;
    }
    delete_status(gateway, context).await;
    Ok(())
}

/// A long transcript: the start of its text in the chat (with `footer` and `keyboard`), then the whole
/// as documents in one album: `transcript.txt`, and, when it has segments, `transcript.srt` and
/// `transcript.vtt` (`translation.*` for a translation). Succeeds only when everything was sent, so billing
/// captures only then; a redelivery sends all of it again.
async fn deliver_long_transcript(
    gateway: &Gateway,
    context: &JobContext,
    transcript: &Transcript,
    footer: &str,
    keyboard: Option<InlineKeyboardMarkup>,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let chat = ChatId(context.chat_id);
    let text = transcript.text.trim();
    let whole = format!(
        "{text}\n\n{}\n\n{footer}",
        i18n::transcript_in_files(lang, false)
    );
    let message = if whole.chars().count() <= MAX_MESSAGE_CHARS {
        whole
    } else {
        let note = i18n::transcript_in_files(lang, true);
        // Room for the note, the footer and the blank line between them.
        let room =
            MAX_MESSAGE_CHARS.saturating_sub(note.chars().count() + footer.chars().count() + 2);
        let start = i18n::split_message(text, room)
            .into_iter()
            .next()
            .unwrap_or_default();
        format!("{start}{note}\n\n{footer}")
    };
    let mut send = gateway.bot.send_message(chat, message);
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    if let Some(keyboard) = keyboard {
        send = send.reply_markup(keyboard);
    }
    bot_api::call(send).await?;

    let name = if transcript.translated {
        "translation"
    } else {
        "transcript"
    };
    let mut files = vec![InputFile::memory(format!("{text}\n")).file_name(format!("{name}.txt"))];
    if !transcript.segments.is_empty() {
        files.push(
            InputFile::memory(subtitles::srt(&transcript.segments))
                .file_name(format!("{name}.srt")),
        );
        files.push(
            InputFile::memory(subtitles::vtt(&transcript.segments))
                .file_name(format!("{name}.vtt")),
        );
    }
    if files.len() == 1 {
        let file = files.remove(0);
        let mut send = gateway.bot.send_document(chat, file);
        if let Some(reply) = reply_to(context) {
            send = send.reply_parameters(reply);
        }
        bot_api::call(send).await?;
    } else {
        // One album: one call, so one unit of Telegram's per-chat limit for the three files.
        let media = files
            .into_iter()
            .map(|file| InputMedia::Document(InputMediaDocument::new(file)))
            .collect::<Vec<_>>();
        let mut send = gateway.bot.send_media_group(chat, media);
        if let Some(reply) = reply_to(context) {
            send = send.reply_parameters(reply);
        }
        bot_api::call(send).await?;
    }
    delete_status(gateway, context).await;
    Ok(())
}

/// Extracted text: its beginning in the chat, with [`i18n::text_summary`] under it, then the whole text
/// (the worker's result object) as a `.txt` document, both replying to the user's file. Succeeds only
/// when both were sent, so billing captures only then; a redelivery sends both again.
async fn deliver_text(
    gateway: &Gateway,
    context: &JobContext,
    text: &ExtractedText,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let whole = read_object(gateway, &text.output_key, text.size_bytes).await?;
    let balance = available_balance(gateway, context, lang).await;
    let summary = i18n::text_summary(lang, text, &balance);
    let beginning = text.text.trim();
    let shown = beginning.chars().count() as u64;
    let complete = format!(
        "{beginning}\n\n{}\n\n{summary}",
        i18n::text_in_file(lang, false)
    );
    let message = if shown >= text.characters && complete.chars().count() <= MAX_MESSAGE_CHARS {
        complete
    } else {
        let note = i18n::text_in_file(lang, true);
        let room =
            MAX_MESSAGE_CHARS.saturating_sub(note.chars().count() + summary.chars().count() + 2);
        let start = i18n::split_message(beginning, room)
            .into_iter()
            .next()
            .unwrap_or_default();
        format!("{start}{note}\n\n{summary}")
    };
    let chat = ChatId(context.chat_id);
    let mut send = gateway.bot.send_message(chat, message);
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    bot_api::call(send).await?;
    let name = if text.file_name.is_empty() {
        "text.txt".to_string()
    } else {
        text.file_name.clone()
    };
    let mut send = gateway
        .bot
        .send_document(chat, InputFile::memory(whole).file_name(name));
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    bot_api::call(send).await?;
    delete_status(gateway, context).await;
    Ok(())
}

/// A written prompt (`prompt.write`): the prompt in the chat ([`i18n::written_prompt`]), with "Create
/// from this prompt" and its price under it (no button when the price list has no price for a picture),
/// replying to the user's idea.
async fn deliver_prompt(
    gateway: &Gateway,
    context: &JobContext,
    prompt: &PromptText,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let text = i18n::written_prompt(lang, prompt.text.trim());
    let chat = ChatId(context.chat_id);
    let mut send = gateway.bot.send_message(
        chat,
        i18n::split_message(&text, MAX_MESSAGE_CHARS).remove(0),
    );
    let create = Operation::generate(Generate::with_prompt(prompt.text.trim()));
    match gateway.backends.prices().await {
        Ok(prices) => {
            if let Some((amount, entry)) = price_of(&prices, &create, 0) {
                let price = i18n::money(lang, amount, &entry.currency);
                send = send.reply_markup(InlineKeyboardMarkup::new([[
                    InlineKeyboardButton::callback(
                        i18n::create_from_prompt_button(lang, &price),
                        create.callback_data(),
                    ),
                ]]));
            }
        }
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed; no Create button under the prompt");
        }
    }
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    bot_api::call(send).await?;
    delete_status(gateway, context).await;
    Ok(())
}

/// The operations table's buttons for a transcript (Translate to English), each with its price for this
/// recording's length; none for a translation, for English speech, or when the price list has no price.
/// The next steps under a picture result ([`operations::under_image_result`]) with their prices; none
/// when billing does not answer.
async fn buttons_under_image(gateway: &Gateway, lang: Lang) -> Option<InlineKeyboardMarkup> {
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed; no buttons under the picture");
            return None;
        }
    };
    let rows = operations::under_image_result()
        .into_iter()
        .map(|operation| operations::with_default_model(operation, &prices))
        .filter_map(|operation| {
            let (amount, entry) = price_of(&prices, &operation, 0)?;
            let price = i18n::money(lang, amount, &entry.currency);
            Some(vec![InlineKeyboardButton::callback(
                i18n::operation_button(lang, &operation, &price),
                operation.callback_data(),
            )])
        })
        .collect::<Vec<_>>();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

async fn buttons_under_transcript(
    gateway: &Gateway,
    lang: Lang,
    transcript: &Transcript,
) -> Option<InlineKeyboardMarkup> {
    if transcript.translated || transcript.language == "en" {
        return None;
    }
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed; no buttons under the transcript");
            return None;
        }
    };
    let language = if transcript.language.is_empty() {
        "auto"
    } else {
        transcript.language.as_str()
    };
    // The input kind only selects audio rows; voice notes and audio files are offered the same.
    let rows = operations::under_result_for(Input::Voice, language)
        .into_iter()
        .filter(|operation| operation.validate().is_ok())
        .filter_map(|operation| {
            let (amount, entry) = price_of(&prices, &operation, transcript.audio_duration_ms)?;
            let price = i18n::money(lang, amount, &entry.currency);
            Some(vec![InlineKeyboardButton::callback(
                i18n::operation_button(lang, &operation, &price),
                operation.callback_data(),
            )])
        })
        .collect::<Vec<_>>();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

async fn delete_status(gateway: &Gateway, context: &JobContext) {
    if context.status_message_id == 0 {
        return;
    }
    let deleted = bot_api::call(gateway.bot.delete_message(
        ChatId(context.chat_id),
        MessageId(context.status_message_id),
    ))
    .await;
    if let Err(error) = deleted {
        tracing::debug!(%error, "status message not deleted");
    }
}

/// Puts `text` in the job's status message, or sends it as a new reply when that message is gone.
async fn set_status_or_send(
    gateway: &Gateway,
    context: &JobContext,
    text: String,
) -> Result<(), Error> {
    let chat = ChatId(context.chat_id);
    if context.status_message_id != 0 {
        let edited = bot_api::call(gateway.bot.edit_message_text(
            chat,
            MessageId(context.status_message_id),
            text.clone(),
        ))
        .await;
        match edited {
            Ok(_) | Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => {
                return Ok(());
            }
            Err(teloxide::RequestError::Api(
                teloxide::ApiError::MessageToEditNotFound | teloxide::ApiError::MessageCantBeEdited,
            )) => {} // the status message is gone: send a new one
            Err(error) => return Err(error.into()),
        }
    }
    let mut send = gateway.bot.send_message(chat, text);
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    bot_api::call(send).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_file_names_come_from_the_operation() {
        assert_eq!(
            file_name(&Operation::upscale(4), "jpg"),
            "image-upscale-4.jpg"
        );
        assert_eq!(file_name(&Operation::default(), "png"), "result.png");
        assert_eq!(
            file_name(
                &Operation::convert(mediabot_proto::jobs::v1::ConvertTarget::WebpLossless),
                "webp"
            ),
            "image-convert-webp-lossless.webp"
        );
    }

    #[test]
    fn progress_edits_are_paced_per_job_and_never_go_back() {
        let edits = ProgressEdits::default();
        let start = Instant::now();
        assert!(edits.admit("a", 10, start));
        // Another job is not held back by the first.
        assert!(edits.admit("b", 10, start));
        assert!(!edits.admit("a", 20, start + Duration::from_secs(1)));
        assert!(edits.admit("a", 30, start + PROGRESS_EDIT_INTERVAL));
        // An older event arriving late is not shown.
        assert!(!edits.admit("a", 20, start + 3 * PROGRESS_EDIT_INTERVAL));
        edits.forget("a");
        assert!(edits.admit("a", 5, start + 3 * PROGRESS_EDIT_INTERVAL));
    }

    #[test]
    fn records_round_trip() {
        for record in [Record::Delivered, Record::Undelivered, Record::Failed] {
            assert_eq!(Record::parse(record.as_str().as_bytes()), Some(record));
        }
    }
}
