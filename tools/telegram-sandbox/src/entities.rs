//! Message entities: the `bot_command` entities Telegram adds to user text, and the `parse_mode` parsers
//! (HTML, MarkdownV2, legacy Markdown) that turn formatted bot text into plain text plus entities.
//! Offsets and lengths are in UTF-16 code units, as in the Bot API.

use serde_json::{Value, json};

/// Length of a string in UTF-16 code units (the unit of Telegram's text limits and entity offsets).
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A "word character" as TDLib's entity finder sees it: a Unicode letter or number, or `_`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_alnum_or_underscore(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// UTF-16 offset of each char index of `chars` (one more entry for the end).
fn utf16_offsets(chars: &[char]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(chars.len() + 1);
    let mut at = 0;
    for c in chars {
        offsets.push(at);
        at += c.len_utf16();
    }
    offsets.push(at);
    offsets
}

/// The `bot_command` entities of a user's text, as Telegram finds them (TDLib's `match_bot_commands`):
/// `/` not after a word character, `/`, `<` or `>`; 1–64 of `A-Za-z0-9_`; optionally `@` and a 3–32 character
/// bot username, which the entity includes (`/start@jobs_bot` is one entity); and no word character, `/`, `<`
/// or `>` right after it.
pub fn bot_commands(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let at16 = utf16_offsets(&chars);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '/' {
            i += 1;
            continue;
        }
        if i > 0 && (is_word_char(chars[i - 1]) || matches!(chars[i - 1], '/' | '<' | '>')) {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 1;
        while j < chars.len() && is_alnum_or_underscore(chars[j]) {
            j += 1;
        }
        let name_len = j - start - 1;
        // The next search starts where this one stopped, as in TDLib.
        i = j;
        if !(1..=64).contains(&name_len) {
            continue;
        }
        if j < chars.len() && chars[j] == '@' {
            let mut k = j + 1;
            while k < chars.len() && is_alnum_or_underscore(chars[k]) {
                k += 1;
            }
            i = k;
            if !(3..=32).contains(&(k - j - 1)) {
                continue;
            }
            j = k;
        }
        if let Some(&next) = chars.get(j)
            && (is_word_char(next) || matches!(next, '/' | '<' | '>'))
        {
            continue;
        }
        out.push(json!({ "type": "bot_command", "offset": at16[start], "length": at16[j] - at16[start] }));
    }
    out
}

