//! The chat page in headless Chromium against a tiny teloxide bot: the command menu from setMyCommands,
//! `/start` answered with HTML- and MarkdownV2-formatted text, a photo uploaded from the page answered with
//! an inline button, the button pressed (callback answer as a toast, the button message edited), the bot's
//! photo shown, "typing…" from a chat action, a user text that looks like HTML shown as text, a 429 of
//! flood control shown to the person, a voice note sent from the page answered with an image document,
//! reply keyboards (a one-time keyboard pressed, hidden, shown again with the keyboard icon, removed; the main
//! menu shown again after a reload), and the "who am I" choice changed in the page and remembered across a
//! reload. A screenshot goes to `<target>/e2e-artifacts/sandbox-chat.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/install-deps.sh`); without them it fails.

use std::time::Duration;

use serde_json::json;
use telegram_sandbox::{
    browser::{Browser, artifacts_dir},
    client::Fault,
};
use teloxide::{
    dispatching::{Dispatcher, UpdateFilterExt, UpdateHandler},
    prelude::*,
    types::{
        BotCommand, ChatAction, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
        KeyboardButton, KeyboardMarkup, KeyboardRemove, ParseMode, ReplyParameters,
    },
};

use crate::helpers::{TestApp, USER};

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const WAIT: Duration = Duration::from_secs(30);

fn schema() -> UpdateHandler<Box<dyn std::error::Error + Send + Sync>> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
}

async fn on_message(bot: Bot, msg: Message) -> HandlerResult {
    let chat = msg.chat.id;
    if msg.text().is_some_and(|t| t.starts_with("/start")) {
        bot.send_message(
            chat,
            "<b>Welcome</b> to the <i>test bot</i>! Send me a photo.",
        )
        .parse_mode(ParseMode::Html)
        .await?;
        bot.send_message(
            chat,
            "*Tip:* send `/start` again, or a ||secret|| [link](https://example.com/)\\.",
        )
        .parse_mode(ParseMode::MarkdownV2)
        .await?;
    } else if let Some(photo) = msg.photo().and_then(|sizes| sizes.last()) {
        let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
            "Upscale ×2",
            format!("up:{}", photo.file.id),
        )]]);
        bot.send_message(
            chat,
            format!("Got a {}×{} photo", photo.width, photo.height),
        )
        .reply_parameters(ReplyParameters::new(msg.id))
        .reply_markup(keyboard)
        .await?;
    } else if msg.voice().is_some() {
        let jpeg = std::fs::read(fixture_path("images/canon-40d.jpg"))?;
        bot.send_document(chat, InputFile::memory(jpeg).file_name("result.jpg"))
            .caption("Your document")
            .await?;
    } else if msg.text() == Some("keyboard") {
        // A one-time reply keyboard, full height (no resize_keyboard), with a placeholder.
        let keyboard = KeyboardMarkup::new([
            vec![
                KeyboardButton::new("🎨 Create"),
                KeyboardButton::new("💰 Balance"),
            ],
            vec![KeyboardButton::new("ℹ️ Info")],
        ])
        .one_time_keyboard()
        .input_field_placeholder("Pick a mode");
        bot.send_message(chat, "Pick a mode below")
            .reply_markup(keyboard)
            .await?;
    } else if msg.text() == Some("no keyboard") {
        bot.send_message(chat, "Keyboard removed")
            .reply_markup(KeyboardRemove::new())
            .await?;
    } else if msg.text() == Some("menu") {
        // The shape of mediabot's main menu: three rows of three, persistent and resized.
        let rows = [
            ["🎨 Create", "✍️ Write", "✏️ Edit"],
            ["✨ Retouch", "📝 Add text", "🔄 Swap face"],
            ["⬆️ Upscale", "💰 Balance", "ℹ️ Info"],
        ]
        .map(|row| row.map(KeyboardButton::new));
        bot.send_message(chat, "Main menu: the buttons below")
            .reply_markup(KeyboardMarkup::new(rows).resize_keyboard().persistent())
            .await?;
    } else if msg.text() == Some("think") {
        // Only a chat action: the page shows "typing…" for a while, as Telegram clients do.
        bot.send_chat_action(chat, ChatAction::Typing).await?;
    } else if let Some(text) = msg.text() {
        // With a 429 injected this fails, which the page must show.
        bot.send_message(chat, format!("echo: {text}")).await?;
    }
    Ok(())
}

async fn on_callback(bot: Bot, query: CallbackQuery) -> HandlerResult {
    bot.answer_callback_query(query.id.clone())
        .text("Upscaling…")
        .await?;
    let (Some(data), Some(message)) = (query.data.as_deref(), query.regular_message()) else {
        return Ok(());
    };
    let file_id = data.trim_start_matches("up:").to_owned();
    bot.send_chat_action(message.chat.id, ChatAction::UploadPhoto)
        .await?;
    bot.edit_message_text(message.chat.id, message.id, "Upscaling done")
        .await?;
    bot.send_photo(message.chat.id, InputFile::file_id(file_id.into()))
        .caption("Here is your photo ×2")
        .await?;
    Ok(())
}

