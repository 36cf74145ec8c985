//! OpenAI chat completions: the three behaviours, the response shape, keys, refusals and faults.

use provider_sandbox::client::{CHAT, Fault, FaultKind};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn conversation(system: &str, user: Value) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ],
    })
}

fn content(body: &Value) -> &str {
    body["choices"][0]["message"]["content"].as_str().unwrap()
}

#[tokio::test]
async fn translation_transliterates_cyrillic() {
    let app = TestApp::spawn().await;
    let answer = app
        .chat(&conversation(
            "Translate the user's message into English. Answer with the translation only.",
            json!("Привет, мир! Ёжик в тумане."),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(content(&answer.body), "Privet, mir! Yozhik v tumane.");
    let body = &answer.body;
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(body["choices"][0]["index"], 0);
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(usage["completion_tokens"], 5);
}

#[tokio::test]
async fn an_image_prompt_is_long_structured_and_about_the_idea() {
    let app = TestApp::spawn().await;
    let answer = app
        .chat(&conversation(
            "You turn a user's idea into a detailed English prompt for an image generation model.",
            json!([{"type": "text", "text": "кот в космосе"}]),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let prompt = content(&answer.body);
    assert!(prompt.len() >= 1000, "{} characters", prompt.len());
    for label in [
        "Subject:",
        "Composition:",
        "Lighting:",
        "Colour palette:",
        "Style:",
        "Details:",
        "Camera/technique:",
        "Mood:",
    ] {
        let line = prompt
            .lines()
            .find(|line| line.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {prompt}"));
        assert!(line.contains("kot v kosmose"), "{line}");
    }
    assert!(prompt.is_ascii());
}

#[tokio::test]
async fn anything_else_is_a_reply_quoting_the_user() {
    let app = TestApp::spawn().await;
    let answer = app
        .chat(&json!({
            "model": "some-model",
            "max_completion_tokens": 200,
            "messages": [
                {"role": "developer", "content": "You are a helpful assistant."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "first answer"},
                {"role": "user", "content": [{"type": "text", "text": "what is a queue?"},
                                             {"type": "image_url", "image_url": {"url": "https://x.invalid/a.png"}}]},
            ],
        }))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(content(&answer.body).contains("\"what is a queue?\""));

    let cut = app
        .chat(&json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hello there"}]}))
        .await;
    assert_eq!(content(&cut.body).split_whitespace().count(), 2);
    assert_eq!(cut.body["choices"][0]["finish_reason"], "length");

    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.chat_completions, 2);
    assert_eq!(stats.recent.len(), 2);
    assert_eq!(stats.recent[0].model, "some-model");
}

#[tokio::test]
async fn keys_and_bad_requests_are_refused_in_openai_s_shape() {
    let app = TestApp::spawn().await;
    let body = conversation("Be brief.", json!("hi"));
    let wrong = app.chat_as("sk-wrong", &body).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let error = &wrong.body["error"];
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["code"], "invalid_api_key");
    assert!(error["message"].is_string());
    assert!(error["param"].is_null());

    let mut streaming = body.clone();
    streaming["stream"] = json!(true);
    let refused = app.chat(&streaming).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["error"]["message"],
        "streaming is not supported by the sandbox"
    );
    for (bad, param) in [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "model",
        ),
        (json!({"model": "m", "messages": []}), "messages"),
        (
            json!({"model": "m", "temperature": 3, "messages": [{"role": "user", "content": "x"}]}),
            "temperature",
        ),
    ] {
        let answer = app.chat(&bad).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.body["error"]["param"], param);
    }
    assert_eq!(app.client.stats().await.unwrap().chat_errors, 4);
}

#[tokio::test]
async fn chat_faults() {
    let app = TestApp::spawn().await;
    let body = conversation("Be brief.", json!("hi"));
    app.client
        .set_fault(&Fault::once(CHAT, FaultKind::RateLimit))
        .await
        .unwrap();
    let limited = app.chat(&body).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "1");
    assert_eq!(limited.body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(app.chat(&body).await.status, StatusCode::OK);

    app.client
        .set_fault(&Fault::once(CHAT, FaultKind::ServerError))
        .await
        .unwrap();
    let failed = app.chat(&body).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.body["error"]["type"], "server_error");

    app.client
        .set_fault(&Fault::once(CHAT, FaultKind::Malformed))
        .await
        .unwrap();
    let malformed = app.chat(&body).await;
    assert_eq!(malformed.status, StatusCode::OK);
    assert!(malformed.body.get("choices").is_none());

    app.client
        .set_fault(&Fault::slow(CHAT, 300).count(1))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(app.chat(&body).await.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    let stuck = app
        .client
        .set_fault(&Fault::new(CHAT, FaultKind::Stuck))
        .await;
    assert_eq!(stuck.unwrap_err().status(), Some(StatusCode::BAD_REQUEST));
}
