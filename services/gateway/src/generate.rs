//! Generation in the chat, through the generation service's providers:
//!
//! - **/create**: the bot asks for a description, with the shape as buttons under the question
//!   (vertical, square, horizontal); the next text message starts `image.generate` with the default model
//!   chain.
//! - **/prompt** (✍️ Write a prompt): the bot asks for an idea; the next text message starts
//!   `prompt.write`, whose result comes with a "Create from this prompt" button
//!   ([`CREATE_FROM_PROMPT`], the catalog's `op:image.generate:`): pressing it starts `image.generate` with
//!   the text of the message it is under.
//! - **Power syntax**, at any time: `Изображение <description> | model=<alias> | size=<vertical|square|
//!   horizontal|WxH> | aspect_ratio=<w:h> | negative=<text>` (or `Image …`), parsed by [`parse_power`];
//!   unknown keys or values are answered with the valid ones. The models are the aliases billing's price
//!   list prices for `image.generate`.
//!
//! The dialogues live in [`crate::dialogue`] (stages `Describe` and `Idea`); jobs start through
//! [`Gateway::start_job`] with no input file, so money follows delivery as for every other job.

use mediabot_proto::billing::v1::Price;
use mediabot_proto::catalog::{
    self, GENERATE_ID, GENERATE_MAX_PROMPT_CHARS, IMAGE_SHAPES, WRITE_PROMPT_MAX_IDEA_CHARS,
    price_of,
};
use mediabot_proto::jobs::v1::{Generate, ImageShape, Operation};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage, MessageId,
    ReplyParameters,
};

use crate::bot_api;
use crate::dialogue::{Dialogue, Stage, cancel_only, with_cancel};
use crate::i18n::{self, Lang};
use crate::jobs::{JobStart, Started, StatusMessage};
use crate::telegram::{
    HandlerError, answer, dialogue_of_question, has_visible_text, start_for_press, start_for_words,
};
use crate::{Gateway, TelegramBot};

type HandlerResult = Result<(), HandlerError>;

/// Callback data prefix of the shape buttons under the /create question: `gen:shape=vertical`.
pub const SHAPE_PREFIX: &str = "gen:shape=";

/// Callback data of "Create from this prompt" under a written prompt: the catalog's button of
/// `image.generate`, which takes its prompt from the message it is under.
pub fn is_create_from_prompt(data: &str) -> bool {
    data.strip_prefix("op:")
        .and_then(|rest| rest.strip_suffix(':'))
        == Some(GENERATE_ID)
}

/// The model aliases the price list prices for `image.generate` (not `auto`, the default chain), in the
/// list's order: the models a user may name.
pub fn priced_models(prices: &[Price]) -> Vec<String> {
    crate::operations::priced_models(prices, GENERATE_ID)
}

/// Why a power-syntax message is not a valid request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerError {
    /// Nothing to draw after the keyword.
    EmptyPrompt,
    /// A part that is not `key=value` with a known key (the part as written).
    UnknownKey(String),
    /// A model the price list does not offer (as written).
    UnknownModel(String),
    /// A size that is neither a shape nor `WxH` within 64..=4096 (as written).
    BadSize(String),
    /// An aspect ratio that is not `w:h` with sides 1..=64 (as written).
    BadAspectRatio(String),
    /// An exact size and an aspect ratio together.
    SizeAndAspectRatio,
    /// The description is longer than the catalog allows (its length in characters).
    TooLong(usize),
    /// The negative prompt is longer than the catalog allows.
    NegativeTooLong,
}

/// The keys power syntax takes, as the error message lists them.
pub const POWER_KEYS: &[&str] = &["model", "size", "aspect_ratio", "negative"];

/// Reads a power-syntax message: `None` when `text` does not start with the keyword («Изображение»,
/// "Image", any case, followed by a space, a colon or a line break), else the request or why it is not
/// valid. `models` are the aliases a user may name ([`priced_models`]).
pub fn parse_power(text: &str, models: &[String]) -> Option<Result<Generate, PowerError>> {
    let rest = power_request(text)?;
    Some(parse_power_parts(rest, models))
}

/// Whether `text` is a power-syntax message (starts with the keyword), without reading the rest.
pub fn is_power(text: &str) -> bool {
    power_request(text).is_some()
}

