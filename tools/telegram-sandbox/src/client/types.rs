//! What the control API answers, typed: the Bot API objects a user sees (`User`, `Chat`, `Message`, media,
//! inline keyboards, `CallbackQuery`) as far as the sandbox produces them, and the control API's own shapes
//! (history entries, the reply keyboard, command menus, bots, pending faults).
//!
//! Bot API objects keep every field they do not name in `extra`, so a value read from the sandbox serialises
//! back to the JSON the sandbox sent (the Bot API adds fields over time; the end-to-end harness hands raw
//! JSON to older tests).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Fields of a Bot API object that its type does not name, as the sandbox sent them.
pub type Extra = Map<String, Value>;

/// A Telegram user: a person acting through the control API (`is_bot` false) or the bot itself.
///
/// As a request (`from` of a message or button press) only `id`, the names, `language_code` and `is_premium`
/// are read; in a private chat `id` must equal the chat id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Telegram user id (> 0); for a bot, the digits of its token.
    pub id: i64,
    /// True for the bot, false for people.
    #[serde(default)]
    pub is_bot: bool,
    /// First name, e.g. `Ann`.
    pub first_name: String,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `@username` without the `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// IETF language tag of the user's Telegram client, e.g. `ru`, `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// Telegram Premium.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_premium: bool,
    /// Fields not named above (a bot's `can_join_groups`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl User {
    /// A person with an id and a first name, nothing else set.
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        Self {
            id,
            is_bot: false,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
            is_premium: false,
            extra: Extra::new(),
        }
    }

    /// The same person with the language of their Telegram client (`ru`, `en`, ...).
    pub fn language(mut self, language_code: impl Into<String>) -> Self {
        self.language_code = Some(language_code.into());
        self
    }

    /// The same person with a username (without `@`).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }
}

/// The type of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    /// A user's private chat with the bot (chat id = user id > 0).
    Private,
    /// A group (chat id < 0).
    Group,
    /// A supergroup (chat id < -10^12).
    Supergroup,
    /// A channel (the sandbox creates none).
    Channel,
}

/// A Bot API `Chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    /// Chat id: > 0 private, < 0 group.
    pub id: i64,
    /// Private, group, supergroup.
    #[serde(rename = "type")]
    pub kind: ChatType,
    /// Group title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The user's first name, in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The user's last name, in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The user's username, in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A formatting or command span of a text (`bot_command`, `bold`, `text_link`, ...); offsets and lengths are
/// in UTF-16 code units, as in the Bot API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEntity {
    /// `bot_command`, `bold`, `italic`, `code`, `pre`, `text_link`, `spoiler`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Start, UTF-16 code units.
    pub offset: u32,
    /// Length, UTF-16 code units.
    pub length: u32,
    /// Fields not named above (`url`, `language`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One size of a photo: the sandbox re-encodes a user's photo to JPEG sizes with longest sides 90, 320, 800
/// and 1280 pixels (those smaller than the original), smallest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoSize {
    /// Id to download or resend this size.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file sent as a document (kept byte for byte, with its name and MIME type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// The sender's file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Given by the sender, or guessed from the name or content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A voice note (OGG/Opus as Telegram clients record it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Voice {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// Seconds, read from the file.
    #[serde(default)]
    pub duration: u32,
    /// `audio/ogg` for OGG/Opus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A music file (MP3, M4A, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audio {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// Seconds, read from the file.
    #[serde(default)]
    pub duration: u32,
    /// The sender's file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// e.g. `audio/mpeg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Fields not named above (`performer`, `title`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A video or a round video note (`width`/`height` for videos, `length` for notes live in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Video {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// Seconds.
    #[serde(default)]
    pub duration: u32,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A sticker (type `regular`): a static WebP, an animated TGS (`is_animated`) or a WebM video sticker