/// The `mention` entities (`@username`) of a user's text, as Telegram finds them (TDLib's `find_mentions`):
/// `@` not after a word character, 2–32 of `A-Za-z0-9_` not followed by a word character; names shorter than
/// 4 characters only for Telegram's short inline bots (`@gif`, `@vid`, `@pic`).
pub fn mentions(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let at16 = utf16_offsets(&chars);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '@' || (i > 0 && is_word_char(chars[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 1;
        while j < chars.len() && is_alnum_or_underscore(chars[j]) {
            j += 1;
        }
        i = j;
        let name: String = chars[start + 1..j].iter().collect();
        if !(2..=32).contains(&name.len()) || chars.get(j).is_some_and(|c| is_word_char(*c)) {
            continue;
        }
        if name.len() < 4 && !matches!(name.to_ascii_lowercase().as_str(), "gif" | "vid" | "pic") {
            continue;
        }
        out.push(
            json!({ "type": "mention", "offset": at16[start], "length": at16[j] - at16[start] }),
        );
    }
    out
}

/// The entities Telegram gives a user's text or caption: `bot_command`s and `mention`s, by offset.
pub fn user_entities(text: &str) -> Vec<Value> {
    let mut out = bot_commands(text);
    out.extend(mentions(text));
    out.sort_by_key(|e| e["offset"].as_u64().unwrap_or(0));
    out
}

/// The part of `text` that an entity covers (offset and length in UTF-16 code units); "" when out of range.
pub fn entity_text(text: &str, entity: &Value) -> String {
    let offset = entity["offset"].as_u64().unwrap_or(0) as usize;
    let length = entity["length"].as_u64().unwrap_or(0) as usize;
    let units: Vec<u16> = text.encode_utf16().collect();
    units
        .get(offset..offset.saturating_add(length))
        .map(String::from_utf16_lossy)
        .unwrap_or_default()
}

/// Parses `text` in the given `parse_mode` (`HTML`, `MarkdownV2`, `Markdown`; case-insensitive) into plain
/// text and entities. The error is the text after `Bad Request: ` in Telegram's answer.
pub fn parse(text: &str, parse_mode: &str) -> Result<(String, Vec<Value>), String> {
    match parse_mode.to_ascii_lowercase().as_str() {
        "html" => parse_html(text),
        "markdownv2" => parse_markdown(text, true),
        "markdown" => parse_markdown(text, false),
        "" => Ok((text.to_owned(), Vec::new())),
        _ => Err("unsupported parse_mode".to_owned()),
    }
}

struct Builder {
    out: String,
    len16: usize,
    entities: Vec<Value>,
}

impl Builder {
    fn new() -> Self {
        Self {
            out: String::new(),
            len16: 0,
            entities: Vec::new(),
        }
    }

    fn push(&mut self, c: char) {
        self.out.push(c);
        self.len16 += c.len_utf16();
    }

    fn entity(&mut self, start: usize, kind: &str, extra: Option<(&str, Value)>) {
        if self.len16 > start {
            let mut e = json!({ "type": kind, "offset": start, "length": self.len16 - start });
            if let Some((k, v)) = extra {
                e[k] = v;
            }
            self.entities.push(e);
        }
    }

    fn finish(mut self) -> (String, Vec<Value>) {
        self.entities.sort_by_key(|e| {
            let offset = e["offset"].as_u64().unwrap_or(0);
            let length = e["length"].as_u64().unwrap_or(0);
            (offset, u64::MAX - length)
        });
        (self.out, self.entities)
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pos = tag.find(&format!("{name}="))?;
    let rest = &tag[pos + name.len() + 1..];
    let value = if let Some(r) = rest.strip_prefix('"') {
        r.split('"').next()
    } else if let Some(r) = rest.strip_prefix('\'') {
        r.split('\'').next()
    } else {
        rest.split_whitespace().next()
    }?;
    Some(decode_html_entities(value))
}

fn decode_html_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// An open HTML tag: name, entity start, entity type, extra entity field.
type OpenTag = (String, usize, &'static str, Option<(&'static str, Value)>);

fn parse_html(text: &str) -> Result<(String, Vec<Value>), String> {
    let mut b = Builder::new();
    // (tag name, entity start, entity type, extra)
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let rest = &text[i..];
        if bytes[i] == b'<' {
            let end = rest.find('>').ok_or_else(|| {
                format!("can't parse entities: Unclosed start tag at byte offset {i}")
            })?;
            let inner = &rest[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                let Some((open, start, kind, extra)) = stack.pop() else {
                    return Err(format!(
                        "can't parse entities: Unexpected end tag at byte offset {i}"
                    ));
                };
                if open != name {
                    return Err(format!(
                        "can't parse entities: Unmatched end tag at byte offset {i}, expected \"</{open}>\", found \"</{name}>\""
                    ));
                }
                b.entity(start, kind, extra);
            } else {
                let name = inner
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let (kind, extra): (&'static str, Option<(&'static str, Value)>) = match name
                    .as_str()
                {
                    "b" | "strong" => ("bold", None),
                    "i" | "em" => ("italic", None),
                    "u" | "ins" => ("underline", None),
                    "s" | "strike" | "del" => ("strikethrough", None),
                    "tg-spoiler" => ("spoiler", None),
                    "span" if attr(inner, "class").as_deref() == Some("tg-spoiler") => {
                        ("spoiler", None)
                    }
                    "code" => match stack.last() {
                        Some((open, _, "pre", _)) if open == "pre" => {
                            if let Some(lang) = attr(inner, "class")
                                .and_then(|c| c.strip_prefix("language-").map(str::to_owned))
                                && let Some(top) = stack.last_mut()
                            {
                                top.3 = Some(("language", Value::String(lang)));
                            }
                            ("", None)
                        }
                        _ => ("code", None),
                    },
                    "pre" => ("pre", None),
                    "a" => match attr(inner, "href") {
                        Some(url) => ("text_link", Some(("url", Value::String(url)))),
                        None => ("", None),
                    },
                    "blockquote" if inner.contains("expandable") => ("expandable_blockquote", None),
                    "blockquote" => ("blockquote", None),
                    "tg-emoji" => match attr(inner, "emoji-id") {
                        Some(id) => ("custom_emoji", Some(("custom_emoji_id", Value::String(id)))),
                        None => ("", None),
                    },
                    _ => {
                        return Err(format!(
                            "can't parse entities: Unsupported start tag \"{name}\" at byte offset {i}"
                        ));
                    }
                };
                stack.push((name, b.len16, kind, extra));
            }
            i += end + 1;
        } else if bytes[i] == b'&' {
            let (decoded, used) = html_entity(rest);
            b.push(decoded);
            i += used;
        } else {
            let c = rest.chars().next().unwrap_or('\u{fffd}');
            b.push(c);
            i += c.len_utf8();
        }
    }
    if let Some((open, ..)) = stack.last() {
        return Err(format!(
            "can't parse entities: Can't find end tag corresponding to start tag \"{open}\""
        ));
    }
    // Entities of kind "" are the inner <code> of a <pre> and links without href: no entity of their own.
    let (out, entities) = b.finish();
    let entities = entities.into_iter().filter(|e| e["type"] != "").collect();
    Ok((out, entities))
}

