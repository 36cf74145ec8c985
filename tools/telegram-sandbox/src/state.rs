//! The sandbox's in-memory world: bots (one per token) with their update queues and webhooks, chats with their
//! history, stored files, and injected faults. One mutex guards it; every change bumps a `watch` counter that
//! long polls (getUpdates, history `wait`, webhook delivery) wait on instead of polling.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    Config,
    error::ApiError,
    flood::FloodControl,
    markup::{ChatKeyboard, ReplyMarkup},
};

/// How long a callback query can be answered (Telegram clients stop waiting after about 15 s).
pub const CALLBACK_ANSWER_WINDOW: std::time::Duration = std::time::Duration::from_secs(15);

/// State shared by every request handler and background task.
pub struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    /// Flood control on or off: starts as `config.flood_control`, switched at run time through the control API.
    flood_control: AtomicBool,
    /// The configuration the sandbox was started with.
    pub config: Config,
    /// Cancelled when the sandbox shuts down; long polls and webhook deliveries stop on it.
    pub shutdown: CancellationToken,
    /// HTTP client for webhook deliveries and `http(s)://` file inputs.
    pub http: reqwest::Client,
}

impl Shared {
    /// Creates the shared state; with a fixed token its bot exists from the start.
    pub fn new(config: Config, shutdown: CancellationToken) -> Self {
        let mut state = State {
            group_privacy: config.group_privacy,
            ..State::default()
        };
        if let Some(token) = &config.token
            && let Some(id) = token_bot_id(token)
        {
            state.ensure_bot(token, id);
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            state: Mutex::new(state),
            changed: watch::Sender::new(0),
            flood_control: AtomicBool::new(config.flood_control),
            config,
            shutdown,
            http,
        }
    }

    /// Locks the state. A poisoned lock is taken over: every mutation leaves the state consistent.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether flood control applies to the next Bot API call.
    pub fn flood_control(&self) -> bool {
        self.flood_control.load(Ordering::Relaxed)
    }

    /// Turns flood control on or off for the calls that follow (buckets keep their state).
    pub fn set_flood_control(&self, enabled: bool) {
        self.flood_control.store(enabled, Ordering::Relaxed);
    }

    /// Wakes every long poll.
    pub fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Runs `check` now and after every change until it returns `Some`, the deadline passes (then `None`) or
    /// the sandbox shuts down.
    pub async fn wait_for<T>(
        &self,
        deadline: tokio::time::Instant,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        loop {
            let mut rx = self.changed.subscribe();
            if let Some(found) = check(&mut self.lock()) {
                return Some(found);
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return None },
                () = tokio::time::sleep_until(deadline) => return None,
                () = self.shutdown.cancelled() => return None,
            }
        }
    }

    /// Checks a token against the configuration: with `--token` only that token, otherwise any token of the
    /// shape `<digits>:<secret>`; returns the bot's user id.
    pub fn authorize(&self, token: &str) -> Result<i64, ApiError> {
        if let Some(fixed) = &self.config.token
            && fixed != token
        {
            return Err(ApiError::unauthorized());
        }
        token_bot_id(token).ok_or_else(ApiError::unauthorized)
    }
}

/// The bot id of a well-formed token `<digits>:<[A-Za-z0-9_-]{20,}>`.
pub fn token_bot_id(token: &str) -> Option<i64> {
    let (id, secret) = token.split_once(':')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if secret.len() < 20
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    id.parse().ok().filter(|id| *id > 0)
}

/// Seconds since the Unix epoch, Telegram's `date`.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An injected failure of a Bot API method.
#[derive(Debug, Clone)]
pub struct Fault {
    /// `error_code` and HTTP status.
    pub error_code: u16,
    /// Description to answer with; a default per status if absent.
    pub description: Option<String>,
    /// `parameters.retry_after` for 429.
    pub retry_after: Option<u64>,
}

/// A stored file: its bytes are shared, never copied per read.
#[derive(Debug)]
pub struct StoredFile {
    /// The file_id the file was registered under.
    pub file_id: String,
    /// Stable per content (a hash of the bytes).
    pub file_unique_id: String,
    /// The content.
    pub bytes: Bytes,
    /// Path for `/file/bot<token>/<file_path>`.
    pub file_path: String,
    /// MIME type.
    pub mime_type: String,
    /// Original file name, if the sender gave one.
    pub file_name: Option<String>,
    /// For a photo size: the whole `PhotoSize` array it belongs to, so that resending reuses it.
    pub photo: Option<Value>,
    /// The media object (`Document`, `Voice`, ...) the file was last sent as.
    pub media: Option<Value>,
}