/// (`is_video`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sticker {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// `regular`, `mask` or `custom_emoji`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// An animated (TGS) sticker.
    #[serde(default)]
    pub is_animated: bool,
    /// A video (WebM) sticker.
    #[serde(default)]
    pub is_video: bool,
    /// The emoji the sticker stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An animation (a GIF or a silent MP4); its message carries the same file as `document` too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Animation {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Stable per content.
    pub file_unique_id: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Seconds.
    #[serde(default)]
    pub duration: u32,
    /// The sender's file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// `image/gif` or `video/mp4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub file_size: u64,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One button of an inline keyboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineKeyboardButton {
    /// The label.
    pub text: String,
    /// Sent back in the callback query when pressed (1–64 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// A link button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The keyboard under a bot message (only inline keyboards show in a Message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineKeyboardMarkup {
    /// Rows of buttons, top to bottom.
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

/// The reply keyboard a chat shows under the message input, as a Telegram client shows it: set by the bot's
/// latest `ReplyKeyboardMarkup` in the chat, kept across messages without one, cleared by
/// `ReplyKeyboardRemove` or the deletion of the message that set it. From
/// `GET /sandbox/chats/{chat_id}/keyboard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyKeyboard {
    /// Button texts row by row, top to bottom; pressing a button sends its text as the user's message.
    pub rows: Vec<Vec<String>>,
    /// Sized to its rows rather than to the system keyboard's height.
    pub resize_keyboard: bool,
    /// Always shown; otherwise the user may hide it behind the keyboard icon.
    pub is_persistent: bool,
    /// Hidden once the user sends one of its button texts.
    pub one_time_keyboard: bool,
    /// Shown in the empty message input while the keyboard is active.
    #[serde(default)]
    pub input_field_placeholder: Option<String>,
    /// False after the user used a one-time keyboard: still set (behind the keyboard icon) until the bot
    /// sends a keyboard again or removes it.
    pub shown: bool,
    /// The bot message that set it.
    pub message_id: i64,
}

impl ReplyKeyboard {
    /// Whether a button has exactly this text.
    pub fn has_button(&self, text: &str) -> bool {
        self.rows.iter().flatten().any(|b| b == text)
    }
}

/// A message of either side as the Bot API shows it (and as the bot receives it), with edits applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Id within the chat; shares one counter with the history's `seq`.
    pub message_id: i64,
    /// Unix seconds.
    pub date: i64,
    /// The chat.
    pub chat: Chat,
    /// The sender; `from.is_bot` tells the side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<User>,
    /// Text of a text message (1–4096 UTF-16 units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Spans of `text` (commands, formatting).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<MessageEntity>,
    /// Caption of a media message (≤ 1024 UTF-16 units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Spans of `caption`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caption_entities: Vec<MessageEntity>,
    /// A photo's sizes, smallest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photo: Vec<PhotoSize>,
    /// A document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// A voice note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Voice>,
    /// A music file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Audio>,
    /// A video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Video>,
    /// A round video note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_note: Option<Video>,
    /// A sticker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<Sticker>,
    /// An animation (then `document` holds the same file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animation: Option<Animation>,
    /// The message this one replies to (without its own `reply_to_message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_message: Option<Box<Message>>,
    /// The inline keyboard of a bot message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// Unix seconds of the last edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_date: Option<i64>,
    /// Shared by the messages of one album (the bot's sendMediaGroup, a user's [`ChatUser::send_album`]).
    ///
    /// [`ChatUser::send_album`]: super::ChatUser::send_album
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_group_id: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    /// Sent by the bot (not by a person).
    pub fn is_from_bot(&self) -> bool {
        self.from.as_ref().is_some_and(|from| from.is_bot)
    }

    /// The text, else the caption, else "".
    pub fn text_or_caption(&self) -> &str {
        self.text
            .as_deref()
            .or(self.caption.as_deref())
            .unwrap_or_default()
    }

    /// Every inline button, row by row.
    pub fn buttons(&self) -> impl Iterator<Item = &InlineKeyboardButton> {
        self.reply_markup
            .iter()
            .flat_map(|markup| markup.inline_keyboard.iter().flatten())
    }

    /// The `callback_data` of the first inline button that has one.
    pub fn first_callback_data(&self) -> Option<&str> {
        self.buttons().find_map(|b| b.callback_data.as_deref())
    }

    /// The button labelled `text`.
    pub fn button(&self, text: &str) -> Option<&InlineKeyboardButton> {
        self.buttons().find(|b| b.text == text)
    }

    /// The largest size of a photo message.
    pub fn largest_photo(&self) -> Option<&PhotoSize> {
        self.photo
            .iter()
            .max_by_key(|p| u64::from(p.width) * u64::from(p.height))
    }

    /// The file of a media message: the largest photo size, document (an animation's file too), voice,
    /// audio, video, video note or sticker.
    pub fn file_id(&self) -> Option<&str> {
        self.largest_photo()
            .map(|p| p.file_id.as_str())
            .or(self.document.as_ref().map(|d| d.file_id.as_str()))
            .or(self.voice.as_ref().map(|v| v.file_id.as_str()))
            .or(self.audio.as_ref().map(|a| a.file_id.as_str()))
            .or(self.video.as_ref().map(|v| v.file_id.as_str()))
            .or(self.video_note.as_ref().map(|v| v.file_id.as_str()))
            .or(self.sticker.as_ref().map(|s| s.file_id.as_str()))
            .or(self.animation.as_ref().map(|a| a.file_id.as_str()))
    }

    /// The id of the message this one replies to.
    pub fn reply_to_message_id(&self) -> Option<i64> {
        self.reply_to_message.as_ref().map(|m| m.message_id)
    }
}

