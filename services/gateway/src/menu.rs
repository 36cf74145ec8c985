//! The main menu: a reply keyboard (shown with /start and /menu) with the original bot's modes in its
//! order — 🎨 Create, ✍️ Write a prompt, ✏️ Edit, ✨ Retouch, 📝 Add text, 🔄 Face swap, ⬆️ Enhance,
//! 💰 Balance, ℹ️ Info. A press is an ordinary text message holding the button's label; a label in either
//! language opens its mode, so a user who switches /language keeps a working keyboard.
//!
//! A mode that works on a picture asks for it, with its price, and waits in a dialogue
//! ([`Stage::AwaitImage`]); the picture then opens the same dialogue its button under an offer would
//! ([`crate::edits`], Add text) or, for Enhance, the offer of upscale, compression and conversion. A
//! mode whose operation is not sold here, or whose service is not set up, says so and charges nothing.
//! Pressing a mode (or ℹ️ Info) ends whatever dialogue was pending.

use std::sync::Arc;

use mediabot_proto::Service;
use mediabot_proto::billing::v1::Price;
use mediabot_proto::catalog::{ADD_TEXT_ID, EDIT_ID, FACE_SWAP_ID, RETOUCH_ID, price_of};
use mediabot_proto::jobs::v1::{AddText, ConvertTarget, Edit, Operation, RetouchPreset};
use teloxide::prelude::*;
use teloxide::types::{KeyboardButton, KeyboardMarkup, ReplyParameters};

use crate::backends::Availability;
use crate::bot_api;
use crate::dialogue::{Dialogue, Stage, cancel_only};
use crate::edits::{self, Opening};
use crate::generate;
use crate::i18n::{self, Lang};
use crate::jobs::MediaRef;
use crate::operations::{self, with_default_model};
use crate::telegram::{self, HandlerError};
use crate::{Gateway, TelegramBot};

type HandlerResult = Result<(), HandlerError>;

/// A mode of the main menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 🎨 A picture from a description (/create).
    Create,
    /// ✍️ A prompt from an idea (/prompt).
    Write,
    /// ✏️ Pictures changed by an instruction (`image.edit`).
    Edit,
    /// ✨ A portrait retouched (`image.retouch`).
    Retouch,
    /// 📝 Text on a picture (`image.add_text`).
    AddText,
    /// 🔄 A face put onto another photo (`image.face_swap`).
    FaceSwap,
    /// ⬆️ Upscale, compress or convert a picture.
    Enhance,
    /// 💰 The balance (/balance).
    Balance,
    /// ℹ️ What the bot does (/help); ends any dialogue.
    Info,
}

/// The modes in the menu's order.
pub const MODES: [Mode; 9] = [
    Mode::Create,
    Mode::Write,
    Mode::Edit,
    Mode::Retouch,
    Mode::AddText,
    Mode::FaceSwap,
    Mode::Enhance,
    Mode::Balance,
    Mode::Info,
];

impl Mode {
    /// The mode's name in dialogue state: `edit`, `retouch`, `add_text`, ...
    pub fn name(self) -> &'static str {
        match self {
            Mode::Create => "create",
            Mode::Write => "write",
            Mode::Edit => "edit",
            Mode::Retouch => "retouch",
            Mode::AddText => "add_text",
            Mode::FaceSwap => "face_swap",
            Mode::Enhance => "enhance",
            Mode::Balance => "balance",
            Mode::Info => "info",
        }
    }

    /// The mode a [`name`](Self::name) names.
    pub fn from_name(name: &str) -> Option<Self> {
        MODES.into_iter().find(|m| m.name() == name)
    }

    /// The mode whose button label (in either language) `text` is.
    pub fn from_label(text: &str) -> Option<Self> {
        let text = text.trim();
        MODES.into_iter().find(|&mode| {
            [Lang::Ru, Lang::En]
                .into_iter()
                .any(|lang| i18n::menu_label(lang, mode) == text)
        })
    }
}

