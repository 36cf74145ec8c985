//! `reply_markup` of the Bot API's send and edit methods, read once for all of them and checked as Telegram
//! checks it: the Bot API server parses the JSON (the error texts below are its own), then TDLib drops
//! buttons without text and rows left empty and keeps at most 12 buttons a row and 300 in all.
//!
//! Of the four kinds only an inline keyboard shows in a Message (`Message.reply_markup` is inline-only). A
//! reply keyboard becomes the chat's keyboard under the user's input field ([`ChatKeyboard`], kept in
//! `state::Chat`) until another one replaces it, `ReplyKeyboardRemove` clears it or its message is deleted;
//! `ForceReply` leaves it as it is. Source: <https://core.telegram.org/bots/api#replykeyboardmarkup>.

use serde_json::{Map, Value, json};

use crate::{error::ApiError, params::Params};

/// Most buttons TDLib keeps in one row; the rest of the row is dropped.
pub const MAX_ROW_BUTTONS: usize = 12;
/// Most buttons TDLib keeps in one keyboard; the rest is dropped.
pub const MAX_BUTTONS: usize = 300;

/// Inline buttons need one of these (an action); a button with only a text is refused.
const INLINE_ACTIONS: &[&str] = &[
    "url",
    "callback_data",
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
];

/// A `reply_markup` parameter, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyMarkup {
    /// `InlineKeyboardMarkup` as the Message shows it: `{"inline_keyboard": [[button, ..], ..]}`.
    Inline(Value),
    /// `ReplyKeyboardMarkup`: the keyboard under the input field.
    Keyboard(Keyboard),
    /// `ReplyKeyboardRemove` (`{"remove_keyboard": true}`).
    Remove,
    /// `ForceReply` (`{"force_reply": true}`).
    ForceReply,
}

/// A `ReplyKeyboardMarkup` as a Telegram client keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyboard {
    /// Button texts row by row, top to bottom (a `KeyboardButton` object's `text`, or a plain string).
    pub rows: Vec<Vec<String>>,
    /// Always shown; otherwise the user can hide it behind the keyboard icon.
    pub is_persistent: bool,
    /// Sized to its rows instead of the height of the system keyboard.
    pub resize_keyboard: bool,
    /// Hidden after the user used a button (still available behind the keyboard icon).
    pub one_time_keyboard: bool,
    /// Shown in the empty input field while the keyboard is active.
    pub input_field_placeholder: Option<String>,
    /// Meant only for the users mentioned in the text or the sender of the message replied to; the sandbox
    /// keeps one keyboard per chat and shows it to everyone.
    pub selective: bool,
}

/// The reply keyboard a chat shows under the input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatKeyboard {
    /// The keyboard.
    pub keyboard: Keyboard,
    /// The bot message that set it.
    pub message_id: i64,
    /// False once the user has used a button of a one-time keyboard; it stays available (Telegram's keyboard
    /// icon) until replaced or removed.
    pub shown: bool,
}

impl ChatKeyboard {
    /// The control API's view: `{"rows","resize_keyboard","is_persistent","one_time_keyboard",
    /// "input_field_placeholder","shown","message_id"}`.
    pub fn view(&self) -> Value {
        let k = &self.keyboard;
        json!({
            "rows": k.rows,
            "resize_keyboard": k.resize_keyboard,
            "is_persistent": k.is_persistent,
            "one_time_keyboard": k.one_time_keyboard,
            "input_field_placeholder": k.input_field_placeholder,
            "shown": self.shown,
            "message_id": self.message_id,
        })
    }

    /// Whether one of its buttons has exactly this text.
    pub fn has_button(&self, text: &str) -> bool {
        self.keyboard.rows.iter().flatten().any(|b| b == text)
    }
}

/// The `reply_markup` of a call: `None` when absent, or when it shows nothing (no buttons left, no flag set).
///
/// Errors (400, Telegram's texts): `can't parse reply keyboard markup JSON object` for text that is not JSON,
/// `object expected as reply markup`, and those of [`from_value`].
pub fn parse(p: &Params) -> Result<Option<ReplyMarkup>, ApiError> {
    let value = p
        .json("reply_markup")
        .map_err(|_| ApiError::bad_request("can't parse reply keyboard markup JSON object"))?;
    match value {
        Some(value) => from_value(value),
        None => Ok(None),
    }
}

