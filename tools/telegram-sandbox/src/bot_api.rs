//! The bot side: Telegram Bot API methods over the in-memory state, with Telegram's limits and error texts.
//! [`call`] takes a token, a method name (any case) and the call's parameters and returns the `result` value.

use std::{sync::Arc, time::Instant};

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::{
    entities,
    error::ApiError,
    markup::{self, ReplyMarkup},
    media,
    params::{Params, Upload},
    state::{CALLBACK_ANSWER_WINDOW, EntryKind, Fault, Shared, StoredFile, Webhook, now_unix},
    webhook,
};

/// Longest message text, in UTF-16 code units.
pub const MAX_TEXT: usize = 4096;
/// Longest caption, in UTF-16 code units.
pub const MAX_CAPTION: usize = 1024;
/// Largest file a bot can download with getFile (20 MB).
pub const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;
/// Largest file a bot can upload (50 MB).
pub const MAX_UPLOAD: usize = 50 * 1024 * 1024;

const METHODS: &[&str] = &[
    "getme",
    "getupdates",
    "setwebhook",
    "deletewebhook",
    "getwebhookinfo",
    "sendmessage",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "deletemessage",
    "answercallbackquery",
    "sendchataction",
    "setmycommands",
    "getmycommands",
    "deletemycommands",
    "getfile",
    "sendphoto",
    "senddocument",
    "sendvoice",
    "sendaudio",
    "sendvideo",
    "sendvideonote",
    "sendsticker",
    "sendanimation",
    "sendmediagroup",
    "logout",
    "close",
];

/// Runs one Bot API method for the bot of `token`.
#[tracing::instrument(level = "debug", skip_all, fields(method = %method))]
pub async fn call(
    shared: &Arc<Shared>,
    token: &str,
    method: &str,
    params: Params,
) -> Result<Value, ApiError> {
    let bot_id = shared.authorize(token)?;
    let method = method.to_ascii_lowercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ApiError::not_found());
    }
    {
        let mut state = shared.lock();
        state.ensure_bot(token, bot_id);
        state.last_bot = Some(token.to_owned());
        if let Some(fault) = state.take_fault(&method) {
            return Err(fault_error(fault));
        }
    }
    if params.uploads().any(|u| u.bytes.len() > MAX_UPLOAD) {
        return Err(ApiError::too_large());
    }
    let p = &params;
    match method.as_str() {
        "getme" => with_bot(shared, token, |bot| Ok(bot.me())),
        "logout" | "close" => Ok(json!(true)),
        "getupdates" => get_updates(shared, token, p).await,
        "setwebhook" => set_webhook(shared, token, p),
        "deletewebhook" => delete_webhook(shared, token, p),
        "getwebhookinfo" => get_webhook_info(shared, token),
        "sendmessage" => send_message(shared, token, p),
        "editmessagetext" => edit_message(shared, token, p, Edit::Text),
        "editmessagecaption" => edit_message(shared, token, p, Edit::Caption),
        "editmessagereplymarkup" => edit_message(shared, token, p, Edit::Markup),
        "deletemessage" => delete_message(shared, token, p),
        "answercallbackquery" => answer_callback_query(shared, token, p),
        "sendchataction" => send_chat_action(shared, token, p),
        "setmycommands" => set_my_commands(shared, token, p),
        "getmycommands" => get_my_commands(shared, token, p),
        "deletemycommands" => delete_my_commands(shared, token, p),
        "getfile" => get_file(shared, p),
        "sendphoto" => send_media(shared, token, p, MediaKind::Photo).await,
        "senddocument" => send_media(shared, token, p, MediaKind::Document).await,
        "sendvoice" => send_media(shared, token, p, MediaKind::Voice).await,
        "sendaudio" => send_media(shared, token, p, MediaKind::Audio).await,
        "sendvideo" => send_media(shared, token, p, MediaKind::Video).await,
        "sendvideonote" => send_media(shared, token, p, MediaKind::VideoNote).await,
        "sendsticker" => send_media(shared, token, p, MediaKind::Sticker).await,
        "sendanimation" => send_media(shared, token, p, MediaKind::Animation).await,
        "sendmediagroup" => send_media_group(shared, token, p).await,
        _ => Err(ApiError::not_found()),
    }
}

fn fault_error(fault: Fault) -> ApiError {
    let status = StatusCode::from_u16(fault.error_code).unwrap_or(StatusCode::BAD_REQUEST);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = fault.retry_after.unwrap_or(1);
        let mut err = ApiError::too_many_requests(retry_after);
        if let Some(description) = fault.description {
            err.description = description;
        }
        return err;
    }
    let description = fault.description.unwrap_or_else(|| match status.as_u16() {
        400 => "Bad Request: injected fault".to_owned(),
        code => format!("{code} {}", status.canonical_reason().unwrap_or("Error")),
    });
    let mut err = ApiError::new(status, description);
    err.retry_after = fault.retry_after;
    err
}

