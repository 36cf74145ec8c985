//! The audio track of real videos: an MP4 (H.264 + AAC) and a Telegram-shaped video note, decoded to the
//! same speech as the audio recordings; Opus in WebM; and the bad videos users send: one recorded without
//! sound, one cut off in the upload, one over the duration limit.
//!
//! The silent video and the WebM are made here from the real files, without any encoder: the silent video
//! is the video note with its sound track's `trak` box removed, and the WebM carries the Opus packets of the
//! jfk voice note (made by opusenc) in a Matroska container written by [`webm_with_opus`].

use std::time::{Duration, Instant};

use mediabot_proto::jobs::v1::FailureReason;
use speech::audio::{AudioError, Pcm, SAMPLE_RATE_HZ, decode_to_16k_mono};

use crate::helpers::{audio_fixture, fixture};

const MAX: Duration = Duration::from_secs(600);

/// The 11 s jfk speech over a test pattern: H.264 640×360 + AAC in MP4 (`moov` before `mdat`).
pub const JFK_MP4: &str = "video/jfk-640x360-25fps.mp4";
/// 11 s of Russian in a square 384×384 H.264 + AAC MP4, shaped like a Telegram video note (`moov` last).
pub const VIDEO_NOTE_RU: &str = "video/video-note-ru-384.mp4";

fn decode_timed(what: &str, bytes: &[u8]) -> Pcm {
    let started = Instant::now();
    let pcm = decode_to_16k_mono(bytes, MAX).unwrap_or_else(|e| panic!("decoding {what}: {e}"));
    eprintln!(
        "decoded {what} ({} bytes): {:?} of audio in {:?}",
        bytes.len(),
        pcm.duration,
        started.elapsed()
    );
    pcm
}

/// Pearson correlation of `a` and `b` at the best lag within ±0.25 s, over 3 s from the first second
/// (encoders delay the signal by their priming samples).
fn best_correlation(a: &[f32], b: &[f32]) -> (f32, i64) {
    let start = SAMPLE_RATE_HZ as usize;
    let window = &a[start..start + 3 * SAMPLE_RATE_HZ as usize];
    let correlate = |lag: i64| -> f32 {
        let offset = start as i64 + lag;
        if offset < 0 || offset as usize + window.len() > b.len() {
            return 0.0;
        }
        let shifted = &b[offset as usize..offset as usize + window.len()];
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for (&x, &y) in window.iter().zip(shifted) {
            ab += f64::from(x) * f64::from(y);
            aa += f64::from(x) * f64::from(x);
            bb += f64::from(y) * f64::from(y);
        }
        (ab / (aa * bb).sqrt().max(f64::MIN_POSITIVE)) as f32
    };
    let coarse = (-4000..=4000)
        .step_by(8)
        .max_by(|&x, &y| correlate(x).total_cmp(&correlate(y)))
        .unwrap();
    let best = (coarse - 8..=coarse + 8)
        .max_by(|&x, &y| correlate(x).total_cmp(&correlate(y)))
        .unwrap();
    (correlate(best), best)
}

/// `pcm` is the speech of the audio fixture `reference`: the same waveform, shifted by at most
/// `max_lag_samples` (16 kHz), and as long within `max_length_diff_secs`.
fn assert_speech_like(
    what: &str,
    pcm: &Pcm,
    reference: &str,
    max_lag_samples: i64,
    max_length_diff_secs: f64,
) {
    let expected = decode_to_16k_mono(&audio_fixture(reference), MAX).unwrap();
    let secs = pcm.duration.as_secs_f64();
    let reference_secs = expected.duration.as_secs_f64();
    let (correlation, lag) = best_correlation(&expected.samples, &pcm.samples);
    eprintln!(
        "{what}: {secs:.3} s, correlation with {reference} ({reference_secs:.3} s) {correlation:.4} \
         at lag {lag} samples"
    );
    assert!(
        (secs - reference_secs).abs() <= max_length_diff_secs,
        "{what}: {secs} s"
    );
    assert!(correlation > 0.9, "{what}: correlation {correlation}");
    assert!(lag.abs() <= max_lag_samples, "{what}: lag {lag}");
}

#[test]
fn the_aac_track_of_an_mp4_video_is_the_jfk_speech() {
    let pcm = decode_timed(JFK_MP4, &fixture(JFK_MP4));
    // The edit list drops the AAC encoder's 1024 samples of priming and the padding: the speech lines up
    // with the WAV it was encoded from.
    assert_speech_like(JFK_MP4, &pcm, "jfk.wav", 2, 0.01);
}

#[test]
fn the_aac_track_of_a_video_note_is_the_russian_speech() {
    let pcm = decode_timed(VIDEO_NOTE_RU, &fixture(VIDEO_NOTE_RU));
    assert_speech_like(VIDEO_NOTE_RU, &pcm, "ru-voice.wav", 2, 0.01);
}

