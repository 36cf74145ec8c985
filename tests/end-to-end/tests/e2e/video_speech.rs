//! Videos and video notes are heard, with the real multilingual base model and flood control on: a Russian
//! user's round video note comes back as Russian text, an English user's MP4 video as the jfk sentence,
//! each charged one started minute. The bad videos users send cost nothing and say why: one without sound
//! ("no sound"), one cut off in the upload (damaged), one whose message says it is longer than the limit
//! (refused before anything is reserved or downloaded, with the limit), one over the 20 MB of getFile.

use std::time::Duration;

use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;
use telegram_sandbox::client::{InputFile, MediaKind, NewMessage};

use crate::harness::{Options, System, User, fixture, text_of};

const WELCOME_CREDIT: i64 = 3000;
const VIDEO_NOTE_RU: &str = "video/video-note-ru-384.mp4";
const JFK_MP4: &str = "video/jfk-640x360-25fps.mp4";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_notes_and_videos_are_transcribed_and_bad_videos_cost_nothing() {
    let mut system = System::start(Options {
        real_speech_model: Some("MEDIABOT_WHISPER_BASE"),
        ..Options::default()
    })
    .await;
    let prices = system.prices().await;
    // Both videos are 11 s: one started minute each.
    let price_ru = price_of(&prices, &Operation::transcribe("ru"), 11_000)
        .unwrap()
        .0;
    let price_en = price_of(&prices, &Operation::transcribe("en"), 11_000)
        .unwrap()
        .0;
    assert!(price_ru > 0 && price_en > 0);

    // A Russian user's video note: Russian text, the language named, the translate button under it.
    let olga = system.user(7401, "ru");
    let note = olga
        .send_file("video_note", &fixture(VIDEO_NOTE_RU), "video/mp4")
        .await;
    assert_eq!(note["video_note"]["length"], 384);
    let note_id = note["message_id"].as_i64().unwrap();
    olga.wait_for_russian_transcript(
        &mut system,
        note_id,
        "with the video note's Russian transcript",
    )
    .await;
    system
        .wait_for_balance(7401, WELCOME_CREDIT - price_ru)
        .await;

    // An English user's MP4 sent as a video: the jfk sentence.
    let john = system.user(7402, "en");
    let video = john
        .send_file("video", &fixture(JFK_MP4), "video/mp4")
        .await;
    // The sandbox reports the first track's (the picture's) length, rounded: 11 or 12 s.
    let duration = video["video"]["duration"].as_u64().unwrap();
    assert!((11..=12).contains(&duration), "{duration}");
    let video_id = video["message_id"].as_i64().unwrap();
    let transcript = john
        .wait_for_bot(
            &mut system,
            video_id,
            Duration::from_secs(180),
            "with the video's English transcript",
            |m| {
                m["reply_to_message"]["message_id"].as_i64() == Some(video_id)
                    && text_of(m).contains("Balance:")
            },
        )
        .await;
    let text = text_of(&transcript).to_lowercase();
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );
    system
        .wait_for_balance(7402, WELCOME_CREDIT - price_en)
        .await;

    // Bad videos, each answered with its reason; the user keeps every kopeck.
    let bob = system.user(7403, "en");
    let round = std::fs::read(fixture(VIDEO_NOTE_RU)).unwrap();
    let cases: Vec<(&str, NewMessage, &str)> = vec![
        (
            "a video recorded without sound",
            NewMessage::file(
                MediaKind::Video,
                InputFile::bytes(without_sound_track(&round), "silent.mp4").mime_type("video/mp4"),
            ),
            "it has no sound",
        ),
        (
            "a video note cut off in the upload",
            NewMessage::file(
                MediaKind::VideoNote,
                InputFile::bytes(round[..50_000].to_vec(), "cut.mp4"),
            ),
            "damaged or unreadable",
        ),
        (
            "a video note whose message says 3700 s",
            NewMessage::file(
                MediaKind::VideoNote,
                InputFile::bytes(round.clone(), "long.mp4"),
            )
            .duration(3700),
            "I transcribe up to 60 min",
        ),
        (
            "a 21 MB video",
            NewMessage::file(
                MediaKind::Video,
                InputFile::bytes(vec![0u8; 21 * 1024 * 1024], "big.mp4").mime_type("video/mp4"),
            ),
            "I accept files up to 20 MB",
        ),
    ];
    for (what, message, expected) in cases {
        send_and_expect(&mut system, &bob, what, message, expected).await;
    }
    system.wait_for_balance(7403, WELCOME_CREDIT).await;
}

/// Sends `message` and waits for the bot's message replying to it that says `expected` and that nothing
/// was charged.
async fn send_and_expect(
    system: &mut System,
    user: &User,
    what: &str,
    message: NewMessage,
    expected: &str,
) {
    let sent = user
        .chat()
        .send(message)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let sent_id = sent.message_id;
    let answer = user
        .wait_for_bot(
            system,
            sent_id,
            Duration::from_secs(120),
            &format!("telling why {what} failed"),
            |m| {
                m["reply_to_message"]["message_id"].as_i64() == Some(sent_id)
                    && text_of(m).contains(expected)
            },
        )
        .await;
    let text = text_of(&answer);
    assert!(
        text.contains("Nothing was charged") || text.contains("You were not charged"),
        "{what}: {text}"
    );
}

/// `mp4` less its sound track (the `trak` box whose `hdlr` is `soun`): a video recorded without sound.
/// The video note's `moov` comes after `mdat`, so no chunk offset moves.
fn without_sound_track(mp4: &[u8]) -> Vec<u8> {
    let boxes = |data: &[u8]| {
        let mut out = Vec::new();
        let mut at = 0;
        while at + 8 <= data.len() {
            let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            out.push((data[at + 4..at + 8].to_vec(), at, at + size));
            at += size;
        }
        out
    };
    let (_, moov_start, moov_end) = boxes(mp4)
        .into_iter()
        .find(|(kind, ..)| kind == b"moov")
        .unwrap();
    let moov = &mp4[moov_start + 8..moov_end];
    let mut body = Vec::new();
    for (kind, start, end) in boxes(moov) {
        let child = &moov[start..end];
        // trak → mdia → hdlr: the handler type follows the box header, version/flags and pre_defined.
        let is_sound = kind == b"trak"
            && boxes(&child[8..])
                .into_iter()
                .find(|(k, ..)| k == b"mdia")
                .and_then(|(_, s, e)| {
                    let mdia = &child[8 + s..8 + e];
                    boxes(&mdia[8..])
                        .into_iter()
                        .find(|(k, ..)| k == b"hdlr")
                        .map(|(_, s, _)| &mdia[8 + s + 16..8 + s + 20] == b"soun")
                })
                .unwrap_or(false);
        if !is_sound {
            body.extend_from_slice(child);
        }
    }
    assert!(body.len() < moov.len(), "the sound track was removed");
    let mut out = mp4[..moov_start].to_vec();
    out.extend_from_slice(&(body.len() as u32 + 8).to_be_bytes());
    out.extend_from_slice(b"moov");
    out.extend_from_slice(&body);
    out.extend_from_slice(&mp4[moov_end..]);
    out
}