/// Records a refused Bot API call about `chat_id` in that chat's history (entry kind `api_error`: `method` as
/// the bot called it, `error_code`, `description`, `retry_after`), if the bot and chat exist. This is how a
/// 429 of flood control reaches the person in the browser page: the bot, not the person, gets the error.
pub fn record_error(shared: &Shared, token: &str, chat_id: i64, method: &str, err: &ApiError) {
    // Clients differ in case (teloxide says SendMessage); show the Bot API's own spelling, sendMessage.
    let mut chars = method.chars();
    let method: String = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect();
    let recorded = {
        let mut state = shared.lock();
        let chat = state
            .bots
            .get_mut(token)
            .and_then(|bot| bot.chats.get_mut(&chat_id));
        match chat {
            Some(chat) => {
                chat.add_event(
                    EntryKind::ApiError,
                    json!({
                        "method": method,
                        "error_code": err.status.as_u16(),
                        "description": err.description,
                        "retry_after": err.retry_after,
                        "date": now_unix(),
                    }),
                );
                true
            }
            None => false,
        }
    };
    if recorded {
        shared.notify();
    }
}

fn with_bot<T>(
    shared: &Shared,
    token: &str,
    f: impl FnOnce(&mut crate::state::Bot) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut state = shared.lock();
    let bot = state
        .bots
        .get_mut(token)
        .ok_or_else(ApiError::unauthorized)?;
    f(bot)
}

/// What Telegram answers a long poll that a newer getUpdates of the same bot replaced (with 409).
pub const TERMINATED_BY_OTHER_GET_UPDATES: &str =
    "terminated by other getUpdates request; make sure that only one bot instance is running";