impl StoredFile {
    /// The Bot API `File` object (the answer of getFile).
    pub fn file_object(&self) -> Value {
        json!({
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.bytes.len(),
            "file_path": self.file_path,
        })
    }
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A message of either side, with edits applied.
    Message,
    /// A message that was deleted.
    Deleted,
    /// A user pressed an inline button.
    CallbackQuery,
    /// The bot answered a callback query.
    CallbackAnswer,
    /// The bot sent a chat action (`typing`, `upload_photo`, ...).
    ChatAction,
    /// A Bot API call of the bot about this chat was refused (flood control, a bad request, an injected
    /// fault), so that a person watching the chat sees why an answer is missing.
    ApiError,
}

impl EntryKind {
    fn name(self) -> &'static str {
        match self {
            EntryKind::Message => "message",
            EntryKind::Deleted => "deleted",
            EntryKind::CallbackQuery => "callback_query",
            EntryKind::CallbackAnswer => "callback_answer",
            EntryKind::ChatAction => "chat_action",
            EntryKind::ApiError => "api_error",
        }
    }
}

/// One entry of a chat's history.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Position in the chat; equal to `message_id` for messages.
    pub seq: i64,
    /// The chat counter value of the entry's last change (creation, edit, deletion).
    pub updated: i64,
    /// What the entry is.
    pub kind: EntryKind,
    /// The Message for messages, otherwise the entry's fields.
    pub data: Value,
}

impl Entry {
    /// The entry as the control API shows it.
    pub fn view(&self) -> Value {
        let mut v = match self.kind {
            EntryKind::Message | EntryKind::Deleted => json!({ "message": self.data }),
            _ => self.data.clone(),
        };
        v["seq"] = json!(self.seq);
        v["updated"] = json!(self.updated);
        v["kind"] = json!(self.kind.name());
        v
    }
}

/// One chat between a bot and its users.
#[derive(Debug)]
pub struct Chat {
    /// The Bot API `Chat` object.
    pub chat: Value,
    entries: Vec<Entry>,
    index: HashMap<i64, usize>,
    /// Last value of the counter that gives message ids and entry positions.
    pub counter: i64,
    /// The reply keyboard under the user's input field, as a Telegram client shows it. Every change of it
    /// comes with a new or changed history entry (the bot's message, the user's message, a deletion), so
    /// whoever follows the history knows when to read it again.
    pub reply_keyboard: Option<ChatKeyboard>,
    /// The bot has sent a message here: in a group with privacy mode on it then receives general commands
    /// (`/help` without `@bot`), as Telegram delivers them to the last bot that wrote in the group (here each
    /// bot has its own chats, so "the last bot" is "this bot, once it wrote").
    pub bot_has_written: bool,
}

impl Chat {
    fn new(chat: Value) -> Self {
        Self {
            chat,
            entries: Vec::new(),
            index: HashMap::new(),
            counter: 0,
            reply_keyboard: None,
            bot_has_written: false,
        }
    }

    /// What a bot message `message_id` sent with `markup` does to the reply keyboard: a reply keyboard
    /// replaces it (shown again even if the same one-time keyboard was hidden), `ReplyKeyboardRemove` clears
    /// it, an inline keyboard or `ForceReply` leaves it as it is.
    pub fn apply_reply_markup(&mut self, message_id: i64, markup: &ReplyMarkup) {
        match markup {
            ReplyMarkup::Keyboard(keyboard) => {
                self.reply_keyboard = Some(ChatKeyboard {
                    keyboard: keyboard.clone(),
                    message_id,
                    shown: true,
                });
            }
            ReplyMarkup::Remove => self.reply_keyboard = None,
            ReplyMarkup::Inline(_) | ReplyMarkup::ForceReply => {}
        }
    }

    /// A user sent `text`: a one-time keyboard with a button of exactly that text hides (as a Telegram
    /// client hides it after a press; it stays available, `shown: false`).
    pub fn user_sent_text(&mut self, text: &str) {
        if let Some(current) = &mut self.reply_keyboard
            && current.keyboard.one_time_keyboard
            && current.has_button(text)
        {
            current.shown = false;
        }
    }

    /// Next counter value (message ids and entry positions share it, so both only grow).
    pub fn next_seq(&mut self) -> i64 {
        self.counter += 1;
        self.counter
    }

