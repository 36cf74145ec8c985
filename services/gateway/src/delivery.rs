//! Delivers job outcomes to chats. Runs as the durable consumer `gateway-delivery` on the job events
//! stream, so events that arrive while the gateway is down are delivered when it comes back.
//!
//! Progress edits the status message ("working…"); completion sends the result as a reply to the user's
//! message (photo, document or transcript split to Telegram's 4096-character limit) with the new balance,
//! and removes the status message; failure turns the status message into a plain explanation saying that
//! nothing was charged. Each outcome is recorded in the `gateway-deliveries` bucket after it is sent, so a
//! redelivered event is not sent twice.

use std::time::Duration;

use async_nats::jetstream::Message as NatsMessage;
use mediabot_proto::billing::v1::GetBalanceRequest;
use mediabot_proto::jobs::v1::{
    FailureReason, ImageResult, JobCompleted, JobContext, JobFailed, JobProgress, JobState,
    Transcript, job_completed,
};
use prost::Message as _;
use service_runtime::jetstream::{Delivery, Disposition, subjects};
use teloxide::prelude::*;
use teloxide::types::{InputFile, MessageId, ReplyParameters};
use tokio::io::AsyncReadExt;

use crate::i18n::{self, Lang};
use crate::{Error, Gateway};

/// How long an event may stay unacknowledged before redelivery (extended while a delivery runs).
pub const ACK_WAIT: Duration = Duration::from_secs(60);
/// Deliveries of one event before JetStream gives up on it.
pub const MAX_DELIVER: i64 = 20;
/// Telegram's longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// Handles one job event.
pub async fn handle(gateway: Gateway, delivery: Delivery) -> Disposition {
    let message = &delivery.message;
    let result = match message.subject.as_str() {
        subjects::PROGRESS => on_progress(&gateway, message).await,
        subjects::COMPLETED => on_outcome(&gateway, message, Outcome::Completed).await,
        subjects::FAILED => on_outcome(&gateway, message, Outcome::Failed).await,
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
        Err(Error::Telegram(teloxide::RequestError::Api(error))) => {
            // The chat is gone, the bot was blocked, ...: retrying will not help.
            tracing::warn!(%error, "the Bot API refused a delivery; giving up on it");
            Disposition::Ack
        }
        Err(error) => {
            tracing::warn!(%error, attempt = delivery.attempt, "delivery failed; will retry");
            Disposition::Retry(Duration::from_secs(2))
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Completed,
    Failed,
}

async fn on_progress(gateway: &Gateway, message: &NatsMessage) -> Result<(), Error> {
    let progress = JobProgress::decode(message.payload.clone())?;
    let Some(context) = progress.context.as_ref() else {
        return Ok(());
    };
    if progress.state != JobState::Running as i32 || context.status_message_id == 0 {
        return Ok(());
    }
    let lang = Lang::from_code(Some(&context.language_code));
    let edit = gateway
        .bot
        .edit_message_text(
            ChatId(context.chat_id),
            MessageId(context.status_message_id),
            i18n::working(lang, progress.percent),
        )
        .await;
    // Progress is best effort: the status message may be gone already (the result arrived first).
    if let Err(error) = edit {
        tracing::debug!(%error, job_id = %progress.job_id, "progress edit skipped");
    }
    Ok(())
}

async fn on_outcome(
    gateway: &Gateway,
    message: &NatsMessage,
    outcome: Outcome,
) -> Result<(), Error> {
    let (job_id, context) = match outcome {
        Outcome::Completed => {
            let event = JobCompleted::decode(message.payload.clone())?;
            (
                event.job_id.clone(),
                event.context.clone().unwrap_or_default(),
            )
        }
        Outcome::Failed => {
            let event = JobFailed::decode(message.payload.clone())?;
            (
                event.job_id.clone(),
                event.context.clone().unwrap_or_default(),
            )
        }
    };
    let span = tracing::info_span!("deliver", job_id = %job_id, chat_id = context.chat_id, user_id = context.user_id);
    let _entered = span.enter();
    if already_delivered(gateway, &job_id).await {
        tracing::info!("outcome already delivered; skipping the duplicate");
        return Ok(());
    }
    drop(_entered);
    match outcome {
        Outcome::Completed => {
            let event = JobCompleted::decode(message.payload.clone())?;
            match &event.result {
                Some(job_completed::Result::Image(image)) => {
                    deliver_image(gateway, &context, image).await?
                }
                Some(job_completed::Result::Transcript(transcript)) => {
                    deliver_transcript(gateway, &context, transcript).await?
                }
                None => tracing::error!(job_id = %event.job_id, "completed event without a result"),
            }
            tracing::info!(job_id = %job_id, processing_ms = event.processing_ms, "result delivered");
        }
        Outcome::Failed => {
            let event = JobFailed::decode(message.payload.clone())?;
            let reason = FailureReason::try_from(event.reason).unwrap_or(FailureReason::Internal);
            let lang = Lang::from_code(Some(&context.language_code));
            set_status_or_send(gateway, &context, i18n::job_failed(lang, reason)).await?;
            tracing::info!(job_id = %job_id, ?reason, detail = %event.detail, "failure delivered");
        }
    }
    if let Err(error) = gateway
        .deliveries
        .put(job_id.as_str(), job_id.clone().into_bytes().into())
        .await
    {
        tracing::warn!(%error, job_id = %job_id, "recording the delivery failed; a redelivery may send it twice");
    }
    Ok(())
}

async fn already_delivered(gateway: &Gateway, job_id: &str) -> bool {
    matches!(gateway.deliveries.get(job_id).await, Ok(Some(_)))
}

async fn available_balance(gateway: &Gateway, context: &JobContext, lang: Lang) -> Option<String> {
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
            Some(i18n::money(lang, b.available_minor, &b.currency))
        }
        Err(status) => {
            tracing::warn!(%status, "billing GetBalance failed; result sent without the balance");
            None
        }
    }
}

