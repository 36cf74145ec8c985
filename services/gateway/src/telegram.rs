//! The update handler tree: commands, photos and image files (offered the operations of the
//! [`operations`](crate::operations) table by inline keyboard), voice notes and audio (transcribed at once
//! in the user's language, see [`operations::speech_language`]), and button presses (under an offer, or
//! under a transcript: Translate to English). Endpoints only read the update, pick the language and delegate to [`Gateway`] (jobs)
//! or billing (balances, history, admin top-ups).

use mediabot_proto::billing::v1::{
    GetBalanceRequest, ListOperationsRequest, PriceUnit, TopUpRequest,
};
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage,
    ReplyParameters,
};
use teloxide::utils::command::BotCommands;

use tracing::Instrument as _;

use crate::admin::{self, AddBalance};
use crate::bot_api;
use crate::i18n::{self, Lang};
use crate::jobs::{JobStart, MediaRef, Started, StatusMessage};
use crate::operations::{self, Input, Start};
use crate::{Gateway, TelegramBot};

/// Error type of the endpoints; the dispatcher logs it.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;
type HandlerResult = Result<(), HandlerError>;

/// The bot's commands.
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Greeting, balance and prices; opens the account.
    Start,
    /// The current balance.
    Balance,
    /// The latest operations on the account.
    History,
    /// What the bot does.
    Help,
    /// Administrators: `/add_balance [<telegram id>] <amount in ₽>` credits an account (the admin's own
    /// without an id).
    #[command(rename = "add_balance", hide)]
    AddBalance(String),
}

/// Operations shown by /history.
pub const HISTORY_LENGTH: u32 = 10;

/// The handler tree given to the dispatcher.
pub fn schema() -> UpdateHandler<HandlerError> {
    let messages = Update::filter_message()
        .branch(teloxide::filter_command::<Command, _>().endpoint(on_command))
        .branch(dptree::filter(|m: Message| image_of(&m).is_some()).endpoint(on_image))
        .branch(dptree::filter(|m: Message| audio_of(&m).is_some()).endpoint(on_audio))
        .branch(dptree::endpoint(on_other));
    let callbacks = Update::filter_callback_query().endpoint(on_callback);
    dptree::entry().branch(messages).branch(callbacks)
}

/// Sets the command menu in English and Russian (not /add_balance: it is for administrators only).
/// Failures are logged, not fatal.
pub async fn register_commands(bot: &TelegramBot) {
    let menus = [
        (
            None,
            [
                ("start", "Start: balance and prices"),
                ("balance", "Your balance"),
                ("history", "Latest operations"),
                ("help", "How it works"),
            ],
        ),
        (
            Some("ru"),
            [
                ("start", "Начало: баланс и цены"),
                ("balance", "Ваш баланс"),
                ("history", "Последние операции"),
                ("help", "Как это работает"),
            ],
        ),
    ];
    for (language, commands) in menus {
        let commands = commands
            .iter()
            .map(|(c, d)| BotCommand::new(*c, *d))
            .collect::<Vec<_>>();
        let mut request = bot.set_my_commands(commands);
        if let Some(code) = language {
            request = request.language_code(code);
        }
        if let Err(error) = bot_api::call(request).await {
            tracing::warn!(%error, "setMyCommands failed");
        }
    }
}

fn lang_of(user: Option<&teloxide::types::User>) -> Lang {
    Lang::from_code(user.and_then(|u| u.language_code.as_deref()))
}

/// The image in a message: the largest photo size, or a document whose MIME type or name says image.
pub fn image_of(message: &Message) -> Option<(Input, MediaRef)> {
    if let Some(largest) = message
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
    {
        return Some((
            Input::Photo,
            MediaRef {
                file_id: largest.file.id.clone(),
                size_bytes: u64::from(largest.file.size),
                mime_type: Some("image/jpeg".into()),
                file_name: None,
                duration_secs: None,
            },
        ));
    }
    let document = message.document()?;
    let mime = document
        .mime_type
        .as_ref()
        .map(|m| m.essence_str().to_string());
    let name = document.file_name.clone();
    let by_mime = mime.as_deref().is_some_and(|m| m.starts_with("image/"));
    let by_name = name.as_deref().is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        [
            ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif",
        ]
        .iter()
        .any(|ext| n.ends_with(ext))
    });
    (by_mime || by_name).then(|| {
        (
            Input::ImageDocument,
            MediaRef {
                file_id: document.file.id.clone(),
                size_bytes: u64::from(document.file.size),
                mime_type: mime,
                file_name: name,
                duration_secs: None,
            },
        )
    })
}