/// The main menu as a reply keyboard: three rows of three, sized to fit, kept open.
pub fn keyboard(lang: Lang) -> KeyboardMarkup {
    let rows = MODES
        .chunks(3)
        .map(|row| {
            row.iter()
                .map(|&mode| KeyboardButton::new(i18n::menu_label(lang, mode)))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    KeyboardMarkup::new(rows).resize_keyboard().persistent()
}

/// /menu: the menu, with a line on what it is for. In a group, where the presses of a reply keyboard
/// are plain messages a bot in privacy mode never receives, how to talk to the bot there instead
/// (`bot_username`: the bot's @name, without the @).
pub async fn show(
    bot: &TelegramBot,
    message: &Message,
    lang: Lang,
    bot_username: &str,
) -> HandlerResult {
    let send = if message.chat.is_private() {
        bot.send_message(message.chat.id, i18n::menu_text(lang))
            .reply_markup(keyboard(lang))
    } else {
        bot.send_message(message.chat.id, i18n::group_how_to(lang, bot_username))
    };
    bot_api::call(send).await?;
    Ok(())
}

/// A press of `mode`'s button (the text message `message`): ends the pending dialogue and opens the mode.
pub async fn open(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    mode: Mode,
    lang: Lang,
) -> HandlerResult {
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let chat = message.chat.id;
    gateway.end_dialogue(chat, user.id.0).await;
    let reply = |text: String| {
        bot.send_message(chat, text)
            .reply_parameters(ReplyParameters::new(message.id))
    };
    match mode {
        Mode::Create => return generate::open_create(bot, gateway, message, lang).await,
        Mode::Write => return generate::open_prompt(bot, gateway, message, lang).await,
        Mode::Balance => {
            let text = telegram::balance_text(gateway, lang, user.id.0 as i64, false).await;
            bot_api::call(bot.send_message(chat, text).reply_markup(keyboard(lang))).await?;
            return Ok(());
        }
        Mode::Info => {
            let text = i18n::help(lang, gateway.limits.max_file_bytes >> 20);
            bot_api::call(bot.send_message(chat, text).reply_markup(keyboard(lang))).await?;
            return Ok(());
        }
        _ => {}
    }
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            bot_api::call(reply(i18n::try_later(lang))).await?;
            return Ok(());
        }
    };
    let operations = mode_operations(mode, &prices);
    let priced = operations
        .iter()
        .filter_map(|operation| price_of(&prices, operation, 0))
        .min_by_key(|(amount, _)| *amount);
    let Some((amount, entry)) = priced else {
        let operation = operations.into_iter().next().unwrap_or_default();
        bot_api::call(reply(i18n::not_set_up(lang, &operation))).await?;
        return Ok(());
    };
    if let Some(service) = operations.first().and_then(Operation::service)
        && service == Service::Generation
        && matches!(
            gateway.backends.availability(service).await,
            Ok(Availability::NotSetUp)
        )
    {
        bot_api::call(reply(i18n::not_set_up(lang, &operations[0]))).await?;
        return Ok(());
    }
    let money = i18n::money(lang, amount, &entry.currency);
    let price = if operations.len() > 1 && has_several_prices(&operations, &prices) {
        i18n::price_from(lang, &money)
    } else {
        money
    };
    let question = bot_api::call(
        reply(i18n::mode_ask_image(lang, mode, &price)).reply_markup(cancel_only(lang)),
    )
    .await?;
    let dialogue = Dialogue::words(
        Stage::AwaitImage {
            mode: mode.name().to_string(),
        },
        question.id,
        lang,
    );
    gateway.save_dialogue(chat, user.id.0, &dialogue).await?;
    Ok(())
}