#[tokio::test]
async fn chat_page_in_headless_chromium() {
    // Flood control off for this test of the page: its echo bot is a bare teloxide Bot without pacing, and
    // the page's display of a 429 is exercised with an injected fault below (the gateway, which does pace,
    // is tested through the page with flood control on in tests/end-to-end).
    let app = TestApp::spawn_with(telegram_sandbox::Config {
        token: Some(crate::helpers::TOKEN.to_owned()),
        flood_control: false,
        ..telegram_sandbox::Config::for_tests()
    })
    .await;
    let bot =
        Bot::new(&app.token).set_api_url(reqwest::Url::parse(&app.sandbox.base_url()).unwrap());
    bot.set_my_commands([BotCommand::new("start", "Start the bot")])
        .await
        .unwrap();
    let dispatcher = tokio::spawn(async move {
        Dispatcher::builder(bot, schema()).build().dispatch().await;
    });
    let started = std::time::Instant::now();
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let page = browser
        .open_chat(&app.sandbox.base_url(), USER, "Ann", "en")
        .await
        .unwrap();
    eprintln!("browser ready in {:?}", started.elapsed());

    // The command menu comes from setMyCommands.
    let menu = page.open_command_menu().await.unwrap();
    assert!(
        menu.contains("/start") && menu.contains("Start the bot"),
        "{menu}"
    );

    page.send_text("/start").await.unwrap();
    page.wait_bot_text("Welcome to the test bot!", WAIT)
        .await
        .unwrap();
    // parse_mode HTML is rendered from the entities, as elements.
    let bold = page
        .wait_js(
            "bold and italic",
            "const m = [...document.querySelectorAll('.msg.bot')].find(m => m.innerText.includes('Welcome'));
             const b = m.querySelector('b'), i = m.querySelector('i');
             return b && i ? [b.textContent, i.textContent] : null;",
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(bold, json!(["Welcome", "test bot"]));
    // And MarkdownV2: bold, code, spoiler (hidden until clicked), a link; the escaped dot is plain text.
    page.wait_bot_text("Tip: send /start again, or a secret link.", WAIT)
        .await
        .unwrap();
    let markdown = page
        .wait_js(
            "MarkdownV2 entities",
            "const m = [...document.querySelectorAll('.msg.bot')].find(m => m.innerText.includes('Tip:'));
             const a = m.querySelector('a[href]');
             return [m.querySelector('b').textContent, m.querySelector('code').textContent,
                     m.querySelector('.spoiler:not(.revealed)').textContent, a.textContent, a.href];",
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        markdown,
        json!(["Tip:", "/start", "secret", "link", "https://example.com/"])
    );

    page.send_file(
        "photo",
        &fixture_path("images/nokia-8.3-4608x1976.jpg"),
        "my street",
    )
    .await
    .unwrap();
    let offer = page
        .wait_bot_text("Got a 1280×549 photo", WAIT)
        .await
        .unwrap();
    let (button_message, label) = page.wait_button("Upscale", WAIT).await.unwrap();
    assert_eq!((button_message, label.as_str()), (offer, "Upscale ×2"));
    page.press_button("Upscale ×2", WAIT).await.unwrap();
    page.wait_toast("Upscaling…", WAIT).await.unwrap();
    let (width, height) = page.wait_bot_image(offer, WAIT).await.unwrap();
    assert_eq!((width, height), (1280, 549));
    page.wait_bot_text("Here is your photo ×2", WAIT)
        .await
        .unwrap();
    // The edit replaced the text of the button message (and its keyboard).
    let edited = page
        .wait_js(
            "the edited button message",
            &format!(
                "const m = document.querySelector('.msg.bot[data-message-id=\"{offer}\"]');
                 return m && m.innerText.includes('Upscaling done') && !m.innerText.includes('Got a')
                   && !document.querySelector('.keyboard[data-message-id=\"{offer}\"]');"
            ),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(edited, json!(true));
    // The user's own photo and caption are in the chat too.
    page.wait_js(
        "the user's photo with its caption",
        "return [...document.querySelectorAll('.msg.mine')].some(m => m.querySelector('img.photo') && m.innerText.includes('my street'))",
        WAIT,
    )
    .await
    .unwrap();

    page.send_text("think").await.unwrap();
    page.wait_js(
        "typing… in the header",
        "return document.getElementById('status').textContent === 'typing…'",
        WAIT,
    )
    .await
    .unwrap();

    // A reply keyboard shows under the message box with the bot's rows; a press sends the button's text as
    // the person's message; a one-time keyboard hides after it (the keyboard icon brings it back), and
    // ReplyKeyboardRemove takes it away.
    page.send_text("keyboard").await.unwrap();
    let rows = page.wait_reply_keyboard("ℹ️ Info", WAIT).await.unwrap();
    assert_eq!(rows, [vec!["🎨 Create", "💰 Balance"], vec!["ℹ️ Info"]]);
    page.wait_js(
        "the keyboard's placeholder in the message box",
        "return document.getElementById('text').placeholder === 'Pick a mode'",
        WAIT,
    )
    .await
    .unwrap();
    page.press_reply_button("ℹ️ Info", WAIT).await.unwrap();
    page.wait_bot_text("echo: ℹ️ Info", WAIT).await.unwrap();
    page.wait_js(
        "the pressed button's text as the person's message",
        "return [...document.querySelectorAll('.msg.mine')].some(m => m.innerText.startsWith('ℹ️ Info'))",
        WAIT,
    )
    .await
    .unwrap();
    page.wait_no_reply_keyboard(WAIT).await.unwrap();
    let used = app.client.reply_keyboard(USER).await.unwrap().unwrap();
    assert!(!used.shown && used.one_time_keyboard, "{used:?}");
    page.toggle_reply_keyboard().await.unwrap();
    page.wait_reply_keyboard("🎨 Create", WAIT).await.unwrap();
    page.send_text("no keyboard").await.unwrap();
    page.wait_bot_text("Keyboard removed", WAIT).await.unwrap();
    page.wait_no_reply_keyboard(WAIT).await.unwrap();
    page.wait_js(
        "no keyboard icon without a keyboard",
        "return document.getElementById('keyboard-button').hidden && document.getElementById('text').placeholder === 'Message'",
        WAIT,
    )
    .await
    .unwrap();

    // Text is never injected as HTML.
    page.send_text("<b>not bold</b><img src=x onerror=alert(1)>")
        .await
        .unwrap();
    page.wait_bot_text("echo: <b>not bold</b>", WAIT)
        .await
        .unwrap();
    let injected = browser
        .client()
        .execute(
            "return document.querySelectorAll('.msg.mine b, .msg.mine img:not(.photo), .msg.bot img:not(.photo)').length",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));

    // A 429 the bot gets from flood control is shown to the person.
    app.client
        .inject_fault(&Fault::too_many_requests("sendMessage", 7))
        .await
        .unwrap();
    page.send_text("are you there?").await.unwrap();
    page.wait_js(
        "the flood-control notice",
        "const e = document.querySelector('.system.api-error');
         return e && e.innerText.includes('Too Many Requests: retry after 7') && e.innerText.includes('Flood control');",
        WAIT,
    )
    .await
    .unwrap();

    // A voice note from the page; the bot answers with an image document: a download link and a preview.
    page.send_file("voice", &fixture_path("audio/jfk-voice.ogg"), "")
        .await
        .unwrap();
    page.wait_js(
        "the user's voice note as a player",
        "return [...document.querySelectorAll('.msg.mine audio')].length === 1",
        WAIT,
    )
    .await
    .unwrap();
    let document = page
        .wait_js(
            "the bot's document with its preview",
            "const a = document.querySelector('.msg.bot a.file[download=\"result.jpg\"]');
             const img = a && a.parentElement.querySelector('img.preview');
             return a && img && img.complete && img.naturalWidth > 0 ? [a.getAttribute('href'), a.innerText] : null;",
            WAIT,
        )
        .await
        .unwrap();
    assert!(
        document[0].as_str().unwrap().starts_with("/sandbox/files/"),
        "{document}"
    );
    assert!(
        document[1].as_str().unwrap().contains("image/jpeg"),
        "{document}"
    );

    // The main menu as a persistent keyboard: after the reload below the page must show it again.
    page.send_text("menu").await.unwrap();
    page.wait_bot_text("Main menu", WAIT).await.unwrap();
    page.wait_reply_keyboard("🔄 Swap face", WAIT)
        .await
        .unwrap();

    // "Who am I" is changed in the page and remembered across a reload without any query string.
    page.set_identity(USER, "Ann Two", "ru").await.unwrap();
    assert_eq!(
        page.identity().await.unwrap(),
        format!("Ann Two · {USER} · ru")
    );
    browser
        .client()
        .goto(&app.sandbox.base_url())
        .await
        .unwrap();
    page.wait_ready().await.unwrap();
    assert_eq!(
        page.identity().await.unwrap(),
        format!("Ann Two · {USER} · ru")
    );
    page.wait_bot_text("Your document", WAIT).await.unwrap();
    let menu = page
        .wait_reply_keyboard("🔄 Swap face", WAIT)
        .await
        .unwrap();
    assert_eq!(
        menu,
        [
            ["🎨 Create", "✍️ Write", "✏️ Edit"],
            ["✨ Retouch", "📝 Add text", "🔄 Swap face"],
            ["⬆️ Upscale", "💰 Balance", "ℹ️ Info"],
        ]
    );

    let shot = artifacts_dir().join("sandbox-chat.png");
    page.screenshot(&shot).await.unwrap();
    eprintln!("screenshot: {}", shot.display());
    browser.close().await;
    dispatcher.abort();
}

fn fixture_path(path: &str) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(format!(
        "{}/../../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ));
    assert!(path.is_file(), "fixture {} is missing", path.display());
    path
}
