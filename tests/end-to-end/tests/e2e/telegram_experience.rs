//! The Telegram experience beyond one file: albums, groups, the command menu and the file kinds the bot
//! has no operation for, through the sandbox with flood control and group privacy mode on, as Telegram
//! has them, in Russian and English.
//!
//! - an album of four photos: one offer for all, one charge of four prices, one archive of four pictures
//!   twice the size, one line in /history; an album of two in English converted to PNG;
//! - a group: chatter, a bare command before the bot spoke and another bot's command get nothing;
//!   `/help@<bot>`, a reply to the bot and, once it spoke, a bare command are answered; with privacy mode
//!   off the gateway still ignores chatter and answers a mention; /start there has no reply keyboard;
//! - the command menu: /status for everyone, /add_balance only in an administrator's private chat;
//! - a sticker is offered as a picture, an animation is described with no operation.

use std::io::Read as _;
use std::time::Duration;

use image::GenericImageView as _;
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{ConvertTarget, Operation};
use telegram_sandbox::client::{MediaKind, Message, User as TelegramUser};

use crate::harness::{Options, System, User, fixture};

const WELCOME: i64 = 3000;

fn text_of(message: &Message) -> String {
    message.text_or_caption().to_string()
}

async fn price(system: &System, operation: &Operation) -> i64 {
    price_of(&system.prices().await, operation, 0)
        .expect("a price")
        .0
}

/// The pictures of a ZIP archive, in order: (entry name, decoded size).
fn archive_pictures(bytes: &[u8]) -> Vec<(String, (u32, u32))> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            let size = image::load_from_memory(&data).unwrap().dimensions();
            (entry.name().unwrap().to_string(), size)
        })
        .collect()
}

/// The size of the largest photo size of a sent photo message.
fn photo_size(message: &Message) -> (u32, u32) {
    let largest = message
        .photo
        .iter()
        .max_by_key(|p| p.width * p.height)
        .unwrap();
    (largest.width, largest.height)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_is_one_offer_one_charge_and_one_archive() {
    let mut system = System::start(Options::default()).await;
    let upscale = price(&system, &Operation::upscale(2)).await;

    // Russian: four photos sent together.
    let olga = system.user(7701, "ru");
    let photos = [
        "images/orientation/landscape_1.jpg",
        "images/orientation/landscape_3.jpg",
        "images/orientation/landscape_6.jpg",
        "images/canon-40d.jpg",
    ];
    let sent = olga
        .chat()
        .send_album(
            photos.iter().map(|path| (MediaKind::Photo, fixture(path))),
            None,
        )
        .await
        .unwrap();
    let first = sent[0].message_id;
    let offer = olga
        .wait_for_bot_message(
            &mut system,
            first,
            Duration::from_secs(60),
            "the album's offer",
            |m| m.reply_to_message_id() == Some(first) && m.first_callback_data().is_some(),
        )
        .await;
    assert!(
        text_of(&offer).starts_with("🖼 4 картинки вместе"),
        "{}",
        text_of(&offer)
    );
    let data = Operation::upscale(2).times(4).callback_data();
    let button = offer
        .buttons()
        .find(|b| b.callback_data.as_deref() == Some(data.as_str()))
        .unwrap_or_else(|| panic!("no {data} under {offer:?}"));
    assert!(
        button.text.ends_with(&format!("{} ₽", 4 * upscale / 100)),
        "{}",
        button.text
    );
    olga.press(offer.message_id, &data).await;
    let result = olga
        .wait_for_result(&mut system, first, Duration::from_secs(120))
        .await;
    let caption = text_of(&result);
    assert!(caption.contains("4 картинки в архиве"), "{caption}");
    let archive = olga.file(result.file_id().unwrap()).await;
    let pictures = archive_pictures(&archive);
    let expected: Vec<(String, (u32, u32))> = sent
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let (w, h) = photo_size(message);
            (format!("photo-{:02}.jpg", i + 1), (w * 2, h * 2))
        })
        .collect();
    assert_eq!(pictures, expected);
    system.wait_for_balance(7701, WELCOME - 4 * upscale).await;
    // One offer for the album, not one per photo; one line in /history.
    let offers = olga
        .messages()
        .await
        .iter()
        .filter(|m| m["reply_markup"]["inline_keyboard"].is_array())
        .count();
    assert_eq!(offers, 0, "the offer became the job's status and went");
    let history = olga.send_text("/history").await;
    let history = olga
        .wait_for_bot_message(
            &mut system,
            history["message_id"].as_i64().unwrap(),
            Duration::from_secs(30),
            "the history",
            |m| text_of(m).starts_with("Ваши операции"),
        )
        .await;
    let history = text_of(&history);
    let lines: Vec<&str> = history.lines().skip(1).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(&format!(
            "Увеличение фото ×2 · 4 фото · {} ₽ · ✅ выполнено и оплачено",
            4 * upscale / 100
        )),
        "{lines:?}"
    );

    // English: two photos to PNG.
    let ann = system.user(7702, "en");
    let sent = ann
        .chat()
        .send_album(
            [
                (
                    MediaKind::Photo,
                    fixture("images/orientation/landscape_8.jpg"),
                ),
                (
                    MediaKind::Photo,
                    fixture("images/orientation/landscape_1.jpg"),
                ),
            ],
            Some("two"),
        )
        .await
        .unwrap();
    let first = sent[0].message_id;
    let offer = ann
        .wait_for_bot_message(
            &mut system,
            first,
            Duration::from_secs(60),
            "the album's offer",
            |m| m.reply_to_message_id() == Some(first) && m.first_callback_data().is_some(),
        )
        .await;
    assert!(
        text_of(&offer).starts_with("🖼 2 pictures together"),
        "{}",
        text_of(&offer)
    );
    let png = Operation::convert(ConvertTarget::Png).times(2);
    ann.press(offer.message_id, &png.callback_data()).await;
    let result = ann
        .wait_for_result(&mut system, first, Duration::from_secs(120))
        .await;
    assert!(
        text_of(&result).contains("2 pictures in the archive"),
        "{}",
        text_of(&result)
    );
    let pictures = archive_pictures(&ann.file(result.file_id().unwrap()).await);
    let names: Vec<&str> = pictures.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["photo-01.png", "photo-02.png"]);
    let convert = price(&system, &Operation::convert(ConvertTarget::Png)).await;
    system.wait_for_balance(7702, WELCOME - 2 * convert).await;
}

