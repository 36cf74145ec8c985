//! Stickers, animations and albums sent by users through the control API, as Telegram delivers them: a
//! sticker's size from its image (stored as WebP), an animation's size and duration from the file and the
//! same file as `document`, and an album as one message and update per item sharing a `media_group_id`.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbaImage, imageops::FilterType};
use serde_json::json;
use telegram_sandbox::client::{ClientError, InputFile, MediaKind, NewMessage};

use crate::helpers::{TestApp, USER, fixture, fixture_path};

/// A real photo as a 512-pixel sticker image in `format`; answers the bytes and the size.
fn sticker_image(format: ImageFormat) -> (Vec<u8>, u32, u32) {
    let photo = image::load_from_memory(&fixture("images/canon-40d.jpg")).unwrap();
    let image = DynamicImage::ImageRgba8(photo.resize(512, 512, FilterType::Triangle).to_rgba8());
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    (bytes, image.width(), image.height())
}

/// A 40×30 GIF of `frames` frames shown `delay_ms` each.
fn gif(frames: u32, delay_ms: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        let frames = (0..frames).map(|i| {
            let pixels = RgbaImage::from_pixel(40, 30, image::Rgba([(i * 60) as u8, 90, 200, 255]));
            image::Frame::from_parts(pixels, 0, 0, image::Delay::from_numer_denom_ms(delay_ms, 1))
        });
        encoder.encode_frames(frames).unwrap();
    }
    bytes
}

#[tokio::test]
async fn user_stickers_as_telegram_delivers_them() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);

    // A static WebP sticker: its size read from the image, the file kept byte for byte, the emoji given.
    let (webp, width, height) = sticker_image(ImageFormat::WebP);
    let message = ann
        .send(
            NewMessage::file(
                MediaKind::Sticker,
                InputFile::bytes(webp.clone(), "cat.webp"),
            )
            .emoji("🐱"),
        )
        .await
        .unwrap();
    let sticker = message.sticker.clone().unwrap();
    assert_eq!((sticker.width, sticker.height), (width, height));
    assert_eq!(
        (width, height),
        (512, 348),
        "a 100×68 photo scaled to 512 pixels"
    );
    assert_eq!(sticker.kind, "regular");
    assert!(!sticker.is_animated && !sticker.is_video);
    assert_eq!(sticker.emoji.as_deref(), Some("🐱"));
    assert_eq!(sticker.file_size, webp.len() as u64);
    assert!(sticker.file_id.starts_with("CAAC"), "{}", sticker.file_id);
    assert_eq!(
        ann.download(&sticker.file_id).await.unwrap().as_ref(),
        webp.as_slice()
    );
    assert!(message.document.is_none() && message.caption.is_none());
    // The Bot API's field names, exactly.
    let raw = serde_json::to_value(&message).unwrap();
    let mut fields: Vec<&str> = raw["sticker"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "emoji",
            "file_id",
            "file_size",
            "file_unique_id",
            "height",
            "is_animated",
            "is_video",
            "type",
            "width"
        ]
    );
    let update = &app.take_updates().await[0];
    assert_eq!(update["sticker"], raw["sticker"]);

    // A PNG becomes a WebP sticker of the same size; no emoji when none is given.
    let (png, ..) = sticker_image(ImageFormat::Png);
    let sticker = ann
        .send_sticker(InputFile::bytes(png, "cat.png"))
        .await
        .unwrap()
        .sticker
        .unwrap();
    assert_eq!((sticker.width, sticker.height), (width, height));
    assert!(sticker.emoji.is_none());
    let stored = ann.download(&sticker.file_id).await.unwrap();
    assert!(stored.starts_with(b"RIFF") && &stored[8..12] == b"WEBP");
    let file = app
        .ok("getFile", json!({ "file_id": sticker.file_id }))
        .await;
    assert!(
        file["file_path"].as_str().unwrap().ends_with(".webp"),
        "{file}"
    );

    // An animated (TGS: gzip) and a video (WebM) sticker: Telegram's 512×512 unless the file says more.
    let tgs = [
        0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xab, 0xae, 0x05, 0x00,
    ];
    let animated = ann
        .send_sticker(InputFile::bytes(tgs.to_vec(), "hi.tgs"))
        .await
        .unwrap()
        .sticker
        .unwrap();
    assert!(animated.is_animated && !animated.is_video);
    assert_eq!((animated.width, animated.height), (512, 512));
    let webm = [0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01];
    let video = ann
        .send(
            NewMessage::file(
                MediaKind::Sticker,
                InputFile::bytes(webm.to_vec(), "hi.webm"),
            )
            .size(512, 384),
        )
        .await
        .unwrap()
        .sticker
        .unwrap();
    assert!(video.is_video && !video.is_animated);
    assert_eq!((video.width, video.height), (512, 384));

    // A sticker has no caption; a file that is no image is refused.
    let refused = ann
        .send(
            NewMessage::file(MediaKind::Sticker, InputFile::bytes(webp.clone(), "a.webp"))
                .caption("hi"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.status(),
        Some(reqwest::StatusCode::BAD_REQUEST),
        "{refused}"
    );
    let refused = ann
        .send_sticker(InputFile::bytes(b"not an image".to_vec(), "a.webp"))
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("can't process the sticker"),
        "{refused}"
    );

    // The bot sends the user's sticker back by file_id (sendSticker).
    let sent = app
        .ok(
            "sendSticker",
            json!({ "chat_id": USER, "sticker": message.sticker.as_ref().unwrap().file_id }),
        )
        .await;
    assert_eq!(sent["sticker"], raw["sticker"]);
}

