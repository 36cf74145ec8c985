//! mediabot documents: text from documents and photos, on the job pipeline. The `job-pipeline` crate does
//! the lifecycle — the `mediabot.jobs.v1.Jobs` gRPC service validates and queues jobs on the
//! `JOBS_DOCUMENTS` work queue, its worker pulls them, records their status, stores the whole text at
//! `out/<job_id>` and publishes the outcome events billing and the gateway consume. This crate adds only
//! the extraction:
//!
//! - [`handler`]: the [`JobHandler`](job_pipeline::JobHandler) for `document.text` and `image.ocr`;
//! - [`extract`]: what a file is (sniffed from its bytes, then its name) and the text it holds;
//! - [`pdf`]: PDF text layers (pdf-extract), with OCR of the pictures of pages that have none;
//! - [`office`]: DOCX and ODT (zip + quick-xml): paragraphs and tables, read within a size limit;
//! - [`plain`]: plain text (TXT, MD, CSV) in any common encoding (chardetng + encoding_rs);
//! - [`ocr`]: photo preprocessing (EXIF orientation, grayscale, upscaling, deskew) and Tesseract;
//! - [`stats`]: characters, words, the languages by script, the beginning shown in the chat;
//! - [`error`]: extraction errors → job outcomes.
//!
//! [`Application::build`] is what both `main` and the integration tests start. Design notes are in
//! `docs/architecture.md` ("Documents: text from files and photos").

pub mod error;
pub mod extract;
pub mod handler;
pub mod ocr;
pub mod office;
pub mod pdf;
pub mod plain;
pub mod stats;

use std::net::SocketAddr;
use std::sync::Arc;

use job_pipeline::jetstream::{self, Pipeline};
use job_pipeline::{JobQueue, Worker, WorkerConfig};
use mediabot_proto::Service;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::grpc::GrpcServer;
use service_runtime::metrics::MetricsServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::extract::Limits;
use crate::handler::DocumentsHandler;
use crate::ocr::OcrEngine;

/// Configuration, from flags or environment variables (`documents --help`).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "documents",
    version,
    about = "mediabot documents service: text from documents and photos (OCR) over gRPC and NATS JetStream"
)]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "DOCUMENTS_LISTEN", default_value = "127.0.0.1:50054")]
    pub listen: SocketAddr,
    /// Prometheus metrics listen address (`/metrics`, `/healthz`).
    #[arg(
        long = "metrics-listen",
        env = "METRICS_LISTEN",
        default_value = "127.0.0.1:9104"
    )]
    pub metrics_listen: SocketAddr,
    /// Jobs processed at once (each on its own CPU thread); default: the number of available cores.
    #[arg(long, env = "DOCUMENTS_WORKERS")]
    pub workers: Option<usize>,
    /// Tesseract's data directory (holding eng.traineddata, rus.traineddata); default: the library's own
    /// (Debian: /usr/share/tesseract-ocr/5/tessdata).
    #[arg(long, env = "TESSDATA_PREFIX")]
    pub tessdata: Option<String>,
    /// Most pages of a PDF read.
    #[arg(long, env = "DOCUMENTS_MAX_PAGES", default_value_t = Limits::default().max_pages)]
    pub max_pages: u32,
    /// Most pages of a PDF without a text layer read by OCR (seconds of CPU each).
    #[arg(long, env = "DOCUMENTS_MAX_OCR_PAGES", default_value_t = Limits::default().max_ocr_pages)]
    pub max_ocr_pages: u32,
    /// Longest text produced, characters; more is TOO_LARGE.
    #[arg(long, env = "DOCUMENTS_MAX_TEXT_CHARS", default_value_t = Limits::default().max_text_chars)]
    pub max_text_chars: usize,
    /// Largest plain-text file, bytes; larger is TOO_LARGE before it is decoded.
    #[arg(long, env = "DOCUMENTS_MAX_TEXT_FILE_BYTES", default_value_t = Limits::default().max_text_file_bytes)]
    pub max_text_file_bytes: usize,
    /// Most bytes of XML read from a DOCX/ODT (the archive member holding the text), whatever the archive
    /// claims: a zip bomb stops here as TOO_LARGE.
    #[arg(long, env = "DOCUMENTS_MAX_XML_BYTES", default_value_t = Limits::default().max_xml_bytes)]
    pub max_xml_bytes: u64,
    /// Largest image read by OCR, pixels (width × height), checked from the header before decoding.
    #[arg(long, env = "DOCUMENTS_MAX_IMAGE_PIXELS", default_value_t = Limits::default().max_image_pixels)]
    pub max_image_pixels: u64,
    /// Largest input file in bytes, checked before it is read.
    #[arg(long, env = "DOCUMENTS_MAX_INPUT_BYTES", default_value_t = WorkerConfig::default().max_input_bytes)]
    pub max_input_bytes: u64,
    /// Seconds a job may go without a sign of life from its worker before JetStream redelivers it (the
    /// worker sends progress acks every third of this while it runs).
    #[arg(long, env = "DOCUMENTS_ACK_WAIT_SECS", default_value_t = 60)]
    pub ack_wait_secs: u64,
    /// Runs of a job at most: a passing failure on the last one reports FAILED (INTERNAL); a job whose
    /// every run died (killed, out of memory) is reported FAILED (WORKER_LOST) and not run again.
    #[arg(long, env = "DOCUMENTS_MAX_DELIVER", default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_deliver: i64,
    /// NATS connection.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Logs and traces.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

