//! mediabot speech: transcription with whisper.cpp (`whisper-rs`).
//!
//! - [`audio`]: any common audio file → 16 kHz mono PCM (OGG/Opus via libopus; MP3, AAC/M4A, WAV, FLAC,
//!   Vorbis via symphonia, resampled with rubato);
//! - [`model`]: the whisper model, loaded once at start-up from `--model` / `WHISPER_MODEL`;
//! - [`transcriber`]: bounded concurrent transcription on blocking threads;
//! - [`handler`]: the job pipeline's [`JobHandler`](job_pipeline::JobHandler) for `speech.transcribe`
//!   (the `job-pipeline` crate does the lifecycle and serves `mediabot.jobs.v1.Jobs`);
//! - [`grpc`]: the `mediabot.speech.v1.Speech` service (inline `Transcribe`); [`error`] maps errors to
//!   gRPC codes and job outcomes;
//! - [`fetch_model`]: `speech fetch-model NAME`, the official model files, downloaded, resumed and verified;
//! - [`test_model`]: a tiny random-weight model file for tests.
//!
//! Without a model the service still starts and serves (`GetJob` works), but reports its named health
//! services (`mediabot.speech.v1.Speech`, `mediabot.jobs.v1.Jobs`) NOT_SERVING, answers
//! `FAILED_PRECONDITION` to calls that need a model and runs no worker.

pub mod audio;
pub mod error;
pub mod fetch_model;
pub mod grpc;
pub mod handler;
pub mod model;
pub mod test_model;
pub mod transcriber;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use job_pipeline::jetstream::{self, Pipeline};
use job_pipeline::{JobQueue, Worker, WorkerConfig};
use mediabot_proto::Service;
use mediabot_proto::speech::v1::speech_server::SpeechServer;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::grpc::GrpcServer;
use service_runtime::metrics::MetricsServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::grpc::SpeechService;
use crate::handler::SpeechHandler;
use crate::model::{Model, ModelError, ModelOptions};
use crate::transcriber::Transcriber;

/// The `speech` command line: the service (no subcommand, configured by [`Config`]) or one of the tools.
#[derive(Debug, Parser)]
#[command(
    name = "speech",
    version,
    about = "mediabot speech: transcription jobs with whisper.cpp"
)]
pub struct Cli {
    /// A tool to run instead of the service.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The service's configuration.
    #[command(flatten)]
    pub config: Config,
}

/// The tools of the `speech` binary.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Downloads an official whisper.cpp model (ggml-NAME.bin) from the whisper.cpp model repository,
    /// resuming a partial download, and verifies its SHA-256; prints the file's path.
    FetchModel(fetch_model::FetchModelArgs),
}

/// Configuration of the speech service; every flag also reads an environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "speech",
    version,
    about = "mediabot speech: transcription jobs with whisper.cpp"
)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "SPEECH_LISTEN", default_value = "127.0.0.1:50053")]
    pub listen: SocketAddr,
    /// Prometheus metrics listen address (`/metrics`, `/healthz`).
    #[arg(
        long = "metrics-listen",
        env = "METRICS_LISTEN",
        default_value = "127.0.0.1:9103"
    )]
    pub metrics_listen: SocketAddr,
    /// Path to a whisper.cpp ggml model file (e.g. ggml-base.bin). Without one the service starts but
    /// reports NOT_SERVING and refuses transcriptions.
    #[arg(long, env = "WHISPER_MODEL")]
    pub model: Option<PathBuf>,
    /// Flash attention in whisper.cpp (`true`/`false`): about a third less memory, but slower on the
    /// CPUs measured (docs/architecture.md).
    #[arg(long, env = "WHISPER_FLASH_ATTENTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub flash_attention: bool,
    /// Transcriptions run at once (default: the number of CPU cores).
    #[arg(long, env = "SPEECH_WORKERS")]
    pub workers: Option<usize>,
    /// whisper.cpp threads per transcription.
    #[arg(long, env = "SPEECH_THREADS_PER_JOB", default_value_t = 1)]
    pub threads_per_job: usize,
    /// Longest audio accepted, seconds (default 60 min); longer audio fails as TOO_LARGE once decoded.
    /// Keep it equal to the gateway's `--max-audio-secs`, which refuses longer recordings before
    /// anything is charged.
    #[arg(long, env = "SPEECH_MAX_AUDIO_SECS", default_value_t = 3600)]
    pub max_audio_secs: u64,
    /// Largest input file in bytes, checked before it is read (Telegram's getFile stops at 20 MB).
    #[arg(long, env = "SPEECH_MAX_INPUT_BYTES", default_value_t = WorkerConfig::default().max_input_bytes)]
    pub max_input_bytes: u64,
    /// Seconds a job may go without a sign of life from its worker before JetStream redelivers it (the
    /// worker sends progress acks every third of this while it runs).
    #[arg(long, env = "SPEECH_ACK_WAIT_SECS", default_value_t = 60)]
    pub ack_wait_secs: u64,
    /// Runs of a job at most: a passing failure on the last one reports FAILED (INTERNAL); a job whose
    /// every run died (killed, out of memory) is reported FAILED (WORKER_LOST) and not run again.
    #[arg(long, env = "SPEECH_MAX_DELIVER", default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_deliver: i64,
    /// NATS connection.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Logs and traces.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