/// A press of an inline button, as the bot receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackQuery {
    /// The id the bot answers with answerCallbackQuery (within 15 s, once).
    pub id: String,
    /// Who pressed.
    pub from: User,
    /// The message with the button, as it was when pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Stable per chat.
    pub chat_instance: String,
    /// The button's `callback_data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The bot's answerCallbackQuery, as the history records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackAnswer {
    /// The [`CallbackQuery::id`] answered.
    pub callback_query_id: String,
    /// The message whose button was pressed.
    pub message_id: i64,
    /// The button's `callback_data`.
    #[serde(default)]
    pub data: Option<String>,
    /// The notification text (a toast, or a dialog with `show_alert`).
    #[serde(default)]
    pub text: Option<String>,
    /// Show `text` as a dialog instead of a toast.
    #[serde(default)]
    pub show_alert: bool,
    /// A URL the client opens.
    #[serde(default)]
    pub url: Option<String>,
}

/// A `sendChatAction` of the bot (`typing`, `upload_photo`, ...; clients show it for 5 s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatAction {
    /// `typing`, `upload_photo`, `record_voice`, ...
    pub action: String,
    /// Unix seconds.
    pub date: i64,
}

/// A Bot API call of the bot about this chat that was refused (flood control, an injected fault, a bad
/// request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorEntry {
    /// The method in the Bot API's spelling, e.g. `sendMessage`.
    pub method: String,
    /// HTTP status and `error_code`, e.g. 429.
    pub error_code: u16,
    /// Telegram's text, e.g. `Too Many Requests: retry after 3`.
    pub description: String,
    /// Seconds, for 429.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Unix seconds.
    pub date: i64,
}

/// What a history entry records, by its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a chat's entries are a few hundred at most; boxing would only make matching noisier"
)]
pub enum ChatEvent {
    /// A message of either side, edits applied.
    Message {
        /// The message.
        message: Message,
    },
    /// A message that was deleted (as it was before).
    Deleted {
        /// The message.
        message: Message,
    },
    /// A user pressed an inline button.
    CallbackQuery {
        /// The press.
        callback_query: CallbackQuery,
    },
    /// The bot answered a callback query.
    CallbackAnswer(CallbackAnswer),
    /// The bot sent a chat action.
    ChatAction(ChatAction),
    /// A Bot API call of the bot about this chat was refused.
    ApiError(ApiErrorEntry),
    /// A kind this client does not know (a newer sandbox).
    #[serde(other)]
    Unknown,
}