    /// Stores a new message, giving it `message_id` and `date`; returns it.
    pub fn add_message(&mut self, mut message: Value) -> Value {
        let id = self.next_seq();
        message["message_id"] = json!(id);
        message["date"] = json!(now_unix());
        message["chat"] = self.chat.clone();
        if message["from"]["is_bot"] == true {
            self.bot_has_written = true;
        }
        self.index.insert(id, self.entries.len());
        self.entries.push(Entry {
            seq: id,
            updated: id,
            kind: EntryKind::Message,
            data: message.clone(),
        });
        message
    }

    /// Records a non-message entry.
    pub fn add_event(&mut self, kind: EntryKind, data: Value) {
        let seq = self.next_seq();
        self.entries.push(Entry {
            seq,
            updated: seq,
            kind,
            data,
        });
    }

    /// A message that exists and is not deleted.
    pub fn message(&self, message_id: i64) -> Option<&Value> {
        let entry = self.entries.get(*self.index.get(&message_id)?)?;
        (entry.kind == EntryKind::Message).then_some(&entry.data)
    }

    /// Changes a message in place (an edit) and marks the entry as updated.
    pub fn update_message(
        &mut self,
        message_id: i64,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let idx = *self.index.get(&message_id)?;
        let seq = self.next_seq();
        let entry = self.entries.get_mut(idx)?;
        if entry.kind != EntryKind::Message {
            return None;
        }
        change(&mut entry.data);
        entry.updated = seq;
        Some(entry.data.clone())
    }

    /// Marks a message deleted; false if there is no such message.
    pub fn delete_message(&mut self, message_id: i64) -> bool {
        let Some(idx) = self.index.get(&message_id).copied() else {
            return false;
        };
        let seq = self.next_seq();
        match self.entries.get_mut(idx) {
            Some(entry) if entry.kind == EntryKind::Message => {
                entry.kind = EntryKind::Deleted;
                entry.updated = seq;
                // TDLib forgets the chat's keyboard with the message that set it.
                if self
                    .reply_keyboard
                    .as_ref()
                    .is_some_and(|k| k.message_id == message_id)
                {
                    self.reply_keyboard = None;
                }
                true
            }
            _ => false,
        }
    }

    /// Entries changed after counter value `after`, in chat order.
    pub fn history_after(&self, after: i64) -> Vec<Value> {
        self.entries
            .iter()
            .filter(|e| e.updated > after)
            .map(Entry::view)
            .collect()
    }
}

/// A set webhook.
#[derive(Debug)]
pub struct Webhook {
    /// Where updates are POSTed.
    pub url: String,
    /// Sent as `X-Telegram-Bot-Api-Secret-Token`.
    pub secret_token: Option<String>,
    /// As given to setWebhook (default 40).
    pub max_connections: i64,
    /// Stops this webhook's delivery task.
    pub cancel: CancellationToken,
    /// Unix time of the last failed delivery.
    pub last_error_date: Option<i64>,
    /// Why the last delivery failed.
    pub last_error_message: Option<String>,
}

/// A callback query waiting for answerCallbackQuery.
#[derive(Debug)]
pub struct PendingCallback {
    /// The chat of the message with the button.
    pub chat_id: i64,
    /// The message with the button.
    pub message_id: i64,
    /// The button's callback_data.
    pub data: Option<String>,
    /// When the button was pressed.
    pub created: Instant,
    /// Answered already (a second answer is refused like a late one).
    pub answered: bool,
}

/// How many of a bot's latest updates are kept for [`Bot::replay_last`].
pub const RECENT_UPDATES: usize = 256;

/// The chat an update is about: a message's chat, or the chat of the message whose button was pressed.
fn update_chat_id(update: &Value) -> Option<i64> {
    update["message"]["chat"]["id"]
        .as_i64()
        .or_else(|| update["edited_message"]["chat"]["id"].as_i64())
        .or_else(|| update["callback_query"]["message"]["chat"]["id"].as_i64())
}

