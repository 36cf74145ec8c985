//! A typed client for the sandbox's control API (`/sandbox/...`), for tests and tools written in Rust: act as
//! Telegram users (texts, commands, photo/document/voice/audio/video/sticker/animation uploads with captions
//! and replies, albums, inline button presses), read a chat's history and wait for something in it with the
//! history long poll, read the reply keyboard under the input field, download files, inject Bot API faults,
//! switch flood control and a bot's group privacy mode, read the command menu and the bots.
//!
//! ```no_run
//! # async fn demo() -> Result<(), telegram_sandbox::client::ClientError> {
//! use std::time::Duration;
//! use telegram_sandbox::client::SandboxClient;
//!
//! let sandbox = SandboxClient::new("http://127.0.0.1:8081");
//! let ann = sandbox.user(1001, "Ann", "ru");
//! let start = ann.send_text("/start").await?;
//! let welcome = ann.wait_bot_text("Welcome", Duration::from_secs(30)).await?;
//! if let Some(data) = welcome.first_callback_data() {
//!     ann.press(welcome.message_id, data).await?;
//! }
//! # let _ = start; Ok(()) }
//! ```
//!
//! The wire format is described in the crate README ("Control API"); the server side is `control.rs`.

mod types;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use bytes::Bytes;
use reqwest::{Method, StatusCode, multipart};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

pub use types::*;

/// Longest single history long poll the client asks for, in seconds (the server allows 120); longer waits
/// are several polls.
const POLL_SECS: f64 = 25.0;

/// Why a control API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request got no answer (connection refused, reset, ...) or could not be built from the base URL
    /// (then `method` is GET and `url` the base URL).
    #[error("{method} {url}: {source}")]
    Transport {
        /// HTTP method.
        method: Method,
        /// The URL called.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The sandbox refused the call: 400 for a bad request, 404 for something that does not exist.
    #[error("{method} {url}: {status}: {reason}")]
    Refused {
        /// HTTP method.
        method: Method,
        /// The URL called.
        url: String,
        /// HTTP status.
        status: StatusCode,
        /// The control API's `error` text (or the body, when it is not the usual JSON).
        reason: String,
    },
    /// The answer was not the JSON this client expects.
    #[error("{method} {url}: can't decode the answer ({source}): {body}")]
    Decode {
        /// HTTP method.
        method: Method,
        /// The URL called.
        url: String,
        /// What did not match.
        source: serde_json::Error,
        /// The answer, cut to 2,000 characters.
        body: String,
    },
    /// A file to upload could not be read.
    #[error("can't read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An upload's MIME type is not of the form `type/subtype`.
    #[error("bad MIME type {mime_type:?}: {source}")]
    MimeType {
        /// As given to [`InputFile::mime_type`].
        mime_type: String,
        /// Why.
        source: reqwest::Error,
    },
    /// An album must have 2–10 items ([`ChatUser::send_album`]).
    #[error("an album has 2 to 10 items, got {count}")]
    Album {
        /// How many were given.
        count: usize,
    },
    /// Nothing in the chat matched before the deadline.
    #[error("timed out after {waited:?} waiting in chat {chat_id} for {what}; history: {history}")]
    Timeout {
        /// The chat watched.
        chat_id: i64,
        /// What was awaited, as the caller described it.
        what: String,
        /// How long the wait took.
        waited: Duration,
        /// The chat's entries at the end, as JSON.
        history: String,
    },
}

impl ClientError {
    /// The HTTP status of a refused call.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `Result` with [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A point in time to stop waiting at: from an [`Instant`], or a [`Duration`] from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);

impl From<Instant> for Deadline {
    fn from(at: Instant) -> Self {
        Self(at)
    }
}

impl From<Duration> for Deadline {
    fn from(timeout: Duration) -> Self {
        Self(Instant::now() + timeout)
    }
}

/// How the user sends a file: the multipart field of the upload, and the Message field it arrives in
/// (`photo`, `document`, `voice`, ...). The same kinds the Bot API side knows.
pub use crate::bot_api::MediaKind;

/// The bytes of a file to upload, with the name and MIME type the user's client would send.
#[derive(Debug, Clone)]
pub struct InputFile {
    source: Source,
    file_name: Option<String>,
    mime_type: Option<String>,
}

#[derive(Debug, Clone)]
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
}

