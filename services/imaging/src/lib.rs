//! mediabot imaging: image jobs. A gRPC front ([`grpc`]) validates submissions and queues them on the
//! `JOBS_IMAGING` JetStream work queue ([`jobs`]); workers ([`worker`]) pull them, run the pure image
//! [`pipeline`] (EXIF orientation, Lanczos3 2×, libjpeg-turbo) and publish the outcome events that billing
//! and the gateway consume.
//!
//! [`Application::build`] is what both `main` and the integration tests start.

pub mod error;
pub mod grpc;
pub mod jobs;
pub mod pipeline;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use mediabot_proto::imaging::v1::imaging_server::ImagingServer;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::jetstream::{self, IMAGING_STREAM, IMAGING_WORKERS, Pipeline, subjects};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::grpc::ImagingService;
use crate::jobs::JobQueue;
use crate::pipeline::Limits;
use crate::worker::{Worker, WorkerSettings};

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
    /// Jobs processed at once (each on its own CPU thread); default: the number of available cores.
    #[arg(long, env = "IMAGING_WORKERS")]
    pub workers: Option<usize>,
    /// Largest accepted input in pixels (width × height), checked before decoding.
    #[arg(long, env = "IMAGING_MAX_INPUT_PIXELS", default_value_t = Limits::default().max_input_pixels)]
    pub max_input_pixels: u64,
    /// Largest result in bytes (Telegram bots upload at most 50 MB).
    #[arg(long, env = "IMAGING_MAX_OUTPUT_BYTES", default_value_t = Limits::default().max_output_bytes)]
    pub max_output_bytes: usize,
    /// Seconds a job may go without a sign of life from its worker before JetStream redelivers it (the
    /// worker sends progress acks every third of this while it runs).
    #[arg(long, env = "IMAGING_ACK_WAIT_SECS", default_value_t = 30)]
    pub ack_wait_secs: u64,
    /// Deliveries of a job before it is given up; the last ones report FAILED (INTERNAL) to the user.
    #[arg(long, env = "IMAGING_MAX_DELIVER", default_value_t = 5, value_parser = clap::value_parser!(i64).range(2..))]
    pub max_deliver: i64,
    /// NATS connection.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Logs and traces.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

impl Config {
    /// The worker concurrency: `--workers`, else the available cores.
    pub fn worker_count(&self) -> usize {
        self.workers.filter(|&n| n > 0).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    /// The pipeline limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_input_pixels: self.max_input_pixels,
            max_output_bytes: self.max_output_bytes,
        }
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
}

/// The running service: listener bound, NATS set up, consumer created.
pub struct Application {
    config: Config,
    listener: TcpListener,
    grpc_addr: SocketAddr,
    pipeline: Pipeline,
    consumer: PullConsumer,
}

impl Application {
    /// Connects to NATS, creates the streams/buckets and the `imaging-workers` consumer, and binds the
    /// gRPC listener (port 0 picks a free port; read it with [`grpc_addr`](Self::grpc_addr)).
    pub async fn build(config: Config) -> Result<Self, Error> {
        let client = jetstream::connect(&config.nats.nats_url, "imaging").await?;
        let pipeline = Pipeline::setup(client).await?;
        let consumer = pipeline
            .durable_consumer(
                IMAGING_STREAM,
                IMAGING_WORKERS,
                Some(subjects::IMAGING_REQUESTED),
                Duration::from_secs(config.ack_wait_secs.max(1)),
                config.max_deliver,
            )
            .await?;
        let listener = service_runtime::grpc::bind(config.listen).await?;
        let grpc_addr = listener.local_addr().unwrap_or(config.listen);
        Ok(Self {
            config,
            listener,
            grpc_addr,
            pipeline,
            consumer,
        })
    }

    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Serves gRPC and runs the workers until `shutdown` fires; running jobs finish first.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let Self {
            config,
            listener,
            pipeline,
            consumer,
            ..
        } = self;
        // A child token, so a failing server can stop this service's workers without cancelling the caller's.
        let shutdown = shutdown.child_token();
        let server = service_runtime::grpc::GrpcServer::new()?
            .add_service(grpc::make_server(JobQueue::new(pipeline.clone())))
            .await;
        let health = server.health();
        let workers = config.worker_count();
        let ack_wait = Duration::from_secs(config.ack_wait_secs.max(1));
        let worker = Arc::new(Worker::new(
            pipeline,
            WorkerSettings {
                limits: config.limits(),
                max_deliver: config.max_deliver,
            },
        ));
        let consuming = tokio::spawn(jetstream::consume(
            consumer,
            workers,
            ack_wait,
            shutdown.clone(),
            move |delivery| worker.clone().handle(delivery),
        ));
        // NATS, the buckets and the consumer were set up in `build`, so the service can take jobs now.
        health.set_serving::<ImagingServer<ImagingService>>().await;
        tracing::info!(workers, limits = ?config.limits(), "imaging ready");
        let served = server.serve(listener, shutdown.clone()).await;
        // The server only returns on shutdown or failure; either way stop taking jobs and let running ones end.
        shutdown.cancel();
        if let Err(error) = consuming.await {
            tracing::error!(%error, "the job consumer crashed");
        }
        served?;
        Ok(())
    }
}