/// getUpdates: confirms `offset`, then waits up to `timeout` s (at most 50) for updates. Only one poll per
/// bot waits at a time, as on Telegram: a newer call ends an older one with 409
/// ([`TERMINATED_BY_OTHER_GET_UPDATES`]).
async fn get_updates(shared: &Arc<Shared>, token: &str, p: &Params) -> Result<Value, ApiError> {
    let offset = p.i64("offset")?;
    let limit = p.i64("limit")?.unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p.i64("timeout")?.unwrap_or(0).clamp(0, 50) as u64;
    let allowed = p.json("allowed_updates")?;
    let poll = with_bot(shared, token, |bot| {
        if bot.webhook.is_some() {
            return Err(ApiError::conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        if let Some(offset) = offset {
            bot.confirm(offset);
        }
        if let Some(Value::Array(kinds)) = allowed {
            bot.allowed_updates = kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect();
        }
        bot.polls += 1;
        Ok(bot.polls)
    })?;
    // Wakes a long poll of this bot that is still waiting: it ends with 409 below.
    shared.notify();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(timeout);
    let updates = shared
        .wait_for(deadline, |state| {
            let bot = state.bots.get_mut(token)?;
            if bot.polls != poll {
                return Some(Err(ApiError::conflict(TERMINATED_BY_OTHER_GET_UPDATES)));
            }
            if !bot.replays.is_empty() {
                return Some(Ok(bot.replays.drain(..).collect()));
            }
            let allowed = &bot.allowed_updates;
            let updates: Vec<Value> = bot
                .updates
                .iter()
                .filter(|u| {
                    allowed.is_empty() || allowed.iter().any(|k| u.get(k.as_str()).is_some())
                })
                .take(limit)
                .cloned()
                .collect();
            (!updates.is_empty()).then_some(Ok(updates))
        })
        .await
        .transpose()
        .inspect_err(|_| tracing::info!(poll, "a newer getUpdates ended this one: 409"))?
        .unwrap_or_default();
    tracing::debug!(
        ?offset,
        timeout,
        returned = ?updates.iter().map(|u| u["update_id"].as_i64()).collect::<Vec<_>>(),
        "getUpdates answered"
    );
    Ok(Value::Array(updates))
}

fn set_webhook(shared: &Arc<Shared>, token: &str, p: &Params) -> Result<Value, ApiError> {
    let url = p.str("url").unwrap_or_default();
    if url.is_empty() {
        return delete_webhook(shared, token, p);
    }
    let parsed = reqwest::Url::parse(&url)
        .map_err(|_| ApiError::bad_request("bad webhook: invalid webhook URL specified"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(
            "bad webhook: HTTPS url must be provided for webhook",
        ));
    }
    let secret_token = p.str("secret_token").filter(|s| !s.is_empty());
    if let Some(secret) = &secret_token
        && (secret.len() > 256
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return Err(ApiError::bad_request(
            "secret token contains unallowed characters",
        ));
    }
    let max_connections = p.i64("max_connections")?.unwrap_or(40).clamp(1, 100);
    let allowed = p.json("allowed_updates")?;
    let drop_pending = p.bool("drop_pending_updates");
    let cancel = shared.shutdown.child_token();
    with_bot(shared, token, |bot| {
        if let Some(old) = bot.webhook.take() {
            old.cancel.cancel();
        }
        if drop_pending {
            bot.updates.clear();
        }
        if let Some(Value::Array(kinds)) = allowed {
            bot.allowed_updates = kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect();
        }
        bot.webhook = Some(Webhook {
            url,
            secret_token,
            max_connections,
            cancel: cancel.clone(),
            last_error_date: None,
            last_error_message: None,
        });
        Ok(())
    })?;
    tokio::spawn(webhook::deliver(shared.clone(), token.to_owned(), cancel));
    shared.notify();
    Ok(json!(true))
}

fn delete_webhook(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let drop_pending = p.bool("drop_pending_updates");
    with_bot(shared, token, |bot| {
        if let Some(old) = bot.webhook.take() {
            old.cancel.cancel();
        }
        if drop_pending {
            bot.updates.clear();
        }
        Ok(())
    })?;
    shared.notify();
    Ok(json!(true))
}

fn get_webhook_info(shared: &Shared, token: &str) -> Result<Value, ApiError> {
    with_bot(shared, token, |bot| {
        let mut info = json!({
            "url": "",
            "has_custom_certificate": false,
            "pending_update_count": bot.updates.len(),
        });
        if let Some(webhook) = &bot.webhook {
            info["url"] = json!(webhook.url);
            info["max_connections"] = json!(webhook.max_connections);
            info["ip_address"] = json!("127.0.0.1");
            if let Some(date) = webhook.last_error_date {
                info["last_error_date"] = json!(date);
            }
            if let Some(message) = &webhook.last_error_message {
                info["last_error_message"] = json!(message);
            }
            if !bot.allowed_updates.is_empty() {
                info["allowed_updates"] = json!(bot.allowed_updates);
            }
        }
        Ok(info)
    })
}

/// Text (or caption) and its entities, from explicit entities or from `parse_mode`.
fn formatted(
    p: &Params,
    text_key: &str,
    entities_key: &str,
) -> Result<(String, Vec<Value>), ApiError> {
    let raw = p.str(text_key).unwrap_or_default();
    if let Some(Value::Array(list)) = p.json(entities_key)? {
        return Ok((raw, list));
    }
    match p.str("parse_mode").filter(|m| !m.is_empty()) {
        Some(mode) => entities::parse(&raw, &mode).map_err(ApiError::bad_request),
        None => Ok((raw, Vec::new())),
    }
}

/// The caption of a media message, checked against [`MAX_CAPTION`].
fn caption(p: &Params) -> Result<(String, Vec<Value>), ApiError> {
    let (caption, entities) = formatted(p, "caption", "caption_entities")?;
    if entities::utf16_len(&caption) > MAX_CAPTION {
        return Err(ApiError::bad_request("message caption is too long"));
    }
    Ok((caption, entities))
}

fn ensure_chat(shared: &Shared, token: &str, chat_id: i64) -> Result<(), ApiError> {
    with_bot(shared, token, |bot| {
        if bot.chats.contains_key(&chat_id) {
            Ok(())
        } else {
            Err(ApiError::bad_request("chat not found"))
        }
    })
}

/// Stores messages the bot sends to one chat: checks the chat, flood control (one unit for the whole call)
/// and the reply target, sets `from`, `reply_to_message` and an inline keyboard; any other `markup` changes
/// the chat's reply keyboard instead (see [`crate::state::Chat::apply_reply_markup`]).
fn finish_send(
    shared: &Shared,
    token: &str,
    chat_id: i64,
    bodies: Vec<Value>,
    p: &Params,
    markup: Option<ReplyMarkup>,
) -> Result<Vec<Value>, ApiError> {
    let reply = reply_target(p)?;
    let flood_control = shared.flood_control();
    let sent = with_bot(shared, token, |bot| {
        let bot_user = bot.user.clone();
        if !bot.chats.contains_key(&chat_id) {
            return Err(ApiError::bad_request("chat not found"));
        }
        let chat = bot
            .chats
            .get(&chat_id)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        let reply_to = match reply {
            Some((message_id, allow_without)) => match chat.message(message_id) {
                Some(message) => Some(strip_reply(message)),
                None if allow_without => None,
                None => return Err(ApiError::bad_request("message to be replied not found")),
            },
            None => None,
        };
        // Flood control counts only calls that would send something.
        if flood_control {
            bot.flood
                .acquire(chat_id, Instant::now())
                .map_err(ApiError::too_many_requests)?;
        }
        let chat = bot
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        let mut sent = Vec::with_capacity(bodies.len());
        for mut body in bodies {
            body["from"] = bot_user.clone();
            if let Some(reply_to) = &reply_to {
                body["reply_to_message"] = reply_to.clone();
            }
            if let Some(ReplyMarkup::Inline(inline)) = &markup {
                body["reply_markup"] = inline.clone();
            }
            sent.push(chat.add_message(body));
        }
        if let (Some(markup), Some(last)) = (&markup, sent.last()) {
            chat.apply_reply_markup(last["message_id"].as_i64().unwrap_or_default(), markup);
        }
        Ok(sent)
    })?;
    shared.notify();
    Ok(sent)
}

/// A message as it appears inside `reply_to_message`: Telegram nests one level only.
pub fn strip_reply(message: &Value) -> Value {
    let mut message = message.clone();
    if let Some(map) = message.as_object_mut() {
        map.remove("reply_to_message");
    }
    message
}

/// `(message_id, allow_sending_without_reply)` from `reply_parameters` or the older `reply_to_message_id`.
fn reply_target(p: &Params) -> Result<Option<(i64, bool)>, ApiError> {
    if let Some(params) = p.json("reply_parameters")? {
        let id = params
            .get("message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;
        let allow = params
            .get("allow_sending_without_reply")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return Ok(Some((id, allow)));
    }
    Ok(p.i64("reply_to_message_id")?
        .map(|id| (id, p.bool("allow_sending_without_reply"))))
}

fn send_message(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let chat_id = p.chat_id()?;
    let (text, entities) = formatted(p, "text", "entities")?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("message text is empty"));
    }
    if entities::utf16_len(&text) > MAX_TEXT {
        return Err(ApiError::bad_request("message is too long"));
    }
    let markup = markup::parse(p)?;
    let mut body = json!({ "text": text });
    if !entities.is_empty() {
        body["entities"] = json!(entities);
    }
    let mut sent = finish_send(shared, token, chat_id, vec![body], p, markup)?;
    sent.pop()
        .ok_or_else(|| ApiError::bad_request("message was not sent"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Text,
    Caption,
    Markup,
}

fn edit_message(shared: &Shared, token: &str, p: &Params, edit: Edit) -> Result<Value, ApiError> {
    if p.has("inline_message_id") {
        return Err(ApiError::bad_request("MESSAGE_ID_INVALID"));
    }
    let chat_id = p.chat_id()?;
    let message_id = p
        .i64("message_id")?
        .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;
    let new_text = match edit {
        Edit::Text => {
            let (text, entities) = formatted(p, "text", "entities")?;
            if text.trim().is_empty() {
                return Err(ApiError::bad_request("message text is empty"));
            }
            if entities::utf16_len(&text) > MAX_TEXT {
                return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
            }
            Some((text, entities))
        }
        Edit::Caption => Some(caption(p)?),
        Edit::Markup => None,
    };
    // Edits take inline keyboards only; TDLib refuses the others once it has found the message.
    let (markup, inline_expected) = match markup::parse(p)? {
        None => (None, false),
        Some(ReplyMarkup::Inline(inline)) => (Some(inline), false),
        Some(_) => (None, true),
    };
    let (text_key, entities_key) = if edit == Edit::Caption {
        ("caption", "caption_entities")
    } else {
        ("text", "entities")
    };
    let edited = with_bot(shared, token, |bot| {
        let bot_id = bot.id;
        let chat = bot
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        let current = chat
            .message(message_id)
            .ok_or_else(|| ApiError::bad_request("message to edit not found"))?;
        if current["from"]["id"].as_i64() != Some(bot_id) {
            return Err(ApiError::bad_request("message can't be edited"));
        }
        match edit {
            Edit::Text if current.get("text").is_none() => {
                return Err(ApiError::bad_request(
                    "there is no text in the message to edit",
                ));
            }
            Edit::Caption if current.get("text").is_some() => {
                return Err(ApiError::bad_request(
                    "there is no caption in the message to edit",
                ));
            }
            _ => {}
        }
        if inline_expected {
            return Err(ApiError::bad_request("inline keyboard expected"));
        }
        let same_markup = current.get("reply_markup") == markup.as_ref();
        let same_content = match &new_text {
            Some((text, entities)) => {
                let old_text = current.get(text_key).and_then(Value::as_str).unwrap_or("");
                let old_entities = current
                    .get(entities_key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                old_text == text && &old_entities == entities
            }
            None => true,
        };
        if same_content && same_markup {
            return Err(ApiError::bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            ));
        }
        chat.update_message(message_id, |message| {
            if let (Some((text, entities)), Some(map)) = (&new_text, message.as_object_mut()) {
                map.insert(text_key.to_owned(), json!(text));
                if entities.is_empty() {
                    map.remove(entities_key);
                } else {
                    map.insert(entities_key.to_owned(), json!(entities));
                }
            }
            if let Some(map) = message.as_object_mut() {
                match &markup {
                    Some(markup) => map.insert("reply_markup".to_owned(), markup.clone()),
                    None => map.remove("reply_markup"),
                };
                map.insert("edit_date".to_owned(), json!(now_unix()));
            }
        })
        .ok_or_else(|| ApiError::bad_request("message to edit not found"))
    })?;
    shared.notify();
    Ok(edited)
}

fn delete_message(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let chat_id = p.chat_id()?;
    let message_id = p
        .i64("message_id")?
        .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;
    with_bot(shared, token, |bot| {
        let bot_id = bot.id;
        let chat = bot
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        let message = chat
            .message(message_id)
            .ok_or_else(|| ApiError::bad_request("message to delete not found"))?;
        // In groups a bot without admin rights can delete only its own messages.
        if chat_id < 0 && message["from"]["id"].as_i64() != Some(bot_id) {
            return Err(ApiError::bad_request("message can't be deleted"));
        }
        chat.delete_message(message_id);
        Ok(())
    })?;
    shared.notify();
    Ok(json!(true))
}

fn answer_callback_query(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let id = p.str("callback_query_id").unwrap_or_default();
    let text = p.str("text");
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
    }
    let show_alert = p.bool("show_alert");
    let url = p.str("url");
    with_bot(shared, token, |bot| {
        let too_old = || {
            ApiError::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            )
        };
        let pending = bot.callbacks.get_mut(&id).ok_or_else(too_old)?;
        if pending.answered || pending.created.elapsed() > CALLBACK_ANSWER_WINDOW {
            return Err(too_old());
        }
        pending.answered = true;
        let (chat_id, message_id, data) =
            (pending.chat_id, pending.message_id, pending.data.clone());
        if let Some(chat) = bot.chats.get_mut(&chat_id) {
            chat.add_event(
                EntryKind::CallbackAnswer,
                json!({
                    "callback_query_id": id,
                    "message_id": message_id,
                    "data": data,
                    "text": text,
                    "show_alert": show_alert,
                    "url": url,
                }),
            );
        }
        Ok(())
    })?;
    shared.notify();
    Ok(json!(true))
}

const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

fn send_chat_action(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let chat_id = p.chat_id()?;
    let action = p.str("action").unwrap_or_default();
    if !CHAT_ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::bad_request("wrong parameter action in request"));
    }
    with_bot(shared, token, |bot| {
        let chat = bot
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        chat.add_event(
            EntryKind::ChatAction,
            json!({ "action": action, "date": now_unix() }),
        );
        Ok(())
    })?;
    shared.notify();
    Ok(json!(true))
}

