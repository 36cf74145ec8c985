//! mediabot speech: transcription with whisper.cpp (`whisper-rs`).
//!
//! - [`audio`]: any common audio file → 16 kHz mono PCM (OGG/Opus via libopus; MP3, AAC/M4A, WAV, FLAC,
//!   Vorbis via symphonia, resampled with rubato);
//! - [`model`]: the whisper model, loaded once at start-up from `--model` / `WHISPER_MODEL`;
//! - [`transcriber`]: bounded concurrent transcription on blocking threads;
//! - [`worker`]: the JetStream worker for `jobs.speech.requested`;
//! - [`grpc`]: the `mediabot.speech.v1.Speech` service; [`error`] maps its errors to gRPC codes;
//! - [`test_model`]: a tiny random-weight model file for tests.
//!
//! Without a model the service still starts and serves (`GetJob` works), but reports its named health
//! service NOT_SERVING, answers `FAILED_PRECONDITION` to calls that need a model and runs no worker.

pub mod audio;
pub mod error;
pub mod grpc;
pub mod model;
pub mod test_model;
pub mod transcriber;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use mediabot_proto::speech::v1::speech_server::SpeechServer;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::grpc::GrpcServer;
use service_runtime::jetstream::{self, Pipeline, SPEECH_STREAM, SPEECH_WORKERS};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::grpc::SpeechService;
use crate::model::{Model, ModelError};
use crate::transcriber::Transcriber;
use crate::worker::Worker;

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
    /// Path to a whisper.cpp ggml model file (e.g. ggml-base.bin). Without one the service starts but
    /// reports NOT_SERVING and refuses transcriptions.
    #[arg(long, env = "WHISPER_MODEL")]
    pub model: Option<PathBuf>,
    /// Transcriptions run at once (default: the number of CPU cores).
    #[arg(long, env = "SPEECH_WORKERS")]
    pub workers: Option<usize>,
    /// whisper.cpp threads per transcription.
    #[arg(long, env = "SPEECH_THREADS_PER_JOB", default_value_t = 1)]
    pub threads_per_job: usize,
    /// Longest audio accepted, seconds.
    #[arg(long, env = "SPEECH_MAX_AUDIO_SECS", default_value_t = 600)]
    pub max_audio_secs: u64,
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
    /// A start-up task panicked.
    #[error("start-up task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The service, built and ready to run.
pub struct Application {
    listener: TcpListener,
    grpc_addr: SocketAddr,
    server: GrpcServer,
    worker: Option<(
        Arc<Worker>,
        async_nats::jetstream::consumer::PullConsumer,
        usize,
    )>,
    shutdown: CancellationToken,
}

impl Application {
    /// Loads the model (if configured), connects to NATS, sets up the pipeline, binds the listener and
    /// registers the gRPC service (SERVING only with a model).
    pub async fn build(config: Config) -> Result<Self, Error> {
        let model = match &config.model {
            Some(path) => {
                let path = path.clone();
                let model = tokio::task::spawn_blocking(move || Model::load(&path)).await??;
                tracing::info!(
                    path = %model.path().display(),
                    load_ms = model.load_time().as_millis(),
                    multilingual = model.is_multilingual(),
                    "whisper model loaded"
                );
                Some(Arc::new(model))
            }
            None => {
                tracing::warn!(
                    "no whisper model configured: speech reports NOT_SERVING and refuses transcriptions. \
                     Download a ggml model (e.g. ggml-base.bin from https://huggingface.co/ggerganov/whisper.cpp) \
                     and set WHISPER_MODEL=/path/to/ggml-base.bin or pass --model"
                );
                None
            }
        };
        let workers = config.effective_workers();
        let transcriber =
            model.map(|model| Transcriber::new(model, workers, config.threads_per_job));
        let max_audio = Duration::from_secs(config.max_audio_secs);

        let client = jetstream::connect(&config.nats.nats_url, "speech").await?;
        let pipeline = Pipeline::setup(client).await?;
        let shutdown = CancellationToken::new();

        let worker = match &transcriber {
            Some(transcriber) => {
                let consumer = pipeline
                    .durable_consumer(
                        SPEECH_STREAM,
                        SPEECH_WORKERS,
                        None,
                        worker::ACK_WAIT,
                        worker::MAX_DELIVER,
                    )
                    .await?;
                let worker = Worker::new(
                    pipeline.clone(),
                    transcriber.clone(),
                    max_audio,
                    shutdown.clone(),
                );
                Some((Arc::new(worker), consumer, workers))
            }
            None => None,
        };

        let service =
            SpeechService::new(pipeline, transcriber.clone(), max_audio, shutdown.clone());
        let server = GrpcServer::new()?.add_service(service.into_server()).await;
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
            server,
            worker,
            shutdown,
        })
    }

    /// The address the gRPC server listens on (the real port when configured with port 0).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
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
        let worker = self.worker.map(|(worker, consumer, concurrency)| {
            let stop = internal.clone();
            tokio::spawn(jetstream::consume(
                consumer,
                concurrency,
                worker::ACK_WAIT,
                stop,
                move |delivery| worker.clone().handle(delivery),
            ))
        });
        let served = self.server.serve(self.listener, internal.clone()).await;
        internal.cancel();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        forward.abort();
        served?;
        Ok(())
    }
}