/// One entry of a chat's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Position in the chat; the `message_id` for messages.
    pub seq: i64,
    /// Chat counter value of the entry's last change (creation, edit, deletion); compare with `after`.
    pub updated: i64,
    /// What happened.
    #[serde(flatten)]
    pub event: ChatEvent,
}

impl HistoryEntry {
    /// The message of a `message` entry (not of a deleted one).
    pub fn message(&self) -> Option<&Message> {
        match &self.event {
            ChatEvent::Message { message } => Some(message),
            _ => None,
        }
    }

    /// The message of a `message` entry sent by the bot.
    pub fn bot_message(&self) -> Option<&Message> {
        self.message().filter(|m| m.is_from_bot())
    }

    /// The answer of a `callback_answer` entry.
    pub fn callback_answer(&self) -> Option<&CallbackAnswer> {
        match &self.event {
            ChatEvent::CallbackAnswer(answer) => Some(answer),
            _ => None,
        }
    }

    /// The refusal of an `api_error` entry.
    pub fn api_error(&self) -> Option<&ApiErrorEntry> {
        match &self.event {
            ChatEvent::ApiError(error) => Some(error),
            _ => None,
        }
    }

    /// The entry's `kind` as the control API spells it (`message`, `deleted`, `callback_query`,
    /// `callback_answer`, `chat_action`, `api_error`; `unknown` for a kind this client does not know).
    pub fn kind(&self) -> &'static str {
        match self.event {
            ChatEvent::Message { .. } => "message",
            ChatEvent::Deleted { .. } => "deleted",
            ChatEvent::CallbackQuery { .. } => "callback_query",
            ChatEvent::CallbackAnswer(_) => "callback_answer",
            ChatEvent::ChatAction(_) => "chat_action",
            ChatEvent::ApiError(_) => "api_error",
            ChatEvent::Unknown => "unknown",
        }
    }
}

/// An answer of `GET /sandbox/chats/{chat_id}/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The chat asked about.
    pub chat_id: i64,
    /// Pass as `after` next time to get only what changed since.
    pub cursor: i64,
    /// Entries created or changed after `after`, in chat order.
    pub entries: Vec<HistoryEntry>,
}

impl History {
    /// The messages that exist (both sides, edits applied, deleted ones left out), in chat order.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.entries.iter().filter_map(HistoryEntry::message)
    }
}

/// A command of the bot's menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotCommand {
    /// Without the `/`, e.g. `start`.
    pub command: String,
    /// Shown next to it.
    pub description: String,
}

/// An answer of `GET /sandbox/chats/{chat_id}/commands`: the menu a user of that chat sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMenu {
    /// The chat asked about.
    pub chat_id: i64,
    /// The language asked for ("" for none).
    pub language_code: String,
    /// setMyCommands resolved by scope and language, as Telegram clients do.
    pub commands: Vec<BotCommand>,
}

/// A bot that has called the Bot API (or the `--token` bot), from `GET /sandbox/bots`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotInfo {
    /// The bot's user id (the digits of its token); pass to [`super::SandboxClient::for_bot`].
    pub id: i64,
    /// `Sandbox Bot`.
    pub first_name: String,
    /// `sandbox_<id>_bot`.
    pub username: String,
    /// The webhook, when one is set.
    pub webhook_url: Option<String>,
    /// Updates not yet fetched by getUpdates or delivered to the webhook.
    pub pending_update_count: u64,
    /// Ids of the bot's chats, ascending.
    pub chats: Vec<i64>,
}