/// One bot (one token).
#[derive(Debug)]
pub struct Bot {
    /// The bot's user id (the digits of its token).
    pub id: i64,
    /// The bot's `User` object as it appears in `from`.
    pub user: Value,
    /// Updates not yet confirmed by getUpdates (or delivered to the webhook).
    pub updates: VecDeque<Value>,
    /// Updates to hand to getUpdates once more with their original `update_id`, whatever its offset says:
    /// what a bot sees when it restarted before confirming them (control API `replay`).
    pub replays: VecDeque<Value>,
    /// The last [`RECENT_UPDATES`] updates queued, for replays.
    pub recent: VecDeque<Value>,
    next_update_id: i64,
    /// Update types the bot asked for; empty means the default set.
    pub allowed_updates: Vec<String>,
    /// getUpdates calls so far: a long poll still waiting when a newer one arrives ends with 409, as
    /// Telegram ends it ("terminated by other getUpdates request"), so a second bot instance shows.
    pub polls: u64,
    /// The webhook, when one is set.
    pub webhook: Option<Webhook>,
    /// Commands by scope and language (setMyCommands).
    pub commands: HashMap<String, Value>,
    /// Chats by chat id.
    pub chats: HashMap<i64, Chat>,
    /// Callback queries by id.
    pub callbacks: HashMap<String, PendingCallback>,
    /// Flood control buckets.
    pub flood: FloodControl,
    /// Group privacy mode (BotFather's /setprivacy; on by default, as on Telegram): in groups the bot
    /// receives only messages meant for it, see [`Bot::receives`].
    pub group_privacy: bool,
}

impl Bot {
    fn new(id: i64, group_privacy: bool) -> Self {
        let user = json!({
            "id": id,
            "is_bot": true,
            "first_name": "Sandbox Bot",
            "username": format!("sandbox_{id}_bot"),
        });
        Self {
            id,
            user,
            updates: VecDeque::new(),
            replays: VecDeque::new(),
            recent: VecDeque::new(),
            next_update_id: 1,
            allowed_updates: Vec::new(),
            polls: 0,
            webhook: None,
            commands: HashMap::new(),
            chats: HashMap::new(),
            callbacks: HashMap::new(),
            flood: FloodControl::default(),
            group_privacy,
        }
    }

    /// The getMe answer: every field Telegram returns for a bot.
    pub fn me(&self) -> Value {
        let mut me = self.user.clone();
        me["can_join_groups"] = json!(true);
        // Privacy mode on (the default): the bot sees only group messages meant for it.
        me["can_read_all_group_messages"] = json!(!self.group_privacy);
        me["supports_inline_queries"] = json!(false);
        me["can_connect_to_business"] = json!(false);
        me["has_main_web_app"] = json!(false);
        me
    }

    /// Whether a user's `message` reaches the bot as an update. Everything in private chats, and everything
    /// with privacy mode off; in a group or supergroup with privacy mode on (Telegram's default) only:
    /// a command addressed to this bot (`/cmd@this_bot`, anywhere in the text or caption), a general command
    /// (`/cmd` without `@`) at the start of the text or caption once the bot has written in the chat
    /// (`bot_has_written`), and a reply to one of the bot's messages. The history keeps every message
    /// either way: the group's other members see them.
    pub fn receives(&self, message: &Value, bot_has_written: bool) -> bool {
        if !self.group_privacy || message["chat"]["type"] == "private" {
            return true;
        }
        if message["reply_to_message"]["from"]["id"].as_i64() == Some(self.id) {
            return true;
        }
        let (text, entities) = match message["text"].as_str() {
            Some(text) => (text, &message["entities"]),
            None => (
                message["caption"].as_str().unwrap_or_default(),
                &message["caption_entities"],
            ),
        };
        let username = self.user["username"].as_str().unwrap_or_default();
        entities
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] == "bot_command")
            .any(
                |e| match crate::entities::entity_text(text, e).split_once('@') {
                    Some((_, to)) => to.eq_ignore_ascii_case(username),
                    None => bot_has_written && e["offset"] == 0,
                },
            )
    }

    /// Queues an update of `kind` (`message`, `callback_query`, ...) unless the bot's allowed_updates
    /// exclude it.
    pub fn push_update(&mut self, kind: &str, payload: Value) {
        if !self.allowed_updates.is_empty() && !self.allowed_updates.iter().any(|k| k == kind) {
            return;
        }
        let update_id = self.next_update_id;
        self.next_update_id += 1;
        let mut update = json!({ "update_id": update_id });
        update[kind] = payload;
        self.recent.push_back(update.clone());
        if self.recent.len() > RECENT_UPDATES {
            self.recent.pop_front();
        }
        self.updates.push_back(update);
        tracing::debug!(
            update_id,
            kind,
            queued = self.updates.len(),
            "update queued"
        );
    }

    /// Delivers the latest update about chat `chat_id` (a message in it, or a button pressed in it) once
    /// more, with the same `update_id` — as Telegram does for a bot that stopped before confirming it, or a
    /// webhook that failed. Returns its `update_id`, or `None` when the chat has no recent update.
    pub fn replay_last(&mut self, chat_id: i64) -> Option<i64> {
        let update = self
            .recent
            .iter()
            .rev()
            .find(|u| update_chat_id(u) == Some(chat_id))?
            .clone();
        let update_id = update["update_id"].as_i64();
        if self.webhook.is_some() {
            self.updates.push_front(update);
        } else {
            self.replays.push_back(update);
        }
        update_id
    }

    /// Forgets updates the way getUpdates' `offset` confirms them: a positive offset drops every update with a
    /// smaller id; a negative one keeps only the last `-offset` updates.
    pub fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            while self
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
            {
                self.updates.pop_front();
            }
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.updates.len() > keep {
                self.updates.pop_front();
            }
        }
    }

    /// A chat, created with `chat` as its Chat object when new.
    pub fn chat_or_create(&mut self, chat_id: i64, chat: impl FnOnce() -> Value) -> &mut Chat {
        self.chats
            .entry(chat_id)
            .or_insert_with(|| Chat::new(chat()))
    }
}