#[test]
fn opus_in_webm_is_decoded_by_libopus_after_a_video_track() {
    let webm = webm_with_opus(&audio_fixture("jfk-voice.ogg"));
    let pcm = decode_timed("jfk.webm (VP8 track + Opus track)", &webm);
    assert_speech_like("jfk.webm", &pcm, "jfk.wav", 160, 0.15);
    // The same packets as the voice note, so the same samples once the pre-skip is dropped; the WebM
    // keeps the last packet's padding (under 120 ms) that the OGG's granule position trims.
    let ogg = decode_to_16k_mono(&audio_fixture("jfk-voice.ogg"), MAX).unwrap();
    assert!(pcm.samples.len() >= ogg.samples.len());
    assert!(pcm.samples.len() - ogg.samples.len() <= 1920);
    assert_eq!(pcm.samples[..ogg.samples.len()], ogg.samples[..]);
}

#[test]
fn a_video_without_an_audio_track_says_so() {
    let silent = without_sound_track(&fixture(VIDEO_NOTE_RU));
    let error = decode_to_16k_mono(&silent, MAX).unwrap_err();
    assert!(
        matches!(error, AudioError::NoAudioTrack { tracks: 1 }),
        "{error:?}"
    );
    // The user is told there is nothing to hear (and billing releases the hold of a failed job).
    let job_error = job_pipeline::JobError::from(error);
    assert!(
        matches!(
            job_error,
            job_pipeline::JobError::Input {
                reason: FailureReason::NoSpeech,
                ..
            }
        ),
        "{job_error:?}"
    );
}

#[test]
fn a_cut_off_video_is_corrupt() {
    // The video note's `moov` (the index of every sample) comes last: an upload cut off anywhere before
    // it leaves nothing readable.
    let note = fixture(VIDEO_NOTE_RU);
    for cut in [note.len() / 2, note.len() - 100, 64] {
        let error = decode_to_16k_mono(&note[..cut], MAX).unwrap_err();
        assert!(
            matches!(error, AudioError::Corrupt(_)),
            "cut at {cut}: {error:?}"
        );
    }
    // A WebM cut inside its track list.
    let webm = webm_with_opus(&audio_fixture("jfk-voice.ogg"));
    let error = decode_to_16k_mono(&webm[..120], MAX).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt(_)), "{error:?}");
}

#[test]
fn videos_longer_than_the_limit_are_refused() {
    let webm = webm_with_opus(&audio_fixture("jfk-voice.ogg"));
    for (what, bytes) in [
        (JFK_MP4, fixture(JFK_MP4)),
        (VIDEO_NOTE_RU, fixture(VIDEO_NOTE_RU)),
        ("jfk.webm", webm),
    ] {
        let error = decode_to_16k_mono(&bytes, Duration::from_secs(5)).unwrap_err();
        assert!(
            matches!(error, AudioError::TooLong { limit_secs: 5 }),
            "{what}: {error:?}"
        );
    }
}

/// `mp4` less the `trak` boxes whose handler is `soun`: a video recorded without sound. The `moov` box
/// must come after `mdat`, so that no chunk offset moves.
pub fn without_sound_track(mp4: &[u8]) -> Vec<u8> {
    let top = boxes(mp4);
    let (moov_start, moov_end) = top
        .iter()
        .find(|(kind, ..)| kind == b"moov")
        .map(|(_, start, end)| (*start, *end))
        .expect("a moov box");
    let mdat_start = top
        .iter()
        .find(|(kind, ..)| kind == b"mdat")
        .map(|(_, start, _)| *start)
        .expect("an mdat box");
    assert!(moov_start > mdat_start, "moov must follow mdat");
    let mut moov_body = Vec::new();
    let mut removed = 0;
    for (kind, start, end) in boxes(&mp4[moov_start + 8..moov_end]) {
        let child = &mp4[moov_start + 8 + start..moov_start + 8 + end];
        if &kind == b"trak" && handler_of(child) == Some(*b"soun") {
            removed += 1;
            continue;
        }
        moov_body.extend_from_slice(child);
    }
    assert_eq!(removed, 1, "one sound track");
    let mut out = mp4[..moov_start].to_vec();
    out.extend_from_slice(&(moov_body.len() as u32 + 8).to_be_bytes());
    out.extend_from_slice(b"moov");
    out.extend_from_slice(&moov_body);
    out.extend_from_slice(&mp4[moov_end..]);
    out
}

/// The ISO BMFF boxes directly in `data`: (type, start, end) with 32-bit sizes.
fn boxes(data: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= data.len() {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().unwrap();
        assert!(size >= 8 && at + size <= data.len(), "a 32-bit box size");
        out.push((kind, at, at + size));
        at += size;
    }
    out
}

/// The `handler_type` of a `trak` box (`trak/mdia/hdlr`, after version, flags and pre_defined).
fn handler_of(trak: &[u8]) -> Option<[u8; 4]> {
    let (_, start, end) = boxes(&trak[8..])
        .into_iter()
        .find(|(kind, ..)| kind == b"mdia")?;
    let mdia = &trak[8 + start..8 + end];
    let (_, start, _) = boxes(&mdia[8..])
        .into_iter()
        .find(|(kind, ..)| kind == b"hdlr")?;
    let hdlr = &mdia[8 + start..];
    hdlr.get(16..20)?.try_into().ok()
}