/// A `reply_markup` JSON value, read as the Bot API server reads it: `keyboard` first, then
/// `inline_keyboard`, then `remove_keyboard` (or the old `hide_keyboard`), then `force_reply`.
///
/// Errors (400): `field "keyboard" must be of type Array`, `field "keyboard" must be an Array of Arrays`,
/// `can't parse keyboard button: ...` (`KeyboardButton must be a String or an Object`, `Can't find field
/// "text"`, `Field "text" must be of type String`), the same for `inline_keyboard` (`field
/// "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays`, `can't parse inline keyboard
/// button: Text buttons are unallowed in the inline keyboard`, ...), `BUTTON_DATA_INVALID` for
/// `callback_data` over 64 bytes, and `field "<flag>" must be of type Boolean`.
pub fn from_value(value: Value) -> Result<Option<ReplyMarkup>, ApiError> {
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request("object expected as reply markup"));
    };
    let keyboard = rows(&object, "keyboard")?;
    let mut keyboard_rows = Vec::with_capacity(keyboard.len());
    for row in keyboard {
        let row = row.as_array().ok_or_else(|| {
            ApiError::bad_request("field \"keyboard\" must be an Array of Arrays")
        })?;
        let texts = row
            .iter()
            .map(|button| {
                keyboard_button_text(button).map_err(|reason| {
                    ApiError::bad_request(format!("can't parse keyboard button: {reason}"))
                })
            })
            .collect::<Result<Vec<String>, ApiError>>()?;
        keyboard_rows.push(texts);
    }
    let inline = rows(&object, "inline_keyboard")?;
    let mut inline_rows = Vec::with_capacity(inline.len());
    for row in inline {
        let row = row.as_array().ok_or_else(|| {
            ApiError::bad_request(
                "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays",
            )
        })?;
        let buttons = row
            .iter()
            .map(inline_button)
            .collect::<Result<Vec<Value>, ApiError>>()?;
        inline_rows.push(buttons);
    }
    let flag = |name: &str| -> Result<bool, ApiError> {
        match object.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::bad_request(format!(
                "field \"{name}\" must be of type Boolean"
            ))),
        }
    };
    let remove = flag("hide_keyboard")? | flag("remove_keyboard")?;
    let selective = flag("personal_keyboard")? | flag("selective")?;
    let force_reply = flag("force_reply_keyboard")? | flag("force_reply")?;
    let input_field_placeholder = match object.get("input_field_placeholder") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "field \"input_field_placeholder\" must be of type String",
            ));
        }
    };
    if !keyboard_rows.is_empty() {
        let resize_keyboard = flag("resize_keyboard")?;
        let one_time_keyboard = flag("one_time_keyboard")?;
        let is_persistent = flag("is_persistent")?;
        let rows = trim(keyboard_rows, String::is_empty);
        if rows.is_empty() {
            return Ok(None);
        }
        return Ok(Some(ReplyMarkup::Keyboard(Keyboard {
            rows,
            is_persistent,
            resize_keyboard,
            one_time_keyboard,
            input_field_placeholder,
            selective,
        })));
    }
    if !inline_rows.is_empty() {
        let rows = trim(inline_rows, |button| {
            button["text"].as_str().is_none_or(str::is_empty)
        });
        return Ok(
            (!rows.is_empty()).then(|| ReplyMarkup::Inline(json!({ "inline_keyboard": rows })))
        );
    }
    if remove {
        return Ok(Some(ReplyMarkup::Remove));
    }
    Ok(force_reply.then_some(ReplyMarkup::ForceReply))
}

/// The rows of `keyboard` or `inline_keyboard`: empty when absent.
fn rows<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a [Value], ApiError> {
    match object.get(field) {
        None => Ok(&[]),
        Some(Value::Array(rows)) => Ok(rows),
        Some(_) => Err(ApiError::bad_request(format!(
            "field \"{field}\" must be of type Array"
        ))),
    }
}

/// A JSON string field as the Bot API server reads it (a number is taken as its text).
fn string_field(object: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("Field \"{name}\" must be of type String")),
    }
}