impl InputFile {
    /// A file on disk, read when sent; its name is the path's file name.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self {
            source: Source::Path(path.into()),
            file_name: None,
            mime_type: None,
        }
    }

    /// Bytes in memory under a file name (`cat.jpg`; the sandbox guesses the MIME type from it or the content).
    pub fn bytes(bytes: impl Into<Bytes>, file_name: impl Into<String>) -> Self {
        Self {
            source: Source::Bytes(bytes.into()),
            file_name: Some(file_name.into()),
            mime_type: None,
        }
    }

    /// The same file with an explicit MIME type (e.g. `audio/ogg`), as the part's content type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// The same file under another name.
    pub fn file_name(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = Some(file_name.into());
        self
    }

    async fn into_part(self) -> Result<multipart::Part> {
        let (bytes, default_name) = match self.source {
            Source::Bytes(bytes) => (bytes, None),
            Source::Path(path) => {
                let bytes = tokio::fs::read(&path)
                    .await
                    .map_err(|source| ClientError::File {
                        path: path.clone(),
                        source,
                    })?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                (Bytes::from(bytes), name)
            }
        };
        let length = bytes.len() as u64;
        let mut part = multipart::Part::stream_with_length(bytes, length);
        if let Some(name) = self.file_name.or(default_name) {
            part = part.file_name(name);
        }
        if let Some(mime_type) = self.mime_type {
            part = part
                .mime_str(&mime_type)
                .map_err(|source| ClientError::MimeType { mime_type, source })?;
        }
        Ok(part)
    }
}

impl From<&Path> for InputFile {
    fn from(path: &Path) -> Self {
        Self::path(path)
    }
}

impl From<PathBuf> for InputFile {
    fn from(path: PathBuf) -> Self {
        Self::path(path)
    }
}

impl From<&PathBuf> for InputFile {
    fn from(path: &PathBuf) -> Self {
        Self::path(path.clone())
    }
}

/// A message a user sends: a text (commands get `bot_command` entities) or one file with an optional caption,
/// optionally replying to a message of the chat.
#[derive(Debug, Clone)]
pub struct NewMessage {
    from: Option<User>,
    content: Content,
    reply_to_message_id: Option<i64>,
    duration_secs: Option<u32>,
    size: Option<(u32, u32)>,
    emoji: Option<String>,
    media_group_id: Option<String>,
}

#[derive(Debug, Clone)]
enum Content {
    Text(String),
    File {
        kind: MediaKind,
        file: InputFile,
        caption: Option<String>,
    },
}

impl NewMessage {
    /// A text message (1–4096 UTF-16 units).
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            from: None,
            content: Content::Text(text.into()),
            reply_to_message_id: None,
            duration_secs: None,
            size: None,
            emoji: None,
            media_group_id: None,
        }
    }

    /// A file sent as `kind`.
    pub fn file(kind: MediaKind, file: impl Into<InputFile>) -> Self {
        Self {
            from: None,
            content: Content::File {
                kind,
                file: file.into(),
                caption: None,
            },
            reply_to_message_id: None,
            duration_secs: None,
            size: None,
            emoji: None,
            media_group_id: None,
        }
    }

    /// A caption for a file (≤ 1024 UTF-16 units); ignored for a text.
    pub fn caption(mut self, text: impl Into<String>) -> Self {
        if let Content::File { caption, .. } = &mut self.content {
            *caption = Some(text.into());
        }
        self
    }

    /// The duration the message reports for a voice note, audio, video or video note, seconds, instead of
    /// the one read from the file: what a client that lies or a file whose length cannot be read gives
    /// (the control API's `duration` field). Ignored for a text.
    pub fn duration(mut self, secs: u32) -> Self {
        self.duration_secs = Some(secs);
        self
    }

    /// The width and height the message reports for a video, an animation or a video sticker, instead of
    /// those read from the file (the control API's `width` and `height` fields; a static sticker's size is
    /// always read from the image). Ignored for a text.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    /// The emoji of a sticker (the control API's `emoji` field).
    pub fn emoji(mut self, emoji: impl Into<String>) -> Self {
        self.emoji = Some(emoji.into());
        self
    }

    /// Part of the album `media_group_id` (a photo, video, document or audio; see
    /// [`ChatUser::send_album`], which sends a whole album with a fresh id).
    pub fn media_group(mut self, media_group_id: impl Into<String>) -> Self {
        self.media_group_id = Some(media_group_id.into());
        self
    }

    /// Reply to message `message_id` of the same chat.
    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_to_message_id = Some(message_id);
        self
    }

    /// The sender (the sandbox's default is a user named "Sandbox User" whose id is the chat id).
    pub fn from(mut self, user: User) -> Self {
        self.from = Some(user);
        self
    }
}

