//! The audio input path under fuzzing: the real recordings and videos (OGG/Opus voice note, MP3, M4A/AAC,
//! WAV, MP4 video note) and an Opus-in-WebM file, each mutated (header and body) by `fuzz_inputs`, go
//! through `decode_to_16k_mono` as a job's input does. Every case must end within the deadline with PCM or
//! an `AudioError`: no panic, no abort, no hang, and no more samples than the duration limit allows.
//! `MEDIABOT_FUZZ_CASES` sets the run's length.

use std::sync::LazyLock;
use std::time::Duration;

use proptest::prelude::*;
use speech::audio::decode_to_16k_mono;

use crate::helpers::{audio_fixture, fixture};
use crate::video::webm_with_opus;

/// Generous for a debug build on a busy 2-core machine; these seeds decode in milliseconds.
const DEADLINE: Duration = Duration::from_secs(30);

/// The limit the decoder is given: longer than every seed, so mutations that claim more are refused.
const MAX_AUDIO: Duration = Duration::from_secs(120);

static SEEDS: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(|| {
    vec![
        ("jfk-voice.ogg", audio_fixture("jfk-voice.ogg")),
        ("jfk.mp3", audio_fixture("jfk.mp3")),
        ("jfk.m4a", audio_fixture("jfk.m4a")),
        ("jfk.wav", audio_fixture("jfk.wav")),
        (
            "video-note-ru-384.mp4",
            fixture("video/video-note-ru-384.mp4"),
        ),
        (
            "jfk-opus.webm",
            webm_with_opus(&audio_fixture("jfk-voice.ogg")),
        ),
    ]
});

proptest! {
    #![proptest_config(fuzz_inputs::config())]

    #[test]
    fn mutated_audio_decodes_or_fails_cleanly(
        seed in 0..SEEDS.len(),
        mutations in fuzz_inputs::mutations(),
    ) {
        let (name, bytes) = &SEEDS[seed];
        let input = fuzz_inputs::apply(bytes, &mutations);
        let outcome = fuzz_inputs::within(DEADLINE, move || decode_to_16k_mono(&input, MAX_AUDIO));
        match outcome {
            Err(waited) => {
                return Err(TestCaseError::fail(format!("{name}: no result after {waited:?}")));
            }
            Ok(Ok(pcm)) => {
                // 16 kHz, so the limit bounds the buffer: 120 s is 1.92 M samples (7.7 MB).
                prop_assert!(
                    pcm.duration <= MAX_AUDIO && pcm.samples.len() <= 16_000 * 120,
                    "{name}: {} samples, {:?}", pcm.samples.len(), pcm.duration
                );
                prop_assert!(pcm.samples.iter().all(|s| s.is_finite()), "{name}: NaN or infinite samples");
            }
            Ok(Err(error)) => {
                prop_assert!(!error.to_string().is_empty(), "{name}: an error without a message");
            }
        }
    }
}

#[test]
fn every_seed_decodes_unmutated() {
    for (name, bytes) in SEEDS.iter() {
        let decoded = decode_to_16k_mono(bytes, MAX_AUDIO);
        assert!(decoded.is_ok(), "{name}: {:?}", decoded.err());
    }
}

/// Found by a long run (1,615 cases in): a WAV header bent to claim a sample rate near 2^31 Hz kept the
/// resampler busy past the deadline; such a rate is refused as corrupt now.
#[test]
fn a_wav_claiming_an_absurd_sample_rate_is_refused_at_once() {
    use fuzz_inputs::{Mutation, Offset};
    let input = fuzz_inputs::apply(
        &audio_fixture("jfk.wav"),
        &[
            Mutation::FlipBit(Offset::Head(56), 6),
            Mutation::Overwrite(Offset::Head(26), vec![0x7f, 0xff, 0xff, 0xff]),
        ],
    );
    let outcome = fuzz_inputs::within(Duration::from_secs(10), move || {
        decode_to_16k_mono(&input, MAX_AUDIO).map(|pcm| pcm.duration)
    })
    .expect("decoding ends");
    match outcome {
        Err(speech::audio::AudioError::Corrupt(detail)) => {
            assert!(detail.contains("Hz"), "{detail}")
        }
        other => panic!("expected a corrupt-input error, got {other:?}"),
    }
}
