//! Edit, Retouch and Face swap in the chat: dialogues about pictures whose jobs run at a provider
//! (the generation service):
//!
//! - **Edit** (`image.edit`): a picture → the question, with the models the price list sells for edits
//!   and the result formats as buttons under it ([`EDIT_PREFIX`]); more photos sent before the
//!   instruction join the first (four at most); the instruction starts the job on all of them.
//! - **Retouch** (`image.retouch`, pictures up to 10 MB): a picture → the two presets as buttons
//!   ([`RETOUCH_PREFIX`]) → an instruction, or Start.
//! - **Face swap** (`image.face_swap`): the portrait → the question → the photo to put the face on starts
//!   the job.
//!
//! Each opens from its button under a picture's offer or from its main-menu mode
//! ([`crate::menu`]) once the picture arrives. The state is a [`Dialogue`] in the shared bucket; every job
//! starts through [`Gateway::start_job`], so the price is held first and captured only on delivery.

use mediabot_proto::billing::v1::Price;
use mediabot_proto::catalog::{
    ADD_TEXT_ID, EDIT_FORMATS, EDIT_ID, EDIT_MAX_IMAGES, EDIT_MAX_INSTRUCTION_CHARS, FACE_SWAP_ID,
    RETOUCH_ID, RETOUCH_MAX_INPUT_BYTES, RETOUCH_MAX_INSTRUCTION_CHARS, RETOUCH_PRESETS, price_of,
};
use mediabot_proto::jobs::v1::{Edit, Operation, RetouchPreset};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage, MessageId,
    ReplyParameters,
};

use crate::bot_api;
use crate::dialogue::{Added, Dialogue, DialogueImage, Stage, cancel_only, with_cancel};
use crate::i18n::{self, Lang};
use crate::jobs::{JobStart, MediaRef, StatusMessage};
use crate::operations::priced_models;
use crate::telegram::{
    HandlerError, answer, ask_add_text, dialogue_of_question, has_visible_text, lang_of,
    picture_of_press, start_for_press, start_for_words,
};
use crate::{Gateway, TelegramBot};

type HandlerResult = Result<(), HandlerError>;

/// Callback data prefix of the buttons under the Edit question: `ed:model=pro`, `ed:format=jpeg`.
pub const EDIT_PREFIX: &str = "ed:";
/// Callback data prefix of the buttons under the Retouch question: `rt:preset=soft`, `rt:start`.
pub const RETOUCH_PREFIX: &str = "rt:";
/// Callback data of Retouch's Start button.
const RETOUCH_START: &str = "rt:start";

/// Who asks, where, and about which picture.
#[derive(Debug, Clone)]
pub struct Opening {
    /// The chat.
    pub chat: ChatId,
    /// The user whose dialogue it is.
    pub user_id: u64,
    /// The user's message holding the picture (the question replies to it).
    pub source: MessageId,
    /// The picture.
    pub media: MediaRef,
    /// Reply language.
    pub lang: Lang,
}

/// Opens the dialogue of `operation_id` (`image.edit`, `image.retouch`, `image.face_swap`, and
/// `image.add_text`, whose dialogue is [`ask_add_text`]'s) about the picture of `opening`: asks its
/// question and stores the dialogue. What the price list does not sell is said plainly, and nothing is
/// stored.
pub async fn open(
    bot: &TelegramBot,
    gateway: &Gateway,
    opening: Opening,
    operation_id: &str,
) -> HandlerResult {
    if operation_id == ADD_TEXT_ID {
        return ask_add_text(bot, gateway, opening).await;
    }
    let lang = opening.lang;
    let reply = |text: String| {
        bot.send_message(opening.chat, text)
            .reply_parameters(ReplyParameters::new(opening.source))
    };
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            bot_api::call(reply(i18n::try_later(lang))).await?;
            return Ok(());
        }
    };
    let (stage, text, keyboard) = match operation_id {
        EDIT_ID => {
            let Some(model) = priced_models(&prices, EDIT_ID).into_iter().next() else {
                let text = i18n::not_set_up(lang, &Operation::edit(Edit::default()));
                bot_api::call(reply(text)).await?;
                return Ok(());
            };
            let format = EDIT_FORMATS[0].to_string();
            let text = edit_question(lang, &prices, 1, &model, &format);
            let keyboard = edit_keyboard(lang, &prices, &model, &format);
            (Stage::Instruct { model, format }, text, Some(keyboard))
        }
        RETOUCH_ID => {
            if opening.media.size_bytes > RETOUCH_MAX_INPUT_BYTES {
                let limit_mb = RETOUCH_MAX_INPUT_BYTES / 1_000_000;
                bot_api::call(reply(i18n::retouch_too_big(lang, limit_mb))).await?;
                return Ok(());
            }
            let operation = Operation::retouch(RetouchPreset::Soft, "");
            let Some(price) = price_text(lang, &prices, &operation) else {
                bot_api::call(reply(i18n::not_set_up(lang, &operation))).await?;
                return Ok(());
            };
            let keyboard = retouch_keyboard(lang, None, &price);
            (
                Stage::Preset,
                i18n::retouch_ask(lang, &price),
                Some(keyboard),
            )
        }
        FACE_SWAP_ID => {
            let operation = Operation::face_swap();
            let Some(price) = price_text(lang, &prices, &operation) else {
                bot_api::call(reply(i18n::not_set_up(lang, &operation))).await?;
                return Ok(());
            };
            (
                Stage::SwapTarget,
                i18n::face_swap_ask(lang, &price),
                Some(cancel_only(lang)),
            )
        }
        _ => return Ok(()),
    };
    let mut request = reply(text);
    if let Some(keyboard) = keyboard {
        request = request.reply_markup(keyboard);
    }
    let question = bot_api::call(request).await?;
    let mut dialogue = Dialogue::about_image(stage, opening.source, &opening.media, lang);
    dialogue.prompt_message_id = question.id.0;
    gateway
        .save_dialogue(opening.chat, opening.user_id, &dialogue)
        .await?;
    Ok(())
}

