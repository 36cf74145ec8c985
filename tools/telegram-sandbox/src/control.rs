//! The user side: a JSON-over-HTTP control API through which tests, scripts and people act as Telegram users
//! (send messages and files, press inline buttons), read a chat's history as both sides see it and the reply
//! keyboard under its input field, download any file, and inject Bot API faults. Every bad request is a 400
//! with a reason.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, RawQuery, Request, State},
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    bot_api::{self, Input, MAX_TEXT, MediaKind},
    entities,
    error::ControlError,
    markup::ChatKeyboard,
    params::Params,
    state::{EntryKind, Fault, PendingCallback, Shared},
};

/// The multipart file parts a user's message can carry, one per message: the Message field of the same name.
const UPLOAD_FIELDS: [&str; 8] = [
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "video_note",
    "sticker",
    "animation",
];

/// Longest `wait` of the history long poll, in seconds.
const MAX_WAIT_SECS: u64 = 120;

type Result<T, E = ControlError> = std::result::Result<T, E>;

fn query_map(raw: Option<String>) -> Result<HashMap<String, String>> {
    let raw = raw.unwrap_or_default();
    serde_urlencoded::from_str(&raw)
        .map_err(|e| ControlError::bad_request(format!("bad query string: {e}")))
}

fn parse_chat_id(raw: &str) -> Result<i64> {
    match raw.parse::<i64>() {
        Ok(0) | Err(_) => Err(ControlError::bad_request(format!(
            "chat id must be a non-zero integer, got {raw:?}"
        ))),
        Ok(id) => Ok(id),
    }
}

/// The token of the bot a control call is about: `?bot=<bot id>`, else the `--token` bot, else the only or
/// the most recently active bot.
fn bot_token(shared: &Shared, query: &HashMap<String, String>) -> Result<String> {
    let state = shared.lock();
    if let Some(raw) = query.get("bot") {
        let id: i64 = raw.parse().map_err(|_| {
            ControlError::bad_request(format!("bot must be a bot user id, got {raw:?}"))
        })?;
        return state.token_of(id).ok_or_else(|| {
            ControlError::not_found(format!("no bot with id {id} has called the Bot API"))
        });
    }
    if let Some(token) = &shared.config.token {
        return Ok(token.clone());
    }
    if state.bots.len() == 1
        && let Some(token) = state.bots.keys().next()
    {
        return Ok(token.clone());
    }
    state
        .last_bot
        .clone()
        .ok_or_else(|| ControlError::bad_request("no bot has called the Bot API yet: start the bot first, or run the sandbox with --token"))
}

/// A Telegram `User` for a human from the control API's `from` (defaults: id = chat id, "Sandbox User").
fn user_from(from: Option<Value>, chat_id: i64) -> Result<Value> {
    let default_id = if chat_id > 0 { chat_id } else { 100_000_001 };
    let Some(from) = from else {
        return Ok(json!({ "id": default_id, "is_bot": false, "first_name": "Sandbox User" }));
    };
    let from = match from {
        Value::String(s) => serde_json::from_str(&s)
            .map_err(|e| ControlError::bad_request(format!("from is not a JSON object: {e}")))?,
        other => other,
    };
    let Value::Object(fields) = from else {
        return Err(ControlError::bad_request(
            "from must be an object like {\"id\":1,\"first_name\":\"Ann\"}",
        ));
    };
    let id = match fields.get("id") {
        None => default_id,
        Some(v) => v
            .as_i64()
            .filter(|id| *id > 0)
            .ok_or_else(|| ControlError::bad_request("from.id must be a positive integer"))?,
    };
    if chat_id > 0 && id != chat_id {
        return Err(ControlError::bad_request(format!(
            "in a private chat from.id must equal the chat id {chat_id}, got {id}"
        )));
    }
    let mut user = json!({ "id": id, "is_bot": false, "first_name": "Sandbox User" });
    for key in ["first_name", "last_name", "username", "language_code"] {
        match fields.get(key) {
            Some(Value::String(s)) => user[key] = json!(s),
            Some(Value::Null) | None => {}
            Some(_) => {
                return Err(ControlError::bad_request(format!(
                    "from.{key} must be a string"
                )));
            }
        }
    }
    if fields.get("is_premium").and_then(Value::as_bool) == Some(true) {
        user["is_premium"] = json!(true);
    }
    Ok(user)
}

