//! `speech-bench`: the service's transcription time against whisper.cpp's own on the same model, audio
//! and threads, then concurrent throughput by workers × threads, and peak memory.
//!
//! 1. Latency: the service's path for one job (decode the file to 16 kHz mono, transcribe with the shared
//!    [`Transcriber`] exactly as the worker does) against whisper.cpp through pywhispercpp (`--python`, a
//!    Python with `pywhispercpp` installed; same greedy decoding with timestamps as the worker uses for segments, same thread count), in
//!    the same run. Median of `--runs`.
//! 2. Throughput: `--jobs` transcriptions submitted at once to a transcriber with W workers × T threads
//!    for each W × T in `--layouts`; the first layout is the naive one (one job at a time, all threads).
//! 3. Peak RSS of this process (VmHWM from /proc/self/status): one model, shared by every worker.
//!
//! `cargo run -p speech --bin speech-bench -- --model ggml-base.bin --audio jfk.wav [--threads 1]
//! [--runs 3] [--jobs 4] [--layouts 1x2,2x1] [--python /path/to/venv/bin/python]`. A dev build is as fast
//! as `--release` here (whisper.cpp is built as Release in both; see the workspace Cargo.toml).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use speech::audio::decode_to_16k_mono;
use speech::model::{Language, Model, ModelOptions};
use speech::transcriber::{Task, Transcriber};
use tokio_util::sync::CancellationToken;

/// whisper.cpp's side: load the model once, then time `transcribe` on the decoded samples with the
/// service's decoding settings. Prints the median seconds and the text.
const PYWHISPERCPP_SCRIPT: &str = r#"
import sys, time, statistics, wave, importlib.metadata
import numpy as np
from pywhispercpp.model import Model
model_path, audio_path, threads, runs, language = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with wave.open(audio_path) as w:
    assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, "16 kHz mono 16-bit WAV"
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
model = Model(model_path, n_threads=threads, print_realtime=False, print_progress=False,
              print_timestamps=False, no_timestamps=False, language=language, suppress_nst=True,
              redirect_whispercpp_logs_to=None)
times, text = [], ""
for _ in range(runs):
    t0 = time.perf_counter()
    segments = model.transcribe(pcm)
    times.append(time.perf_counter() - t0)
    text = "".join(s.text for s in segments).strip()
print(f"{statistics.median(times):.4f}\t{importlib.metadata.version('pywhispercpp')}\t{text}")
"#;