fn commands_key(p: &Params) -> Result<String, ApiError> {
    let scope = p
        .json("scope")?
        .unwrap_or_else(|| json!({ "type": "default" }));
    let language = p.str("language_code").unwrap_or_default();
    Ok(format!("{scope}|{language}"))
}

/// The commands a user sees in `chat_id` with language `language` (may be empty), resolved as Telegram
/// clients do: the first non-empty list of the scopes chat, then all private chats or all group chats, then
/// default — at each scope the user's language before the list without a language.
/// Source: <https://core.telegram.org/bots/api#determining-list-of-commands>.
pub fn commands_for_chat(bot: &crate::state::Bot, chat_id: i64, language: &str) -> Value {
    let kind = if chat_id > 0 {
        "all_private_chats"
    } else {
        "all_group_chats"
    };
    let scope_rank = |scope: &Value| -> Option<usize> {
        match scope["type"].as_str()? {
            "chat" => {
                let id = match &scope["chat_id"] {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                (id == Some(chat_id)).then_some(0)
            }
            t if t == kind => Some(1),
            "default" => Some(2),
            _ => None,
        }
    };
    let mut best: Option<((usize, usize), &Value)> = None;
    for (key, commands) in &bot.commands {
        let Some((scope, lang)) = key.rsplit_once('|') else {
            continue;
        };
        let Ok(scope) = serde_json::from_str::<Value>(scope) else {
            continue;
        };
        let Some(scope_rank) = scope_rank(&scope) else {
            continue;
        };
        let lang_rank = if lang.is_empty() {
            1
        } else if !language.is_empty() && lang == language {
            0
        } else {
            continue;
        };
        let empty = commands.as_array().is_none_or(Vec::is_empty);
        let rank = (scope_rank, lang_rank);
        if !empty && best.is_none_or(|(b, _)| rank < b) {
            best = Some((rank, commands));
        }
    }
    best.map_or_else(|| json!([]), |(_, commands)| commands.clone())
}

fn set_my_commands(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let commands = p
        .json("commands")?
        .ok_or_else(|| ApiError::bad_request("parameter \"commands\" is required"))?;
    let list = commands
        .as_array()
        .ok_or_else(|| ApiError::bad_request("field \"commands\" must be an Array"))?;
    if list.len() > 100 {
        return Err(ApiError::bad_request("too many commands specified"));
    }
    for command in list {
        let name = command.get("command").and_then(Value::as_str).unwrap_or("");
        let description = command
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let valid_name = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_name {
            return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
        }
        if description.is_empty() || description.chars().count() > 256 {
            return Err(ApiError::bad_request(
                "command description must be non-empty",
            ));
        }
    }
    let key = commands_key(p)?;
    with_bot(shared, token, |bot| {
        bot.commands.insert(key, commands.clone());
        Ok(json!(true))
    })
}

fn get_my_commands(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let key = commands_key(p)?;
    with_bot(shared, token, |bot| {
        Ok(bot.commands.get(&key).cloned().unwrap_or_else(|| json!([])))
    })
}

fn delete_my_commands(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let key = commands_key(p)?;
    with_bot(shared, token, |bot| {
        bot.commands.remove(&key);
        Ok(json!(true))
    })
}

fn get_file(shared: &Shared, p: &Params) -> Result<Value, ApiError> {
    let file_id = p.str("file_id").unwrap_or_default();
    let file = shared
        .lock()
        .file(&file_id)
        .ok_or_else(|| ApiError::bad_request("invalid file id"))?;
    if file.bytes.len() > MAX_DOWNLOAD {
        return Err(ApiError::bad_request("file is too big"));
    }
    Ok(file.file_object())
}

/// The kinds of media a message can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `photo`: an array of PhotoSize (a user's photo is re-encoded to JPEG sizes, metadata stripped).
    Photo,
    /// `document`: any file, kept byte for byte with its name and MIME type.
    Document,
    /// `voice`: OGG/Opus voice note.
    Voice,
    /// `audio`: music.
    Audio,
    /// `video`.
    Video,
    /// `video_note`: round video.
    VideoNote,
    /// `sticker`: a static WebP (other images are re-encoded to WebP), an animated TGS or a WebM video
    /// sticker.
    Sticker,
    /// `animation`: a GIF or a silent MP4; the message carries it as `document` too, as Telegram does.
    Animation,
}

