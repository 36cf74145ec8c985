//! mediabot imaging: image jobs. The job pipeline (`job-pipeline`) does the lifecycle — the
//! `mediabot.jobs.v1.Jobs` gRPC service validates and queues jobs on the `JOBS_IMAGING` work queue, its
//! worker pulls them, records their status, stores results and publishes the outcome events billing and
//! the gateway consume. This crate adds only the image work:
//!
//! - [`handler`]: the [`JobHandler`](job_pipeline::JobHandler), dispatching on the job's operation;
//! - [`grpc`]: the `mediabot.imaging.v1.Imaging` service (`Describe`: the [`facts`] of an image);
//! - [`ops`]: one module per operation (`image.upscale` ×2 / ×4, `image.compress`, `image.convert`,
//!   `image.add_text`);
//! - [`fonts`]: the fonts `image.add_text` draws with, loaded once from `--font-dir`;
//! - [`pipeline`]: the pure image stages (EXIF orientation, Lanczos3 with fast_image_resize, libjpeg-turbo);
//! - [`color`]: ICC profiles → sRGB and CMYK → RGB (moxcms), for every decoded input;
//! - [`heif`]: HEIF/HEIC and AVIF decoding with libheif;
//! - [`error`]: image errors → job outcomes.
//!
//! [`Application::build`] is what both `main` and the integration tests start.

pub mod color;
pub mod error;
pub mod facts;
pub mod fonts;
pub mod grpc;
pub mod handler;
pub mod heif;
pub mod ops;
pub mod pipeline;

use std::net::SocketAddr;

use job_pipeline::jetstream::{self, Pipeline};
use job_pipeline::{JobQueue, Worker, WorkerConfig};
use mediabot_proto::Service;
use mediabot_proto::imaging::v1::imaging_server::ImagingServer;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::grpc::GrpcServer;
use service_runtime::metrics::MetricsServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::handler::ImagingHandler;
use crate::pipeline::Limits;

/// Configuration, from flags or environment variables (`imaging --help`).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "imaging",
    version,
    about = "mediabot imaging service: image jobs over gRPC and NATS JetStream"
)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "IMAGING_LISTEN", default_value = "127.0.0.1:50052")]
    pub listen: SocketAddr,
    /// Prometheus metrics listen address (`/metrics`, `/healthz`).
    #[arg(
        long = "metrics-listen",
        env = "METRICS_LISTEN",
        default_value = "127.0.0.1:9102"
    )]
    pub metrics_listen: SocketAddr,
    /// Jobs processed at once (each on its own CPU thread); default: the number of available cores.
    #[arg(long, env = "IMAGING_WORKERS")]
    pub workers: Option<usize>,
    /// Largest accepted input in pixels (width × height), checked before decoding.
    #[arg(long, env = "IMAGING_MAX_INPUT_PIXELS", default_value_t = Limits::default().max_input_pixels)]
    pub max_input_pixels: u64,
    /// Largest result in pixels (an upscale by f has f² times the input's), checked before decoding.
    #[arg(long, env = "IMAGING_MAX_OUTPUT_PIXELS", default_value_t = Limits::default().max_output_pixels)]
    pub max_output_pixels: u64,
    /// Largest result in bytes (Telegram bots upload at most 50 MB).
    #[arg(long, env = "IMAGING_MAX_OUTPUT_BYTES", default_value_t = Limits::default().max_output_bytes)]
    pub max_output_bytes: usize,
    /// Largest input file in bytes, checked before it is read.
    #[arg(long, env = "IMAGING_MAX_INPUT_BYTES", default_value_t = WorkerConfig::default().max_input_bytes)]
    pub max_input_bytes: u64,
    /// Seconds a job may go without a sign of life from its worker before JetStream redelivers it (the
    /// worker sends progress acks every third of this while it runs).
    #[arg(long, env = "IMAGING_ACK_WAIT_SECS", default_value_t = 30)]
    pub ack_wait_secs: u64,
    /// Runs of a job at most: a passing failure on the last one reports FAILED (INTERNAL); a job whose
    /// every run died (killed, out of memory) is reported FAILED (WORKER_LOST) and not run again.
    #[arg(long, env = "IMAGING_MAX_DELIVER", default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_deliver: i64,
    /// Directory of font files (.ttf/.otf/.ttc, searched recursively) for `image.add_text`: Latin and
    /// Cyrillic from fonts-dejavu-core, colour emoji from fonts-noto-color-emoji. Start-up fails if it
    /// holds no font.
    #[arg(
        long = "font-dir",
        env = "IMAGING_FONT_DIR",
        default_value = "/usr/share/fonts"
    )]
    pub font_dir: std::path::PathBuf,
    /// NATS connection.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Logs and traces.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

