//! Shared test set-up: fixtures, the tiny model, and a running service with its own nats-server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use job_pipeline::jetstream::{self, Pipeline};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::speech::v1::speech_client::SpeechClient;
use nats_test_server::NatsServer;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use speech::model::Model;
use speech::transcriber::Transcriber;
use speech::{Application, Config};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The bytes of `shared/fixtures/audio/<name>`.
pub fn audio_fixture(name: &str) -> Vec<u8> {
    fixture(&format!("audio/{name}"))
}

/// The bytes of `shared/fixtures/<path>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading fixture {full}: {e}"))
}

/// A real whisper model, by the environment variable naming its path: `MEDIABOT_WHISPER_BASE`
/// (multilingual base) or `MEDIABOT_WHISPER_TINY_EN` (English-only tiny). `scripts/test.sh` builds both
/// and sets them. A missing variable or file fails the test: these tests are never skipped.
pub fn real_model_path(var: &str) -> PathBuf {
    let Some(path) = std::env::var_os(var) else {
        panic!(
            "{var} is not set: it must name a real whisper.cpp model (scripts/test.sh builds the test \
             models and sets MEDIABOT_WHISPER_BASE and MEDIABOT_WHISPER_TINY_EN)"
        );
    };
    let path = PathBuf::from(path);
    assert!(path.is_file(), "{var}={} is not a file", path.display());
    path
}

/// The real model named by `var` (see [`real_model_path`]), loaded once per test binary and shared.
pub fn real_model(var: &'static str) -> Arc<Model> {
    static MODELS: Mutex<Vec<(&'static str, Arc<Model>)>> = Mutex::new(Vec::new());
    let mut models = MODELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, model)) = models.iter().find(|(v, _)| *v == var) {
        return model.clone();
    }
    let started = Instant::now();
    let model = Arc::new(Model::load(&real_model_path(var)).expect("loading a real model"));
    eprintln!("{var}: loaded in {:?}", started.elapsed());
    models.push((var, model.clone()));
    model
}

/// One transcriber per real model for the whole test binary (one job at a time, two threads: the real
/// models' tests then queue instead of fighting over the two cores).
pub fn real_transcriber(var: &'static str) -> Transcriber {
    static TRANSCRIBERS: Mutex<Vec<(&'static str, Transcriber)>> = Mutex::new(Vec::new());
    let mut transcribers = TRANSCRIBERS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, t)) = transcribers.iter().find(|(v, _)| *v == var) {
        return t.clone();
    }
    let transcriber = Transcriber::new(real_model(var), 1, 2);
    transcribers.push((var, transcriber.clone()));
    transcriber
}

/// Word error rate of `hypothesis` against `reference`: the word-level Levenshtein distance
/// (substitutions + deletions + insertions) divided by the number of reference words, after
/// lower-casing and dropping punctuation (apostrophes inside words are kept).
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = words(reference);
    let hypothesis = words(hypothesis);
    let distance = strsim::generic_levenshtein(&reference, &hypothesis);
    distance as f64 / reference.len().max(1) as f64
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The tiny random-weight model, generated once per test run.
pub fn tiny_model_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join("speech-tiny-model.bin");
        let partial = dir.join(format!("speech-tiny-model.{}.partial", std::process::id()));
        let started = Instant::now();
        speech::test_model::write_tiny_model(&partial).expect("writing the tiny model");
        std::fs::rename(&partial, &path).expect("moving the tiny model into place");
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "tiny model: {size} bytes written in {:?}",
            started.elapsed()
        );
        path
    })
    .clone()
}

/// A running speech service with its own nats-server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The metrics port (`/metrics`).
    #[allow(dead_code, reason = "read by the metrics test binary")]
    pub metrics_addr: SocketAddr,
    pub pipeline: Pipeline,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), speech::Error>>>,
    _nats: NatsServer,
}

impl TestApp {
    /// Starts the service, with the tiny model or with none.
    pub async fn spawn(model: Option<PathBuf>) -> Self {
        Self::spawn_with(model, |_| {}).await
    }

    /// Starts the service with `model`, after `adjust` has changed the test configuration.
    pub async fn spawn_with(model: Option<PathBuf>, adjust: impl FnOnce(&mut Config)) -> Self {
        service_runtime::telemetry::init_for_tests();
        let nats = NatsServer::start().expect("starting nats-server");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            metrics_listen: "127.0.0.1:0".parse().expect("address"),
            model,
            flash_attention: false,
            workers: Some(2),
            threads_per_job: 1,
            max_audio_secs: 600,
            max_input_bytes: 64 << 20,
            ack_wait_secs: 30,
            max_deliver: 5,
            nats: NatsArgs {
                nats_url: nats.url(),
            },
            telemetry: TelemetryArgs {
                otlp_endpoint: None,
                log_format: "text".into(),
            },
        };
        adjust(&mut config);
        let app = Application::build(config)
            .await
            .expect("building the application");
        let addr = app.grpc_addr();
        let metrics_addr = app.metrics_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run(shutdown.clone()));
        let client = jetstream::connect(&nats.url(), "speech-test")
            .await
            .expect("connecting to NATS");
        let pipeline = Pipeline::setup(client).await.expect("pipeline");
        Self {
            addr,
            metrics_addr,
            pipeline,
            shutdown,
            task: Some(task),
            _nats: nats,
        }
    }

    /// A gRPC channel to the service.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connecting to the service")
    }

    /// A speech client that accepts inline audio up to the service's limit.
    pub async fn client(&self) -> SpeechClient<Channel> {
        SpeechClient::new(self.channel().await).max_decoding_message_size(8 << 20)
    }

    /// A Jobs client (SubmitJob, GetJob).
    pub async fn jobs(&self) -> JobsClient<Channel> {
        JobsClient::new(self.channel().await)
    }

    /// Stops the service and waits for it to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(20), task).await;
            result
                .expect("service stops within 20 s")
                .expect("join")
                .expect("service ran cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A 16 kHz mono 16-bit PCM WAV file of `samples` (`-1.0..=1.0`).
pub fn wav_16k(samples: &[f32]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).expect("a short test file");
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for &sample in samples {
        let value = (sample.clamp(-1.0, 1.0) * 32767.0) as i16;
        wav.extend_from_slice(&value.to_le_bytes());
    }
    wav
}

/// Polls `check` every 50 ms until it returns `Some`, failing after `deadline`.
pub async fn poll_until<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < end,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