/// A button under a picture's offer, or under a picture result, that opens a dialogue (Add text, Edit,
/// Retouch, Face swap; `catalog::opens_dialogue`): opens it about the picture the offer replies to, or
/// the result's picture.
pub async fn open_from_offer(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
    operation_id: &str,
) -> HandlerResult {
    let lang = lang_of(&gateway, Some(&query.from)).await;
    let Some(MaybeInaccessibleMessage::Regular(offer)) = query.message.as_ref() else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    let Some((source, _, media)) = picture_of_press(offer) else {
        answer(&bot, &query, Some(i18n::send_again(lang))).await;
        return Ok(());
    };
    answer(&bot, &query, None).await;
    let opening = Opening {
        chat: offer.chat.id,
        user_id: query.from.id.0,
        source: source.id,
        media,
        lang,
    };
    open(&bot, &gateway, opening, operation_id).await
}

/// A picture that arrived while an Edit dialogue waits for its instruction: it joins the others (up to
/// the catalog's four; [`Gateway::add_dialogue_image`]), and the question says how many there are.
pub async fn more_image(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    media: &MediaRef,
    dialogue: Dialogue,
) -> HandlerResult {
    let (chat, lang) = (message.chat.id, dialogue.lang());
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let added = gateway
        .add_dialogue_image(
            chat,
            user.id.0,
            DialogueImage::new(message.id, media),
            EDIT_MAX_IMAGES,
        )
        .await?;
    let dialogue = match added {
        Added::Added(dialogue) => dialogue,
        Added::Full => {
            bot_api::call(
                bot.send_message(chat, i18n::edit_too_many(lang, EDIT_MAX_IMAGES))
                    .reply_parameters(ReplyParameters::new(message.id)),
            )
            .await?;
            return Ok(());
        }
        // Ended meanwhile (/cancel): the picture is simply not part of an edit.
        Added::Ended => return Ok(()),
    };
    let Stage::Instruct { model, format } = dialogue.stage.clone() else {
        return Ok(());
    };
    let Ok(prices) = gateway.backends.prices().await else {
        return Ok(());
    };
    redraw_edit_question(bot, chat, lang, &dialogue, &prices, &model, &format).await;
    Ok(())
}

/// The photo to put the face on, in a Face swap dialogue: the job starts on it and the portrait.
pub async fn swap_target(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    media: MediaRef,
    dialogue: Dialogue,
) -> HandlerResult {
    let lang = dialogue.lang();
    let (Some(user), Some(portrait)) = (message.from.as_ref(), dialogue.image.as_ref()) else {
        return Ok(());
    };
    let start = JobStart {
        operation: Operation::face_swap(),
        media: Some(media),
        more_media: vec![portrait.media()],
        chat_id: message.chat.id,
        user_id: user.id.0 as i64,
        source_message: message.id,
        status: StatusMessage::Reply,
        lang,
    };
    start_for_words(bot, gateway, message, start, lang).await
}