/// Make the next `count` calls of a Bot API method fail, as `POST /sandbox/faults` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// Bot API method name, any case (`sendMessage`).
    pub method: String,
    /// How many calls fail, 1–10000.
    pub count: u32,
    /// HTTP status and `error_code`, 400–599.
    pub error_code: u16,
    /// Telegram's description; a default per status when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `parameters.retry_after`, seconds (for 429).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Fault {
    /// The next call of `method` fails with `error_code`.
    pub fn new(method: impl Into<String>, error_code: u16) -> Self {
        Self {
            method: method.into(),
            count: 1,
            error_code,
            description: None,
            retry_after: None,
        }
    }

    /// `429 Too Many Requests: retry after <seconds>` once, as flood control answers.
    pub fn too_many_requests(method: impl Into<String>, retry_after: u64) -> Self {
        Self::new(method, 429).retry_after(retry_after)
    }

    /// The next `count` calls fail.
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// With this description, e.g. `Bad Request: chat not found`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// With `parameters.retry_after`, seconds.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// A client of one sandbox's control API. Cheap to clone (one shared connection pool).
#[derive(Debug, Clone)]
pub struct SandboxClient {
    http: reqwest::Client,
    base: String,
    bot: Option<i64>,
}

impl SandboxClient {
    /// A client of the sandbox at `base_url` (e.g. `http://127.0.0.1:8081`, what `Sandbox::base_url` gives).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self::with_http(base_url, reqwest::Client::new())
    }

    /// The same with a given HTTP client (timeouts, proxies).
    pub fn with_http(base_url: impl Into<String>, http: reqwest::Client) -> Self {
        Self {
            http,
            base: base_url.into().trim_end_matches('/').to_owned(),
            bot: None,
        }
    }

    /// The same sandbox, addressing the bot with user id `bot_id` (`?bot=`), for sandboxes several bots
    /// share. Without it the `--token` bot, or the only or most recently active bot, is meant.
    pub fn for_bot(&self, bot_id: i64) -> Self {
        Self {
            bot: Some(bot_id),
            ..self.clone()
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A person in their private chat with the bot (chat id = `id`), whose Telegram client speaks
    /// `language_code`.
    pub fn user(&self, id: i64, first_name: &str, language_code: &str) -> ChatUser {
        self.chat_user(id, User::new(id, first_name).language(language_code))
    }

    /// `from` in chat `chat_id`: a private chat when `chat_id == from.id`, a group when `chat_id < 0`.
    pub fn chat_user(&self, chat_id: i64, from: User) -> ChatUser {
        ChatUser {
            client: self.clone(),
            chat_id,
            from,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        self.bot
            .map(|bot| vec![("bot", bot.to_string())])
            .unwrap_or_default()
    }

    /// Sends a request and decodes a 2xx JSON answer as `T`.
    async fn call<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let answer = self.send(request).await?;
        serde_json::from_slice(&answer.body).map_err(|source| ClientError::Decode {
            method: answer.method,
            url: answer.url,
            source,
            body: cut(&answer.body),
        })
    }

    /// Sends a request (with `?bot=` when set); a non-2xx answer becomes [`ClientError::Refused`].
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer> {
        let request = request.query(&self.query());
        let (client, built) = request.build_split();
        let request = built.map_err(|source| ClientError::Transport {
            method: Method::GET,
            url: self.base.clone(),
            source,
        })?;
        let (method, url) = (request.method().clone(), request.url().to_string());
        let transport = |source| ClientError::Transport {
            method: method.clone(),
            url: url.clone(),
            source,
        };
        let response = client.execute(request).await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            let reason = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| cut(&body));
            return Err(ClientError::Refused {
                method,
                url,
                status,
                reason,
            });
        }
        Ok(Answer { method, url, body })
    }

    /// `POST /sandbox/chats/{chat_id}/messages`: a user sends `message` (JSON for a text, multipart for a
    /// file); answers with the Message as the bot receives it.
    ///
    /// Errors: [`ClientError::Refused`] 400 for an empty or too long text or caption, a file the sandbox
    /// can't process, `from.id` ≠ the chat id in a private chat, no bot yet; 404 for an unknown
    /// `reply_to` message.
    pub async fn send_message(&self, chat_id: i64, message: NewMessage) -> Result<Message> {
        let url = self.url(&format!("/sandbox/chats/{chat_id}/messages"));
        let request = match message.content {
            Content::Text(text) => {
                let mut body = json!({ "text": text });
                if let Some(from) = &message.from {
                    body["from"] = json!(from);
                }
                if let Some(id) = message.reply_to_message_id {
                    body["reply_to_message_id"] = json!(id);
                }
                self.http.post(url).json(&body)
            }
            Content::File {
                kind,
                file,
                caption,
            } => {
                let mut form = multipart::Form::new();
                if let Some(from) = &message.from {
                    form = form.text("from", json!(from).to_string());
                }
                if let Some(caption) = caption {
                    form = form.text("caption", caption);
                }
                if let Some(id) = message.reply_to_message_id {
                    form = form.text("reply_to_message_id", id.to_string());
                }
                if let Some(secs) = message.duration_secs {
                    form = form.text("duration", secs.to_string());
                }
                if let Some((width, height)) = message.size {
                    form = form
                        .text("width", width.to_string())
                        .text("height", height.to_string());
                }
                if let Some(emoji) = message.emoji {
                    form = form.text("emoji", emoji);
                }
                if let Some(id) = message.media_group_id {
                    form = form.text("media_group_id", id);
                }
                form = form.part(kind.field(), file.into_part().await?);
                self.http.post(url).multipart(form)
            }
        };
        self.call(request).await
    }

    /// `POST /sandbox/chats/{chat_id}/callback`: `from` presses the inline button with `callback_data` of
    /// the bot's message `message_id`; answers with the CallbackQuery as the bot receives it.
    ///
    /// Errors: [`ClientError::Refused`] 404 for an unknown chat or message, 400 when the message has no such
    /// button or is not the bot's.
    pub async fn press_button(
        &self,
        chat_id: i64,
        from: Option<&User>,
        message_id: i64,
        callback_data: &str,
    ) -> Result<CallbackQuery> {
        let mut body = json!({ "message_id": message_id, "data": callback_data });
        if let Some(from) = from {
            body["from"] = json!(from);
        }
        let url = self.url(&format!("/sandbox/chats/{chat_id}/callback"));
        self.call(self.http.post(url).json(&body)).await
    }

    /// `GET /sandbox/chats/{chat_id}/messages?after=&wait=`: the entries created or changed after counter
    /// value `after` (0: the whole chat), in chat order. With a non-zero `wait` (at most 120 s) the answer
    /// waits until there is one; an empty `entries` means the wait ran out. An unknown chat is empty.
    pub async fn history(&self, chat_id: i64, after: i64, wait: Duration) -> Result<History> {
        let url = self.url(&format!("/sandbox/chats/{chat_id}/messages"));
        let wait = format!("{:.3}", wait.as_secs_f64());
        let request = self
            .http
            .get(url)
            .query(&[("after", after.to_string()), ("wait", wait)]);
        self.call(request).await
    }

    /// Follows chat `chat_id`'s history from its start: see [`ChatWatch`].
    pub fn watch(&self, chat_id: i64) -> ChatWatch {
        ChatWatch {
            client: self.clone(),
            chat_id,
            cursor: 0,
            entries: Vec::new(),
        }
    }

    /// Waits until `check` returns `Some` for an entry of chat `chat_id` (entries as they are now, edits
    /// applied, in chat order, checked again after every change) and returns that. Long-polls the history;
    /// never sleeps.
    ///
    /// Errors: [`ClientError::Timeout`] (with the chat's entries) when `deadline` passes first; any error of
    /// [`SandboxClient::history`].
    pub async fn wait_for<T>(
        &self,
        chat_id: i64,
        what: &str,
        deadline: impl Into<Deadline>,
        check: impl FnMut(&HistoryEntry) -> Option<T>,
    ) -> Result<T> {
        self.watch(chat_id).wait_for(what, deadline, check).await
    }

    /// `GET /sandbox/chats/{chat_id}/commands?language_code=`: the bot's command menu as a user of that chat
    /// with that language ("" for none) sees it.
    pub async fn commands(&self, chat_id: i64, language_code: &str) -> Result<CommandMenu> {
        let url = self.url(&format!("/sandbox/chats/{chat_id}/commands"));
        let request = self
            .http
            .get(url)
            .query(&[("language_code", language_code)]);
        self.call(request).await
    }

    /// `GET /sandbox/chats/{chat_id}/keyboard`: the reply keyboard chat `chat_id` shows under the message
    /// input, `None` when there is none (never sent, removed with `ReplyKeyboardRemove`, its message
    /// deleted, or no such chat yet). The sandbox changes it in the same step as it stores the message that
    /// changes it, so after a wait for that message it is current.
    pub async fn reply_keyboard(&self, chat_id: i64) -> Result<Option<ReplyKeyboard>> {
        #[derive(serde::Deserialize)]
        struct Answer {
            keyboard: Option<ReplyKeyboard>,
        }
        let url = self.url(&format!("/sandbox/chats/{chat_id}/keyboard"));
        let answer: Answer = self.call(self.http.get(url)).await?;
        Ok(answer.keyboard)
    }

    /// `GET /sandbox/files/{file_id}`: the bytes of any stored file (a user's upload, a photo size, what the
    /// bot sent). Errors: [`ClientError::Refused`] 404 for an unknown file_id.
    pub async fn download(&self, file_id: &str) -> Result<Bytes> {
        let encoded =
            percent_encoding::utf8_percent_encode(file_id, percent_encoding::NON_ALPHANUMERIC);
        let url = self.url(&format!("/sandbox/files/{encoded}"));
        Ok(self.send(self.http.get(url)).await?.body)
    }

    /// `POST /sandbox/faults`: queues `fault`; answers how many faults are now pending for its method.
    /// Errors: [`ClientError::Refused`] 400 for a bad method name, status or count.
    pub async fn inject_fault(&self, fault: &Fault) -> Result<PendingFaults> {
        self.call(self.http.post(self.url("/sandbox/faults")).json(fault))
            .await
    }

    /// `DELETE /sandbox/faults`: forgets every pending fault.
    pub async fn clear_faults(&self) -> Result<()> {
        self.send(self.http.delete(self.url("/sandbox/faults")))
            .await
            .map(drop)
    }

    /// `GET /sandbox/flood-control`: whether flood control is on.
    pub async fn flood_control(&self) -> Result<bool> {
        let answer: Value = self
            .call(self.http.get(self.url("/sandbox/flood-control")))
            .await?;
        Ok(answer["enabled"] == true)
    }

    /// `PUT /sandbox/flood-control`: turns Telegram-like flood control (per private chat a burst of 4 then
    /// 1 message/s, 20/min per group, 30/s per bot) on or off from the next Bot API call on; answers the new
    /// setting.
    pub async fn set_flood_control(&self, enabled: bool) -> Result<bool> {
        let request = self
            .http
            .put(self.url("/sandbox/flood-control"))
            .json(&json!({ "enabled": enabled }));
        let answer: Value = self.call(request).await?;
        Ok(answer["enabled"] == true)
    }

    /// `GET /sandbox/privacy`: whether the bot's group privacy mode is on (Telegram's default: in groups
    /// the bot receives only commands meant for it and replies to its messages).
    pub async fn group_privacy(&self) -> Result<bool> {
        let answer: Value = self
            .call(self.http.get(self.url("/sandbox/privacy")))
            .await?;
        Ok(answer["enabled"] == true)
    }

    /// `PUT /sandbox/privacy`: turns the bot's group privacy mode on or off (BotFather's /setprivacy) for
    /// the messages sent from now on; answers the new setting. getMe's `can_read_all_group_messages`
    /// follows it.
    pub async fn set_group_privacy(&self, enabled: bool) -> Result<bool> {
        let request = self
            .http
            .put(self.url("/sandbox/privacy"))
            .json(&json!({ "enabled": enabled }));
        let answer: Value = self.call(request).await?;
        Ok(answer["enabled"] == true)
    }

    /// `POST /sandbox/chats/{chat_id}/replay`: delivers the chat's latest update (a message or a button
    /// press) to the bot once more with the same `update_id`, as Telegram does for a bot that restarted
    /// before confirming it; answers that `update_id`. Errors: [`ClientError::Refused`] 404 when the chat
    /// has no recent update.
    pub async fn replay_last_update(&self, chat_id: i64) -> Result<i64> {
        let url = self.url(&format!("/sandbox/chats/{chat_id}/replay"));
        let answer: Value = self.call(self.http.post(url)).await?;
        Ok(answer["update_id"].as_i64().unwrap_or_default())
    }

    /// `GET /sandbox/bots`: every bot that has called the Bot API (or the `--token` bot), by id.
    pub async fn bots(&self) -> Result<Vec<BotInfo>> {
        #[derive(serde::Deserialize)]
        struct Bots {
            bots: Vec<BotInfo>,
        }
        let answer: Bots = self.call(self.http.get(self.url("/sandbox/bots"))).await?;
        Ok(answer.bots)
    }
}

