//! Shared test set-up: fixtures, the tiny model, and a running service with its own nats-server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use job_pipeline::jetstream::{self, Pipeline};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::speech::v1::speech_client::SpeechClient;
use nats_test_server::NatsServer;
use service_runtime::config::{NatsArgs, TelemetryArgs};
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
    pub pipeline: Pipeline,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), speech::Error>>>,
    _nats: NatsServer,
}

impl TestApp {
    /// Starts the service, with the tiny model or with none.
    pub async fn spawn(model: Option<PathBuf>) -> Self {
        service_runtime::telemetry::init_for_tests();
        let nats = NatsServer::start().expect("starting nats-server");
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            model,
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
        let app = Application::build(config)
            .await
            .expect("building the application");
        let addr = app.grpc_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run(shutdown.clone()));
        let client = jetstream::connect(&nats.url(), "speech-test")
            .await
            .expect("connecting to NATS");
        let pipeline = Pipeline::setup(client).await.expect("pipeline");
        Self {
            addr,
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