/// A text message in an Edit or Retouch dialogue: Edit's instruction (the job starts on every picture of
/// the dialogue) or Retouch's wishes (the job starts with the chosen preset); before a preset is chosen,
/// the user is asked to choose one.
pub async fn words_message(
    bot: TelegramBot,
    gateway: Gateway,
    message: Message,
    dialogue: Dialogue,
) -> HandlerResult {
    let (chat, lang) = (message.chat.id, dialogue.lang());
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let reply = |text: String| {
        bot.send_message(chat, text)
            .reply_parameters(ReplyParameters::new(message.id))
    };
    let text = message.text().map(str::trim).unwrap_or_default();
    let (operation, max, source, status, rest) = match &dialogue.stage {
        Stage::Instruct { model, format } => (
            Operation::edit(Edit {
                instruction: text.to_string(),
                model: model.clone(),
                format: format.clone(),
            }),
            EDIT_MAX_INSTRUCTION_CHARS,
            // The instruction is the user's message the job answers; its status is the question.
            message.id,
            MessageId(dialogue.prompt_message_id),
            dialogue
                .more_images
                .iter()
                .map(DialogueImage::media)
                .collect(),
        ),
        Stage::RetouchWishes { preset } => (
            Operation::retouch(
                RetouchPreset::from_name(preset).unwrap_or(RetouchPreset::Soft),
                text,
            ),
            RETOUCH_MAX_INSTRUCTION_CHARS,
            MessageId(dialogue.image.as_ref().map_or(0, |i| i.message_id)),
            MessageId(dialogue.prompt_message_id),
            Vec::new(),
        ),
        Stage::Preset => {
            bot_api::call(reply(i18n::retouch_choose_preset(lang))).await?;
            return Ok(());
        }
        _ => return Ok(()),
    };
    if !has_visible_text(text) {
        bot_api::call(reply(i18n::edit_instruction_needed(lang))).await?;
        return Ok(());
    }
    let chars = text.chars().count();
    if chars > max {
        bot_api::call(reply(i18n::words_too_long(lang, chars, max))).await?;
        return Ok(());
    }
    let Some(image) = dialogue.image.as_ref() else {
        return Ok(());
    };
    let start = JobStart {
        operation,
        media: Some(image.media()),
        more_media: rest,
        chat_id: chat,
        user_id: user.id.0 as i64,
        source_message: source,
        status: StatusMessage::Edit(status),
        lang,
    };
    start_for_words(&bot, &gateway, &message, start, lang).await
}

/// A button under the Edit question: another model or format, stored and marked.
pub async fn edit_button(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
) -> HandlerResult {
    let Some(Press {
        lang,
        question,
        data,
        mut dialogue,
        stale,
    }) = press_of(&bot, &gateway, &query).await
    else {
        return Ok(());
    };
    let Stage::Instruct {
        mut model,
        mut format,
    } = dialogue.stage.clone()
    else {
        answer(&bot, &query, Some(stale)).await;
        return Ok(());
    };
    let Ok(prices) = gateway.backends.prices().await else {
        answer(&bot, &query, Some(i18n::try_later(lang))).await;
        return Ok(());
    };
    let choice = data.strip_prefix(EDIT_PREFIX).unwrap_or_default();
    match choice.split_once('=') {
        Some(("model", alias)) if priced_models(&prices, EDIT_ID).iter().any(|m| m == alias) => {
            model = alias.to_string();
        }
        Some(("format", name)) if EDIT_FORMATS.contains(&name) => format = name.to_string(),
        _ => {
            answer(&bot, &query, Some(stale)).await;
            return Ok(());
        }
    }
    dialogue.stage = Stage::Instruct {
        model: model.clone(),
        format: format.clone(),
    };
    gateway
        .save_dialogue(question.chat.id, query.from.id.0, &dialogue)
        .await?;
    answer(&bot, &query, None).await;
    redraw_edit_question(
        &bot,
        question.chat.id,
        lang,
        &dialogue,
        &prices,
        &model,
        &format,
    )
    .await;
    Ok(())
}

