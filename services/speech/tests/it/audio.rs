//! Decoding real recordings of the same 11 s speech in every format a user may send.

use std::time::{Duration, Instant};

use speech::audio::{AudioError, Pcm, SAMPLE_RATE_HZ, decode_to_16k_mono};

use crate::helpers::{audio_fixture, fixture};

const MAX: Duration = Duration::from_secs(600);

fn decode(name: &str) -> Pcm {
    let bytes = audio_fixture(name);
    let started = Instant::now();
    let pcm = decode_to_16k_mono(&bytes, MAX).unwrap_or_else(|e| panic!("decoding {name}: {e}"));
    eprintln!(
        "decoded {name}: {:?} of audio in {:?}",
        pcm.duration,
        started.elapsed()
    );
    pcm
}

/// Normalised cross-correlation of a 3 s window of `reference` against `other`, at the best lag within
/// ±0.125 s (codecs delay the signal by their priming samples).
fn best_correlation(reference: &[f32], other: &[f32]) -> (f32, i64) {
    let start = SAMPLE_RATE_HZ as usize;
    let window = &reference[start..start + 3 * SAMPLE_RATE_HZ as usize];
    let correlate = |lag: i64| -> f32 {
        let offset = start as i64 + lag;
        if offset < 0 || offset as usize + window.len() > other.len() {
            return 0.0;
        }
        let shifted = &other[offset as usize..offset as usize + window.len()];
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for (&a, &b) in window.iter().zip(shifted) {
            ab += f64::from(a) * f64::from(b);
            aa += f64::from(a) * f64::from(a);
            bb += f64::from(b) * f64::from(b);
        }
        (ab / (aa * bb).sqrt().max(f64::MIN_POSITIVE)) as f32
    };
    let coarse = (-2000..=2000)
        .step_by(8)
        .max_by(|&a, &b| correlate(a).total_cmp(&correlate(b)))
        .unwrap();
    let best = (coarse - 8..=coarse + 8)
        .max_by(|&a, &b| correlate(a).total_cmp(&correlate(b)))
        .unwrap();
    (correlate(best), best)
}

fn assert_about_11_seconds(name: &str, pcm: &Pcm) {
    let secs = pcm.duration.as_secs_f64();
    assert!((secs - 11.0).abs() <= 0.1, "{name}: {secs} s");
    let expected = pcm.samples.len() as f64 / f64::from(SAMPLE_RATE_HZ);
    assert!(
        (secs - expected).abs() < 1e-3,
        "{name}: duration matches the 16 kHz sample count"
    );
}

#[test]
fn wav_decodes_to_11_seconds_at_16k() {
    let pcm = decode("jfk.wav");
    assert_about_11_seconds("jfk.wav", &pcm);
    let peak = pcm.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak > 0.1 && peak <= 1.0, "peak {peak}");
}

#[test]
fn compressed_formats_decode_to_the_same_speech() {
    let reference = decode("jfk.wav");
    for name in ["jfk.mp3", "jfk-voice.ogg", "jfk.m4a"] {
        let pcm = decode(name);
        assert_about_11_seconds(name, &pcm);
        let (correlation, lag) = best_correlation(&reference.samples, &pcm.samples);
        eprintln!("{name}: correlation {correlation:.4} at lag {lag} samples");
        assert!(
            correlation > 0.9,
            "{name}: correlation {correlation} at lag {lag}"
        );
    }
}

#[test]
fn empty_input_is_corrupt() {
    assert!(matches!(
        decode_to_16k_mono(&[], MAX),
        Err(AudioError::Corrupt(_))
    ));
}

#[test]
fn damaged_audio_is_corrupt() {
    // A WAV header followed by noise where the chunks should be.
    let mut damaged = b"RIFF\x24\x00\x00\x00WAVE".to_vec();
    damaged.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let error = decode_to_16k_mono(&damaged, MAX).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt(_)), "{error:?}");

    // An Opus voice note cut after its headers and a few bytes of audio.
    let ogg = audio_fixture("jfk-voice.ogg");
    let error = decode_to_16k_mono(&ogg[..200], MAX).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt(_)), "{error:?}");
}

#[test]
fn non_audio_is_unsupported() {
    let jpeg = fixture("images/canon-40d.jpg");
    let error = decode_to_16k_mono(&jpeg, MAX).unwrap_err();
    assert!(matches!(error, AudioError::Unsupported(_)), "{error:?}");
    let text = b"just some text, certainly not audio\n".repeat(100);
    let error = decode_to_16k_mono(&text, MAX).unwrap_err();
    assert!(matches!(error, AudioError::Unsupported(_)), "{error:?}");
}

#[test]
fn audio_longer_than_the_limit_is_refused() {
    for name in ["jfk.wav", "jfk.mp3", "jfk-voice.ogg", "jfk.m4a"] {
        let error = decode_to_16k_mono(&audio_fixture(name), Duration::from_secs(5)).unwrap_err();
        assert!(
            matches!(error, AudioError::TooLong { limit_secs: 5 }),
            "{name}: {error:?}"
        );
    }
}