impl MediaKind {
    /// The Message field (and upload field) name.
    pub fn field(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Document => "document",
            MediaKind::Voice => "voice",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::VideoNote => "video_note",
            MediaKind::Sticker => "sticker",
            MediaKind::Animation => "animation",
        }
    }

    /// The kind for an upload field or InputMedia `type`.
    pub fn from_field(name: &str) -> Option<Self> {
        Some(match name {
            "photo" => MediaKind::Photo,
            "document" => MediaKind::Document,
            "voice" => MediaKind::Voice,
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            "video_note" => MediaKind::VideoNote,
            "sticker" => MediaKind::Sticker,
            "animation" => MediaKind::Animation,
            _ => return None,
        })
    }

    fn storage(self) -> (&'static str, &'static str) {
        match self {
            MediaKind::Photo => ("photos", "AgAC"),
            MediaKind::Document => ("documents", "BQAC"),
            MediaKind::Voice => ("voice", "AwAC"),
            MediaKind::Audio => ("music", "CQAC"),
            MediaKind::Video => ("videos", "BAAC"),
            MediaKind::VideoNote => ("video_notes", "DQAC"),
            MediaKind::Sticker => ("stickers", "CAAC"),
            MediaKind::Animation => ("animations", "CgAC"),
        }
    }

    /// Whether a caption can go with it (stickers and video notes have none).
    pub fn takes_caption(self) -> bool {
        !matches!(self, MediaKind::Sticker | MediaKind::VideoNote)
    }

    /// Whether it can be part of an album (`media_group_id`): photos and videos, documents, audio.
    pub fn in_albums(self) -> bool {
        matches!(
            self,
            MediaKind::Photo | MediaKind::Video | MediaKind::Document | MediaKind::Audio
        )
    }

    /// Puts `media` (what [`media_object`] made) into a message `body` under this kind's field; an
    /// animation also as `document` (file_id, file_unique_id, file_name, mime_type, file_size), as Telegram
    /// keeps it for clients that know no animations.
    pub fn put(self, body: &mut Value, media: Value) {
        if self == MediaKind::Animation {
            let mut document = json!({});
            for key in [
                "file_id",
                "file_unique_id",
                "file_name",
                "mime_type",
                "file_size",
            ] {
                if let Some(v) = media.get(key) {
                    document[key] = v.clone();
                }
            }
            body["document"] = document;
        }
        body[self.field()] = media;
    }
}