/// The `Chat` object: private chats take the user's names; negative ids are groups (supergroups below
/// -10^12, as Telegram numbers them).
fn chat_object(chat_id: i64, user: &Value) -> Value {
    if chat_id > 0 {
        let mut chat =
            json!({ "id": chat_id, "type": "private", "first_name": user["first_name"] });
        for key in ["last_name", "username"] {
            if let Some(v) = user.get(key) {
                chat[key] = v.clone();
            }
        }
        chat
    } else if chat_id < -1_000_000_000_000 {
        json!({ "id": chat_id, "type": "supergroup", "title": format!("Sandbox supergroup {}", -chat_id) })
    } else {
        json!({ "id": chat_id, "type": "group", "title": format!("Sandbox group {}", -chat_id) })
    }
}

/// `POST /sandbox/chats/{chat_id}/messages`: a user sends a text (JSON) or a file (multipart); answers with
/// the Message as the bot receives it.
pub async fn send_message(
    State(shared): State<Arc<Shared>>,
    Path(chat_id): Path<String>,
    RawQuery(query): RawQuery,
    req: Request,
) -> Result<Json<Value>> {
    let chat_id = parse_chat_id(&chat_id)?;
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let params = Params::from_request(req).await?;
    let user = user_from(
        params
            .json("from")
            .map_err(|_| ControlError::bad_request("from is not valid JSON"))?,
        chat_id,
    )?;
    let reply_to = params.i64("reply_to_message_id")?;
    let media_group_id = params.str("media_group_id").filter(|id| !id.is_empty());
    let upload = UPLOAD_FIELDS
        .into_iter()
        .find_map(|field| params.file(field).map(|upload| (field, upload.clone())));
    let mut body = json!({});
    match upload {
        Some((field, upload)) => {
            let kind = MediaKind::from_field(field)
                .ok_or_else(|| ControlError::bad_request("unknown file field"))?;
            let caption = params.str("caption").filter(|c| !c.is_empty());
            if caption.is_some() && kind == MediaKind::Sticker {
                return Err(ControlError::bad_request("a sticker has no caption"));
            }
            if let Some(caption) = &caption
                && entities::utf16_len(caption) > bot_api::MAX_CAPTION
            {
                return Err(ControlError::bad_request(
                    "caption is longer than 1024 characters",
                ));
            }
            if let Some(id) = &media_group_id {
                if !kind.in_albums() {
                    return Err(ControlError::bad_request(format!(
                        "media_group_id: a {field} can't be part of an album (photos, videos, documents and audio can)"
                    )));
                }
                if id.len() > 64 {
                    return Err(ControlError::bad_request(
                        "media_group_id is longer than 64 characters",
                    ));
                }
            }
            let media = bot_api::media_object(&shared, kind, Input::Upload(upload), &params)
                .await
                .map_err(|e| {
                    ControlError::bad_request(format!(
                        "can't process the {field}: {}",
                        e.description
                    ))
                })?;
            kind.put(&mut body, media);
            if let Some(caption) = caption {
                let found = entities::user_entities(&caption);
                body["caption"] = json!(caption);
                if !found.is_empty() {
                    body["caption_entities"] = json!(found);
                }
            }
            if let Some(id) = media_group_id {
                body["media_group_id"] = json!(id);
            }
        }
        None => {
            let text = params.str("text").unwrap_or_default();
            if text.trim().is_empty() {
                let hint = if is_json {
                    "a text message needs a non-empty \"text\""
                } else {
                    "send JSON with \"text\", or multipart with one file part named photo, document, voice, audio, video, video_note, sticker or animation"
                };
                return Err(ControlError::bad_request(hint));
            }
            if media_group_id.is_some() {
                return Err(ControlError::bad_request(
                    "media_group_id: a text can't be part of an album",
                ));
            }
            if entities::utf16_len(&text) > MAX_TEXT {
                return Err(ControlError::bad_request(
                    "text is longer than 4096 characters",
                ));
            }
            let found = entities::user_entities(&text);
            body["text"] = json!(text);
            if !found.is_empty() {
                body["entities"] = json!(found);
            }
        }
    }
    let message = {
        let mut state = shared.lock();
        let bot = state
            .bots
            .get_mut(&token)
            .ok_or_else(|| ControlError::bad_request("the bot is gone"))?;
        let chat = bot.chat_or_create(chat_id, || chat_object(chat_id, &user));
        if let Some(reply_to) = reply_to {
            let replied = chat.message(reply_to).ok_or_else(|| {
                ControlError::not_found(format!("no message {reply_to} in chat {chat_id}"))
            })?;
            body["reply_to_message"] = bot_api::strip_reply(replied);
        }
        body["from"] = user;
        let message = chat.add_message(body);
        if let Some(text) = message["text"].as_str() {
            chat.user_sent_text(text);
        }
        let bot_has_written = chat.bot_has_written;
        if bot.receives(&message, bot_has_written) {
            bot.push_update("message", message.clone());
        } else {
            tracing::debug!(
                chat_id,
                message_id = message["message_id"].as_i64(),
                "group privacy: message not delivered to the bot"
            );
        }
        message
    };
    shared.notify();
    Ok(Json(message))
}

