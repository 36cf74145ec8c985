//! Long audio with the real models: the 92 s English recording comes back with whisper's segments —
//! in order, not overlapping, covering the recording, their texts making the transcript — and, through
//! the service, progress events whose percentages grow, with an estimate of the time left, no more often
//! than the handler's interval.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use job_pipeline::jetstream::{input_key, subjects};
use mediabot_proto::jobs::v1::{
    JobCompleted, JobContext, JobProgress, JobRequest, Operation, Segment, job_completed,
};
use prost::Message as _;
use speech::audio::decode_to_16k_mono;
use speech::handler::PROGRESS_INTERVAL;
use speech::model::Language;
use speech::transcriber::Task;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestApp, audio_fixture, real_model_path, real_transcriber, word_error_rate};

const BASE: &str = "MEDIABOT_WHISPER_BASE";
const TINY_EN: &str = "MEDIABOT_WHISPER_TINY_EN";

/// Checks that `segments` are what subtitles need for audio of `audio_ms`.
fn assert_segments_cover(segments: &[Segment], audio_ms: u64, text: &str) {
    // long-en.txt has 21 sentences; whisper cuts at pauses, so about as many segments.
    assert!(
        segments.len() >= 10,
        "{} segments: {segments:?}",
        segments.len()
    );
    let mut previous_end = 0;
    for segment in segments {
        assert!(!segment.text.is_empty(), "{segment:?}");
        assert!(segment.start_ms >= previous_end, "overlap: {segments:?}");
        assert!(segment.end_ms >= segment.start_ms, "{segment:?}");
        assert!(segment.end_ms <= audio_ms, "past the end: {segment:?}");
        previous_end = segment.end_ms;
    }
    let first = &segments[0];
    let last = &segments[segments.len() - 1];
    assert!(first.start_ms <= 3_000, "starts late: {first:?}");
    assert!(
        last.end_ms + 10_000 >= audio_ms,
        "ends early: {last:?} of {audio_ms} ms"
    );
    // Speech spreads over the recording: no gap of more than 15 s between segments.
    for pair in segments.windows(2) {
        assert!(pair[1].start_ms - pair[0].end_ms <= 15_000, "gap: {pair:?}");
    }
    let joined = segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        joined.split_whitespace().collect::<Vec<_>>(),
        text.split_whitespace().collect::<Vec<_>>(),
        "the segments make the text"
    );
}

#[tokio::test]
async fn base_cuts_92_seconds_into_ordered_segments_and_reports_growing_progress() {
    let pcm = decode_to_16k_mono(&audio_fixture("long-en.wav"), Duration::from_secs(600)).unwrap();
    let audio_ms = u64::try_from(pcm.duration.as_millis()).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let transcription = real_transcriber(BASE)
        .transcribe(
            pcm,
            Language::parse("en").unwrap(),
            Task::Transcribe,
            Some(tx),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    let mut percents = Vec::new();
    while let Some(percent) = rx.recv().await {
        percents.push(percent);
    }
    eprintln!(
        "long-en.wav, base: {} segments in {took:?}; whisper's percentages {percents:?}",
        transcription.segments.len()
    );
    assert_segments_cover(&transcription.segments, audio_ms, &transcription.text);
    let reference = String::from_utf8(audio_fixture("long-en.txt")).unwrap();
    assert!(word_error_rate(&reference, &transcription.text) <= 0.10);
    assert!(
        percents.windows(2).all(|p| p[0] <= p[1]),
        "percentages go back: {percents:?}"
    );
    let between = percents.iter().filter(|&&p| p > 0 && p < 100).count();
    assert!(between >= 2, "too few percentages on the way: {percents:?}");

    let transcript = transcription.into_transcript();
    assert_eq!(transcript.audio_duration_ms, audio_ms);
    assert!(transcript.segments.len() >= 10);
}

#[tokio::test]
async fn a_long_job_publishes_paced_growing_progress_with_time_left_and_its_segments() {
    let app = TestApp::spawn(Some(real_model_path(TINY_EN))).await;
    let job_id = mediabot_proto::JobId::random().to_string();
    let input = audio_fixture("long-en.wav");
    let mut reader = input.as_slice();
    app.pipeline
        .media
        .put(input_key(&job_id).as_str(), &mut reader)
        .await
        .unwrap();
    let client = app.pipeline.jetstream.client();
    let mut progress = client.subscribe(subjects::PROGRESS).await.unwrap();
    let mut completed = client.subscribe(subjects::COMPLETED).await.unwrap();
    client.flush().await.unwrap();

    let request = JobRequest {
        job_id: job_id.clone(),
        operation: Some(Operation::transcribe("en")),
        input_key: input_key(&job_id),
        mime_type: "audio/wav".into(),
        file_name: "long-en.wav".into(),
        context: Some(JobContext {
            chat_id: 42,
            user_id: 7,
            status_message_id: 3,
            reply_to_message_id: 2,
            language_code: "en".into(),
            ..Default::default()
        }),
        submitted_at_unix_ms: 0,
    };
    let started = Instant::now();
    app.jobs().await.submit_job(request).await.unwrap();

    let mut events: Vec<(Instant, JobProgress)> = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(300), async {
        loop {
            tokio::select! {
                Some(message) = progress.next() => {
                    let event = JobProgress::decode(message.payload).unwrap();
                    if event.job_id == job_id {
                        events.push((Instant::now(), event));
                    }
                }
                Some(message) = completed.next() => {
                    let event = JobCompleted::decode(message.payload).unwrap();
                    if event.job_id == job_id {
                        return event;
                    }
                }
            }
        }
    })
    .await
    .expect("the job completes within 300 s");
    let took = started.elapsed();
    let percents: Vec<(u32, u64)> = events
        .iter()
        .map(|(_, e)| (e.percent, e.remaining_ms))
        .collect();
    eprintln!(
        "long-en.wav through the service, tiny.en: {took:?}, {} progress events (percent, ms left): {percents:?}",
        events.len()
    );
    assert!(
        percents.windows(2).all(|p| p[0].0 < p[1].0),
        "percentages must grow: {percents:?}"
    );
    let on_the_way: Vec<_> = events
        .iter()
        .filter(|(_, e)| e.percent > 0 && e.percent < 100)
        .collect();
    assert!(
        !on_the_way.is_empty(),
        "no progress on the way: {percents:?}"
    );
    assert!(
        on_the_way.iter().all(|(_, e)| e.remaining_ms > 0),
        "every percentage on the way has a time left: {percents:?}"
    );
    // Paced: the handler sends at most one per interval (a little slack for delivery jitter).
    for pair in on_the_way.windows(2) {
        let gap = pair[1].0.duration_since(pair[0].0);
        assert!(
            gap + Duration::from_millis(200) >= PROGRESS_INTERVAL,
            "events {gap:?} apart: {percents:?}"
        );
    }

    let Some(job_completed::Result::Transcript(transcript)) = done.result else {
        panic!("a transcript: {done:?}");
    };
    assert_segments_cover(
        &transcript.segments,
        transcript.audio_duration_ms,
        &transcript.text,
    );
    assert!((91_000..=93_000).contains(&transcript.audio_duration_ms));
    app.stop().await;
}