impl Config {
    /// The number of concurrent transcriptions: `--workers`, or the number of CPU cores.
    pub fn effective_workers(&self) -> usize {
        self.workers
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            })
            .max(1)
    }

    /// How the job worker runs.
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig::from_flags(
            Some(self.effective_workers()),
            self.ack_wait_secs,
            self.max_deliver,
            self.max_input_bytes,
        )
    }
}

/// Errors starting or running the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configured model could not be loaded.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// NATS could not be reached or set up.
    #[error(transparent)]
    Nats(#[from] jetstream::Error),
    /// The gRPC server failed.
    #[error(transparent)]
    Grpc(#[from] service_runtime::grpc::Error),
    /// The metrics port failed.
    #[error(transparent)]
    Metrics(#[from] service_runtime::metrics::Error),
    /// A start-up task panicked.
    #[error("start-up task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The service, built and ready to run.
pub struct Application {
    listener: TcpListener,
    grpc_addr: SocketAddr,
    metrics: MetricsServer,
    server: GrpcServer,
    worker: Option<Worker<SpeechHandler>>,
    shutdown: CancellationToken,
}

impl Application {
    /// Loads the model (if configured), connects to NATS, sets up the pipeline and (with a model) the
    /// `speech-workers` consumer, binds the listener and registers the gRPC services: Jobs and Speech,
    /// SERVING only with a model. The metrics port is bound first, so the model's load time is recorded
    /// (`mediabot_speech_model_load_seconds`).
    pub async fn build(config: Config) -> Result<Self, Error> {
        let metrics = MetricsServer::bind(config.metrics_listen).await?;
        let model = match &config.model {
            Some(path) => {
                let path = path.clone();
                let options = ModelOptions {
                    flash_attention: config.flash_attention,
                };
                let model =
                    tokio::task::spawn_blocking(move || Model::load_with(&path, options)).await??;
                tracing::info!(
                    path = %model.path().display(),
                    load_ms = model.load_time().as_millis(),
                    multilingual = model.is_multilingual(),
                    flash_attention = config.flash_attention,
                    "whisper model loaded"
                );
                let file = model
                    .path()
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                metrics::gauge!("mediabot_speech_model_load_seconds", "model" => file)
                    .set(model.load_time().as_secs_f64());
                Some(Arc::new(model))
            }
            None => {
                tracing::warn!(
                    "no whisper model configured: speech reports NOT_SERVING and refuses transcriptions. \
                     Download a ggml model (`speech fetch-model base` puts models/ggml-base.bin in place) \
                     and set WHISPER_MODEL=/path/to/ggml-base.bin or pass --model"
                );
                None
            }
        };
        let worker_config = config.worker_config();
        let transcriber = model.map(|model| {
            Transcriber::new(model, worker_config.concurrency, config.threads_per_job)
        });
        let max_audio = Duration::from_secs(config.max_audio_secs);

        let client = jetstream::connect(&config.nats.nats_url, "speech").await?;
        let pipeline = Pipeline::setup(client).await?;
        let shutdown = CancellationToken::new();

        let mut queue = JobQueue::new(pipeline.clone(), Service::Speech);
        let worker = match &transcriber {
            Some(transcriber) => {
                let handler = SpeechHandler::new(transcriber.clone(), max_audio);
                Some(Worker::new(pipeline, handler, worker_config).await?)
            }
            None => {
                queue = queue.not_available(error::NO_MODEL);
                None
            }
        };

        let service = SpeechService::new(transcriber.clone(), max_audio, shutdown.clone());
        let server = GrpcServer::new()?.add_service(service.into_server()).await;
        let server = job_pipeline::grpc::mount(server, queue).await;
        if transcriber.is_some() {
            server
                .health()
                .set_serving::<SpeechServer<SpeechService>>()
                .await;
        }
        let listener = service_runtime::grpc::bind(config.listen).await?;
        let grpc_addr = listener.local_addr().map_err(|source| {
            Error::Grpc(service_runtime::grpc::Error::Bind {
                addr: config.listen,
                source,
            })
        })?;
        Ok(Self {
            listener,
            grpc_addr,
            metrics,
            server,
            worker,
            shutdown,
        })
    }

    /// The address the gRPC server listens on (the real port when configured with port 0).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The address of the metrics port (`/metrics`, `/healthz`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// Serves gRPC and runs the worker until `shutdown` is cancelled; then stops taking jobs, aborts
    /// running transcriptions (they are redelivered) and finishes in-flight calls.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let internal = self.shutdown.clone();
        let forward = tokio::spawn({
            let internal = internal.clone();
            async move {
                shutdown.cancelled().await;
                internal.cancel();
            }
        });
        let served = job_pipeline::service::run(
            self.server,
            self.listener,
            self.worker,
            self.metrics,
            internal.clone(),
        )
        .await;
        internal.cancel();
        forward.abort();
        served?;
        Ok(())
    }
}