/// Waits for the first bot message after `after` in `user`'s chat whose text starts with `starts`.
async fn answer_after(system: &mut System, user: &User, after: i64, starts: &str) -> Message {
    user.wait_for_bot_message(system, after, Duration::from_secs(30), starts, |m| {
        text_of(m).starts_with(starts)
    })
    .await
}

/// The ids of the bot's messages in `user`'s chat after the message `sent`.
async fn bot_messages_after(user: &User, sent: &serde_json::Value) -> Vec<i64> {
    let after = sent["message_id"].as_i64();
    user.messages()
        .await
        .iter()
        .filter(|m| m["from"]["is_bot"] == true && m["message_id"].as_i64() > after)
        .map(|m| m["message_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_the_bot_answers_only_what_is_meant_for_it() {
    let mut system = System::start(Options {
        env: vec![("gateway", "ADMIN_IDS", "7790".into())],
        ..Options::default()
    })
    .await;
    let sandbox = system.sandbox().clone();
    assert!(
        sandbox.group_privacy().await.unwrap(),
        "on, as Telegram's default"
    );
    let bot = sandbox
        .bots()
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the gateway's bot");
    let name = bot.username.clone();
    let group = -5_001;
    let ann =
        User::from_chat(sandbox.chat_user(group, TelegramUser::new(7791, "Ann").language("en")));

    // Privacy mode on: chatter, a bare command before the bot spoke and another bot's command never
    // reach it; a command with its name does.
    let chatter = ann.send_text("hello everyone, lunch at one?").await;
    ann.send_text("/help").await;
    ann.send_text("/help@some_other_bot").await;
    let help = ann.send_text(&format!("/help@{name}")).await;
    let help_answer = answer_after(
        &mut system,
        &ann,
        help["message_id"].as_i64().unwrap(),
        "Send a photo",
    )
    .await;
    assert_eq!(
        bot_messages_after(&ann, &chatter).await,
        [help_answer.message_id],
        "only /help@bot was answered"
    );

    // A reply to the bot's message is answered; so is a bare command now that the bot has spoken.
    let reply = ann
        .chat()
        .send(
            telegram_sandbox::client::NewMessage::text("what else?")
                .reply_to(help_answer.message_id),
        )
        .await
        .unwrap();
    answer_after(&mut system, &ann, reply.message_id, "I understand photos").await;
    let ping = ann.send_text("/ping").await;
    answer_after(&mut system, &ann, ping["message_id"].as_i64().unwrap(), "").await;

    // Privacy mode off: the gateway sees everything, still ignores chatter, answers a mention.
    assert!(!sandbox.set_group_privacy(false).await.unwrap());
    let chatter = ann.send_text("the build is green again").await;
    let mention = ann.send_text(&format!("@{name} what can you do?")).await;
    let answer = answer_after(
        &mut system,
        &ann,
        mention["message_id"].as_i64().unwrap(),
        "I understand photos",
    )
    .await;
    assert_eq!(
        bot_messages_after(&ann, &chatter).await,
        [answer.message_id],
        "chatter got nothing"
    );

    // /start in a group: how to talk to the bot there, no reply keyboard (its presses would not arrive).
    let start = ann.send_text(&format!("/start@{name}")).await;
    let welcome = ann
        .wait_for_bot_message(
            &mut system,
            start["message_id"].as_i64().unwrap(),
            Duration::from_secs(30),
            "the welcome",
            |m| text_of(m).contains("In a group I read only commands"),
        )
        .await;
    assert!(text_of(&welcome).contains(&format!("/help@{name}")));
    assert_eq!(ann.chat().reply_keyboard().await.unwrap(), None);
    sandbox.set_group_privacy(true).await.unwrap();

    // The command menu: /status for everyone; /add_balance only in the administrator's private chat.
    let olga = system.user(7792, "ru");
    let menu = olga.chat().commands().await.unwrap();
    let names: Vec<&str> = menu.commands.iter().map(|c| c.command.as_str()).collect();
    assert!(
        names.contains(&"status") && names.contains(&"history"),
        "{names:?}"
    );
    assert!(!names.contains(&"add_balance"), "{names:?}");
    let admin = system.user(7790, "ru");
    let menu = admin.chat().commands().await.unwrap();
    assert!(
        menu.commands.iter().any(|c| c.command == "add_balance"),
        "{menu:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sticker_is_a_picture_and_an_animation_is_described() {
    let mut system = System::start(Options::default()).await;
    let olga = system.user(7781, "ru");
    let sticker = olga
        .chat()
        .send_sticker(fixture("images/orientation/landscape_1.jpg"))
        .await
        .unwrap();
    let offer = olga
        .wait_for_bot_message(
            &mut system,
            sticker.message_id,
            Duration::from_secs(60),
            "the sticker's offer",
            |m| m.reply_to_message_id() == Some(sticker.message_id),
        )
        .await;
    let data: Vec<String> = offer
        .buttons()
        .filter_map(|b| b.callback_data.clone())
        .collect();
    assert!(
        data.contains(&Operation::upscale(2).callback_data()),
        "{}: {data:?}",
        text_of(&offer)
    );
    assert!(text_of(&offer).contains("WebP"), "{}", text_of(&offer));

    // A three-frame GIF, 64×48.
    let dir = tempfile::tempdir().unwrap();
    let gif = dir.path().join("blink.gif");
    {
        let file = std::fs::File::create(&gif).unwrap();
        let mut encoder = image::codecs::gif::GifEncoder::new(file);
        for shade in [0u8, 128, 255] {
            let frame = image::RgbaImage::from_pixel(64, 48, image::Rgba([shade, 0, 0, 255]));
            encoder
                .encode_frame(image::Frame::from_parts(
                    frame,
                    0,
                    0,
                    image::Delay::from_numer_denom_ms(500, 1),
                ))
                .unwrap();
        }
    }
    let ann = system.user(7782, "en");
    let animation = ann.chat().send_animation(gif.as_path()).await.unwrap();
    let reply = ann
        .wait_for_bot_message(
            &mut system,
            animation.message_id,
            Duration::from_secs(30),
            "the animation's description",
            |m| text_of(m).starts_with("🎞 Animation"),
        )
        .await;
    let text = text_of(&reply);
    assert!(text.contains("64×48"), "{text}");
    assert!(text.contains("no operation for animations"), "{text}");
}