/// A button under the Retouch question: a preset (the question then asks for an optional instruction,
/// with Start), or Start (the job starts with the preset alone).
pub async fn retouch_button(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
) -> HandlerResult {
    let Some(Press {
        lang,
        question,
        data,
        mut dialogue,
        stale,
    }) = press_of(&bot, &gateway, &query).await
    else {
        return Ok(());
    };
    let Some(image) = dialogue.image.clone() else {
        answer(&bot, &query, Some(stale)).await;
        return Ok(());
    };
    if data == RETOUCH_START {
        let Stage::RetouchWishes { preset } = &dialogue.stage else {
            answer(&bot, &query, Some(i18n::retouch_choose_preset(lang))).await;
            return Ok(());
        };
        let preset = RetouchPreset::from_name(preset).unwrap_or(RetouchPreset::Soft);
        let start = JobStart {
            operation: Operation::retouch(preset, ""),
            media: Some(image.media()),
            more_media: Vec::new(),
            chat_id: question.chat.id,
            user_id: query.from.id.0 as i64,
            source_message: MessageId(image.message_id),
            status: StatusMessage::Edit(question.id),
            lang,
        };
        start_for_press(&bot, &gateway, &query, start, lang, true).await;
        return Ok(());
    }
    let preset = data
        .strip_prefix(RETOUCH_PREFIX)
        .and_then(|rest| rest.strip_prefix("preset="))
        .and_then(RetouchPreset::from_name);
    let (Some(preset), Stage::Preset | Stage::RetouchWishes { .. }) = (preset, &dialogue.stage)
    else {
        answer(&bot, &query, Some(stale)).await;
        return Ok(());
    };
    let Ok(prices) = gateway.backends.prices().await else {
        answer(&bot, &query, Some(i18n::try_later(lang))).await;
        return Ok(());
    };
    let price = price_text(lang, &prices, &Operation::retouch(preset, "")).unwrap_or_default();
    dialogue.stage = Stage::RetouchWishes {
        preset: preset.name().to_string(),
    };
    gateway
        .save_dialogue(question.chat.id, query.from.id.0, &dialogue)
        .await?;
    answer(&bot, &query, None).await;
    let edited = bot_api::call(
        bot.edit_message_text(
            question.chat.id,
            question.id,
            i18n::retouch_ask_wishes(lang, preset, RETOUCH_MAX_INSTRUCTION_CHARS),
        )
        .reply_markup(retouch_keyboard(lang, Some(preset), &price)),
    )
    .await;
    if let Err(error) = edited {
        tracing::debug!(%error, "retouch question not updated");
    }
    Ok(())
}

/// A press of a button under a dialogue's question.
struct Press<'q> {
    lang: Lang,
    /// The question the button is under.
    question: &'q Message,
    /// The button's callback data.
    data: &'q str,
    /// The presser's dialogue, whose latest question it is.
    dialogue: Dialogue,
    /// The answer to a press that no longer means anything.
    stale: String,
}

/// The press `query` as a [`Press`], or `None` when it was answered already (no message or data, an old
/// question, a state that cannot be read; see [`dialogue_of_question`]).
async fn press_of<'q>(
    bot: &TelegramBot,
    gateway: &Gateway,
    query: &'q CallbackQuery,
) -> Option<Press<'q>> {
    let lang = lang_of(gateway, Some(&query.from)).await;
    let (Some(MaybeInaccessibleMessage::Regular(question)), Some(data)) =
        (query.message.as_ref(), query.data.as_deref())
    else {
        answer(bot, query, None).await;
        return None;
    };
    let stale = i18n::old_question(lang);
    let dialogue = dialogue_of_question(bot, gateway, query, question, lang, &stale).await?;
    Some(Press {
        lang,
        question,
        data,
        dialogue,
        stale,
    })
}

/// The price of `operation` as text, or `None` when the price list does not sell it.
fn price_text(lang: Lang, prices: &[Price], operation: &Operation) -> Option<String> {
    let (amount, entry) = price_of(prices, operation, 0)?;
    Some(i18n::money(lang, amount, &entry.currency))
}

/// The price of an edit with `model`.
fn edit_price(lang: Lang, prices: &[Price], model: &str) -> String {
    let operation = Operation::edit(Edit {
        model: model.to_string(),
        ..Edit::default()
    });
    price_text(lang, prices, &operation).unwrap_or_default()
}

/// The Edit question with `images` pictures so far and the choices made.
fn edit_question(lang: Lang, prices: &[Price], images: usize, model: &str, format: &str) -> String {
    i18n::edit_ask(
        lang,
        images,
        EDIT_MAX_IMAGES,
        model,
        &edit_price(lang, prices, model),
        format,
        EDIT_MAX_INSTRUCTION_CHARS,
    )
}