/// The audio in a message: a voice note, an audio file, or a document whose MIME type says audio.
pub fn audio_of(message: &Message) -> Option<(Input, MediaRef)> {
    if let Some(voice) = message.voice() {
        return Some((
            Input::Voice,
            MediaRef {
                file_id: voice.file.id.clone(),
                size_bytes: u64::from(voice.file.size),
                mime_type: voice
                    .mime_type
                    .as_ref()
                    .map(|m| m.essence_str().to_string()),
                file_name: None,
                duration_secs: Some(voice.duration.seconds()),
            },
        ));
    }
    if let Some(audio) = message.audio() {
        return Some((
            Input::Audio,
            MediaRef {
                file_id: audio.file.id.clone(),
                size_bytes: u64::from(audio.file.size),
                mime_type: audio
                    .mime_type
                    .as_ref()
                    .map(|m| m.essence_str().to_string()),
                file_name: audio.file_name.clone(),
                duration_secs: Some(audio.duration.seconds()),
            },
        ));
    }
    let document = message.document()?;
    let mime = document
        .mime_type
        .as_ref()
        .map(|m| m.essence_str().to_string())?;
    mime.starts_with("audio/").then(|| {
        (
            Input::Audio,
            MediaRef {
                file_id: document.file.id.clone(),
                size_bytes: u64::from(document.file.size),
                mime_type: Some(mime),
                file_name: document.file_name.clone(),
                duration_secs: None,
            },
        )
    })
}

async fn on_command(
    bot: TelegramBot,
    gateway: Gateway,
    message: Message,
    command: Command,
) -> HandlerResult {
    let lang = lang_of(message.from.as_ref());
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let account_id = user.id.0 as i64;
    let text = match command {
        Command::Help => i18n::help(lang),
        Command::History => history(&gateway, lang, account_id).await,
        Command::AddBalance(args) => add_balance(&gateway, lang, &message, user, &args).await,
        Command::Start | Command::Balance => {
            let mut billing = gateway.backends.billing.clone();
            match billing.get_balance(GetBalanceRequest { account_id }).await {
                Err(status) => {
                    tracing::warn!(%status, "billing GetBalance failed");
                    i18n::try_later(lang)
                }
                Ok(balance) => {
                    let balance = balance.into_inner();
                    let available = i18n::money(lang, balance.available_minor, &balance.currency);
                    if matches!(command, Command::Balance) {
                        let held = (balance.held_minor > 0)
                            .then(|| i18n::money(lang, balance.held_minor, &balance.currency));
                        i18n::balance(lang, &available, held.as_deref())
                    } else {
                        let lines = price_lines(&gateway, lang).await;
                        i18n::welcome(lang, &available, &lines)
                    }
                }
            }
        }
    };
    bot_api::call(bot.send_message(message.chat.id, text)).await?;
    Ok(())
}

async fn history(gateway: &Gateway, lang: Lang, account_id: i64) -> String {
    let request = ListOperationsRequest {
        account_id,
        page_size: HISTORY_LENGTH,
        page_token: String::new(),
    };
    match gateway
        .backends
        .billing
        .clone()
        .list_operations(request)
        .await
    {
        Ok(page) => i18n::history(lang, &page.into_inner().operations),
        Err(status) => {
            tracing::warn!(%status, "billing ListOperations failed");
            i18n::try_later(lang)
        }
    }
}

/// `/add_balance`: administrators only; the TopUp key comes from the chat and message id, so a replayed
/// update credits once.
#[tracing::instrument(skip_all, fields(admin_id = user.id.0, chat_id = message.chat.id.0, message_id = message.id.0))]
async fn add_balance(
    gateway: &Gateway,
    lang: Lang,
    message: &Message,
    user: &teloxide::types::User,
    args: &str,
) -> String {
    if !gateway.admins.contains(user.id.0) {
        tracing::warn!("/add_balance from a user who is not an administrator");
        return i18n::not_allowed(lang);
    }
    let request = match AddBalance::parse(args) {
        Ok(request) => request,
        Err(error) => return i18n::add_balance_invalid(lang, error),
    };
    let account_id = request.account_id.unwrap_or(user.id.0 as i64);
    let top_up = TopUpRequest {
        account_id,
        amount_minor: request.amount_minor,
        idempotency_key: admin::idempotency_key(message.chat.id.0, message.id.0),
        source: admin::source(user.id.0),
    };
    match gateway.backends.billing.clone().top_up(top_up).await {
        Ok(response) => {
            let balance = response.into_inner().balance.unwrap_or_default();
            tracing::info!(
                account_id,
                amount_minor = request.amount_minor,
                "balance added by an administrator"
            );
            i18n::balance_added(
                lang,
                &i18n::money(lang, request.amount_minor, &balance.currency),
                account_id,
                &i18n::money(lang, balance.available_minor, &balance.currency),
            )
        }
        Err(status) => {
            tracing::warn!(%status, account_id, "billing TopUp failed");
            i18n::try_later(lang)
        }
    }
}

