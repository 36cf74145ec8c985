//! mediabot generation: pictures from words, edits of the user's pictures, retouched portraits and face
//! swaps through Fal's hosted models, and image prompts written by an LLM, on the job pipeline. The
//! `job-pipeline` crate does the lifecycle — the `mediabot.jobs.v1.Jobs` gRPC service validates and queues
//! jobs on the `JOBS_GENERATION` work queue, its worker pulls them, reads their input object, records
//! their status, stores a picture at `out/<job_id>` and publishes the outcome events billing and the
//! gateway consume. This crate adds the operations, which wait on the network rather than the CPU (hence a
//! service of its own, with its own concurrency, secrets and scaling):
//!
//! - [`handler`]: the [`JobHandler`](job_pipeline::JobHandler) for `image.generate`, `prompt.write`,
//!   `image.edit`, `image.retouch` and `image.face_swap`;
//! - [`models`]: the model list (`models.toml`): aliases, Fal endpoints, how each takes a size; the edit
//!   models, the retouch presets' prompts, the face-swap model;
//! - [`fal`]: Fal's queue API — submit, poll, result, cancel, download;
//! - [`slots`]: the per-key cap on requests in flight, shared by every replica through NATS KV;
//! - [`llm`]: an OpenAI-compatible chat-completions client (prompt writing, translation);
//! - [`inputs`]: the user's pictures made ready for Fal (upright, at most 2048 px, `data:` URIs);
//! - [`picture`]: a picture from Fal: its format (converted when the job wants another), size, preview;
//! - [`bounds`]: the job's deadline and the shutdown token every provider call runs under;
//! - [`error`]: job failures → job outcomes; [`metrics`]: the provider metrics; [`secret`]: keys.
//!
//! [`Application::build`] is what both `main` and the integration tests start. The service needs both a
//! Fal key and an LLM key; without either it starts, reports `mediabot.jobs.v1.Jobs` NOT_SERVING and
//! refuses jobs (the gateway tells the user "not set up here" and charges nothing).

pub mod bounds;
pub mod error;
pub mod fal;
pub mod handler;
pub mod inputs;
pub mod llm;
pub mod metrics;
pub mod models;
pub mod picture;
pub mod secret;
pub mod slots;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use job_pipeline::jetstream::{self, Pipeline};
use job_pipeline::{JobQueue, Worker, WorkerConfig};
use mediabot_proto::Service;
use mediabot_proto::catalog::EDIT_MAX_IMAGES;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::grpc::GrpcServer;
use service_runtime::metrics::MetricsServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::fal::FalClient;
use crate::handler::GenerationHandler;
use crate::llm::LlmClient;
use crate::models::{ModelList, ModelsError};
use crate::secret::Secret;
use crate::slots::Slots;

/// The largest picture downloaded from a provider, bytes (50 MB).
pub const MAX_IMAGE_BYTES: u64 = 50_000_000;
/// The largest input object read, bytes: an `image.edit` of [`EDIT_MAX_IMAGES`] pictures, each as large as
/// the Bot API lets a bot download (20 MiB, the gateway's `--max-file-bytes` default), plus the
/// `InputParts` framing. The job pipeline's default (64 MiB) would refuse four such pictures.
pub const MAX_INPUT_BYTES: u64 = EDIT_MAX_IMAGES as u64 * (20 << 20) + (1 << 20);
/// How long a dead replica's slots outlive the job deadline before the bucket's `max_age` frees them.
pub const SLOT_GRACE: Duration = Duration::from_secs(60);