/// Everything the sandbox holds.
#[derive(Debug, Default)]
pub struct State {
    /// Bots by token.
    pub bots: HashMap<String, Bot>,
    files: HashMap<String, Arc<StoredFile>>,
    file_paths: HashMap<String, String>,
    file_counter: u64,
    /// Pending faults by lower-case method name.
    pub faults: HashMap<String, VecDeque<Fault>>,
    /// The token of the bot that called the Bot API last (the default bot of the control API).
    pub last_bot: Option<String>,
    callback_counter: u64,
    media_group_counter: u64,
    /// Group privacy mode of bots created from now on (`Config::group_privacy`).
    pub group_privacy: bool,
}

impl State {
    /// The bot of `token`, created on first use.
    pub fn ensure_bot(&mut self, token: &str, id: i64) -> &mut Bot {
        let group_privacy = self.group_privacy;
        self.bots
            .entry(token.to_owned())
            .or_insert_with(|| Bot::new(id, group_privacy))
    }

    /// The token of the bot with user id `id`.
    pub fn token_of(&self, id: i64) -> Option<String> {
        self.bots
            .iter()
            .find(|(_, bot)| bot.id == id)
            .map(|(token, _)| token.clone())
    }

    /// A new callback query id.
    pub fn next_callback_id(&mut self, bot_id: i64) -> String {
        self.callback_counter += 1;
        format!(
            "{}{:08}",
            bot_id.rem_euclid(1_000_000_000),
            self.callback_counter
        )
    }

    /// A new `media_group_id` for an album (numeric, as Telegram's are; unique within this sandbox).
    pub fn next_media_group_id(&mut self) -> String {
        self.media_group_counter += 1;
        format!("{}{:05}", now_unix(), self.media_group_counter % 100_000)
    }

    /// Stores a file and returns it. Equal content gets the same file_unique_id.
    pub fn store_file(
        &mut self,
        bytes: Bytes,
        dir: &str,
        prefix: &str,
        mime_type: String,
        file_name: Option<String>,
    ) -> Arc<StoredFile> {
        self.file_counter += 1;
        let n = self.file_counter;
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let file_unique_id = format!("AQAD{}", &hex[..16]);
        let file_id = format!("{prefix}{n:06}{}", &hex[16..40]);
        let ext = crate::media::extension_for(&mime_type, file_name.as_deref());
        let file_path = format!("{dir}/file_{n}.{ext}");
        let file = Arc::new(StoredFile {
            file_id: file_id.clone(),
            file_unique_id,
            bytes,
            file_path: file_path.clone(),
            mime_type,
            file_name,
            photo: None,
            media: None,
        });
        self.files.insert(file_id.clone(), file.clone());
        self.file_paths.insert(file_path, file_id);
        file
    }

    /// Replaces the stored record of a file (to attach its photo set or media object).
    pub fn update_file(&mut self, file: StoredFile) -> Arc<StoredFile> {
        let file = Arc::new(file);
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }

    /// A file by file_id.
    pub fn file(&self, file_id: &str) -> Option<Arc<StoredFile>> {
        self.files.get(file_id).cloned()
    }

    /// A file by its file_path.
    pub fn file_by_path(&self, path: &str) -> Option<Arc<StoredFile>> {
        self.file_paths
            .get(path)
            .and_then(|id| self.files.get(id))
            .cloned()
    }

    /// Takes the next injected fault for `method`, if any.
    pub fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let queue = self.faults.get_mut(method)?;
        let fault = queue.pop_front();
        if queue.is_empty() {
            self.faults.remove(method);
        }
        fault
    }
}