/// A `media_group_id` no other call in this process gave: numeric, as Telegram's are (the time in
/// microseconds and a counter).
pub fn new_media_group_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{micros}{:03}", n % 1000)
}

/// A 2xx answer.
struct Answer {
    method: Method,
    url: String,
    body: Bytes,
}

/// The first 2,000 characters of an answer, for error messages.
fn cut(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(2000).collect()
}

/// A person in one chat with the bot (from [`SandboxClient::user`] or [`SandboxClient::chat_user`]): what
/// they send carries their `from`.
#[derive(Debug, Clone)]
pub struct ChatUser {
    client: SandboxClient,
    chat_id: i64,
    from: User,
}

impl ChatUser {
    /// The chat this user writes in.
    pub fn chat_id(&self) -> i64 {
        self.chat_id
    }

    /// Who they are, as the bot sees it in `from`.
    pub fn from(&self) -> &User {
        &self.from
    }

    /// The client of the sandbox.
    pub fn client(&self) -> &SandboxClient {
        &self.client
    }

    /// Sends `message` as this user (its own `from` is replaced). See [`SandboxClient::send_message`].
    pub async fn send(&self, message: NewMessage) -> Result<Message> {
        self.client
            .send_message(self.chat_id, message.from(self.from.clone()))
            .await
    }

