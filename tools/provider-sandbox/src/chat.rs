//! OpenAI chat completions (`POST /v1/chat/completions`), answered without a model but
//! deterministically, from the system message(s) and the last user message:
//!
//! - an image-prompt request (the system text contains `prompt`, and either mentions an image — `image`,
//!   `picture`, `photo`, `illustration`, `visual`, `generat` — or does not mention translating): an English,
//!   structured image-generation prompt of at least 1000 characters, in labelled sections that each
//!   mention the user's idea (transliterated when it is Cyrillic);
//! - a translation request (the system text contains `translat`): the user's text with Cyrillic
//!   transliterated to Latin, and nothing else;
//! - anything else: a one-line reply that quotes the user's message.
//!
//! Token counts are word counts. `max_tokens` / `max_completion_tokens` cut the answer to that many words
//! (`finish_reason: "length"`). Streaming is refused.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, header::AUTHORIZATION},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    client::{Api, CHAT, FaultKind, RecentRequest},
    error::OpenAiError,
    state::Shared,
    translit::{has_cyrillic, to_latin},
};

/// What the answer is, chosen from the system text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    ImagePrompt,
    Translate,
    Reply,
}

fn intent(system: &str) -> Intent {
    let system = system.to_lowercase();
    let mentions_image = [
        "image",
        "picture",
        "photo",
        "illustration",
        "visual",
        "generat",
    ]
    .iter()
    .any(|word| system.contains(word));
    let translate = system.contains("translat");
    if system.contains("prompt") && (mentions_image || !translate) {
        Intent::ImagePrompt
    } else if translate {
        Intent::Translate
    } else {
        Intent::Reply
    }
}

/// A checked request body.
struct ChatRequest {
    model: String,
    system: String,
    user: String,
    prompt_words: usize,
    max_words: Option<usize>,
}

/// `POST /v1/chat/completions`. 200 with a `chat.completion`; 401 `invalid_api_key`; 400 for a body that is
/// not JSON, a missing `model` or `messages`, a bad `temperature` or `max_tokens`, or `stream: true`;
/// injected 429 (`Retry-After: 1`), 500, delay, or a 200 without `choices`.
pub async fn completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(err) = authorize(&shared, &headers) {
        return err.into_response();
    }
    let id = format!("chatcmpl-{}", Uuid::new_v4().simple());
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = input["model"].as_str().unwrap_or_default().to_owned();
    match answer(&shared, &id, &input).await {
        Ok(body) => {
            tracing::debug!(%id, %model, "chat completion");
            shared.lock().record_chat(RecentRequest {
                api: Api::Openai,
                request_id: id,
                model,
                status: "COMPLETED".to_owned(),
                error: None,
                input,
            });
            Json(body).into_response()
        }
        Err(err) => {
            tracing::debug!(%id, %model, error = %err, "chat completion refused");
            shared.lock().record_chat(RecentRequest {
                api: Api::Openai,
                request_id: id,
                model,
                status: "ERROR".to_owned(),
                error: Some(err.message.clone()),
                input,
            });
            err.into_response()
        }
    }
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), OpenAiError> {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            OpenAiError::invalid_api_key(
                "You didn't provide an API key. You need to provide your API key in an Authorization \
                 header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        })?;
    match header.strip_prefix("Bearer ") {
        Some(key) if key.trim() == shared.settings.openai_key => Ok(()),
        _ => Err(OpenAiError::invalid_api_key(
            "Incorrect API key provided. The provider sandbox accepts only its --openai-key.",
        )),
    }
}

async fn answer(shared: &Shared, id: &str, input: &Value) -> Result<Value, OpenAiError> {
    let request = parse(input)?;
    let fault = shared.lock().take_fault(CHAT);
    match fault.as_ref().map(|fault| fault.kind) {
        Some(FaultKind::RateLimit) => return Err(OpenAiError::rate_limited()),
        Some(FaultKind::ServerError) => return Err(OpenAiError::server_error()),
        Some(FaultKind::Slow) => {
            let delay = fault.and_then(|fault| fault.delay_ms).unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        Some(FaultKind::Malformed) => {
            return Ok(json!({
                "id": id,
                "object": "chat.completion",
                "created": unix_now(),
                "model": request.model,
            }));
        }
        _ => {}
    }
    let content = match intent(&request.system) {
        Intent::ImagePrompt => image_prompt(&request.user),
        Intent::Translate => to_latin(&request.user),
        Intent::Reply => format!(
            "You said: \"{}\" (provider-sandbox: a canned reply, no model answered).",
            request.user.trim()
        ),
    };
    let words: Vec<&str> = content.split_whitespace().collect();
    let (content, finish_reason) = match request.max_words {
        Some(max) if words.len() > max => (words[..max].join(" "), "length"),
        _ => (content, "stop"),
    };
    let completion_tokens = content.split_whitespace().count();
    Ok(json!({
        "id": id,
        "object": "chat.completion",
        "created": unix_now(),
        "model": request.model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": null },
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": {
            "prompt_tokens": request.prompt_words,
            "completion_tokens": completion_tokens,
            "total_tokens": request.prompt_words + completion_tokens,
        },
        "system_fingerprint": "provider-sandbox",
    }))
}

fn parse(input: &Value) -> Result<ChatRequest, OpenAiError> {
    if !input.is_object() {
        return Err(OpenAiError::invalid_request(
            None,
            "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.",
        ));
    }
    let model = input["model"]
        .as_str()
        .filter(|model| !model.is_empty())
        .ok_or_else(|| {
            OpenAiError::invalid_request(Some("model"), "you must provide a model parameter")
        })?;
    if input["stream"].as_bool() == Some(true) {
        return Err(OpenAiError::invalid_request(
            Some("stream"),
            "streaming is not supported by the sandbox",
        ));
    }
    if let Some(temperature) = input.get("temperature").filter(|v| !v.is_null())
        && !temperature
            .as_f64()
            .is_some_and(|t| (0.0..=2.0).contains(&t))
    {
        return Err(OpenAiError::invalid_request(
            Some("temperature"),
            "temperature must be a number between 0 and 2",
        ));
    }
    let mut max_words = None;
    for param in ["max_tokens", "max_completion_tokens"] {
        if let Some(value) = input.get(param).filter(|v| !v.is_null()) {
            let max = value.as_u64().filter(|max| *max >= 1).ok_or_else(|| {
                OpenAiError::invalid_request(Some(param), format!("{param} must be an integer ≥ 1"))
            })?;
            max_words = Some(usize::try_from(max).unwrap_or(usize::MAX));
        }
    }
    let messages = input["messages"]
        .as_array()
        .filter(|messages| !messages.is_empty())
        .ok_or_else(|| {
            OpenAiError::invalid_request(
                Some("messages"),
                "messages must be a non-empty array of {role, content}",
            )
        })?;
    let mut system = Vec::new();
    let mut user = String::new();
    let mut prompt_words = 0;
    for message in messages {
        let role = message["role"].as_str().ok_or_else(|| {
            OpenAiError::invalid_request(Some("messages"), "every message needs a string role")
        })?;
        let text = content_text(&message["content"])?;
        prompt_words += text.split_whitespace().count();
        match role {
            "system" | "developer" => system.push(text),
            "user" => user = text,
            "assistant" | "tool" | "function" => {}
            other => {
                return Err(OpenAiError::invalid_request(
                    Some("messages"),
                    format!("'{other}' is not one of system, developer, user, assistant, tool"),
                ));
            }
        }
    }
    Ok(ChatRequest {
        model: model.to_owned(),
        system: system.join("\n"),
        user,
        prompt_words,
        max_words,
    })
}

/// A message's text: a string, or the `text` parts of an array of parts (others, e.g. `image_url`, are
/// skipped); `null` is empty.
fn content_text(content: &Value) -> Result<String, OpenAiError> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => Ok(parts
            .iter()
            .filter(|part| part["type"] == "text")
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")),
        _ => Err(OpenAiError::invalid_request(
            Some("messages"),
            "content must be a string or an array of content parts",
        )),
    }
}