/// Body of `POST /sandbox/chats/{chat_id}/callback`.
#[derive(Debug, Deserialize)]
struct ButtonPress {
    from: Option<Value>,
    message_id: i64,
    data: String,
}

/// `POST /sandbox/chats/{chat_id}/callback`: the user presses an inline button; answers with the
/// CallbackQuery as the bot receives it.
pub async fn press_button(
    State(shared): State<Arc<Shared>>,
    Path(chat_id): Path<String>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let chat_id = parse_chat_id(&chat_id)?;
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let press: ButtonPress = serde_json::from_slice(&body)
        .map_err(|e| ControlError::bad_request(format!("bad JSON body: {e}")))?;
    let user = user_from(press.from, chat_id)?;
    let callback_query = {
        let mut state = shared.lock();
        let callback_id = {
            let bot_id = state.bots.get(&token).map(|b| b.id).unwrap_or_default();
            state.next_callback_id(bot_id)
        };
        let bot = state
            .bots
            .get_mut(&token)
            .ok_or_else(|| ControlError::bad_request("the bot is gone"))?;
        let bot_id = bot.id;
        let chat = bot
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| ControlError::not_found(format!("no chat {chat_id}")))?;
        let message = chat.message(press.message_id).ok_or_else(|| {
            ControlError::not_found(format!("no message {} in chat {chat_id}", press.message_id))
        })?;
        if message["from"]["id"].as_i64() != Some(bot_id) {
            return Err(ControlError::bad_request(
                "only messages of the bot have inline buttons",
            ));
        }
        let has_button = message["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .any(|button| button["callback_data"].as_str() == Some(press.data.as_str()));
        if !has_button {
            return Err(ControlError::bad_request(format!(
                "message {} has no inline button with callback_data {:?}",
                press.message_id, press.data
            )));
        }
        let callback_query = json!({
            "id": callback_id,
            "from": user,
            "message": message,
            "chat_instance": format!("{}", (chat_id.unsigned_abs() ^ 0x5a5a_5a5a_5a5a) as i64),
            "data": press.data,
        });
        chat.add_event(
            EntryKind::CallbackQuery,
            json!({ "callback_query": callback_query }),
        );
        bot.callbacks.insert(
            callback_id,
            PendingCallback {
                chat_id,
                message_id: press.message_id,
                data: Some(press.data),
                created: std::time::Instant::now(),
                answered: false,
            },
        );
        bot.push_update("callback_query", callback_query.clone());
        callback_query
    };
    shared.notify();
    Ok(Json(callback_query))
}

/// `GET /sandbox/chats/{chat_id}/messages?after=<n>&wait=<seconds>`: the chat's entries changed after
/// counter `n`, in chat order; with `wait`, holds the request until there is one.
pub async fn history(
    State(shared): State<Arc<Shared>>,
    Path(chat_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let chat_id = parse_chat_id(&chat_id)?;
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let after = match query.get("after") {
        Some(raw) => raw.parse::<i64>().map_err(|_| {
            ControlError::bad_request(format!("after must be an integer, got {raw:?}"))
        })?,
        None => 0,
    };
    let wait = match query.get("wait") {
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && *w >= 0.0)
            .ok_or_else(|| {
                ControlError::bad_request(format!("wait must be a number of seconds, got {raw:?}"))
            })?,
        None => 0.0,
    };
    let wait = std::time::Duration::from_secs_f64(wait.min(MAX_WAIT_SECS as f64));
    let deadline = tokio::time::Instant::now() + wait;
    // The entries and the cursor under one lock: a cursor read afterwards could pass an entry added in
    // between, which the next call (after that cursor) would then never return.
    let (entries, cursor) = shared
        .wait_for(deadline, |state| {
            let chat = state.bots.get(&token)?.chats.get(&chat_id)?;
            let entries = chat.history_after(after);
            (!entries.is_empty()).then(|| (entries, chat.counter.max(after)))
        })
        .await
        .unwrap_or((Vec::new(), after));
    Ok(Json(
        json!({ "chat_id": chat_id, "cursor": cursor, "entries": entries }),
    ))
}