    /// Sends a text; `/commands` get `bot_command` entities.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<Message> {
        self.send(NewMessage::text(text)).await
    }

    /// Sends a photo (a path or [`InputFile::bytes`]); the sandbox re-encodes it like Telegram.
    pub async fn send_photo(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Photo, file)).await
    }

    /// Sends a file as a document (kept byte for byte).
    pub async fn send_document(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Document, file)).await
    }

    /// Sends a voice note (OGG/Opus); its duration is read from the file.
    pub async fn send_voice(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Voice, file)).await
    }

    /// Sends a music file; its duration is read from the file.
    pub async fn send_audio(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Audio, file)).await
    }

    /// Sends a video (MP4, ...); its duration, width and height are read from the file.
    pub async fn send_video(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Video, file)).await
    }

    /// Sends a round video note (a square MP4); its duration and `length` (the side) are read from the file.
    pub async fn send_video_note(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::VideoNote, file))
            .await
    }

    /// Sends a sticker: a static WebP (a PNG or JPEG is re-encoded to WebP, as stickers are), an animated
    /// TGS or a WebM video sticker; its size is read from the image. `NewMessage::file(MediaKind::Sticker,
    /// ..).emoji("😀")` gives it an emoji.
    pub async fn send_sticker(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Sticker, file)).await
    }

    /// Sends an animation (a GIF or a silent MP4); its size and duration are read from the file, and the
    /// message carries it as `animation` and as `document`.
    pub async fn send_animation(&self, file: impl Into<InputFile>) -> Result<Message> {
        self.send(NewMessage::file(MediaKind::Animation, file))
            .await
    }

    /// Sends 2–10 photos, videos, documents or audio files as one album, as a Telegram client does: one
    /// message (and one update) per item, back to back, all with one fresh `media_group_id`; `caption` goes
    /// with the first. Answers the messages in order.
    ///
    /// Errors: [`ClientError::Album`] for fewer than 2 or more than 10 items (nothing is sent); any error
    /// of [`ChatUser::send`] (the items before it stay sent).
    pub async fn send_album<F: Into<InputFile>>(
        &self,
        items: impl IntoIterator<Item = (MediaKind, F)>,
        caption: Option<&str>,
    ) -> Result<Vec<Message>> {
        let items: Vec<(MediaKind, InputFile)> = items
            .into_iter()
            .map(|(kind, file)| (kind, file.into()))
            .collect();
        if !(2..=10).contains(&items.len()) {
            return Err(ClientError::Album { count: items.len() });
        }
        let group = new_media_group_id();
        let mut sent = Vec::with_capacity(items.len());
        for (i, (kind, file)) in items.into_iter().enumerate() {
            let mut message = NewMessage::file(kind, file).media_group(group.clone());
            if let (0, Some(caption)) = (i, caption) {
                message = message.caption(caption);
            }
            sent.push(self.send(message).await?);
        }
        Ok(sent)
    }

    /// Presses the inline button with `callback_data` of the bot's message `message_id`; answers with the
    /// CallbackQuery the bot receives.
    pub async fn press(&self, message_id: i64, callback_data: &str) -> Result<CallbackQuery> {
        self.client
            .press_button(self.chat_id, Some(&self.from), message_id, callback_data)
            .await
    }

    /// The whole chat, both sides, edits applied.
    pub async fn history(&self) -> Result<History> {
        self.client.history(self.chat_id, 0, Duration::ZERO).await
    }

    /// The chat's existing messages (deleted ones left out), in order.
    pub async fn messages(&self) -> Result<Vec<Message>> {
        Ok(self.history().await?.messages().cloned().collect())
    }

    /// Follows this chat's history: see [`ChatWatch`].
    pub fn watch(&self) -> ChatWatch {
        self.client.watch(self.chat_id)
    }

    /// See [`SandboxClient::wait_for`].
    pub async fn wait_for<T>(
        &self,
        what: &str,
        deadline: impl Into<Deadline>,
        check: impl FnMut(&HistoryEntry) -> Option<T>,
    ) -> Result<T> {
        self.client
            .wait_for(self.chat_id, what, deadline, check)
            .await
    }

    /// Waits for a message of the bot (existing, edits applied) that satisfies `matches`.
    pub async fn wait_bot_message(
        &self,
        what: &str,
        deadline: impl Into<Deadline>,
        mut matches: impl FnMut(&Message) -> bool,
    ) -> Result<Message> {
        self.wait_for(what, deadline, |entry| {
            entry.bot_message().filter(|m| matches(m)).cloned()
        })
        .await
    }

    /// Waits for a message of the bot whose text or caption contains `needle`.
    pub async fn wait_bot_text(
        &self,
        needle: &str,
        deadline: impl Into<Deadline>,
    ) -> Result<Message> {
        self.wait_bot_message(
            &format!("a bot message containing {needle:?}"),
            deadline,
            |m| m.text_or_caption().contains(needle),
        )
        .await
    }

    /// Waits for the bot's answer to callback query `callback_query_id`.
    pub async fn wait_callback_answer(
        &self,
        callback_query_id: &str,
        deadline: impl Into<Deadline>,
    ) -> Result<CallbackAnswer> {
        self.wait_for(
            &format!("the answer of callback query {callback_query_id}"),
            deadline,
            |entry| {
                entry
                    .callback_answer()
                    .filter(|a| a.callback_query_id == callback_query_id)
                    .cloned()
            },
        )
        .await
    }

    /// The bytes of a file by file_id. See [`SandboxClient::download`].
    pub async fn download(&self, file_id: &str) -> Result<Bytes> {
        self.client.download(file_id).await
    }

    /// The command menu this user sees (in their language).
    pub async fn commands(&self) -> Result<CommandMenu> {
        let language = self.from.language_code.as_deref().unwrap_or_default();
        self.client.commands(self.chat_id, language).await
    }

    /// The reply keyboard under this chat's message input, if any. See [`SandboxClient::reply_keyboard`].
    pub async fn reply_keyboard(&self) -> Result<Option<ReplyKeyboard>> {
        self.client.reply_keyboard(self.chat_id).await
    }

    /// Delivers this chat's latest update to the bot once more, same `update_id` (see
    /// [`SandboxClient::replay_last_update`]).
    pub async fn replay_last_update(&self) -> Result<i64> {
        self.client.replay_last_update(self.chat_id).await
    }
}

