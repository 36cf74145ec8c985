//! Webhook mode (`--webhook-url`): the sandbox posts each update to the gateway, as Telegram does for a bot
//! behind an Ingress, and the replies come back as with long polling. A request without the secret is
//! refused, and a replica that stops leaves the webhook set for the others.

use std::time::Duration;

use crate::system::{USER, WEBHOOK_SECRET, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_arrive_by_webhook_and_only_with_the_secret() {
    let port = nats_test_server::ports::free_port().unwrap();
    let system = start_with(Some(port)).await;

    let ru = system.ask(USER, "ru", "/balance").await;
    assert!(ru.contains("Ваш баланс: 30 ₽"), "{ru}");
    let en = system.ask(USER + 1, "en", "/balance").await;
    assert!(en.contains("Your balance: 30 ₽"), "{en}");

    // Anyone else posting to the webhook is refused, whatever the body.
    let url = format!("http://127.0.0.1:{port}/telegram");
    let client = reqwest::Client::new();
    let forged = r#"{"update_id":999999,"message":{"message_id":1,"date":0,"chat":{"id":1,"type":"private","first_name":"X"},"from":{"id":1,"is_bot":false,"first_name":"X"},"text":"/start"}}"#;
    for secret in [None, Some("wrong")] {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(forged);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "secret {secret:?}");
    }
    let right = client
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_ne!(right.status(), 401, "the right secret is accepted");
    // Nothing was answered to the forged update's chat.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let forged_chat = system.user(1, "en").history().await.unwrap();
    assert!(forged_chat.entries.is_empty(), "{:?}", forged_chat.entries);

    // The webhook is what setWebhook registered; a gateway that stops leaves it for the other replicas.
    let webhook = || async { system.sandbox.bots().await.unwrap()[0].webhook_url.clone() };
    assert_eq!(webhook().await.as_deref(), Some(url.as_str()));
    system.stop_gateway();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(webhook().await.as_deref(), Some(url.as_str()));
}