/// `GET /sandbox/chats/{chat_id}/commands?language_code=<xx>`: the bot's command menu as the user of that
/// chat sees it (setMyCommands resolved by scope and language, as Telegram clients do); answers
/// `{"chat_id":..,"language_code":..,"commands":[{"command":"start","description":".."}]}`.
pub async fn commands(
    State(shared): State<Arc<Shared>>,
    Path(chat_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let chat_id = parse_chat_id(&chat_id)?;
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let language = query.get("language_code").cloned().unwrap_or_default();
    let state = shared.lock();
    let bot = state
        .bots
        .get(&token)
        .ok_or_else(|| ControlError::bad_request("the bot is gone"))?;
    let commands = bot_api::commands_for_chat(bot, chat_id, &language);
    Ok(Json(
        json!({ "chat_id": chat_id, "language_code": language, "commands": commands }),
    ))
}

/// `GET /sandbox/chats/{chat_id}/keyboard`: the reply keyboard the chat shows under the input field (the
/// bot's latest ReplyKeyboardMarkup there, until ReplyKeyboardRemove or the deletion of its message):
/// `{"keyboard":{"rows":[["..",..],..],"resize_keyboard","is_persistent","one_time_keyboard",
/// "input_field_placeholder","shown","message_id"}}`, or `{"keyboard":null}` (also for a chat that does
/// not exist yet).
pub async fn keyboard(
    State(shared): State<Arc<Shared>>,
    Path(chat_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let chat_id = parse_chat_id(&chat_id)?;
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let state = shared.lock();
    let bot = state
        .bots
        .get(&token)
        .ok_or_else(|| ControlError::bad_request("the bot is gone"))?;
    let keyboard = bot
        .chats
        .get(&chat_id)
        .and_then(|chat| chat.reply_keyboard.as_ref())
        .map(ChatKeyboard::view);
    Ok(Json(json!({ "keyboard": keyboard })))
}

/// `GET /sandbox/files/{file_id}`: the bytes of any stored file.
pub async fn file(
    State(shared): State<Arc<Shared>>,
    Path(file_id): Path<String>,
) -> Result<Response> {
    let file = shared
        .lock()
        .file(&file_id)
        .ok_or_else(|| ControlError::not_found(format!("no file {file_id}")))?;
    Ok(([(CONTENT_TYPE, file.mime_type.clone())], file.bytes.clone()).into_response())
}

/// Body of `POST /sandbox/faults`.
#[derive(Debug, Deserialize)]
struct FaultRequest {
    method: String,
    #[serde(default = "one")]
    count: u32,
    error_code: u16,
    description: Option<String>,
    retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

/// `POST /sandbox/faults`: the next `count` calls of `method` fail with `error_code` (and `description`,
/// `retry_after`).
pub async fn add_fault(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let request: FaultRequest = serde_json::from_slice(&body)
        .map_err(|e| ControlError::bad_request(format!("bad JSON body: {e}")))?;
    if request.method.is_empty() || !request.method.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ControlError::bad_request(
            "method must be a Bot API method name like sendMessage",
        ));
    }
    if !(400..=599).contains(&request.error_code) {
        return Err(ControlError::bad_request(
            "error_code must be between 400 and 599",
        ));
    }
    if request.count == 0 || request.count > 10_000 {
        return Err(ControlError::bad_request(
            "count must be between 1 and 10000",
        ));
    }
    let method = request.method.to_ascii_lowercase();
    let fault = Fault {
        error_code: request.error_code,
        description: request.description,
        retry_after: request.retry_after,
    };
    let pending = {
        let mut state = shared.lock();
        let queue = state.faults.entry(method.clone()).or_default();
        queue.extend(std::iter::repeat_n(fault, request.count as usize));
        queue.len()
    };
    Ok(Json(
        json!({ "ok": true, "method": method, "pending": pending }),
    ))
}

/// `DELETE /sandbox/faults`: forgets every pending fault.
pub async fn clear_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.lock().faults.clear();
    Json(json!({ "ok": true }))
}