/// A file given to a send method: a new upload or a file already in the sandbox.
#[derive(Debug)]
pub enum Input {
    /// New bytes.
    Upload(Upload),
    /// A file_id of a stored file.
    Existing(Arc<StoredFile>),
}

/// Finds the file for `field`: an upload part of that name, `attach://<part>`, an `http(s)://` URL or a file_id.
async fn resolve_input(
    shared: &Shared,
    p: &Params,
    field: &str,
    value: Option<String>,
) -> Result<Input, ApiError> {
    if value.is_none()
        && let Some(upload) = p.file(field)
    {
        return Ok(Input::Upload(upload.clone()));
    }
    let Some(value) = value.or_else(|| p.str(field)).filter(|v| !v.is_empty()) else {
        return Err(ApiError::bad_request(format!(
            "there is no {field} in the request"
        )));
    };
    if let Some(part) = value.strip_prefix("attach://") {
        return p
            .file(part)
            .cloned()
            .map(Input::Upload)
            .ok_or_else(|| ApiError::bad_request("wrong file identifier/HTTP URL specified"));
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        let failed = || ApiError::bad_request("failed to get HTTP URL content");
        let response = shared.http.get(&value).send().await.map_err(|_| failed())?;
        if !response.status().is_success() {
            return Err(failed());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let file_name = value
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(|_| failed())?;
        if bytes.len() > MAX_DOWNLOAD {
            return Err(failed());
        }
        return Ok(Input::Upload(Upload {
            bytes,
            file_name,
            content_type,
        }));
    }
    shared
        .lock()
        .file(&value)
        .map(Input::Existing)
        .ok_or_else(|| ApiError::bad_request("wrong file identifier/HTTP URL specified"))
}

/// Builds the media object of a message (`photo` array, `document`, `voice`, ...) and stores its files.
/// `p` may give `duration`, `width`, `height`, `performer`, `title`, `length`.
pub async fn media_object(
    shared: &Shared,
    kind: MediaKind,
    input: Input,
    p: &Params,
) -> Result<Value, ApiError> {
    let (bytes, file_name, content_type, existing) = match input {
        Input::Existing(file) => {
            if kind == MediaKind::Photo
                && let Some(photo) = &file.photo
            {
                return Ok(photo.clone());
            }
            if let Some(media) = &file.media
                && media_kind_matches(kind, media)
            {
                return Ok(media.clone());
            }
            (
                file.bytes.clone(),
                file.file_name.clone(),
                Some(file.mime_type.clone()),
                Some(file),
            )
        }
        Input::Upload(upload) => (upload.bytes, upload.file_name, upload.content_type, None),
    };
    if kind == MediaKind::Photo {
        return photo_object(shared, bytes).await;
    }
    if kind == MediaKind::Sticker {
        return sticker_object(shared, bytes, existing, p).await;
    }
    let mime_type = match content_type.filter(|t| !t.is_empty() && t != "application/octet-stream")
    {
        Some(t) => t,
        None if kind == MediaKind::Voice && bytes.starts_with(b"OggS") => "audio/ogg".to_owned(),
        None => media::guess_mime(file_name.as_deref(), &bytes),
    };
    let duration = match p.i64("duration")? {
        Some(d) => d.max(0) as u32,
        None if kind == MediaKind::Document => 0,
        None if kind == MediaKind::Animation && bytes.starts_with(b"GIF") => {
            let data = bytes.clone();
            tokio::task::spawn_blocking(move || media::gif_info(&data))
                .await
                .ok()
                .flatten()
                .map_or(0, |(_, _, secs)| secs.round() as u32)
        }
        None => {
            let data = bytes.clone();
            tokio::task::spawn_blocking(move || media::duration_secs(&data))
                .await
                .ok()
                .flatten()
                .unwrap_or(0)
        }
    };
    let (dir, prefix) = kind.storage();
    let file = match existing {
        Some(file) => file,
        None => shared
            .lock()
            .store_file(bytes, dir, prefix, mime_type.clone(), file_name.clone()),
    };
    let mut media = json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.bytes.len(),
    });
    match kind {
        MediaKind::Document => {
            if let Some(name) = &file_name {
                media["file_name"] = json!(name);
            }
            media["mime_type"] = json!(mime_type);
        }
        MediaKind::Voice => {
            media["duration"] = json!(duration);
            media["mime_type"] = json!(mime_type);
        }
        MediaKind::Audio => {
            media["duration"] = json!(duration);
            for key in ["performer", "title"] {
                if let Some(v) = p.str(key) {
                    media[key] = json!(v);
                }
            }
            if let Some(name) = &file_name {
                media["file_name"] = json!(name);
            }
            media["mime_type"] = json!(mime_type);
        }
        MediaKind::Video | MediaKind::Animation => {
            let data = file.bytes.clone();
            let probed = tokio::task::spawn_blocking(move || {
                media::gif_info(&data)
                    .map(|(w, h, _)| (w, h))
                    .or_else(|| media::video_size(&data))
            })
            .await
            .ok()
            .flatten()
            .unwrap_or((0, 0));
            media["width"] = json!(p.i64("width")?.unwrap_or(i64::from(probed.0)));
            media["height"] = json!(p.i64("height")?.unwrap_or(i64::from(probed.1)));
            media["duration"] = json!(duration);
            if let Some(name) = &file_name {
                media["file_name"] = json!(name);
            }
            media["mime_type"] = json!(mime_type);
        }
        MediaKind::VideoNote => {
            // A video note is square: `length` is its side (Telegram's clients record 384 or 400 px).
            let length = match p.i64("length")? {
                Some(length) => length,
                None => {
                    let data = file.bytes.clone();
                    tokio::task::spawn_blocking(move || media::video_size(&data))
                        .await
                        .ok()
                        .flatten()
                        .map_or(240, |(w, h)| i64::from(w.min(h)))
                }
            };
            media["length"] = json!(length);
            media["duration"] = json!(duration);
        }
        MediaKind::Photo | MediaKind::Sticker => {}
    }
    let mut state = shared.lock();
    if let Some(stored) = state.file(file.file_id.as_str()) {
        state.update_file(StoredFile {
            file_id: stored.file_id.clone(),
            file_unique_id: stored.file_unique_id.clone(),
            bytes: stored.bytes.clone(),
            file_path: stored.file_path.clone(),
            mime_type: stored.mime_type.clone(),
            file_name: stored.file_name.clone(),
            photo: stored.photo.clone(),
            media: Some(media.clone()),
        });
    }
    Ok(media)
}