/// Configuration, from flags or environment variables (`generation --help`; secrets are never printed).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "generation",
    version,
    about = "mediabot generation service: pictures from words, edits, retouches and face swaps (Fal) and image prompts (an OpenAI-compatible LLM) over gRPC and NATS JetStream"
)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "GENERATION_LISTEN", default_value = "127.0.0.1:50055")]
    pub listen: SocketAddr,
    /// Prometheus metrics listen address (`/metrics`, `/healthz`).
    #[arg(
        long = "metrics-listen",
        env = "METRICS_LISTEN",
        default_value = "127.0.0.1:9105"
    )]
    pub metrics_listen: SocketAddr,
    /// Jobs run at once by this replica (each mostly waits on a provider).
    #[arg(long, env = "GENERATION_WORKERS", default_value_t = 32)]
    pub workers: usize,
    /// The model list (TOML, see models.toml); default: the shipped list built into the binary.
    #[arg(long = "models-file", env = "GENERATION_MODELS_FILE")]
    pub models_file: Option<PathBuf>,
    /// Fal's queue API.
    #[arg(
        long = "fal-url",
        env = "FAL_QUEUE_URL",
        default_value = "https://queue.fal.run"
    )]
    pub fal_url: String,
    /// Fal API key (`Authorization: Key ...`); without it the service reports NOT_SERVING.
    #[arg(long = "fal-key", env = "FAL_KEY", hide_env_values = true)]
    pub fal_key: Option<Secret>,
    /// Most Fal requests in flight for the key, across every replica (Fal allows 10 per key).
    #[arg(long = "fal-max-concurrent", env = "GENERATION_FAL_MAX_CONCURRENT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fal_max_concurrent: u32,
    /// Seconds a job may take, models of the chain, waits for a slot and downloads included; then its
    /// request is cancelled at the provider and the job fails as PROVIDER_FAILED.
    #[arg(long = "job-deadline-secs", env = "GENERATION_JOB_DEADLINE_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub job_deadline_secs: u64,
    /// Base URL of an OpenAI-compatible chat-completions API (`{url}/chat/completions`).
    #[arg(
        long = "llm-url",
        env = "LLM_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub llm_url: String,
    /// API key of the LLM (`Authorization: Bearer ...`); without it the service reports NOT_SERVING.
    #[arg(long = "llm-key", env = "LLM_API_KEY", hide_env_values = true)]
    pub llm_key: Option<Secret>,
    /// The LLM model that writes prompts and translates.
    #[arg(long = "llm-model", env = "LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// Seconds one LLM call may take before it is retried.
    #[arg(long = "llm-timeout-secs", env = "LLM_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub llm_timeout_secs: u64,
    /// Seconds a job may go without a sign of life from its worker before JetStream redelivers it (the
    /// worker sends progress acks every third of this while it runs).
    #[arg(long, env = "GENERATION_ACK_WAIT_SECS", default_value_t = 60)]
    pub ack_wait_secs: u64,
    /// Runs of a job at most: a passing failure (NATS) on the last one reports FAILED (INTERNAL); a job
    /// whose every run died is reported FAILED (WORKER_LOST) and not run again.
    #[arg(long, env = "GENERATION_MAX_DELIVER", default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_deliver: i64,
    /// NATS connection.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Logs and traces.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

impl Config {
    /// How the job worker runs; input objects (the pictures of edits, retouches and face swaps) up to
    /// [`MAX_INPUT_BYTES`].
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig::from_flags(
            Some(self.workers.max(1)),
            self.ack_wait_secs,
            self.max_deliver,
            MAX_INPUT_BYTES,
        )
    }

    /// The job deadline.
    pub fn job_deadline(&self) -> Duration {
        Duration::from_secs(self.job_deadline_secs)
    }

    /// The model list: the file's, or the shipped one.
    pub fn models(&self) -> Result<ModelList, ModelsError> {
        match &self.models_file {
            Some(path) => ModelList::load(path),
            None => ModelList::shipped(),
        }
    }

    /// Why the service cannot run jobs (a key is missing), if it cannot.
    pub fn not_available(&self) -> Option<&'static str> {
        let has = |key: &Option<Secret>| key.as_ref().is_some_and(|k| !k.is_blank());
        match (has(&self.fal_key), has(&self.llm_key)) {
            (true, true) => None,
            (false, true) => Some("no FAL_KEY: image generation is not set up here"),
            (true, false) => {
                Some("no LLM_API_KEY: prompt writing and translation are not set up here")
            }
            (false, false) => {
                Some("no FAL_KEY and no LLM_API_KEY: image generation is not set up here")
            }
        }
    }
}

