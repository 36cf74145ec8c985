//! What the bot says about a file it has no operation for, in Russian and English: the file's name (made
//! safe to repeat), MIME type and size from the message, and what it does take. And a picture while
//! imaging is down: the offer comes without its facts.

use std::time::Duration;

use telegram_sandbox::client::InputFile;

use crate::system::{photo, start};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_with_no_operation_is_named_and_a_picture_without_imaging_is_still_offered() {
    let system = start().await;

    let ann = system.user(6401, "en");
    let zip = InputFile::bytes(
        vec![b'P', b'K', 3, 4, 0, 0, 0, 0],
        "backups/2026/backup.zip",
    )
    .mime_type("application/zip");
    let sent = ann.send_document(zip).await.unwrap();
    let reply = ann
        .wait_bot_message("the reply to a zip", WAIT, |m| {
            m.message_id > sent.message_id
        })
        .await
        .unwrap();
    assert!(
        reply
            .text_or_caption()
            .starts_with("📄 «backup.zip» · application/zip · 8 B\nI have no operation for this type of file yet."),
        "{reply:?}"
    );

    // A name that would read backwards (an RLO override) is repeated without the override.
    let boris = system.user(6402, "ru");
    let exe = InputFile::bytes(b"MZ".to_vec(), "счёт\u{202e}fdp.exe")
        .mime_type("application/x-msdownload");
    let sent = boris.send_document(exe).await.unwrap();
    let reply = boris
        .wait_bot_message("the reply to an exe", WAIT, |m| {
            m.message_id > sent.message_id
        })
        .await
        .unwrap();
    let text = reply.text_or_caption();
    assert!(
        text.starts_with("📄 «счётfdp.exe» · application/x-msdownload")
            && text.contains("Для такого файла у меня пока нет операций."),
        "{reply:?}"
    );

    // Imaging is not running in these tests: a picture is still offered, without its facts.
    let sent = boris.send_photo(photo().as_path()).await.unwrap();
    let offer = boris
        .wait_bot_message("the offer", WAIT, |m| {
            m.reply_to_message_id() == Some(sent.message_id) && m.first_callback_data().is_some()
        })
        .await
        .unwrap();
    assert_eq!(offer.text_or_caption(), "Что сделать с изображением?");
}
