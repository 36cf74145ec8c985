//! Long audio as subtitles, with the real multilingual base model and the sandbox's flood control on: a
//! 92 s English recording sent as an audio file shows its progress in the status message (a percentage
//! and the time left), then arrives as text in the chat plus `.txt`, `.srt` and `.vtt` documents whose
//! contents parse and hold the recording's words, and exactly two started minutes are charged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::Operation;
use serde_json::Value;

use crate::harness::{Options, System, fixture, text_of};

const WELCOME_CREDIT: i64 = 3000;
const USER: i64 = 7501;

/// The words of long-en.txt a transcript must hold (most of them: base writes a few differently).
fn reference_words() -> Vec<String> {
    std::fs::read_to_string(fixture("audio/long-en.txt"))
        .unwrap()
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| w.len() >= 5)
        .collect()
}

fn share_of_words_in(text: &str) -> f64 {
    let text = text.to_lowercase();
    let words = reference_words();
    let found = words.iter().filter(|w| text.contains(w.as_str())).count();
    found as f64 / words.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_92_second_recording_comes_as_text_and_subtitles_with_progress_on_the_way() {
    let mut system = System::start(Options {
        real_speech_model: Some("MEDIABOT_WHISPER_BASE"),
        ..Options::default()
    })
    .await;
    assert!(
        system.sandbox().flood_control().await.unwrap(),
        "flood control is on"
    );
    let user = system.user(USER, "en");
    let prices = system.prices().await;
    let per_minute = price_of(&prices, &Operation::transcribe("en"), 1)
        .unwrap()
        .0;
    assert_eq!(
        price_of(&prices, &Operation::transcribe("en"), 92_000)
            .unwrap()
            .0,
        2 * per_minute
    );

    let sent = user
        .send_file("audio", &fixture("audio/long-en.wav"), "audio/wav")
        .await;
    let sent_id = sent["message_id"].as_i64().unwrap();

    // Watch the chat: every text a bot message had (the status message is edited in place), until the
    // three documents and the text with the balance are there.
    let mut watch = user.chat().watch();
    let mut seen_texts: HashMap<i64, Vec<String>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let (documents, transcript) = loop {
        let bot_messages: Vec<Value> = watch
            .messages()
            .filter(|m| m.is_from_bot() && m.message_id > sent_id)
            .map(|m| serde_json::to_value(m).unwrap())
            .collect();
        for message in &bot_messages {
            let texts = seen_texts
                .entry(message["message_id"].as_i64().unwrap())
                .or_default();
            let text = text_of(message);
            if texts.last() != Some(&text) {
                texts.push(text);
            }
        }
        let documents: Vec<&Value> = bot_messages
            .iter()
            .filter(|m| m["document"].is_object())
            .collect();
        let transcript = bot_messages
            .iter()
            .find(|m| text_of(m).contains("Balance:"));
        if documents.len() >= 3
            && let Some(transcript) = transcript
        {
            break (
                documents.into_iter().cloned().collect::<Vec<_>>(),
                transcript.clone(),
            );
        }
        system.assert_alive();
        assert!(
            Instant::now() < deadline,
            "no transcript with documents within 300 s; bot texts {seen_texts:?}\n{}",
            system.logs()
        );
        watch.poll(Duration::from_millis(200)).await.unwrap();
    };

    // Progress on the way: the status message showed a percentage with the time left.
    let progress: Vec<&String> = seen_texts
        .values()
        .flatten()
        .filter(|t| t.contains("Working on it…") && t.contains('%'))
        .collect();
    eprintln!("progress texts seen: {progress:?}");
    assert!(
        progress.iter().any(|t| t.contains("left")),
        "no progress edit with a percentage and the time left: {seen_texts:?}"
    );
    // The status message is deleted once the result is there (its own Bot API call, after the documents,
    // so give it a moment under flood control).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status_gone = user
            .messages()
            .await
            .iter()
            .all(|m| !text_of(m).contains("Working on it"));
        if status_gone {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the status message was not removed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The text in the chat: the transcript, the note about the files, the language and the balance.
    let text = text_of(&transcript);
    assert_eq!(
        transcript["reply_to_message"]["message_id"].as_i64(),
        Some(sent_id)
    );
    assert!(text.contains(".srt"), "{text}");
    assert!(text.contains("Language: English"), "{text}");
    assert!(share_of_words_in(&text) >= 0.8, "{text}");

    // The documents: one album replying to the recording.
    let by_name: HashMap<String, &Value> = documents
        .iter()
        .map(|m| (m["document"]["file_name"].as_str().unwrap().to_string(), m))
        .collect();
    for name in ["transcript.txt", "transcript.srt", "transcript.vtt"] {
        let message = by_name
            .get(name)
            .unwrap_or_else(|| panic!("no {name}: {documents:?}"));
        assert_eq!(
            message["reply_to_message"]["message_id"].as_i64(),
            Some(sent_id)
        );
    }
    let download = async |name: &str| {
        let id = by_name[name]["document"]["file_id"].as_str().unwrap();
        String::from_utf8(user.file(id).await).unwrap()
    };
    let txt = download("transcript.txt").await;
    assert!(share_of_words_in(&txt) >= 0.8, "{txt}");

    let srt = download("transcript.srt").await;
    let subrip = subtp::srt::SubRip::parse(&srt).unwrap_or_else(|e| panic!("{e}: {srt}"));
    assert!(subrip.subtitles.len() >= 10, "{srt}");
    let ms = |t: &subtp::srt::SrtTimestamp| {
        ((u64::from(t.hours) * 60 + u64::from(t.minutes)) * 60 + u64::from(t.seconds)) * 1000
            + u64::from(t.milliseconds)
    };
    let mut previous_end = 0;
    for (i, cue) in subrip.subtitles.iter().enumerate() {
        assert_eq!(cue.sequence as usize, i + 1, "{srt}");
        assert!(ms(&cue.start) >= previous_end, "cues overlap: {srt}");
        assert!(ms(&cue.end) >= ms(&cue.start), "{srt}");
        previous_end = ms(&cue.end);
    }
    assert!(
        (80_000..=92_100).contains(&previous_end),
        "the last cue ends at {previous_end} ms: {srt}"
    );
    let cue_text = subrip
        .subtitles
        .iter()
        .flat_map(|c| c.text.clone())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(share_of_words_in(&cue_text) >= 0.8, "{srt}");

    let vtt = download("transcript.vtt").await;
    assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
    let webvtt = subtp::vtt::WebVtt::parse(&vtt).unwrap_or_else(|e| panic!("{e}: {vtt}"));
    assert_eq!(webvtt.blocks.len(), subrip.subtitles.len(), "{vtt}");

    // Two started minutes (92 s) were held and captured.
    system
        .wait_for_balance(USER, WELCOME_CREDIT - 2 * per_minute)
        .await;
}