/// The picture a mode waited for: opens the mode's dialogue about it. Returns `false` for Enhance, whose
/// picture gets the usual offer (limited by [`enhance_only`]), after the dialogue is ended.
pub async fn image_for_mode(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    media: MediaRef,
    mode: &str,
    lang: Lang,
) -> Result<bool, HandlerError> {
    let Some(user) = message.from.as_ref() else {
        return Ok(true);
    };
    let opening = Opening {
        chat: message.chat.id,
        user_id: user.id.0,
        source: message.id,
        media,
        lang,
    };
    let operation_id = match Mode::from_name(mode) {
        Some(Mode::Edit) => EDIT_ID,
        Some(Mode::Retouch) => RETOUCH_ID,
        Some(Mode::FaceSwap) => FACE_SWAP_ID,
        Some(Mode::AddText) => ADD_TEXT_ID,
        _ => {
            gateway.end_dialogue(message.chat.id, user.id.0).await;
            return Ok(false);
        }
    };
    edits::open(bot, gateway, opening, operation_id).await?;
    Ok(true)
}

/// Whether `operation` is one Enhance offers: upscale (local or at a provider), compression, conversion.
pub fn enhance_only(operation: &Operation) -> bool {
    matches!(
        operation.id(),
        Some("image.upscale" | "image.upscale_remote" | "image.compress" | "image.convert")
    )
}

/// The operations a picture mode sells (the cheapest one's price is shown); none for the other modes.
fn mode_operations(mode: Mode, prices: &Arc<Vec<Price>>) -> Vec<Operation> {
    match mode {
        Mode::Edit => {
            let models = operations::priced_models(prices, EDIT_ID);
            if models.is_empty() {
                vec![Operation::edit(Edit::default())]
            } else {
                models
                    .into_iter()
                    .map(|model| {
                        Operation::edit(Edit {
                            model,
                            ..Edit::default()
                        })
                    })
                    .collect()
            }
        }
        Mode::Retouch => vec![Operation::retouch(RetouchPreset::Soft, "")],
        Mode::AddText => vec![Operation::add_text(AddText::default())],
        Mode::FaceSwap => vec![Operation::face_swap()],
        Mode::Enhance => vec![
            Operation::upscale(2),
            Operation::upscale(4),
            Operation::compress(1000),
            Operation::convert(ConvertTarget::Jpeg),
        ],
        Mode::Create | Mode::Write | Mode::Balance | Mode::Info => Vec::new(),
    }
    .into_iter()
    .map(|operation| with_default_model(operation, prices))
    .collect()
}

/// Whether the priced operations of a mode cost different amounts (then the price is "from" the
/// lowest).
fn has_several_prices(operations: &[Operation], prices: &[Price]) -> bool {
    let mut amounts = operations
        .iter()
        .filter_map(|operation| price_of(prices, operation, 0).map(|(amount, _)| amount));
    let Some(first) = amounts.next() else {
        return false;
    };
    amounts.any(|amount| amount != first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_either_language_open_their_mode() {
        for mode in MODES {
            assert_eq!(
                Mode::from_label(&i18n::menu_label(Lang::Ru, mode)),
                Some(mode)
            );
            assert_eq!(
                Mode::from_label(&format!(" {} ", i18n::menu_label(Lang::En, mode))),
                Some(mode)
            );
            assert_eq!(Mode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(Mode::from_label("Создать"), None);
        assert_eq!(Mode::from_label("hello"), None);
    }

    #[test]
    fn the_keyboard_has_the_original_order_in_three_rows() {
        let keyboard = keyboard(Lang::Ru);
        let labels: Vec<Vec<String>> = keyboard
            .keyboard
            .iter()
            .map(|row| row.iter().map(|b| b.text.clone()).collect())
            .collect();
        assert_eq!(
            labels,
            [
                ["🎨 Создать", "✍️ Написать", "✏️ Изменить"],
                ["✨ Ретушь", "📝 Добавить текст", "🔄 Заменить лицо"],
                ["⬆️ Улучшить", "💰 Баланс", "ℹ️ Инфо"],
            ]
        );
        assert!(keyboard.resize_keyboard);
    }
}