/// What follows the keyword of a power-syntax message; `None` for any other text.
fn power_request(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let keyword_end = text
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || *c == ':')
        .map_or(text.len(), |(i, _)| i);
    let keyword = text[..keyword_end].to_lowercase();
    (keyword == "изображение" || keyword == "image")
        .then(|| text[keyword_end..].trim_start_matches(|c: char| c.is_whitespace() || c == ':'))
}

fn parse_power_parts(rest: &str, models: &[String]) -> Result<Generate, PowerError> {
    let mut parts = rest.split('|');
    let prompt = parts.next().unwrap_or_default().trim();
    if !has_visible_text(prompt) {
        return Err(PowerError::EmptyPrompt);
    }
    let chars = prompt.chars().count();
    if chars > GENERATE_MAX_PROMPT_CHARS {
        return Err(PowerError::TooLong(chars));
    }
    let mut request = Generate::with_prompt(prompt);
    for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(PowerError::UnknownKey(part.to_string()));
        };
        let value = value.trim();
        match key.trim().to_lowercase().as_str() {
            "model" | "модель" => {
                let alias = value.to_lowercase();
                if !models.contains(&alias) {
                    return Err(PowerError::UnknownModel(value.to_string()));
                }
                request.model = alias;
            }
            "size" | "размер" => match shape_named(value) {
                Some(shape) => request.shape = shape as i32,
                None => {
                    let (w, h) =
                        exact_size(value).ok_or_else(|| PowerError::BadSize(value.to_string()))?;
                    request.width_px = w;
                    request.height_px = h;
                }
            },
            "aspect_ratio" | "ar" | "соотношение" => {
                if catalog::parse_aspect_ratio(value).is_none() {
                    return Err(PowerError::BadAspectRatio(value.to_string()));
                }
                request.aspect_ratio = value.to_string();
            }
            "negative" | "negative_prompt" | "исключить" => {
                request.negative_prompt = value.to_string();
            }
            _ => return Err(PowerError::UnknownKey(key.trim().to_string())),
        }
    }
    if request.width_px != 0 && !request.aspect_ratio.is_empty() {
        return Err(PowerError::SizeAndAspectRatio);
    }
    if request.negative_prompt.chars().count() > catalog::GENERATE_MAX_NEGATIVE_CHARS {
        return Err(PowerError::NegativeTooLong);
    }
    Ok(request)
}

/// A shape by its English name or a Russian one («вертикальный», «квадрат», «горизонтальный»).
fn shape_named(value: &str) -> Option<ImageShape> {
    match value.to_lowercase().as_str() {
        "vertical" | "portrait" | "вертикальный" | "вертикально" | "вертикаль" => {
            Some(ImageShape::Vertical)
        }
        "square" | "квадрат" | "квадратный" => Some(ImageShape::Square),
        "horizontal" | "landscape" | "горизонтальный" | "горизонтально" | "горизонталь" => {
            Some(ImageShape::Horizontal)
        }
        _ => None,
    }
}

/// `WxH` (the x may be Latin, Cyrillic «х» or «×») with both sides within the catalog's range.
fn exact_size(value: &str) -> Option<(u32, u32)> {
    let lower = value.to_lowercase();
    let (w, h) = lower.split_once(['x', 'х', '×'])?;
    let side = |s: &str| {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| catalog::GENERATE_SIDE_PX.contains(n))
    };
    Some((side(w)?, side(h)?))
}

/// The shape buttons under the /create question, the chosen one marked.
fn shape_keyboard(lang: Lang, chosen: ImageShape) -> InlineKeyboardMarkup {
    let row = IMAGE_SHAPES
        .into_iter()
        .map(|shape| {
            InlineKeyboardButton::callback(
                i18n::shape_button(lang, shape, shape == chosen),
                format!("{SHAPE_PREFIX}{}", shape.name()),
            )
        })
        .collect::<Vec<_>>();
    with_cancel(InlineKeyboardMarkup::new([row]), lang)
}