#[tokio::test]
async fn user_animations_carry_a_document_too() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);

    // A GIF: size from its header, duration from its frame delays (4 × 0.5 s), the same file as document.
    let bytes = gif(4, 500);
    let message = ann
        .send(
            NewMessage::file(
                MediaKind::Animation,
                InputFile::bytes(bytes.clone(), "dance.gif"),
            )
            .caption("/dance"),
        )
        .await
        .unwrap();
    let animation = message.animation.clone().unwrap();
    assert_eq!(
        (animation.width, animation.height, animation.duration),
        (40, 30, 2)
    );
    assert_eq!(animation.mime_type.as_deref(), Some("image/gif"));
    assert_eq!(animation.file_name.as_deref(), Some("dance.gif"));
    assert_eq!(animation.file_size, bytes.len() as u64);
    assert!(
        animation.file_id.starts_with("CgAC"),
        "{}",
        animation.file_id
    );
    let document = message.document.clone().unwrap();
    assert_eq!(document.file_id, animation.file_id);
    assert_eq!(document.file_unique_id, animation.file_unique_id);
    assert_eq!(document.file_name.as_deref(), Some("dance.gif"));
    assert_eq!(document.mime_type.as_deref(), Some("image/gif"));
    assert_eq!(document.file_size, bytes.len() as u64);
    assert_eq!(message.caption_entities[0].kind, "bot_command");
    assert_eq!(
        ann.download(&animation.file_id).await.unwrap().as_ref(),
        bytes.as_slice()
    );
    let update = &app.take_updates().await[0];
    assert_eq!(update["animation"]["duration"], 2);
    assert_eq!(
        update["document"]["file_id"],
        update["animation"]["file_id"]
    );

    // An MP4: size and duration from the file; given ones win, as for videos.
    let mp4 = ann
        .send_animation(fixture_path("video/jfk-640x360-25fps.mp4"))
        .await
        .unwrap()
        .animation
        .unwrap();
    assert_eq!((mp4.width, mp4.height), (640, 360));
    // 11 s of speech; the container's duration rounds to 11 or 12 (as for videos, see teloxide_bot.rs).
    assert!((11..=12).contains(&mp4.duration), "{}", mp4.duration);
    assert_eq!(mp4.mime_type.as_deref(), Some("video/mp4"));
    let given = ann
        .send(
            NewMessage::file(
                MediaKind::Animation,
                fixture_path("video/jfk-640x360-25fps.mp4"),
            )
            .size(320, 180)
            .duration(3),
        )
        .await
        .unwrap()
        .animation
        .unwrap();
    assert_eq!((given.width, given.height, given.duration), (320, 180, 3));

    // sendAnimation on the bot side gives the same shape.
    let sent = app
        .ok(
            "sendAnimation",
            json!({ "chat_id": USER, "animation": animation.file_id }),
        )
        .await;
    assert_eq!(sent["animation"]["width"], 40);
    assert_eq!(sent["document"]["file_id"], sent["animation"]["file_id"]);
}