/// Errors starting or running the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model list is missing or wrong.
    #[error(transparent)]
    Models(#[from] ModelsError),
    /// NATS, its streams, buckets or the consumer.
    #[error(transparent)]
    Nats(#[from] jetstream::Error),
    /// The HTTP client could not be built (TLS set-up).
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The gRPC server.
    #[error(transparent)]
    Grpc(#[from] service_runtime::grpc::Error),
    /// The metrics port.
    #[error(transparent)]
    Metrics(#[from] service_runtime::metrics::Error),
}

/// The running service: listener bound, NATS set up, consumer created (when both keys are set).
pub struct Application {
    listener: TcpListener,
    grpc_addr: SocketAddr,
    metrics: MetricsServer,
    pipeline: Pipeline,
    worker: Option<Worker<GenerationHandler>>,
    not_available: Option<String>,
}

impl Application {
    /// Reads the model list (a bad one is an error naming the entry), connects to NATS, creates the
    /// streams/buckets, and — with both keys — the `provider-slots` bucket and the `generation-workers`
    /// consumer; binds the gRPC listener and the metrics port (port 0 picks a free port). Without a key
    /// the service still starts, reports `mediabot.jobs.v1.Jobs` NOT_SERVING and refuses jobs with
    /// FAILED_PRECONDITION.
    pub async fn build(config: Config) -> Result<Self, Error> {
        let models = Arc::new(config.models()?);
        let not_available = config.not_available();
        if let Some(reason) = not_available {
            tracing::warn!(
                %reason,
                "generation reports NOT_SERVING and refuses jobs: set FAL_KEY and LLM_API_KEY"
            );
        }
        let client = jetstream::connect(&config.nats.nats_url, "generation").await?;
        let pipeline = Pipeline::setup(client).await?;
        let worker = match (&config.fal_key, &config.llm_key, not_available) {
            (Some(fal_key), Some(llm_key), None) => Some(
                Worker::new(
                    pipeline.clone(),
                    handler(&config, models.clone(), &pipeline, fal_key, llm_key).await?,
                    config.worker_config(),
                )
                .await?,
            ),
            _ => None,
        };
        tracing::info!(
            models = ?models.aliases().collect::<Vec<_>>(),
            default_chain = ?models.default_chain(),
            edit_models = ?models.edit().aliases().collect::<Vec<_>>(),
            default_edit_model = models.edit().default_alias(),
            fal_url = %config.fal_url,
            fal_max_concurrent = config.fal_max_concurrent,
            llm_url = %config.llm_url,
            llm_model = %config.llm_model,
            job_deadline_secs = config.job_deadline_secs,
            worker = ?config.worker_config(),
            "generation configured"
        );
        let listener = service_runtime::grpc::bind(config.listen).await?;
        let grpc_addr = listener.local_addr().unwrap_or(config.listen);
        let metrics = MetricsServer::bind(config.metrics_listen).await?;
        Ok(Self {
            listener,
            grpc_addr,
            metrics,
            pipeline,
            worker,
            not_available: not_available.map(String::from),
        })
    }

    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The bound metrics address (`/metrics`, `/healthz`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// Serves the Jobs service (with health and reflection) and runs the worker until `shutdown` fires;
    /// running jobs cancel their provider requests and are left for redelivery.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let Self {
            listener,
            metrics,
            pipeline,
            worker,
            not_available,
            ..
        } = self;
        let mut queue = JobQueue::new(pipeline, Service::Generation);
        if let Some(reason) = not_available {
            queue = queue.not_available(reason);
        }
        let server = job_pipeline::grpc::mount(GrpcServer::new()?, queue).await;
        job_pipeline::service::run(server, listener, worker, metrics, shutdown).await?;
        Ok(())
    }
}

/// The handler with its clients: one HTTP client (rustls, connection pool) for both providers.
async fn handler(
    config: &Config,
    models: Arc<ModelList>,
    pipeline: &Pipeline,
    fal_key: &Secret,
    llm_key: &Secret,
) -> Result<GenerationHandler, Error> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("mediabot-generation/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let holder = format!(
        "{}/{}/{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "generation".into()),
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let slots = Slots::open(
        &pipeline.jetstream,
        fal_key.expose(),
        config.fal_max_concurrent,
        config.job_deadline() + SLOT_GRACE,
        holder,
    )
    .await?;
    let fal = FalClient::new(
        http.clone(),
        &config.fal_url,
        fal_key.clone(),
        slots,
        MAX_IMAGE_BYTES,
    );
    let llm = LlmClient::new(
        http,
        &config.llm_url,
        llm_key.clone(),
        &config.llm_model,
        Duration::from_secs(config.llm_timeout_secs),
    );
    Ok(GenerationHandler::new(
        models,
        fal,
        llm,
        config.job_deadline(),
    ))
}
