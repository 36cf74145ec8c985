//! The whisper pipeline through the library with the generated tiny model (fast, nonsense words): it
//! loads, transcribes real audio, reports progress and languages. The words are checked with the real
//! models in `real_model.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use speech::audio::decode_to_16k_mono;
use speech::model::{Language, Model};
use speech::transcriber::{Task, Transcriber};
use tokio_util::sync::CancellationToken;

use crate::helpers::{audio_fixture, tiny_model_path};

#[tokio::test]
async fn tiny_model_transcribes_jfk_wav() {
    let path = tiny_model_path();
    let started = Instant::now();
    let model = Model::load(&path).expect("loading the tiny model");
    eprintln!("tiny model loaded in {:?}", started.elapsed());
    assert!(model.is_multilingual());
    let transcriber = Transcriber::new(Arc::new(model), 1, 1);
    let pcm = decode_to_16k_mono(&audio_fixture("jfk.wav"), Duration::from_secs(600)).unwrap();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let transcription = transcriber
        .transcribe(
            pcm,
            Language::Auto,
            Task::Transcribe,
            Some(tx),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    eprintln!(
        "tiny model transcribed 11 s in {:?}: {:?}",
        started.elapsed(),
        transcription
    );
    assert_eq!(transcription.audio_duration.as_millis(), 11_000);
    assert_eq!(transcription.text, transcription.text.trim());
    assert!(!transcription.language.is_empty(), "a detected language");
    let mut last = 0;
    while let Ok(percent) = rx.try_recv() {
        assert!(
            percent <= 100 && percent >= last,
            "progress goes up: {last} then {percent}"
        );
        last = percent;
    }

    // The pooled state is reused, and an explicit language is reported back as asked.
    let pcm = decode_to_16k_mono(&audio_fixture("jfk.wav"), Duration::from_secs(600)).unwrap();
    let language = Language::parse("EN").unwrap();
    let again = transcriber
        .transcribe(
            pcm,
            language,
            Task::Transcribe,
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(again.language, "en");
}

#[test]
fn languages_are_validated() {
    assert_eq!(Language::parse("").unwrap(), Language::Auto);
    assert_eq!(Language::parse("auto").unwrap(), Language::Auto);
    assert_eq!(Language::parse("ru").unwrap(), Language::Code("ru".into()));
    assert_eq!(
        Language::parse("english").unwrap(),
        Language::Code("en".into())
    );
    assert!(Language::parse("xx").is_err());
    assert!(Language::parse("e\0n").is_err());
}

#[test]
fn a_file_that_is_not_a_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-model.bin");
    std::fs::write(&path, b"definitely not ggml").unwrap();
    assert!(Model::load(&path).is_err());
    assert!(Model::load(&dir.path().join("missing.bin")).is_err());
}