fn html_entity(rest: &str) -> (char, usize) {
    for (name, c) in [
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
    ] {
        if rest.starts_with(name) {
            return (c, name.len());
        }
    }
    if let Some(num) = rest.strip_prefix("&#")
        && let Some(end) = num.find(';')
    {
        let digits = &num[..end];
        let code = if let Some(hex) = digits
            .strip_prefix('x')
            .or_else(|| digits.strip_prefix('X'))
        {
            u32::from_str_radix(hex, 16).ok()
        } else {
            digits.parse().ok()
        };
        if let Some(c) = code.and_then(char::from_u32) {
            return (c, end + 3);
        }
    }
    ('&', 1)
}

/// The first `fence` in `s` not escaped by a backslash (MarkdownV2 escapes inside code).
fn find_fence(s: &str, fence: &str, v2: bool) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if v2 && c == '\\' {
            escaped = true;
            continue;
        }
        if s[i..].starts_with(fence) {
            return Some(i);
        }
    }
    None
}

const RESERVED_V2: &str = "_*[]()~`>#+-=|{}.!";

fn parse_markdown(text: &str, v2: bool) -> Result<(String, Vec<Value>), String> {
    let mut b = Builder::new();
    // (marker, entity start, byte offset)
    let mut stack: Vec<(&'static str, usize, usize)> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let next = chars.get(i + 1).map(|(_, c)| *c);
        match c {
            '\\' if next.is_some_and(|n| {
                if v2 {
                    (n as u32) < 128
                } else {
                    "_*`[".contains(n)
                }
            }) =>
            {
                b.push(next.unwrap_or('\\'));
                i += 2;
                continue;
            }
            '`' => {
                let is_pre = text[pos..].starts_with("```");
                let fence = if is_pre { "```" } else { "`" };
                let body_start = pos + fence.len();
                let Some(rel_end) = find_fence(&text[body_start..], fence, v2) else {
                    return Err(format!(
                        "can't parse entities: Can't find end of {} entity at byte offset {pos}",
                        if is_pre { "PreCode" } else { "Code" }
                    ));
                };
                let mut body = &text[body_start..body_start + rel_end];
                let mut language = None;
                if is_pre && let Some((first, rest)) = body.split_once('\n') {
                    if !first.trim().is_empty() && !first.contains(' ') {
                        language = Some(first.trim().to_owned());
                    }
                    body = rest;
                }
                let start = b.len16;
                let mut it = body.chars().peekable();
                while let Some(ch) = it.next() {
                    if v2
                        && ch == '\\'
                        && let Some(&n) = it.peek()
                        && (n == '`' || n == '\\')
                    {
                        b.push(n);
                        it.next();
                        continue;
                    }
                    b.push(ch);
                }
                let end_byte = body_start + rel_end + fence.len();
                if is_pre {
                    b.entity(
                        start,
                        "pre",
                        language.map(|l| ("language", Value::String(l))),
                    );
                } else {
                    b.entity(start, "code", None);
                }
                while i < chars.len() && chars[i].0 < end_byte {
                    i += 1;
                }
                continue;
            }
            '[' => {
                stack.push(("[", b.len16, pos));
                i += 1;
                continue;
            }
            ']' if stack.last().is_some_and(|(m, ..)| *m == "[") => {
                let url_start = pos + 1;
                if text[url_start..].starts_with('(')
                    && let Some(close) = text[url_start..].find(')')
                {
                    let url = text[url_start + 1..url_start + close]
                        .replace("\\)", ")")
                        .replace("\\\\", "\\");
                    if let Some((_, start, _)) = stack.pop() {
                        b.entity(start, "text_link", Some(("url", Value::String(url))));
                    }
                    let end_byte = url_start + close + 1;
                    while i < chars.len() && chars[i].0 < end_byte {
                        i += 1;
                    }
                    continue;
                }
                return Err(format!(
                    "can't parse entities: Can't find end of a URL at byte offset {pos}"
                ));
            }
            _ => {}
        }
        let marker: Option<(&'static str, &'static str)> = match c {
            '*' => Some(("*", "bold")),
            '_' if v2 && next == Some('_') => Some(("__", "underline")),
            '_' => Some(("_", "italic")),
            '~' if v2 => Some(("~", "strikethrough")),
            '|' if v2 && next == Some('|') => Some(("||", "spoiler")),
            _ => None,
        };
        if let Some((marker, kind)) = marker {
            if let Some(idx) = stack.iter().rposition(|(m, ..)| *m == marker) {
                let (_, start, _) = stack.remove(idx);
                b.entity(start, kind, None);
            } else {
                stack.push((marker, b.len16, pos));
            }
            i += marker.chars().count();
            continue;
        }
        if v2 && RESERVED_V2.contains(c) {
            return Err(format!(
                "can't parse entities: Character '{c}' is reserved and must be escaped with the preceding '\\'"
            ));
        }
        b.push(c);
        i += 1;
    }
    if let Some((marker, _, pos)) = stack.last() {
        let name = match *marker {
            "*" => "bold",
            "_" => "italic",
            "__" => "underline",
            "~" => "strikethrough",
            "||" => "spoiler",
            _ => "text URL",
        };
        return Err(format!(
            "can't parse entities: Can't find end of {name} entity at byte offset {pos}"
        ));
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_found() {
        let e = bot_commands("/start@sandbox_bot hi /help");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0]["length"], 18);
        assert_eq!(e[1]["offset"], 22);
        assert!(bot_commands("a/b").is_empty());
    }

    #[test]
    fn commands_as_tdlib_finds_them() {
        let found = |text: &str| -> Vec<String> {
            bot_commands(text)
                .iter()
                .map(|e| entity_text(text, e))
                .collect()
        };
        assert_eq!(found("/help@other_bot"), ["/help@other_bot"]);
        assert_eq!(found("(/help) /a,/b"), ["/help", "/a", "/b"]);
        // A username of under 3 characters, a word or `/` right after, `/` after a word: no command.
        assert!(found("/help@ab").is_empty());
        assert!(found("/helpé /x/y a/b <br/>").is_empty());
        // Offsets in UTF-16 units: 🙂 is two.
        let e = bot_commands("🙂 /start");
        assert_eq!(e[0], json!({"type":"bot_command","offset":3,"length":6}));
        assert_eq!(entity_text("🙂 /start", &e[0]), "/start");
    }

    #[test]
    fn mentions_as_tdlib_finds_them() {
        let text = "hi @sandbox_bot, mail a@b.cd @ab @gif /cmd@some_bot";
        let kinds: Vec<(String, String)> = user_entities(text)
            .iter()
            .map(|e| (e["type"].as_str().unwrap().to_owned(), entity_text(text, e)))
            .collect();
        assert_eq!(
            kinds,
            [
                ("mention".to_owned(), "@sandbox_bot".to_owned()),
                ("mention".to_owned(), "@gif".to_owned()),
                ("bot_command".to_owned(), "/cmd@some_bot".to_owned()),
            ]
        );
    }

    #[test]
    fn html() {
        let (text, e) =
            parse("<b>bold</b> &amp; <a href=\"https://x.y\">link</a>", "HTML").unwrap();
        assert_eq!(text, "bold & link");
        assert_eq!(e[0], json!({"type":"bold","offset":0,"length":4}));
        assert_eq!(
            e[1],
            json!({"type":"text_link","offset":7,"length":4,"url":"https://x.y"})
        );
        assert!(
            parse("<foo>x</foo>", "HTML")
                .unwrap_err()
                .contains("Unsupported start tag \"foo\"")
        );
        assert!(parse("<b>x", "HTML").is_err());
    }

    #[test]
    fn markdown_v2() {
        let (text, e) = parse("*bold* _it_ `co\\`de` \\.", "MarkdownV2").unwrap();
        assert_eq!(text, "bold it co`de .");
        assert_eq!(e.len(), 3);
        assert!(
            parse("end.", "MarkdownV2")
                .unwrap_err()
                .contains("Character '.' is reserved")
        );
    }
}