fn reply_to(context: &JobContext) -> Option<ReplyParameters> {
    (context.reply_to_message_id != 0).then(|| ReplyParameters {
        allow_sending_without_reply: Some(true),
        ..ReplyParameters::new(MessageId(context.reply_to_message_id))
    })
}

async fn deliver_image(
    gateway: &Gateway,
    context: &JobContext,
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
    let extension = if image.mime_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    let file = InputFile::memory(bytes).file_name(format!("upscaled-2x.{extension}"));
    let balance = available_balance(gateway, context, lang)
        .await
        .unwrap_or_else(|| "—".into());
    let mut caption = i18n::image_done(lang, image.width_px, image.height_px, &balance);
    let chat = ChatId(context.chat_id);
    if image.send_as_document {
        caption = format!("{caption}\n{}", i18n::sent_as_file(lang));
        let mut send = gateway.bot.send_document(chat, file).caption(caption);
        if let Some(reply) = reply_to(context) {
            send = send.reply_parameters(reply);
        }
        send.await?;
    } else {
        let mut send = gateway.bot.send_photo(chat, file).caption(caption);
        if let Some(reply) = reply_to(context) {
            send = send.reply_parameters(reply);
        }
        send.await?;
    }
    delete_status(gateway, context).await;
    Ok(())
}

async fn deliver_transcript(
    gateway: &Gateway,
    context: &JobContext,
    transcript: &Transcript,
) -> Result<(), Error> {
    let lang = Lang::from_code(Some(&context.language_code));
    let balance = available_balance(gateway, context, lang)
        .await
        .unwrap_or_else(|| "—".into());
    let footer = i18n::transcript_done(lang, &balance);
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
    let chat = ChatId(context.chat_id);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut send = gateway.bot.send_message(chat, chunk);
        if i == 0
            && let Some(reply) = reply_to(context)
        {
            send = send.reply_parameters(reply);
        }
        send.await?;
    }
    delete_status(gateway, context).await;
    Ok(())
}

async fn delete_status(gateway: &Gateway, context: &JobContext) {
    if context.status_message_id == 0 {
        return;
    }
    let deleted = gateway
        .bot
        .delete_message(
            ChatId(context.chat_id),
            MessageId(context.status_message_id),
        )
        .await;
    if let Err(error) = deleted {
        tracing::debug!(%error, "status message not deleted");
    }
}

async fn set_status_or_send(
    gateway: &Gateway,
    context: &JobContext,
    text: String,
) -> Result<(), Error> {
    let chat = ChatId(context.chat_id);
    if context.status_message_id != 0 {
        let edited = gateway
            .bot
            .edit_message_text(chat, MessageId(context.status_message_id), text.clone())
            .await;
        match edited {
            Ok(_) | Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => {
                return Ok(());
            }
            Err(teloxide::RequestError::Api(_)) => {} // the status message is gone: send a new one
            Err(error) => return Err(error.into()),
        }
    }
    let mut send = gateway.bot.send_message(chat, text);
    if let Some(reply) = reply_to(context) {
        send = send.reply_parameters(reply);
    }
    send.await?;
    Ok(())
}
