//! What a user has bought and what is running for them: /history (one line per paid operation, newest
//! first, paged with a "More" button) and /status (the jobs in progress with their queue position or
//! percent, or one job by its short id).
//!
//! Both read billing's holds (`ListHolds`: one hold per paid job, whose state says done and paid / in
//! progress / money returned); /status adds each job's `JobStatus` from the job-status bucket (queue
//! sequence and percent, kept by the job pipeline). Users see a job by its short id: the last
//! [`SHORT_ID_LEN`] characters of the job id, shown as `#c3d4e5f6` on every status message.

use mediabot_proto::billing::v1::{Hold, HoldState, ListHoldsRequest};
use mediabot_proto::jobs::v1::{JobState, Operation};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage};

use crate::i18n::{self, Lang, Progress};
use crate::telegram::{HandlerError, answer};
use crate::{Gateway, TelegramBot, bot_api};

/// Paid operations per /history page.
pub const HISTORY_PAGE: u32 = 10;
/// Jobs in progress /status lists at most.
pub const STATUS_LIMIT: u32 = 20;
/// Callback data prefix of the "More" button under a /history page: `hist:<billing page token>`.
pub const MORE_PREFIX: &str = "hist:";
/// Characters of a short job id.
pub const SHORT_ID_LEN: usize = 8;
/// Longest callback data Telegram accepts, bytes.
const MAX_CALLBACK_DATA: usize = 64;

/// The short id users see of `job_id`: its last [`SHORT_ID_LEN`] characters (the random end of a UUID,
/// not the time-ordered start, so two jobs of one minute differ).
pub fn short_id(job_id: &str) -> &str {
    let start = job_id.len().saturating_sub(SHORT_ID_LEN);
    job_id.get(start..).unwrap_or(job_id)
}

/// A status message's text with the job's short id under it: `⏳ Queued…\n#c3d4e5f6`.
pub fn with_short_id(text: String, job_id: &str) -> String {
    format!("{text}\n#{}", short_id(job_id))
}

/// A /history page of `account_id` starting at `page_token` (empty: the newest), with the "More" button
/// when older operations exist. Errors: billing's status.
pub async fn history_page(
    gateway: &Gateway,
    lang: Lang,
    account_id: i64,
    page_token: String,
) -> Result<(String, Option<InlineKeyboardMarkup>), tonic::Status> {
    let first_page = page_token.is_empty();
    let page = gateway
        .backends
        .billing
        .clone()
        .list_holds(ListHoldsRequest {
            account_id,
            page_size: HISTORY_PAGE,
            page_token,
            ..Default::default()
        })
        .await?
        .into_inner();
    let lines: Vec<String> = page
        .holds
        .iter()
        .map(|hold| i18n::history_hold_line(lang, hold, short_id(&hold.job_id)))
        .collect();
    let more = format!("{MORE_PREFIX}{}", page.next_page_token);
    let keyboard =
        (!page.next_page_token.is_empty() && more.len() <= MAX_CALLBACK_DATA).then(|| {
            InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
                i18n::more_button(lang),
                more,
            )]])
        });
    Ok((i18n::history_page(lang, &lines, first_page), keyboard))
}

/// The "More" button under a /history page: the next page as a new message (the presser's own
/// operations, whoever's page it was under), and the pressed button goes away.
pub async fn more_pressed(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
    lang: Lang,
) -> Result<(), HandlerError> {
    let token = query
        .data
        .as_deref()
        .and_then(|d| d.strip_prefix(MORE_PREFIX))
        .unwrap_or_default()
        .to_string();
    let Some(MaybeInaccessibleMessage::Regular(page)) = query.message.as_ref() else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    match history_page(&gateway, lang, query.from.id.0 as i64, token).await {
        Ok((text, keyboard)) => {
            answer(&bot, &query, None).await;
            // Best effort: a page that keeps its button only offers the same page again.
            let _ = bot_api::call(bot.edit_message_reply_markup(page.chat.id, page.id)).await;
            let mut send = bot.send_message(page.chat.id, text);
            if let Some(keyboard) = keyboard {
                send = send.reply_markup(keyboard);
            }
            bot_api::call(send).await?;
        }
        Err(status) => {
            tracing::warn!(%status, "billing ListHolds failed");
            answer(&bot, &query, Some(i18n::try_later(lang))).await;
        }
    }
    Ok(())
}