/// The price lines of `image.generate` per model ("auto" first), for the /create question.
fn model_prices(lang: Lang, prices: &[Price]) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for model in std::iter::once("auto".to_string()).chain(priced_models(prices)) {
        let operation = Operation::generate(Generate {
            model: if model == "auto" {
                String::new()
            } else {
                model.clone()
            },
            ..Generate::with_prompt("-")
        });
        if let Some((amount, entry)) = price_of(prices, &operation, 0) {
            lines.push((model, i18n::money(lang, amount, &entry.currency)));
        }
    }
    lines
}

impl Gateway {
    /// The prices of generation, or `None` (logged) when billing does not answer.
    async fn generation_prices(&self) -> Option<std::sync::Arc<Vec<Price>>> {
        match self.backends.prices().await {
            Ok(prices) => Some(prices),
            Err(error) => {
                tracing::warn!(%error, "billing ListPrices failed");
                None
            }
        }
    }
}

/// /create: asks for a description (shape buttons under the question, square chosen) and waits for it in
/// a dialogue.
pub async fn open_create(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    lang: Lang,
) -> HandlerResult {
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let chat = message.chat.id;
    let Some(prices) = gateway.generation_prices().await else {
        bot_api::call(bot.send_message(chat, i18n::try_later(lang))).await?;
        return Ok(());
    };
    let models = model_prices(lang, &prices);
    if models.is_empty() {
        let text = i18n::not_set_up(lang, &Operation::generate(Generate::default()));
        bot_api::call(bot.send_message(chat, text)).await?;
        return Ok(());
    }
    let question = bot_api::call(
        bot.send_message(chat, i18n::create_ask(lang, &models))
            .reply_parameters(ReplyParameters::new(message.id))
            .reply_markup(shape_keyboard(lang, ImageShape::Square)),
    )
    .await?;
    let dialogue = Dialogue::words(
        Stage::Describe {
            shape: ImageShape::Square.name().to_string(),
        },
        question.id,
        lang,
    );
    gateway.save_dialogue(chat, user.id.0, &dialogue).await?;
    Ok(())
}

/// /prompt: asks for the idea a prompt is to be written from, and waits for it in a dialogue.
pub async fn open_prompt(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    lang: Lang,
) -> HandlerResult {
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let chat = message.chat.id;
    let Some(prices) = gateway.generation_prices().await else {
        bot_api::call(bot.send_message(chat, i18n::try_later(lang))).await?;
        return Ok(());
    };
    let operation = Operation::write_prompt("-", lang.code());
    let Some((amount, entry)) = price_of(&prices, &operation, 0) else {
        bot_api::call(bot.send_message(chat, i18n::not_set_up(lang, &operation))).await?;
        return Ok(());
    };
    let price = i18n::money(lang, amount, &entry.currency);
    let question = bot_api::call(
        bot.send_message(
            chat,
            i18n::prompt_ask(lang, &price, WRITE_PROMPT_MAX_IDEA_CHARS),
        )
        .reply_parameters(ReplyParameters::new(message.id))
        .reply_markup(cancel_only(lang)),
    )
    .await?;
    let dialogue = Dialogue::words(Stage::Idea, question.id, lang);
    gateway.save_dialogue(chat, user.id.0, &dialogue).await?;
    Ok(())
}

/// A shape button under the /create question: stores the shape in the dialogue and marks it. Only the
/// current question's buttons count.
pub async fn shape_button(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
    shape: &str,
) -> HandlerResult {
    let lang = crate::telegram::lang_of(&gateway, Some(&query.from)).await;
    let (Some(MaybeInaccessibleMessage::Regular(question)), Some(shape)) =
        (query.message.as_ref(), ImageShape::from_name(shape))
    else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    let chat = question.chat.id;
    let stale = i18n::old_question(lang);
    let Some(mut dialogue) =
        dialogue_of_question(&bot, &gateway, &query, question, lang, &stale).await
    else {
        return Ok(());
    };
    if !matches!(dialogue.stage, Stage::Describe { .. }) {
        answer(&bot, &query, Some(stale)).await;
        return Ok(());
    }
    dialogue.stage = Stage::Describe {
        shape: shape.name().to_string(),
    };
    gateway
        .save_dialogue(chat, query.from.id.0, &dialogue)
        .await?;
    answer(&bot, &query, Some(i18n::shape_chosen(lang, shape))).await;
    let edited = bot_api::call(
        bot.edit_message_reply_markup(chat, question.id)
            .reply_markup(shape_keyboard(lang, shape)),
    )
    .await;
    if let Err(error) = edited {
        tracing::debug!(%error, "shape buttons not updated");
    }
    Ok(())
}

