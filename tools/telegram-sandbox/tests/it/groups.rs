//! Group privacy mode, as Telegram's (on by default): in groups and supergroups the bot receives only
//! commands meant for it and replies to its messages, while the chat's history keeps everything; private
//! chats are not affected; the control API and `--group-privacy` switch it, and getMe tells it.

use serde_json::{Value, json};
use telegram_sandbox::{
    Config,
    client::{InputFile, MediaKind, NewMessage},
};

use crate::helpers::{TOKEN, TestApp, USER, fixture};

/// The bot's username in the test sandboxes (`sandbox_<id>_bot`).
const BOT: &str = "sandbox_123456789_bot";
const GROUP: i64 = -100;
const SUPERGROUP: i64 = -1_001_234_567_890;

/// The text or caption of each message, `<media>` for one without either.
fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            m["text"]
                .as_str()
                .or(m["caption"].as_str())
                .unwrap_or("<media>")
                .to_owned()
        })
        .collect()
}

async fn can_read_all(app: &TestApp) -> bool {
    app.ok("getMe", json!({})).await["can_read_all_group_messages"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn with_privacy_on_a_group_delivers_only_what_is_meant_for_the_bot() {
    let app = TestApp::spawn().await;
    assert!(!can_read_all(&app).await, "privacy mode is on by default");
    assert!(app.client.group_privacy().await.unwrap());
    let ann = app.user(GROUP);
    let photo = || InputFile::bytes(fixture("images/canon-40d.jpg"), "cat.jpg");

    let chatter = ann.send_text("hello everyone").await.unwrap();
    let mention = ann.send_text(format!("@{BOT} hi")).await.unwrap();
    ann.send_photo(photo()).await.unwrap();
    ann.send(NewMessage::file(MediaKind::Photo, photo()).caption("look"))
        .await
        .unwrap();
    ann.send_text("/help@other_bot").await.unwrap();
    ann.send_text("/help").await.unwrap();
    let addressed = ann.send_text(format!("/help@{BOT}")).await.unwrap();
    let captioned = ann
        .send(NewMessage::file(MediaKind::Photo, photo()).caption(format!("/start@{BOT} this one")))
        .await
        .unwrap();
    ann.send_text(format!("please /help@{BOT}")).await.unwrap();
    assert_eq!(
        texts(&app.take_updates().await),
        [
            format!("/help@{BOT}"),
            format!("/start@{BOT} this one"),
            format!("please /help@{BOT}"),
        ],
        "before the bot wrote: addressed commands only"
    );

    // Entities as Telegram gives them: the command with its @bot is one bot_command entity; a mention is a
    // mention; a caption's command is in caption_entities.
    let entity = |m: &telegram_sandbox::client::Message, i: usize| {
        let e = &m.entities[i];
        (e.kind.clone(), e.offset, e.length)
    };
    assert_eq!(entity(&addressed, 0), ("bot_command".to_owned(), 0, 27));
    assert_eq!(entity(&mention, 0), ("mention".to_owned(), 0, 22));
    assert!(chatter.entities.is_empty());
    let caption_entity = &captioned.caption_entities[0];
    assert_eq!(
        (
            caption_entity.kind.as_str(),
            caption_entity.offset,
            caption_entity.length
        ),
        ("bot_command", 0, 28)
    );

    // Every message is in the chat's history: the other members see them.
    assert_eq!(ann.messages().await.unwrap().len(), 9);

    // Once the bot has written in the group, a general command at the start reaches it too; a reply to its
    // message does; chatter, a command in the middle and another bot's command still do not.
    let said = app
        .ok(
            "sendMessage",
            json!({ "chat_id": GROUP, "text": "I am here" }),
        )
        .await;
    let said_id = said["message_id"].as_i64().unwrap();
    ann.send_text("hello again").await.unwrap();
    ann.send_text("/help").await.unwrap();
    ann.send_text("see /help").await.unwrap();
    ann.send_text("/help@other_bot").await.unwrap();
    ann.send(NewMessage::text("thanks, bot").reply_to(said_id))
        .await
        .unwrap();
    ann.send(NewMessage::text("agreed").reply_to(chatter.message_id))
        .await
        .unwrap();
    ann.send(
        NewMessage::file(MediaKind::Photo, photo())
            .caption("/start as a caption")
            .reply_to(chatter.message_id),
    )
    .await
    .unwrap();
    let received = app.take_updates().await;
    assert_eq!(
        texts(&received),
        ["/help", "thanks, bot", "/start as a caption"]
    );
    assert_eq!(
        received[1]["reply_to_message"]["message_id"].as_i64(),
        Some(said_id)
    );
    assert_eq!(received[1]["reply_to_message"]["from"]["is_bot"], true);

    // A supergroup the same; a private chat is not affected.
    let member = app.user(SUPERGROUP);
    member.send_text("chatter in a supergroup").await.unwrap();
    member.send_text(format!("/start@{BOT}")).await.unwrap();
    app.user(USER).send_text("hello in private").await.unwrap();
    app.user(USER).send_text("/help@other_bot").await.unwrap();
    let received = app.take_updates().await;
    assert_eq!(
        texts(&received),
        [
            format!("/start@{BOT}"),
            "hello in private".to_owned(),
            "/help@other_bot".to_owned(),
        ]
    );
    assert_eq!(received[0]["chat"]["type"], "supergroup");
}

#[tokio::test]
async fn with_privacy_off_every_group_message_is_delivered_and_get_me_says_so() {
    let app = TestApp::spawn().await;
    assert!(!app.client.set_group_privacy(false).await.unwrap());
    assert!(!app.client.group_privacy().await.unwrap());
    assert!(can_read_all(&app).await);
    let ann = app.user(GROUP);
    ann.send_text("hello everyone").await.unwrap();
    ann.send_photo(InputFile::bytes(fixture("images/canon-40d.jpg"), "cat.jpg"))
        .await
        .unwrap();
    ann.send_text("/help@other_bot").await.unwrap();
    ann.send_text("/help").await.unwrap();
    assert_eq!(
        texts(&app.take_updates().await),
        ["hello everyone", "<media>", "/help@other_bot", "/help"]
    );

    // Back on (BotFather's /setprivacy → Enable): from the next message on.
    assert!(app.client.set_group_privacy(true).await.unwrap());
    assert!(!can_read_all(&app).await);
    ann.send_text("hello again").await.unwrap();
    assert!(app.take_updates().await.is_empty());

    // The control endpoint as curl uses it: POST works like PUT, a bad body is a 400 with a reason.
    let answer: Value = app
        .http
        .post(app.url("/sandbox/privacy"))
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({ "bot_id": 123456789, "enabled": false }));
    let refused = app
        .http
        .put(app.url("/sandbox/privacy"))
        .json(&json!({ "on": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
    let unknown = app
        .http
        .get(app.url("/sandbox/privacy?bot=42"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), reqwest::StatusCode::NOT_FOUND);

    // The start-up default (`--group-privacy=false`).
    let open = TestApp::spawn_with(Config {
        token: Some(TOKEN.to_owned()),
        group_privacy: false,
        ..Config::for_tests()
    })
    .await;
    assert!(can_read_all(&open).await);
    assert!(!open.client.group_privacy().await.unwrap());
    open.user(GROUP).send_text("chatter").await.unwrap();
    assert_eq!(texts(&open.take_updates().await), ["chatter"]);
}