/// The text of a `KeyboardButton`: an object with `text`, or a plain string.
fn keyboard_button_text(button: &Value) -> Result<String, String> {
    match button {
        Value::String(text) => Ok(text.clone()),
        Value::Object(object) => {
            string_field(object, "text")?.ok_or_else(|| "Can't find field \"text\"".to_owned())
        }
        _ => Err("KeyboardButton must be a String or an Object".to_owned()),
    }
}

/// An `InlineKeyboardButton` as the Message shows it (`text` and `callback_data` as strings).
fn inline_button(button: &Value) -> Result<Value, ApiError> {
    let refuse = |reason: &str| {
        ApiError::bad_request(format!("can't parse inline keyboard button: {reason}"))
    };
    let Value::Object(object) = button else {
        return Err(refuse("InlineKeyboardButton must be an Object"));
    };
    let text = string_field(object, "text")
        .map_err(|reason| refuse(&reason))?
        .ok_or_else(|| refuse("Can't find field \"text\""))?;
    let mut button = object.clone();
    button.insert("text".to_owned(), json!(text));
    for field in ["url", "callback_data"] {
        match string_field(object, field).map_err(|reason| refuse(&reason))? {
            // The Bot API server takes an empty string as no value.
            Some(value) if value.is_empty() => {
                button.remove(field);
            }
            Some(value) => {
                button.insert(field.to_owned(), json!(value));
            }
            None => {}
        }
    }
    if !INLINE_ACTIONS
        .iter()
        .any(|action| button.contains_key(*action))
    {
        return Err(refuse("Text buttons are unallowed in the inline keyboard"));
    }
    if button
        .get("callback_data")
        .and_then(Value::as_str)
        .is_some_and(|data| data.len() > 64)
    {
        return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
    }
    Ok(Value::Object(button))
}