/// The next message of a Create or Write-a-prompt dialogue: the words (checked; the job starts).
pub async fn words_message(
    bot: TelegramBot,
    gateway: Gateway,
    message: Message,
    dialogue: Dialogue,
) -> HandlerResult {
    let lang = dialogue.lang();
    let chat = message.chat.id;
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let reply = |text: String| {
        bot.send_message(chat, text)
            .reply_parameters(ReplyParameters::new(message.id))
    };
    let Some(text) = message.text().map(str::trim) else {
        bot_api::call(reply(i18n::words_needed(lang))).await?;
        return Ok(());
    };
    let (operation, max) = match &dialogue.stage {
        Stage::Describe { shape } => (
            Operation::generate(Generate {
                shape: ImageShape::from_name(shape).unwrap_or(ImageShape::Square) as i32,
                ..Generate::with_prompt(text)
            }),
            GENERATE_MAX_PROMPT_CHARS,
        ),
        Stage::Idea => (
            Operation::write_prompt(text, lang.code()),
            WRITE_PROMPT_MAX_IDEA_CHARS,
        ),
        _ => return Ok(()),
    };
    let chars = text.chars().count();
    if !has_visible_text(text) {
        bot_api::call(reply(i18n::words_needed(lang))).await?;
        return Ok(());
    }
    if chars > max {
        bot_api::call(reply(i18n::words_too_long(lang, chars, max))).await?;
        return Ok(());
    }
    let start = words_start(chat, user.id.0, message.id, operation, lang);
    start_for_words(&bot, &gateway, &message, start, lang).await
}

/// A job on the user's words in `source` (their message, or the bot's prompt message): no input file, its
/// status a new reply.
fn words_start(
    chat: ChatId,
    user_id: u64,
    source: MessageId,
    operation: Operation,
    lang: Lang,
) -> JobStart {
    JobStart {
        operation,
        media: None,
        more_media: Vec::new(),
        chat_id: chat,
        user_id: user_id as i64,
        source_message: source,
        status: StatusMessage::Reply,
        lang,
    }
}

/// A power-syntax message: the job starts, or the user is told what is wrong and what is valid.
/// `parsed` is [`parse_power`]'s answer for the message's text.
pub async fn power_message(
    bot: TelegramBot,
    gateway: Gateway,
    message: Message,
    lang: Lang,
) -> HandlerResult {
    let chat = message.chat.id;
    let (Some(user), Some(text)) = (message.from.as_ref(), message.text()) else {
        return Ok(());
    };
    let reply = |text: String| {
        bot.send_message(chat, text)
            .reply_parameters(ReplyParameters::new(message.id))
    };
    let Some(prices) = gateway.generation_prices().await else {
        bot_api::call(reply(i18n::try_later(lang))).await?;
        return Ok(());
    };
    let models = priced_models(&prices);
    let request = match parse_power(text, &models) {
        None => return Ok(()),
        Some(Ok(request)) => request,
        Some(Err(error)) => {
            bot_api::call(reply(i18n::power_error(lang, &error, &models))).await?;
            return Ok(());
        }
    };
    gateway.end_dialogue(chat, user.id.0).await;
    let start = words_start(
        chat,
        user.id.0,
        message.id,
        Operation::generate(request),
        lang,
    );
    if let Ok(Started::AlreadyStarted { state }) = gateway.start_job(start).await {
        bot_api::call(reply(i18n::already_started(lang, state))).await?;
    }
    Ok(())
}