/// One line per operation of the table that has a price: "Photo upscale ×2 — 5 ₽".
async fn price_lines(gateway: &Gateway, lang: Lang) -> Vec<String> {
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            return Vec::new();
        }
    };
    let mut lines: Vec<String> = Vec::new();
    for operation in operations::all() {
        let Some((amount, entry)) = price_of(&prices, &operation, 0) else {
            continue;
        };
        let money = i18n::money(lang, amount, &entry.currency);
        let per_minute = entry.unit() == PriceUnit::StartedMinute;
        let line = format!(
            "{} — {}",
            i18n::operation_name(lang, &operation),
            i18n::price_label(lang, &money, per_minute)
        );
        // Variants priced alike (the compression targets) make one line.
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

async fn on_image(bot: TelegramBot, gateway: Gateway, message: Message) -> HandlerResult {
    let lang = lang_of(message.from.as_ref());
    let Some((input, media)) = image_of(&message) else {
        return Ok(());
    };
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            bot_api::call(bot.send_message(message.chat.id, i18n::try_later(lang))).await?;
            return Ok(());
        }
    };
    // An operation without a price is not offered (the price list decides what is sold).
    let buttons = operations::buttons_for_file(input, media.size_bytes)
        .into_iter()
        .filter_map(|operation| {
            let (amount, entry) = price_of(&prices, &operation, 0)?;
            let price = i18n::money(lang, amount, &entry.currency);
            let button = InlineKeyboardButton::callback(
                i18n::operation_button(lang, &operation, &price),
                operation.callback_data(),
            );
            Some((operation.id(), button))
        });
    let rows = keyboard_rows(buttons);
    if rows.is_empty() {
        bot_api::call(bot.send_message(message.chat.id, i18n::try_later(lang))).await?;
        return Ok(());
    }
    bot_api::call(
        bot.send_message(message.chat.id, i18n::choose_image_operation(lang))
            .reply_parameters(ReplyParameters::new(message.id))
            .reply_markup(InlineKeyboardMarkup::new(rows)),
    )
    .await?;
    Ok(())
}