#[derive(Debug, Parser)]
#[command(
    name = "speech-bench",
    about = "speech transcription speed against whisper.cpp's own, throughput and peak memory"
)]
struct Args {
    /// whisper.cpp ggml model file.
    #[arg(long, env = "WHISPER_MODEL")]
    model: PathBuf,
    /// Audio file; for the whisper.cpp comparison a 16 kHz mono 16-bit WAV.
    #[arg(long)]
    audio: PathBuf,
    /// Spoken language ("auto" or a code).
    #[arg(long, default_value = "en")]
    language: String,
    /// ggml threads for the latency comparison.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Runs per latency measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Transcriptions submitted at once for each throughput layout.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Throughput layouts, workers x threads; the first is the baseline.
    #[arg(long, value_delimiter = ',', default_value = "1x2,2x1")]
    layouts: Vec<String>,
    /// Flash attention in whisper.cpp (`true`/`false`), as the service's `--flash-attention`.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    flash_attention: bool,
    /// A Python with pywhispercpp installed, for whisper.cpp's own time.
    #[arg(long)]
    python: Option<PathBuf>,
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// One job as the service runs it: decode `bytes` to 16 kHz mono PCM, then transcribe.
async fn whole_job(
    transcriber: Transcriber,
    bytes: Vec<u8>,
    language: Language,
) -> anyhow::Result<()> {
    let pcm = decode_to_16k_mono(&bytes, Duration::from_secs(3600))?;
    transcriber
        .transcribe(
            pcm,
            language,
            Task::Transcribe,
            None,
            CancellationToken::new(),
        )
        .await?;
    Ok(())
}

fn parse_layout(layout: &str) -> anyhow::Result<(usize, usize)> {
    let (workers, threads) = layout
        .split_once('x')
        .with_context(|| format!("layout {layout:?}: expected WORKERSxTHREADS, e.g. 2x1"))?;
    Ok((workers.trim().parse()?, threads.trim().parse()?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bytes = std::fs::read(&args.audio).with_context(|| args.audio.display().to_string())?;
    let language = Language::parse(&args.language)?;
    let started = Instant::now();
    let options = ModelOptions {
        flash_attention: args.flash_attention,
    };
    let model = Arc::new(Model::load_with(&args.model, options)?);
    println!(
        "model {} loaded in {:.2} s (flash attention {}); audio {}; build: {}",
        args.model.display(),
        started.elapsed().as_secs_f64(),
        if args.flash_attention { "on" } else { "off" },
        args.audio.display(),
        if cfg!(debug_assertions) {
            "dev profile"
        } else {
            "release profile"
        }
    );

    // 1. Latency, one job at a time.
    let transcriber = Transcriber::new(model.clone(), 1, args.threads);
    let mut times = Vec::new();
    let mut decode_times = Vec::new();
    let mut text = String::new();
    let mut audio_secs = 0.0;
    for _ in 0..args.runs.max(1) + 1 {
        let t0 = Instant::now();
        let pcm = decode_to_16k_mono(&bytes, Duration::from_secs(3600))?;
        let decoded = t0.elapsed();
        audio_secs = pcm.duration.as_secs_f64();
        let transcription = transcriber
            .transcribe(
                pcm,
                language.clone(),
                Task::Transcribe,
                None,
                CancellationToken::new(),
            )
            .await?;
        times.push(t0.elapsed());
        decode_times.push(decoded);
        text = transcription.text;
    }
    // The first run creates the pooled whisper state, as the first job after start-up does; not counted.
    times.remove(0);
    decode_times.remove(0);
    let service = median(times).as_secs_f64();
    println!(
        "service       {} thread(s): {service:7.3} s for {audio_secs:.1} s of audio (decode {:.1} ms) — {text}",
        args.threads,
        median(decode_times).as_secs_f64() * 1000.0
    );
    if let Some(python) = &args.python {
        let output = Command::new(python)
            .arg("-c")
            .arg(PYWHISPERCPP_SCRIPT)
            .arg(&args.model)
            .arg(&args.audio)
            .arg(args.threads.to_string())
            .arg(args.runs.max(1).to_string())
            .arg(args.language.as_str())
            .output()
            .context("running pywhispercpp")?;
        if !output.status.success() {
            bail!(
                "pywhispercpp failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().unwrap_or_default();
        let mut fields = line.splitn(3, '\t');
        let secs: f64 = fields.next().unwrap_or_default().parse()?;
        let version = fields.next().unwrap_or_default();
        let reference = fields.next().unwrap_or_default();
        println!(
            "whisper.cpp   {} thread(s): {secs:7.3} s (pywhispercpp {version}) — {reference}",
            args.threads
        );
        println!("service / whisper.cpp: {:.3}", service / secs);
    }

    // 2. Throughput by layout.
    let mut baseline: Option<f64> = None;
    for layout in &args.layouts {
        let (workers, threads) = parse_layout(layout)?;
        let transcriber = Transcriber::new(model.clone(), workers, threads);
        // Warm the pool: one state per worker, as a running service has after its first jobs.
        let warm =
            (0..workers).map(|_| whole_job(transcriber.clone(), bytes.clone(), language.clone()));
        for outcome in futures::future::join_all(warm).await {
            outcome?;
        }
        let t0 = Instant::now();
        let jobs = (0..args.jobs.max(1)).map(|_| {
            tokio::spawn(whole_job(
                transcriber.clone(),
                bytes.clone(),
                language.clone(),
            ))
        });
        for outcome in futures::future::join_all(jobs).await {
            outcome??;
        }
        let wall = t0.elapsed().as_secs_f64();
        let per_minute = args.jobs.max(1) as f64 / wall * 60.0;
        let audio_per_second = args.jobs.max(1) as f64 * audio_secs / wall;
        let ratio = baseline.map_or(1.0, |b| per_minute / b);
        baseline.get_or_insert(per_minute);
        println!(
            "throughput {workers} worker(s) x {threads} thread(s): {} jobs in {wall:6.2} s = {per_minute:6.1} jobs/min, {audio_per_second:5.2} s of audio per s, {ratio:.2}x the first layout",
            args.jobs.max(1)
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak RSS {peak:.0} MiB (one model in memory, one whisper state per worker)");
    }
    Ok(())
}