impl Config {
    /// The image limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_input_pixels: self.max_input_pixels,
            max_output_pixels: self.max_output_pixels,
            max_output_bytes: self.max_output_bytes,
        }
    }

    /// How the job worker runs.
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig::from_flags(
            self.workers,
            self.ack_wait_secs,
            self.max_deliver,
            self.max_input_bytes,
        )
    }
}

/// Errors starting or running the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// NATS, its streams, buckets or the consumer.
    #[error(transparent)]
    Nats(#[from] jetstream::Error),
    /// The gRPC server.
    #[error(transparent)]
    Grpc(#[from] service_runtime::grpc::Error),
    /// The metrics port.
    #[error(transparent)]
    Metrics(#[from] service_runtime::metrics::Error),
    /// No fonts for `image.add_text`.
    #[error(transparent)]
    Fonts(#[from] fonts::FontError),
}

/// The running service: listener bound, NATS set up, consumer created.
pub struct Application {
    listener: TcpListener,
    grpc_addr: SocketAddr,
    metrics: MetricsServer,
    pipeline: Pipeline,
    worker: Worker<ImagingHandler>,
}

impl Application {
    /// Connects to NATS, creates the streams/buckets and the `imaging-workers` consumer, and binds the
    /// gRPC listener and the metrics port (port 0 picks a free port; read them with
    /// [`grpc_addr`](Self::grpc_addr) and [`metrics_addr`](Self::metrics_addr)).
    pub async fn build(config: Config) -> Result<Self, Error> {
        // First, so a machine without fonts is refused before it takes jobs. Reading the font headers
        // takes milliseconds, once, so it runs on this thread.
        let fonts = fonts::Fonts::load(&config.font_dir)?;
        let client = jetstream::connect(&config.nats.nats_url, "imaging").await?;
        let pipeline = Pipeline::setup(client).await?;
        let worker = Worker::new(
            pipeline.clone(),
            ImagingHandler::new(config.limits(), fonts),
            config.worker_config(),
        )
        .await?;
        tracing::info!(limits = ?config.limits(), worker = ?config.worker_config(), "imaging configured");
        let listener = service_runtime::grpc::bind(config.listen).await?;
        let grpc_addr = listener.local_addr().unwrap_or(config.listen);
        let metrics = MetricsServer::bind(config.metrics_listen).await?;
        Ok(Self {
            listener,
            grpc_addr,
            metrics,
            pipeline,
            worker,
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

    /// Serves the Imaging and Jobs services (with health and reflection) and runs the worker until
    /// `shutdown` fires; running jobs finish first.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let Self {
            listener,
            metrics,
            pipeline,
            worker,
            ..
        } = self;
        // NATS, the buckets and the consumer were set up in `build`, so the service takes jobs now.
        let server = GrpcServer::new()?
            .add_service(grpc::ImagingService.into_server())
            .await;
        // Describe needs nothing but the bytes it is given: it serves from the start.
        server
            .health()
            .set_serving::<ImagingServer<grpc::ImagingService>>()
            .await;
        let server =
            job_pipeline::grpc::mount(server, JobQueue::new(pipeline, Service::Imaging)).await;
        job_pipeline::service::run(server, listener, Some(worker), metrics, shutdown).await?;
        Ok(())
    }
}