/// An answer of `POST /sandbox/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFaults {
    /// The method, lower case (method names are case-insensitive).
    pub method: String,
    /// Faults now queued for that method.
    pub pending: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

    use serde_json::json;

    use super::*;

    /// Entries of every kind, shaped as `state::Entry::view` writes them.
    fn entries() -> Value {
        let bot = json!({ "id": 42, "is_bot": true, "first_name": "Sandbox Bot", "username": "sandbox_42_bot" });
        let chat = json!({ "id": 7, "type": "private", "first_name": "Ann" });
        let user = json!({ "id": 7, "is_bot": false, "first_name": "Ann", "language_code": "ru" });
        let offer = json!({
            "message_id": 2, "date": 1, "chat": chat, "from": bot, "text": "Pick",
            "reply_markup": { "inline_keyboard": [[{ "text": "Go", "callback_data": "go" }, { "text": "Site", "url": "https://example.com/" }]] },
            "reply_to_message": { "message_id": 1, "date": 1, "chat": chat, "from": user,
                "photo": [{ "file_id": "a", "file_unique_id": "ua", "file_size": 10, "width": 90, "height": 60 },
                          { "file_id": "b", "file_unique_id": "ub", "file_size": 99, "width": 320, "height": 240 }],
                "caption": "cat", "has_media_spoiler": true },
        });
        json!([
            { "seq": 2, "updated": 6, "kind": "message", "message": offer },
            { "seq": 3, "updated": 3, "kind": "callback_query", "callback_query": {
                "id": "4200000001", "from": user, "message": offer, "chat_instance": "123", "data": "go" } },
            { "seq": 4, "updated": 4, "kind": "callback_answer", "callback_query_id": "4200000001",
              "message_id": 2, "data": "go", "text": "ok", "show_alert": false, "url": null },
            { "seq": 5, "updated": 5, "kind": "chat_action", "action": "typing", "date": 1 },
            { "seq": 6, "updated": 7, "kind": "deleted", "message": { "message_id": 6, "date": 1, "chat": chat, "from": bot,
                "voice": { "file_id": "v", "file_unique_id": "uv", "file_size": 5, "duration": 11, "mime_type": "audio/ogg" } } },
            { "seq": 8, "updated": 8, "kind": "api_error", "method": "sendMessage", "error_code": 429,
              "description": "Too Many Requests: retry after 3", "retry_after": 3, "date": 1 },
        ])
    }

    #[test]
    fn every_entry_kind_decodes_and_encodes_back_to_the_same_json() {
        let raw = entries();
        let typed: Vec<HistoryEntry> = serde_json::from_value(raw.clone()).unwrap();
        let kinds: Vec<&str> = typed.iter().map(HistoryEntry::kind).collect();
        assert_eq!(
            kinds,
            [
                "message",
                "callback_query",
                "callback_answer",
                "chat_action",
                "deleted",
                "api_error"
            ]
        );
        assert_eq!(serde_json::to_value(&typed).unwrap(), raw);

        let offer = typed[0].bot_message().unwrap();
        assert_eq!(offer.first_callback_data(), Some("go"));
        assert_eq!(
            offer.button("Site").unwrap().url.as_deref(),
            Some("https://example.com/")
        );
        let photo = offer.reply_to_message.as_deref().unwrap();
        assert_eq!(photo.file_id(), Some("b"));
        assert_eq!(photo.text_or_caption(), "cat");
        assert_eq!(photo.extra["has_media_spoiler"], true);
        assert_eq!(
            photo.from.as_ref().unwrap().language_code.as_deref(),
            Some("ru")
        );
        assert_eq!(
            typed[2].callback_answer().unwrap().text.as_deref(),
            Some("ok")
        );
        assert_eq!(typed[5].api_error().unwrap().retry_after, Some(3));
        assert!(
            typed[4].message().is_none(),
            "a deleted message is not a message"
        );
    }

    #[test]
    fn an_unknown_kind_is_kept_as_unknown() {
        let entry: HistoryEntry = serde_json::from_value(
            json!({ "seq": 1, "updated": 1, "kind": "poll", "question": "?" }),
        )
        .unwrap();
        assert_eq!(entry.event, ChatEvent::Unknown);
        assert_eq!(entry.kind(), "unknown");
    }
}