/// A WebM (Matroska, RFC 9559) holding a VP8 video track with no frames, then an Opus audio track with
/// the packets of `ogg_opus` (an OGG/Opus file): what a browser or an Android phone records, with its
/// `OpusHead` as `CodecPrivate` and 5 s clusters of SimpleBlocks.
pub fn webm_with_opus(ogg_opus: &[u8]) -> Vec<u8> {
    let mut reader = ogg::PacketReader::new(std::io::Cursor::new(ogg_opus));
    let head = reader.read_packet().unwrap().unwrap().data;
    assert!(head.starts_with(b"OpusHead"));
    let pre_skip = u64::from(u16::from_le_bytes([head[10], head[11]]));
    let _tags = reader.read_packet().unwrap().unwrap();
    let mut packets = Vec::new();
    while let Some(packet) = reader.read_packet().unwrap() {
        packets.push(packet.data);
    }

    let mut clusters = Vec::new();
    let mut cluster: Vec<u8> = Vec::new();
    let mut cluster_ms = 0u64;
    let mut samples_48k = 0u64;
    for packet in &packets {
        let ms = samples_48k / 48;
        if cluster.is_empty() || ms - cluster_ms >= 5000 {
            if !cluster.is_empty() {
                clusters.extend(element(&[0x1F, 0x43, 0xB6, 0x75], &cluster));
            }
            cluster_ms = ms;
            cluster = uint(&[0xE7], cluster_ms);
        }
        // Track number 2 as a 1-byte vint, the time relative to the cluster, flags: keyframe.
        let mut block = vec![0x82];
        block.extend_from_slice(&((ms - cluster_ms) as i16).to_be_bytes());
        block.push(0x80);
        block.extend_from_slice(packet);
        cluster.extend(element(&[0xA3], &block));
        samples_48k += opus::packet::get_nb_samples(packet, 48_000).unwrap() as u64;
    }
    clusters.extend(element(&[0x1F, 0x43, 0xB6, 0x75], &cluster));

    let ebml = element(
        &[0x1A, 0x45, 0xDF, 0xA3],
        &[
            uint(&[0x42, 0x86], 1),
            uint(&[0x42, 0xF7], 1),
            uint(&[0x42, 0xF2], 4),
            uint(&[0x42, 0xF3], 8),
            element(&[0x42, 0x82], b"webm"),
            uint(&[0x42, 0x87], 4),
            uint(&[0x42, 0x85], 2),
        ]
        .concat(),
    );
    let duration_ms = (samples_48k - pre_skip) as f64 / 48.0;
    let info = element(
        &[0x15, 0x49, 0xA9, 0x66],
        &[
            uint(&[0x2A, 0xD7, 0xB1], 1_000_000),
            element(&[0x44, 0x89], &duration_ms.to_be_bytes()),
            element(&[0x4D, 0x80], b"mediabot speech tests"),
            element(&[0x57, 0x41], b"mediabot speech tests"),
        ]
        .concat(),
    );
    let video = element(
        &[0xAE],
        &[
            uint(&[0xD7], 1),
            uint(&[0x73, 0xC5], 1),
            uint(&[0x83], 1),
            element(&[0x86], b"V_VP8"),
            element(&[0xE0], &[uint(&[0xB0], 384), uint(&[0xBA], 384)].concat()),
        ]
        .concat(),
    );
    let audio = element(
        &[0xAE],
        &[
            uint(&[0xD7], 2),
            uint(&[0x73, 0xC5], 2),
            uint(&[0x83], 2),
            element(&[0x86], b"A_OPUS"),
            element(&[0x63, 0xA2], &head),
            // CodecDelay (the pre-skip) and SeekPreRoll, in nanoseconds.
            uint(&[0x56, 0xAA], pre_skip * 1_000_000_000 / 48_000),
            uint(&[0x56, 0xBB], 80_000_000),
            element(
                &[0xE1],
                &[
                    element(&[0xB5], &48_000.0f64.to_be_bytes()),
                    uint(&[0x9F], u64::from(head[9])),
                ]
                .concat(),
            ),
        ]
        .concat(),
    );
    let tracks = element(&[0x16, 0x54, 0xAE, 0x6B], &[video, audio].concat());
    let segment = element(
        &[0x18, 0x53, 0x80, 0x67],
        &[info, tracks, clusters].concat(),
    );
    [ebml, segment].concat()
}

/// An EBML element: its id, its size as an 8-byte vint, its body.
fn element(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    let size = (body.len() as u64) | (1 << 56);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// An unsigned-integer EBML element, in as few bytes as its value needs.
fn uint(id: &[u8], value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    element(id, &bytes[first..])
}