fn media_kind_matches(kind: MediaKind, media: &Value) -> bool {
    match kind {
        MediaKind::Document => {
            media.get("duration").is_none()
                && media.get("length").is_none()
                && media.get("is_video").is_none()
        }
        MediaKind::Sticker => media.get("is_video").is_some(),
        MediaKind::Voice => {
            media.get("duration").is_some()
                && media.get("performer").is_none()
                && media.get("width").is_none()
        }
        _ => false,
    }
}

/// A `Sticker` (type `regular`): a static image is read for its size and stored as WebP, a TGS is animated,
/// a WebM a video sticker (its size from the file when it can be read, else `width`/`height` of `p`, else
/// 512 × 512, Telegram's sticker size). `emoji` from `p`.
async fn sticker_object(
    shared: &Shared,
    bytes: Bytes,
    existing: Option<Arc<StoredFile>>,
    p: &Params,
) -> Result<Value, ApiError> {
    let data = bytes.clone();
    let format = tokio::task::spawn_blocking(move || media::sticker_format(&data))
        .await
        .map_err(|_| ApiError::bad_request("IMAGE_PROCESS_FAILED"))?
        .map_err(|_| ApiError::bad_request("IMAGE_PROCESS_FAILED"))?;
    let given = (p.i64("width")?, p.i64("height")?);
    let (width, height, is_animated, is_video, mime_type, converted) = match format {
        media::StickerFormat::Static {
            width,
            height,
            webp,
        } => (
            i64::from(width),
            i64::from(height),
            false,
            false,
            "image/webp",
            webp,
        ),
        media::StickerFormat::Animated => (
            given.0.unwrap_or(512),
            given.1.unwrap_or(512),
            true,
            false,
            "application/x-tgsticker",
            None,
        ),
        media::StickerFormat::Video => {
            let data = bytes.clone();
            let probed = tokio::task::spawn_blocking(move || media::video_size(&data))
                .await
                .ok()
                .flatten();
            let (w, h) = match (given, probed) {
                ((Some(w), Some(h)), _) => (w, h),
                (_, Some((w, h))) => (i64::from(w), i64::from(h)),
                _ => (given.0.unwrap_or(512), given.1.unwrap_or(512)),
            };
            (w, h, false, true, "video/webm", None)
        }
    };
    let (dir, prefix) = MediaKind::Sticker.storage();
    let file = match (existing, converted) {
        (Some(file), None) => file,
        (_, converted) => shared.lock().store_file(
            converted.unwrap_or(bytes),
            dir,
            prefix,
            mime_type.to_owned(),
            None,
        ),
    };
    let mut sticker = json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "type": "regular",
        "width": width,
        "height": height,
        "is_animated": is_animated,
        "is_video": is_video,
        "file_size": file.bytes.len(),
    });
    if let Some(emoji) = p.str("emoji").filter(|e| !e.is_empty()) {
        sticker["emoji"] = json!(emoji);
    }
    let mut state = shared.lock();
    if let Some(stored) = state.file(file.file_id.as_str()) {
        state.update_file(StoredFile {
            file_id: stored.file_id.clone(),
            file_unique_id: stored.file_unique_id.clone(),
            bytes: stored.bytes.clone(),
            file_path: stored.file_path.clone(),
            mime_type: stored.mime_type.clone(),
            file_name: stored.file_name.clone(),
            photo: None,
            media: Some(sticker.clone()),
        });
    }
    Ok(sticker)
}