/// TDLib's clean-up: buttons that `is_blank` are dropped, then rows left empty; at most
/// [`MAX_ROW_BUTTONS`] a row and [`MAX_BUTTONS`] in all are kept.
fn trim<T>(rows: Vec<Vec<T>>, is_blank: impl Fn(&T) -> bool) -> Vec<Vec<T>> {
    let mut total = 0;
    let mut kept = Vec::new();
    for row in rows {
        if total >= MAX_BUTTONS {
            break;
        }
        let row: Vec<T> = row
            .into_iter()
            .filter(|button| !is_blank(button))
            .take(MAX_ROW_BUTTONS.min(MAX_BUTTONS - total))
            .collect();
        total += row.len();
        if !row.is_empty() {
            kept.push(row);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

    use super::*;

    fn parse(value: Value) -> Result<Option<ReplyMarkup>, String> {
        from_value(value).map_err(|e| e.description)
    }

    fn keyboard(value: Value) -> Keyboard {
        match parse(value) {
            Ok(Some(ReplyMarkup::Keyboard(keyboard))) => keyboard,
            other => panic!("not a reply keyboard: {other:?}"),
        }
    }

    #[test]
    fn a_reply_keyboard_keeps_its_texts_and_flags() {
        let k = keyboard(json!({
            "keyboard": [[{ "text": "🎨 Создать" }, "✍️ Написать"], [{ "text": 5, "request_contact": true }]],
            "resize_keyboard": true, "is_persistent": true, "one_time_keyboard": false,
            "input_field_placeholder": "Pick", "selective": true,
        }));
        assert_eq!(
            k,
            Keyboard {
                rows: vec![
                    vec!["🎨 Создать".to_owned(), "✍️ Написать".to_owned()],
                    vec!["5".to_owned()]
                ],
                is_persistent: true,
                resize_keyboard: true,
                one_time_keyboard: false,
                input_field_placeholder: Some("Pick".to_owned()),
                selective: true,
            }
        );
    }

    #[test]
    fn buttons_without_text_are_dropped_and_rows_cut_like_tdlib() {
        let k = keyboard(json!({ "keyboard": [["", "a"], [""], [], ["b"]] }));
        assert_eq!(k.rows, [vec!["a"], vec!["b"]]);
        let wide: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let k = keyboard(json!({ "keyboard": [wide] }));
        assert_eq!(k.rows[0].len(), MAX_ROW_BUTTONS);
        let many: Vec<Vec<String>> = (0..40).map(|_| vec!["x".to_owned(); 10]).collect();
        let k = keyboard(json!({ "keyboard": many }));
        assert_eq!(k.rows.iter().map(Vec::len).sum::<usize>(), MAX_BUTTONS);
        // Nothing left: no markup at all, so the chat's keyboard stays as it is.
        assert_eq!(parse(json!({ "keyboard": [["", ""]] })), Ok(None));
        assert_eq!(parse(json!({ "keyboard": [[]] })), Ok(None));
    }

    #[test]
    fn which_kind_wins() {
        let both = json!({ "keyboard": [["a"]], "inline_keyboard": [[{ "text": "b", "callback_data": "b" }]] });
        assert!(matches!(parse(both), Ok(Some(ReplyMarkup::Keyboard(_)))));
        assert_eq!(
            parse(json!({ "remove_keyboard": true, "force_reply": true })),
            Ok(Some(ReplyMarkup::Remove))
        );
        assert_eq!(
            parse(json!({ "hide_keyboard": true })),
            Ok(Some(ReplyMarkup::Remove))
        );
        assert_eq!(
            parse(json!({ "force_reply": true, "input_field_placeholder": "Name?" })),
            Ok(Some(ReplyMarkup::ForceReply))
        );
        assert_eq!(parse(json!({ "remove_keyboard": false })), Ok(None));
        assert_eq!(parse(json!({})), Ok(None));
        assert_eq!(parse(json!({ "inline_keyboard": [[]] })), Ok(None));
    }

    #[test]
    fn inline_buttons_are_normalised() {
        let markup = parse(json!({ "inline_keyboard": [[
            { "text": "Go", "callback_data": 7 },
            { "text": "", "callback_data": "dropped" },
            { "text": "Site", "url": "https://example.com/", "callback_data": "" },
        ]] }));
        assert_eq!(
            markup,
            Ok(Some(ReplyMarkup::Inline(json!({ "inline_keyboard": [[
                { "text": "Go", "callback_data": "7" },
                { "text": "Site", "url": "https://example.com/" },
            ]] }))))
        );
    }

    #[test]
    fn bad_markups_get_telegrams_texts() {
        for (markup, description) in [
            (json!([1]), "Bad Request: object expected as reply markup"),
            (
                json!({ "keyboard": "a" }),
                "Bad Request: field \"keyboard\" must be of type Array",
            ),
            (
                json!({ "keyboard": ["a", "b"] }),
                "Bad Request: field \"keyboard\" must be an Array of Arrays",
            ),
            (
                json!({ "keyboard": [[1]] }),
                "Bad Request: can't parse keyboard button: KeyboardButton must be a String or an Object",
            ),
            (
                json!({ "keyboard": [[{ "request_contact": true }]] }),
                "Bad Request: can't parse keyboard button: Can't find field \"text\"",
            ),
            (
                json!({ "keyboard": [[{ "text": ["a"] }]] }),
                "Bad Request: can't parse keyboard button: Field \"text\" must be of type String",
            ),
            (
                json!({ "keyboard": [["a"]], "resize_keyboard": "yes" }),
                "Bad Request: field \"resize_keyboard\" must be of type Boolean",
            ),
            (
                json!({ "remove_keyboard": 1 }),
                "Bad Request: field \"remove_keyboard\" must be of type Boolean",
            ),
            (
                json!({ "inline_keyboard": {} }),
                "Bad Request: field \"inline_keyboard\" must be of type Array",
            ),
            (
                json!({ "inline_keyboard": [{}] }),
                "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays",
            ),
            (
                json!({ "inline_keyboard": [["Go"]] }),
                "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object",
            ),
            (
                json!({ "inline_keyboard": [[{ "text": "Go" }]] }),
                "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
            ),
            (
                json!({ "inline_keyboard": [[{ "callback_data": "go" }]] }),
                "Bad Request: can't parse inline keyboard button: Can't find field \"text\"",
            ),
            (
                json!({ "inline_keyboard": [[{ "text": "Go", "callback_data": "x".repeat(65) }]] }),
                "Bad Request: BUTTON_DATA_INVALID",
            ),
        ] {
            assert_eq!(
                parse(markup.clone()),
                Err(description.to_owned()),
                "{markup}"
            );
        }
    }
}