#[tokio::test]
async fn a_user_album_is_one_message_per_item_with_one_media_group_id() {
    let app = TestApp::spawn().await;
    let ann = app.user(USER);
    let album = ann
        .send_album(
            [
                (
                    MediaKind::Photo,
                    fixture_path("images/orientation/landscape_1.jpg"),
                ),
                (MediaKind::Photo, fixture_path("images/canon-40d.jpg")),
                (
                    MediaKind::Video,
                    fixture_path("video/jfk-640x360-25fps.mp4"),
                ),
            ],
            Some("our trip"),
        )
        .await
        .unwrap();
    assert_eq!(album.len(), 3);
    let group = album[0].media_group_id.clone().unwrap();
    assert!(group.bytes().all(|b| b.is_ascii_digit()), "{group}");
    assert!(
        album
            .iter()
            .all(|m| m.media_group_id.as_deref() == Some(group.as_str()))
    );
    assert_eq!(album[0].caption.as_deref(), Some("our trip"));
    assert!(album[1].caption.is_none() && album[2].caption.is_none());
    assert!(!album[0].photo.is_empty() && !album[1].photo.is_empty());
    assert!((11..=12).contains(&album[2].video.as_ref().unwrap().duration));
    let ids: Vec<i64> = album.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, [ids[0], ids[0] + 1, ids[0] + 2]);

    // The bot gets one update per item, all with the album's id.
    let updates = app.take_updates().await;
    assert_eq!(updates.len(), 3);
    assert!(
        updates
            .iter()
            .all(|m| m["media_group_id"] == group.as_str())
    );

    // The next album has another id; documents make albums too.
    let docs = ann
        .send_album(
            [
                (
                    MediaKind::Document,
                    InputFile::bytes(fixture("docs/notes-utf8.txt"), "a.txt"),
                ),
                (
                    MediaKind::Document,
                    InputFile::bytes(fixture("docs/notes-cp1251.txt"), "b.txt"),
                ),
            ],
            None,
        )
        .await
        .unwrap();
    let second = docs[0].media_group_id.clone().unwrap();
    assert_ne!(second, group);
    assert_eq!(docs[1].media_group_id.as_deref(), Some(second.as_str()));

    // 2 to 10 items, checked before anything is sent.
    let one = ann
        .send_album(
            [(MediaKind::Photo, fixture_path("images/canon-40d.jpg"))],
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(one, ClientError::Album { count: 1 }), "{one}");
    let eleven = vec![(MediaKind::Photo, fixture_path("images/canon-40d.jpg")); 11];
    let eleven = ann.send_album(eleven, None).await.unwrap_err();
    assert!(
        matches!(eleven, ClientError::Album { count: 11 }),
        "{eleven}"
    );
    assert_eq!(ann.messages().await.unwrap().len(), 5);

    // A text, a sticker or a voice note is never part of an album.
    let text = app
        .http
        .post(app.url(&format!("/sandbox/chats/{USER}/messages")))
        .json(&json!({ "text": "hi", "media_group_id": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), reqwest::StatusCode::BAD_REQUEST);
    let voice = ann
        .send(
            NewMessage::file(MediaKind::Voice, fixture_path("audio/jfk-voice.ogg"))
                .media_group("1"),
        )
        .await
        .unwrap_err();
    assert!(
        voice.to_string().contains("can't be part of an album"),
        "{voice}"
    );

    // In a group with privacy mode on, only the item whose caption is a command for the bot arrives.
    assert_eq!(app.take_updates().await.len(), 2, "the documents");
    let member = app.user(-100);
    member
        .send_album(
            [
                (MediaKind::Photo, fixture_path("images/canon-40d.jpg")),
                (
                    MediaKind::Photo,
                    fixture_path("images/orientation/landscape_3.jpg"),
                ),
            ],
            Some("/start@sandbox_123456789_bot"),
        )
        .await
        .unwrap();
    let updates = app.take_updates().await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["caption"], "/start@sandbox_123456789_bot");
}