/// Re-encodes a photo into Telegram's sizes and stores each size; returns the PhotoSize array.
async fn photo_object(shared: &Shared, bytes: Bytes) -> Result<Value, ApiError> {
    let sizes = tokio::task::spawn_blocking(move || media::photo_sizes(&bytes))
        .await
        .map_err(|_| ApiError::bad_request("IMAGE_PROCESS_FAILED"))?
        .map_err(|_| ApiError::bad_request("IMAGE_PROCESS_FAILED"))?;
    let mut state = shared.lock();
    let (dir, prefix) = MediaKind::Photo.storage();
    let files: Vec<Arc<StoredFile>> = sizes
        .iter()
        .map(|size| {
            state.store_file(
                size.bytes.clone(),
                dir,
                prefix,
                "image/jpeg".to_owned(),
                None,
            )
        })
        .collect();
    let photo: Vec<Value> = files
        .iter()
        .zip(&sizes)
        .map(|(file, size)| {
            json!({
                "file_id": file.file_id,
                "file_unique_id": file.file_unique_id,
                "file_size": file.bytes.len(),
                "width": size.width,
                "height": size.height,
            })
        })
        .collect();
    let photo = Value::Array(photo);
    for file in files {
        state.update_file(StoredFile {
            file_id: file.file_id.clone(),
            file_unique_id: file.file_unique_id.clone(),
            bytes: file.bytes.clone(),
            file_path: file.file_path.clone(),
            mime_type: file.mime_type.clone(),
            file_name: None,
            photo: Some(photo.clone()),
            media: None,
        });
    }
    Ok(photo)
}

async fn send_media(
    shared: &Shared,
    token: &str,
    p: &Params,
    kind: MediaKind,
) -> Result<Value, ApiError> {
    let chat_id = p.chat_id()?;
    ensure_chat(shared, token, chat_id)?;
    let (caption, caption_entities) = caption(p)?;
    let markup = markup::parse(p)?;
    let input = resolve_input(shared, p, kind.field(), None).await?;
    let media = media_object(shared, kind, input, p).await?;
    let mut body = json!({});
    kind.put(&mut body, media);
    if !caption.is_empty() && kind.takes_caption() {
        body["caption"] = json!(caption);
        if !caption_entities.is_empty() {
            body["caption_entities"] = json!(caption_entities);
        }
    }
    if p.bool("has_spoiler") {
        body["has_media_spoiler"] = json!(true);
    }
    let mut sent = finish_send(shared, token, chat_id, vec![body], p, markup)?;
    sent.pop()
        .ok_or_else(|| ApiError::bad_request("message was not sent"))
}

async fn send_media_group(shared: &Shared, token: &str, p: &Params) -> Result<Value, ApiError> {
    let chat_id = p.chat_id()?;
    ensure_chat(shared, token, chat_id)?;
    let items = match p.json("media")? {
        Some(Value::Array(items)) => items,
        _ => return Err(ApiError::bad_request("parameter \"media\" is required")),
    };
    if items.len() > 10 {
        return Err(ApiError::bad_request(
            "Too much messages to send as an album",
        ));
    }
    if items.len() < 2 {
        return Err(ApiError::bad_request(
            "wrong number of media specified in the album",
        ));
    }
    let group_id = shared.lock().next_media_group_id();
    let mut bodies = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(fields) = item else {
            return Err(ApiError::bad_request(
                "can't parse InputMedia: media is not an object",
            ));
        };
        let kind = fields
            .get("type")
            .and_then(Value::as_str)
            .and_then(MediaKind::from_field)
            .filter(|k| k.in_albums())
            .ok_or_else(|| {
                ApiError::bad_request("can't parse InputMedia: unsupported media type")
            })?;
        let media_ref = fields
            .get("media")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let item_params = Params::from_json(fields);
        let (caption, caption_entities) = caption(&item_params)?;
        let input = resolve_input(shared, p, "media", media_ref).await?;
        let media = media_object(shared, kind, input, &item_params).await?;
        let mut body = json!({ "media_group_id": group_id });
        body[kind.field()] = media;
        if !caption.is_empty() {
            body["caption"] = json!(caption);
            if !caption_entities.is_empty() {
                body["caption_entities"] = json!(caption_entities);
            }
        }
        bodies.push(body);
    }
    Ok(Value::Array(finish_send(
        shared, token, chat_id, bodies, p, None,
    )?))
}