/// Redraws `dialogue`'s Edit question (its picture count, the chosen model with its price and the
/// format, and the buttons). Best effort: a question that cannot be edited keeps its old text.
async fn redraw_edit_question(
    bot: &TelegramBot,
    chat: ChatId,
    lang: Lang,
    dialogue: &Dialogue,
    prices: &[Price],
    model: &str,
    format: &str,
) {
    let images = dialogue.images().count();
    let edited = bot_api::call(
        bot.edit_message_text(
            chat,
            MessageId(dialogue.prompt_message_id),
            edit_question(lang, prices, images, model, format),
        )
        .reply_markup(edit_keyboard(lang, prices, model, format)),
    )
    .await;
    if let Err(error) = edited {
        tracing::debug!(%error, "edit question not updated");
    }
}

/// The buttons under the Edit question: the priced models (with their prices), then the formats; the
/// chosen ones marked.
fn edit_keyboard(lang: Lang, prices: &[Price], model: &str, format: &str) -> InlineKeyboardMarkup {
    let models = priced_models(prices, EDIT_ID)
        .into_iter()
        .map(|alias| {
            InlineKeyboardButton::callback(
                i18n::model_button(&alias, &edit_price(lang, prices, &alias), alias == model),
                format!("{EDIT_PREFIX}model={alias}"),
            )
        })
        .collect::<Vec<_>>();
    let formats = EDIT_FORMATS
        .iter()
        .map(|name| {
            InlineKeyboardButton::callback(
                i18n::format_button(name, *name == format),
                format!("{EDIT_PREFIX}format={name}"),
            )
        })
        .collect::<Vec<_>>();
    with_cancel(InlineKeyboardMarkup::new([models, formats]), lang)
}

/// The buttons under the Retouch question: the presets (the chosen one marked) and, once one is chosen,
/// Start with the price.
fn retouch_keyboard(
    lang: Lang,
    chosen: Option<RetouchPreset>,
    price: &str,
) -> InlineKeyboardMarkup {
    let presets = RETOUCH_PRESETS
        .into_iter()
        .map(|preset| {
            InlineKeyboardButton::callback(
                i18n::retouch_preset_button(lang, preset, Some(preset) == chosen),
                format!("{RETOUCH_PREFIX}preset={}", preset.name()),
            )
        })
        .collect::<Vec<_>>();
    let mut rows = vec![presets];
    if chosen.is_some() {
        rows.push(vec![InlineKeyboardButton::callback(
            i18n::start_button(lang, price),
            RETOUCH_START,
        )]);
    }
    with_cancel(InlineKeyboardMarkup::new(rows), lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(operation: &str, model: Option<&str>, amount_minor: i64) -> Price {
        Price {
            operation: operation.into(),
            params: model
                .map(|m| [("model".to_string(), m.to_string())].into())
                .unwrap_or_default(),
            amount_minor,
            currency: "RUB".into(),
            ..Price::default()
        }
    }

    #[test]
    fn the_edit_keyboard_sells_the_priced_models_and_every_format() {
        let prices = [
            price(EDIT_ID, Some("flash"), 800),
            price(EDIT_ID, Some("pro"), 2400),
            price("image.generate", Some("flux"), 600),
        ];
        let keyboard = edit_keyboard(Lang::En, &prices, "pro", "jpeg");
        let rows = &keyboard.inline_keyboard;
        assert_eq!(rows.len(), 3, "models, formats, Cancel");
        let texts = |row: &Vec<InlineKeyboardButton>| {
            row.iter().map(|b| b.text.clone()).collect::<Vec<_>>()
        };
        assert_eq!(texts(&rows[0]), ["flash · 8 ₽", "✅ pro · 24 ₽"]);
        assert_eq!(texts(&rows[1]), ["PNG", "✅ JPEG", "WebP"]);
        let question = edit_question(Lang::Ru, &prices, 2, "pro", "jpeg");
        assert!(question.contains("Картинок: 2 из 4"), "{question}");
        assert!(question.contains("pro — 24 ₽"), "{question}");
        assert!(question.contains("JPEG"), "{question}");
    }

    #[test]
    fn retouch_offers_start_only_after_a_preset() {
        let first = retouch_keyboard(Lang::Ru, None, "8 ₽");
        assert_eq!(first.inline_keyboard.len(), 2);
        assert_eq!(first.inline_keyboard[1][0].text, "✖️ Отмена");
        let chosen = retouch_keyboard(Lang::En, Some(RetouchPreset::Enhance), "8 ₽");
        assert_eq!(chosen.inline_keyboard.len(), 3);
        assert_eq!(chosen.inline_keyboard[0][1].text, "✅ Enhance features");
        assert_eq!(chosen.inline_keyboard[1][0].text, "▶️ Start — 8 ₽");
    }
}