/// A chat's history kept up to date by long polls: entries by position with edits and deletions applied,
/// and the cursor of the last change seen. For waits that must do something between polls (check that
/// processes are alive); otherwise use [`ChatUser::wait_for`].
#[derive(Debug, Clone)]
pub struct ChatWatch {
    client: SandboxClient,
    chat_id: i64,
    cursor: i64,
    entries: Vec<HistoryEntry>,
}

impl ChatWatch {
    /// The entries seen so far, in chat order, each as last changed.
    pub fn entries(&self) -> &[HistoryEntry] {
        &self.entries
    }

    /// The existing messages seen so far (deleted ones left out), in chat order.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.entries.iter().filter_map(HistoryEntry::message)
    }

    /// The counter value of the last change seen.
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// Fetches what changed since the last poll, waiting up to `wait` for something (at most 120 s per
    /// call); returns whether anything changed.
    pub async fn poll(&mut self, wait: Duration) -> Result<bool> {
        let history = self.client.history(self.chat_id, self.cursor, wait).await?;
        let changed = !history.entries.is_empty();
        for entry in history.entries {
            match self.entries.binary_search_by_key(&entry.seq, |e| e.seq) {
                Ok(at) => self.entries[at] = entry,
                Err(at) => self.entries.insert(at, entry),
            }
        }
        self.cursor = self.cursor.max(history.cursor);
        Ok(changed)
    }

    /// The first entry for which `check` returns `Some`, in chat order.
    pub fn find<T>(&self, check: impl FnMut(&HistoryEntry) -> Option<T>) -> Option<T> {
        self.entries.iter().find_map(check)
    }

    /// Polls until `check` returns `Some` for an entry (all entries are checked again after each change).
    /// Errors: [`ClientError::Timeout`] when `deadline` passes first.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        deadline: impl Into<Deadline>,
        mut check: impl FnMut(&HistoryEntry) -> Option<T>,
    ) -> Result<T> {
        let Deadline(deadline) = deadline.into();
        let started = Instant::now();
        if self.cursor == 0 {
            self.poll(Duration::ZERO).await?;
        }
        loop {
            if let Some(found) = self.find(&mut check) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timeout(what, started.elapsed()));
            }
            self.poll(left.min(Duration::from_secs_f64(POLL_SECS)))
                .await?;
        }
    }

    /// A [`ClientError::Timeout`] about this chat, with its entries, for callers that run their own loop.
    pub fn timeout(&self, what: &str, waited: Duration) -> ClientError {
        ClientError::Timeout {
            chat_id: self.chat_id,
            what: what.to_owned(),
            waited,
            history: serde_json::to_string_pretty(&self.entries).unwrap_or_default(),
        }
    }
}