/// "Create from this prompt" under a written prompt: `image.generate` with the message's text (less its
/// header) in the default shape and chain; the prompt message stays, and the job gets a status of its
/// own. A second press is the same job.
pub async fn create_from_prompt(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
) -> HandlerResult {
    let lang = crate::telegram::lang_of(&gateway, Some(&query.from)).await;
    let Some(MaybeInaccessibleMessage::Regular(written)) = query.message.as_ref() else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    let prompt = written.text().map(i18n::strip_prompt_header).unwrap_or("");
    let prompt: String = prompt.chars().take(GENERATE_MAX_PROMPT_CHARS).collect();
    if !has_visible_text(&prompt) {
        answer(&bot, &query, Some(i18n::old_question(lang))).await;
        return Ok(());
    }
    let start = words_start(
        written.chat.id,
        query.from.id.0,
        written.id,
        Operation::generate(Generate::with_prompt(&prompt)),
        lang,
    );
    start_for_press(&bot, &gateway, &query, start, lang, false).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models() -> Vec<String> {
        ["pro", "flash", "seedream"].map(String::from).to_vec()
    }

    #[test]
    fn power_syntax_reads_every_key_in_both_languages() {
        assert_eq!(parse_power("a cat in space", &models()), None);
        assert_eq!(parse_power("Imagine a cat", &models()), None);
        let plain = parse_power("Изображение кот в космосе", &models())
            .unwrap()
            .unwrap();
        assert_eq!(plain, Generate::with_prompt("кот в космосе"));
        let full = parse_power(
            "image: a lighthouse at dusk | model=Flash | size=1920x1080 | negative=text, people",
            &models(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(full.prompt, "a lighthouse at dusk");
        assert_eq!(full.model, "flash");
        assert_eq!((full.width_px, full.height_px), (1920, 1080));
        assert_eq!(full.negative_prompt, "text, people");
        let russian = parse_power(
            "ИЗОБРАЖЕНИЕ\nзамок | размер=вертикальный | модель=pro",
            &models(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(russian.shape_kind(), ImageShape::Vertical);
        assert_eq!(russian.model, "pro");
        let cyrillic_x = parse_power("Изображение лес | size=1024х768", &models())
            .unwrap()
            .unwrap();
        assert_eq!((cyrillic_x.width_px, cyrillic_x.height_px), (1024, 768));
        let ratio = parse_power("Image a road | aspect_ratio=21:9", &models())
            .unwrap()
            .unwrap();
        assert_eq!(ratio.aspect_ratio, "21:9");
        assert_eq!(Operation::generate(ratio).validate(), Ok(()));
    }

    #[test]
    fn power_syntax_names_what_is_wrong() {
        let error = |text: &str| parse_power(text, &models()).unwrap().unwrap_err();
        assert_eq!(error("Изображение"), PowerError::EmptyPrompt);
        assert_eq!(error("Image   | model=pro"), PowerError::EmptyPrompt);
        assert_eq!(
            error("Image a cat | model=dalle3"),
            PowerError::UnknownModel("dalle3".into())
        );
        assert_eq!(
            error("Image a cat | style=anime"),
            PowerError::UnknownKey("style".into())
        );
        assert_eq!(
            error("Image a cat | anime"),
            PowerError::UnknownKey("anime".into())
        );
        assert_eq!(
            error("Image a cat | size=huge"),
            PowerError::BadSize("huge".into())
        );
        assert_eq!(
            error("Image a cat | size=10000x10"),
            PowerError::BadSize("10000x10".into())
        );
        assert_eq!(
            error("Image a cat | aspect_ratio=wide"),
            PowerError::BadAspectRatio("wide".into())
        );
        assert_eq!(
            error("Image a cat | size=512x512 | aspect_ratio=1:1"),
            PowerError::SizeAndAspectRatio
        );
        let long = format!("Image {}", "a".repeat(GENERATE_MAX_PROMPT_CHARS + 1));
        assert_eq!(
            error(&long),
            PowerError::TooLong(GENERATE_MAX_PROMPT_CHARS + 1)
        );
    }

    #[test]
    fn models_come_from_the_price_list() {
        let price = |operation: &str, model: Option<&str>| Price {
            operation: operation.into(),
            params: model
                .map(|m| [("model".to_string(), m.to_string())].into())
                .unwrap_or_default(),
            amount_minor: 100,
            ..Price::default()
        };
        let prices = [
            price("image.generate", Some("auto")),
            price("image.generate", Some("pro")),
            price("image.upscale", None),
            price("image.generate", Some("flash")),
        ];
        assert_eq!(priced_models(&prices), ["pro", "flash"]);
        assert!(is_create_from_prompt("op:image.generate:"));
        assert!(!is_create_from_prompt("op:image.upscale:factor=2"));
    }
}