/// Reply to /status: with no argument, the user's jobs in progress; with one, that job (a short id, or
/// any end of a job id of theirs).
pub async fn status(gateway: &Gateway, lang: Lang, account_id: i64, argument: &str) -> String {
    let argument = argument.trim().trim_start_matches('#');
    let answer = if argument.is_empty() {
        in_progress(gateway, lang, account_id).await
    } else {
        let valid = (4..=36).contains(&argument.len())
            && argument.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if !valid {
            return i18n::status_bad_id(lang);
        }
        one_job(gateway, lang, account_id, &argument.to_ascii_lowercase()).await
    };
    answer.unwrap_or_else(|status| {
        tracing::warn!(%status, "billing ListHolds failed");
        i18n::try_later(lang)
    })
}

async fn in_progress(
    gateway: &Gateway,
    lang: Lang,
    account_id: i64,
) -> Result<String, tonic::Status> {
    let holds = list_holds(gateway, account_id, HoldState::Pending, "", STATUS_LIMIT).await?;
    let mut lines = Vec::with_capacity(holds.len());
    // Oldest first: the order they will finish in.
    for hold in holds.iter().rev() {
        let progress = progress_of(gateway, &hold.job_id).await;
        lines.push(i18n::status_line(
            lang,
            short_id(&hold.job_id),
            &hold.operation,
            progress,
        ));
    }
    Ok(i18n::status_list(lang, &lines))
}

async fn one_job(
    gateway: &Gateway,
    lang: Lang,
    account_id: i64,
    suffix: &str,
) -> Result<String, tonic::Status> {
    let holds = list_holds(gateway, account_id, HoldState::Unspecified, suffix, 2).await?;
    // Two of the user's jobs sharing the end asked for (a very short one): the newest is meant.
    let Some(hold) = holds.first() else {
        return Ok(i18n::status_unknown(lang, suffix));
    };
    let progress = if hold.state() == HoldState::Pending {
        Some(progress_of(gateway, &hold.job_id).await)
    } else {
        None
    };
    Ok(i18n::status_one(
        lang,
        short_id(&hold.job_id),
        hold,
        progress,
    ))
}

async fn list_holds(
    gateway: &Gateway,
    account_id: i64,
    state: HoldState,
    job_id_suffix: &str,
    page_size: u32,
) -> Result<Vec<Hold>, tonic::Status> {
    Ok(gateway
        .backends
        .billing
        .clone()
        .list_holds(ListHoldsRequest {
            account_id,
            page_size,
            page_token: String::new(),
            state: state as i32,
            job_id_suffix: job_id_suffix.to_string(),
        })
        .await?
        .into_inner()
        .holds)
}

/// How far a paid, unsettled job is, from its `JobStatus`: no status yet is a job whose file is still
/// being received; a failure to read it counts the same (the line still names the job).
async fn progress_of(gateway: &Gateway, job_id: &str) -> Progress {
    let status = match gateway.pipeline.get_status(job_id).await {
        Ok(Some(status)) => status,
        Ok(None) => return Progress::Preparing,
        Err(error) => {
            tracing::warn!(%error, job_id, "could not read a job's status");
            return Progress::Preparing;
        }
    };
    match status.state() {
        JobState::Queued => {
            let service = status.operation.as_ref().and_then(Operation::service);
            let ahead = match (service, status.queue_sequence) {
                (Some(service), sequence) if sequence > 0 => gateway
                    .pipeline
                    .queue_position(service.stream(), sequence)
                    .await
                    .unwrap_or_else(|error| {
                        tracing::warn!(%error, job_id, "could not read the queue position");
                        0
                    }),
                _ => 0,
            };
            Progress::Queued { ahead }
        }
        JobState::Running => Progress::Running {
            percent: status.percent,
        },
        JobState::Completed | JobState::Failed => Progress::Finishing,
        JobState::Unspecified => Progress::Preparing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_id_is_the_random_end_of_the_job_id() {
        assert_eq!(short_id("0190c2d4-5b6a-7c8d-9e0f-a1b2c3d4e5f6"), "c3d4e5f6");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(
            with_short_id("⏳ Queued".into(), "0190c2d4-5b6a-7c8d-9e0f-a1b2c3d4e5f6"),
            "⏳ Queued\n#c3d4e5f6"
        );
    }

    #[test]
    fn the_more_button_fits_in_callback_data() {
        // The longest billing page token: `ho1.` + 16 hex digits + `.` + a 36-character job id.
        let token = format!(
            "ho1.{:x}.{}",
            i64::MAX,
            "0190c2d4-5b6a-7c8d-9e0f-a1b2c3d4e5f6"
        );
        assert!(format!("{MORE_PREFIX}{token}").len() <= MAX_CALLBACK_DATA);
    }
}