/// Buttons in rows: variants of one operation (compression targets) share a row, two at most; every
/// other operation has a row of its own.
fn keyboard_rows(
    buttons: impl Iterator<Item = (Option<&'static str>, InlineKeyboardButton)>,
) -> Vec<Vec<InlineKeyboardButton>> {
    const SHARED: &[&str] = &["image.compress"];
    let mut rows: Vec<(Option<&'static str>, Vec<InlineKeyboardButton>)> = Vec::new();
    for (id, button) in buttons {
        match rows.last_mut() {
            Some((last, row))
                if *last == id && id.is_some_and(|i| SHARED.contains(&i)) && row.len() < 2 =>
            {
                row.push(button);
            }
            _ => rows.push((id, vec![button])),
        }
    }
    rows.into_iter().map(|(_, row)| row).collect()
}

async fn on_audio(gateway: Gateway, update: Update, message: Message) -> HandlerResult {
    let span = update_span(&update, message.chat.id.0, message.from.as_ref());
    audio_update(gateway, message).instrument(span).await
}

/// The span of one Telegram update that starts work: the root of the update's trace, which the job's
/// gRPC calls, NATS messages and delivery continue (docs/architecture.md, "One job, end to end").
fn update_span(
    update: &Update,
    chat_id: i64,
    user: Option<&teloxide::types::User>,
) -> tracing::Span {
    tracing::info_span!(
        "update",
        update_id = update.id.0,
        chat_id,
        user_id = user.map(|u| u.id.0).unwrap_or_default(),
    )
}

async fn audio_update(gateway: Gateway, message: Message) -> HandlerResult {
    let lang = lang_of(message.from.as_ref());
    let (Some((input, media)), Some(user)) = (audio_of(&message), message.from.as_ref()) else {
        return Ok(());
    };
    let language = operations::speech_language(user.language_code.as_deref());
    let Some(operation) = operations::immediate_for(input, language) else {
        return Ok(());
    };
    let start = JobStart {
        operation,
        media,
        chat_id: message.chat.id,
        user_id: user.id.0 as i64,
        source_message: message.id,
        status: StatusMessage::Reply,
        lang,
    };
    // A replayed update is the same job: it is not started twice, and there is nothing to tell.
    // Errors were already told to the user and logged.
    let _ = gateway.start_job(start).await;
    Ok(())
}

async fn on_other(bot: TelegramBot, message: Message) -> HandlerResult {
    let lang = lang_of(message.from.as_ref());
    let text = if message.document().is_some() {
        i18n::unsupported_file(lang)
    } else {
        i18n::unsupported_message(lang)
    };
    bot_api::call(bot.send_message(message.chat.id, text)).await?;
    Ok(())
}

async fn on_callback(
    bot: TelegramBot,
    gateway: Gateway,
    update: Update,
    query: CallbackQuery,
) -> HandlerResult {
    let chat_id = query
        .message
        .as_ref()
        .map(|m| m.chat().id.0)
        .unwrap_or_default();
    let span = update_span(&update, chat_id, Some(&query.from));
    callback_update(bot, gateway, query).instrument(span).await
}

async fn callback_update(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
) -> HandlerResult {
    let lang = lang_of(Some(&query.from));
    let operation = query
        .data
        .as_deref()
        .and_then(Operation::from_callback_data);
    let (Some(operation), Some(MaybeInaccessibleMessage::Regular(offer))) =
        (operation, query.message.as_ref())
    else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    // An offer, and a result with buttons, reply to the user's message that holds the file.
    let source = offer.reply_to_message().and_then(|s| {
        image_of(s)
            .or_else(|| audio_of(s))
            .map(|(input, media)| (s, input, media))
    });
    let Some((source, input, media)) = source else {
        if operations::is_offer_button(&operation) {
            answer(&bot, &query, None).await;
            bot_api::call(bot.edit_message_text(offer.chat.id, offer.id, i18n::send_again(lang)))
                .await?;
        } else {
            // A result keeps its text; the toast says what happened.
            answer(&bot, &query, Some(i18n::send_again(lang))).await;
        }
        return Ok(());
    };
    let status = match operations::button_start(&operation, input) {
        // The offer becomes the job's status message; its keyboard goes away with the first edit.
        Some(Start::Button) => StatusMessage::Edit(offer.id),
        // The message with the button is a result: it stays, and the job gets a status of its own.
        Some(_) => StatusMessage::Reply,
        None => {
            tracing::warn!(data = ?query.data, "callback for an operation not offered for this input");
            answer(&bot, &query, None).await;
            return Ok(());
        }
    };
    let start = JobStart {
        operation,
        media,
        chat_id: offer.chat.id,
        user_id: query.from.id.0 as i64,
        source_message: source.id,
        status,
        lang,
    };
    let claimed = gateway.claim_start(&start).await;
    // Answer at once so the client stops its spinner; Telegram drops answers that come too late.
    match claimed {
        Ok(Started::New) => {
            answer(&bot, &query, None).await;
            let _ = gateway.start_claimed(start).await;
        }
        Ok(Started::AlreadyStarted { state }) => {
            answer(&bot, &query, Some(i18n::already_started(lang, state))).await;
        }
        Err(error) => {
            tracing::warn!(%error, "could not claim a job start");
            answer(&bot, &query, Some(i18n::try_later(lang))).await;
        }
    }
    Ok(())
}

/// Answers a button press (stopping the client's spinner), with a toast `text` if given. Best effort: a
/// replayed update's query was answered already and Telegram refuses a second answer.
async fn answer(bot: &TelegramBot, query: &CallbackQuery, text: Option<String>) {
    let mut request = bot.answer_callback_query(query.id.clone());
    if let Some(text) = text {
        request = request.text(text);
    }
    if let Err(error) = bot_api::call(request).await {
        tracing::info!(%error, callback_query_id = %query.id, "callback query not answered");
    }
}