impl Config {
    /// The extraction limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_pages: self.max_pages,
            max_ocr_pages: self.max_ocr_pages,
            max_text_chars: self.max_text_chars,
            max_text_file_bytes: self.max_text_file_bytes,
            max_xml_bytes: self.max_xml_bytes,
            max_image_pixels: self.max_image_pixels,
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
    /// A start-up task panicked.
    #[error("start-up task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The running service: listener bound, NATS set up, consumer created (when Tesseract works).
pub struct Application {
    listener: TcpListener,
    grpc_addr: SocketAddr,
    metrics: MetricsServer,
    pipeline: Pipeline,
    worker: Option<Worker<DocumentsHandler>>,
    not_available: Option<String>,
}

impl Application {
    /// Checks that Tesseract starts with Russian and English, connects to NATS, creates the
    /// streams/buckets and (with Tesseract) the `documents-workers` consumer, and binds the gRPC listener
    /// and the metrics port (port 0 picks a free port). Without Tesseract's languages the service still
    /// starts, reports `mediabot.jobs.v1.Jobs` NOT_SERVING and refuses jobs with FAILED_PRECONDITION.
    pub async fn build(config: Config) -> Result<Self, Error> {
        let engine = Arc::new(OcrEngine::new(config.tessdata.clone()));
        let check = engine.clone();
        let not_available = tokio::task::spawn_blocking(move || check.check())
            .await?
            .err();
        if let Some(reason) = &not_available {
            tracing::warn!(
                %reason,
                "Tesseract is not usable: documents reports NOT_SERVING and refuses jobs. Install \
                 tesseract-ocr-rus and tesseract-ocr-eng (scripts/install-deps.sh) or set TESSDATA_PREFIX"
            );
        }
        let client = jetstream::connect(&config.nats.nats_url, "documents").await?;
        let pipeline = Pipeline::setup(client).await?;
        let worker = match not_available {
            None => Some(
                Worker::new(
                    pipeline.clone(),
                    DocumentsHandler::new(config.limits(), engine),
                    config.worker_config(),
                )
                .await?,
            ),
            Some(_) => None,
        };
        tracing::info!(limits = ?config.limits(), worker = ?config.worker_config(), "documents configured");
        let listener = service_runtime::grpc::bind(config.listen).await?;
        let grpc_addr = listener.local_addr().unwrap_or(config.listen);
        let metrics = MetricsServer::bind(config.metrics_listen).await?;
        Ok(Self {
            listener,
            grpc_addr,
            metrics,
            pipeline,
            worker,
            not_available: not_available
                .map(|reason| format!("OCR is not set up on this documents server: {reason}")),
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
    /// running jobs finish first.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let Self {
            listener,
            metrics,
            pipeline,
            worker,
            not_available,
            ..
        } = self;
        let mut queue = JobQueue::new(pipeline, Service::Documents);
        if let Some(reason) = not_available {
            queue = queue.not_available(reason);
        }
        let server = job_pipeline::grpc::mount(GrpcServer::new()?, queue).await;
        job_pipeline::service::run(server, listener, worker, metrics, shutdown).await?;
        Ok(())
    }
}