/// A structured English image-generation prompt about `idea`, ≥ 1000 characters, in labelled sections
/// that each mention the idea.
fn image_prompt(idea: &str) -> String {
    let idea = idea.split_whitespace().collect::<Vec<_>>().join(" ");
    let idea = if has_cyrillic(&idea) {
        to_latin(&idea)
    } else {
        idea
    };
    let idea = if idea.is_empty() {
        "an untitled scene".to_owned()
    } else {
        idea
    };
    let sections = [
        (
            "Subject",
            format!(
                "{idea}, shown clearly as the single focal point of the picture, complete and \
                 recognisable at a glance, with nothing cropped that matters."
            ),
        ),
        (
            "Composition",
            format!(
                "rule-of-thirds framing around {idea}, a clean uncluttered background that leads the \
                 eye toward it, balanced negative space and a gentle depth falloff."
            ),
        ),
        (
            "Lighting",
            format!(
                "soft golden-hour key light falling on {idea} from the left, a subtle rim light to \
                 separate it from the background, and natural, believable shadows."
            ),
        ),
        (
            "Colour palette",
            format!(
                "harmonious, slightly warm tones chosen to flatter {idea}, with one restrained accent \
                 colour and rich but not oversaturated midtones."
            ),
        ),
        (
            "Style",
            format!(
                "high-end editorial photography of {idea}, photorealistic, crisp and modern, without \
                 any text, watermark, logo or frame."
            ),
        ),
        (
            "Details",
            format!(
                "fine textures and small true-to-life details on {idea}: surfaces, edges and materials \
                 rendered sharply, with no distorted shapes or extra limbs."
            ),
        ),
        (
            "Camera/technique",
            format!(
                "full-frame camera, 50 mm lens at f/2.8, eye-level viewpoint on {idea}, shallow depth of \
                 field, high dynamic range, 4K detail."
            ),
        ),
        (
            "Mood",
            format!(
                "calm, inviting and memorable; the picture should make a viewer want to look at \
                 {idea} a little longer."
            ),
        ),
    ];
    sections
        .iter()
        .map(|(label, text)| format!("{label}: {text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_follow_the_system_text() {
        assert_eq!(
            intent("Translate the user's text into English."),
            Intent::Translate
        );
        assert_eq!(
            intent("Write a detailed image generation prompt from the idea."),
            Intent::ImagePrompt
        );
        assert_eq!(
            intent("Translate the idea and turn it into an image prompt."),
            Intent::ImagePrompt
        );
        assert_eq!(
            intent("Translate the user's prompt to English."),
            Intent::Translate
        );
        assert_eq!(intent("Improve this prompt."), Intent::ImagePrompt);
        assert_eq!(intent("You are a helpful assistant."), Intent::Reply);
    }

    #[test]
    fn image_prompts_are_long_and_mention_the_idea_everywhere() {
        let prompt = image_prompt("кот в космосе");
        assert!(prompt.len() >= 1000, "{} chars", prompt.len());
        assert_eq!(prompt.lines().count(), 8);
        assert!(prompt.lines().all(|line| line.contains("kot v kosmose")));
    }
}
