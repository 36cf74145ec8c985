//! Delivers job outcomes to chats and reports what reached the user, so that money follows delivery.
//! Runs as the durable consumer `gateway-delivery` on the job events stream, so events that arrive while the
//! gateway is down are delivered when it comes back.
//!
//! - `jobs.progress` edits the status message ("working… 50 %"), best effort.
//! - `jobs.completed` sends the result as a reply to the user's message (an image always as a document at
//!   full resolution, with a preview as its thumbnail and a caption saying its size and format; or a transcript
//!   split to Telegram's 4096-character limit, with its language and, under it, the operations table's
//!   buttons for a transcript: Translate to English) and removes the status message; then it publishes
//!   `jobs.delivered` (billing captures the hold). When the Bot API refuses the result for good (the bot
//!   was blocked, the chat is gone, the file was refused) or keeps failing past [`GIVE_UP_AFTER`]
//!   deliveries, the user is told (where still possible) and `jobs.undelivered` is published (billing
//!   releases the hold): nobody pays for a result they did not receive.
//! - `jobs.failed` turns the status message into a plain explanation saying that nothing was charged
//!   (billing releases on the event itself).
//!
//! Each outcome is recorded in the `gateway-deliveries` bucket (job id → `delivered` / `undelivered` /
//! `failed`) after it is handled; a redelivered event finds the record, publishes the same report again
//! (de-duplicated by its message id, and idempotent in billing) and is not sent twice. Once an outcome is
//! handled, the job's input and result are deleted from the media bucket.

use std::time::Duration;

use async_nats::jetstream::Message as NatsMessage;
use job_pipeline::jetstream::{Delivery, Disposition, message_id, subjects};
use mediabot_proto::billing::v1::GetBalanceRequest;
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{
    FailureReason, ImageResult, JobCompleted, JobContext, JobDelivered, JobFailed, JobProgress,
    JobState, JobUndelivered, Operation, Transcript, job_completed,
};
use prost::Message as _;
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ReplyParameters,
};
use tokio::io::AsyncReadExt;
use tracing::Instrument as _;

use crate::bot_api;
use crate::i18n::{self, Lang};
use crate::operations::{self, Input};
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
    // Never move a finished job's message back to "working" (progress may arrive after the outcome).
    if recorded(gateway, &progress.job_id).await.is_some() {
        return Ok(());
    }
    let lang = Lang::from_code(Some(&context.language_code));
    let edit = bot_api::call(gateway.bot.edit_message_text(
        ChatId(context.chat_id),
        MessageId(context.status_message_id),
        i18n::working(lang, progress.percent),
    ))
    .await;
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
    if let Some(record) = recorded(gateway, &event.job_id).await {
        tracing::info!(?record, "outcome already handled; reporting it again");
        if record != Record::Failed {
            report(gateway, &event.job_id, &operation, &context, record, "").await?;
        }
        return Ok(());
    }
    let sent = match &event.result {
        Some(job_completed::Result::Image(image)) => {
            deliver_image(gateway, &context, &operation, image).await
        }
        Some(job_completed::Result::Transcript(transcript)) => {
            deliver_transcript(gateway, &context, transcript).await
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
    report(
        gateway,
        &event.job_id,
        &operation,
        &context,
        record,
        &detail,
    )
    .await?;
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
    let lang = Lang::from_code(Some(&context.language_code));
    match set_status_or_send(gateway, &context, i18n::job_failed(lang, reason)).await {
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

/// Publishes `jobs.delivered` or `jobs.undelivered` for billing.
async fn report(
    gateway: &Gateway,
    job_id: &str,
    operation: &Operation,
    context: &JobContext,
    record: Record,
    detail: &str,
) -> Result<(), Error> {
    let now = job_pipeline::now_unix_ms();
    match record {
        Record::Delivered => {
            let event = JobDelivered {
                job_id: job_id.to_string(),
                operation: Some(operation.clone()),
                context: Some(context.clone()),
                delivered_at_unix_ms: now,
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

/// The result's file name: the operation id and parameter values, e.g. `image-upscale-4.jpg`.
fn file_name(operation: &Operation, extension: &str) -> String {
    let mut name = operation.id().unwrap_or("result").replace('.', "-");
    for (_, value) in operation.params() {
        name.push('-');
        name.push_str(&value);
    }
    format!("{name}.{extension}")
}

async fn deliver_image(
    gateway: &Gateway,
    context: &JobContext,
    operation: &Operation,
    image: &ImageResult,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let mut object = gateway
        .pipeline
        .media
        .get(image.output_key.as_str())
        .await
        .map_err(|e| Error::ObjectStore(e.to_string()))?;
    let mut bytes = Vec::with_capacity(image.size_bytes as usize);
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| Error::ObjectStore(e.to_string()))?;
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
    let mut chunks = i18n::split_message(&text, MAX_MESSAGE_CHARS);
    match chunks.last_mut() {
        Some(last) if last.chars().count() + footer.chars().count() + 2 <= MAX_MESSAGE_CHARS => {
            last.push_str("\n\n");
            last.push_str(&footer);
        }
        _ => chunks.push(footer),
    }
    let keyboard = buttons_under_transcript(gateway, lang, transcript).await;
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

/// The operations table's buttons for a transcript (Translate to English), each with its price for this
/// recording's length; none for a translation, for English speech, or when the price list has no price.
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
    }

    #[test]
    fn records_round_trip() {
        for record in [Record::Delivered, Record::Undelivered, Record::Failed] {
            assert_eq!(Record::parse(record.as_str().as_bytes()), Some(record));
        }
    }
}