/// `GET /sandbox/bots`: every bot that has called the Bot API (or the `--token` bot), with its webhook, pending
/// update count and chats, to find your way around a running sandbox.
pub async fn bots(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.lock();
    let mut bots: Vec<Value> = state
        .bots
        .values()
        .map(|bot| {
            let mut chats: Vec<i64> = bot.chats.keys().copied().collect();
            chats.sort_unstable();
            json!({
                "id": bot.id,
                "first_name": bot.user["first_name"],
                "username": bot.user["username"],
                "webhook_url": bot.webhook.as_ref().map(|w| w.url.clone()),
                "pending_update_count": bot.updates.len(),
                "chats": chats,
            })
        })
        .collect();
    bots.sort_by_key(|b| b["id"].as_i64());
    Json(json!({ "bots": bots }))
}

/// Body of `PUT /sandbox/flood-control`.
#[derive(Debug, Deserialize)]
struct FloodControlSetting {
    enabled: bool,
}

/// `POST /sandbox/chats/{chat_id}/replay`: delivers the chat's latest update (a message, or a button
/// press) to the bot once more with the same `update_id`, as Telegram does when a bot restarted before
/// confirming it. Answers `{"update_id":N}`; 404 when the chat has no recent update.
pub async fn replay(
    State(shared): State<Arc<Shared>>,
    Path(chat_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let chat_id = parse_chat_id(&chat_id)?;
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let update_id = {
        let mut state = shared.lock();
        let bot = state
            .bots
            .get_mut(&token)
            .ok_or_else(|| ControlError::not_found("no such bot"))?;
        bot.replay_last(chat_id).ok_or_else(|| {
            ControlError::not_found(format!("chat {chat_id} has no recent update"))
        })?
    };
    shared.notify();
    Ok(Json(json!({ "update_id": update_id })))
}

/// `GET /sandbox/flood-control`: whether flood control is on, `{"enabled":true}`.
pub async fn flood_control(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "enabled": shared.flood_control() }))
}

/// `PUT /sandbox/flood-control` with `{"enabled":bool}`: turns flood control on or off for every bot from the
/// next Bot API call on (the start-up value is `--flood-control`); answers like the GET.
pub async fn set_flood_control(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let setting: FloodControlSetting = serde_json::from_slice(&body).map_err(|e| {
        ControlError::bad_request(format!("bad JSON body, expected {{\"enabled\":bool}}: {e}"))
    })?;
    shared.set_flood_control(setting.enabled);
    Ok(Json(json!({ "enabled": shared.flood_control() })))
}

/// Body of `PUT`/`POST /sandbox/privacy`.
#[derive(Debug, Deserialize)]
struct PrivacySetting {
    enabled: bool,
}

/// The answer of the privacy endpoints: `{"bot_id":..,"enabled":bool}`.
fn privacy_answer(shared: &Shared, token: &str) -> Result<Json<Value>> {
    let state = shared.lock();
    let bot = state
        .bots
        .get(token)
        .ok_or_else(|| ControlError::bad_request("the bot is gone"))?;
    Ok(Json(
        json!({ "bot_id": bot.id, "enabled": bot.group_privacy }),
    ))
}

/// `GET /sandbox/privacy`: the bot's group privacy mode, `{"bot_id":..,"enabled":true}` (getMe's
/// `can_read_all_group_messages` is its opposite).
pub async fn privacy(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    privacy_answer(&shared, &token)
}

/// `PUT` or `POST /sandbox/privacy` with `{"enabled":bool}`: turns the bot's group privacy mode on or off,
/// as BotFather's /setprivacy does, for the messages sent from now on (the start-up value is
/// `--group-privacy`); answers like the GET.
pub async fn set_privacy(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let query = query_map(query)?;
    let token = bot_token(&shared, &query)?;
    let setting: PrivacySetting = serde_json::from_slice(&body).map_err(|e| {
        ControlError::bad_request(format!("bad JSON body, expected {{\"enabled\":bool}}: {e}"))
    })?;
    {
        let mut state = shared.lock();
        let bot = state
            .bots
            .get_mut(&token)
            .ok_or_else(|| ControlError::bad_request("the bot is gone"))?;
        bot.group_privacy = setting.enabled;
    }
    privacy_answer(&shared, &token)
}
