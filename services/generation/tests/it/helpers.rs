//! A test environment — a real nats-server and a real provider-sandbox (Fal's queue API and OpenAI chat
//! completions) on free ports — and the service started in it through `Application::build`, as `main`
//! starts it: one replica or several on the same NATS.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{self, DeliverPolicy};
use clap::Parser;
use futures::StreamExt;
use generation::{Application, Config};
use job_pipeline::jetstream::{self, EVENTS_STREAM, Pipeline, subjects};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::jobs::v1::{
    Generate, ImageResult, InputParts, JobCompleted, JobContext, JobFailed, JobRequest, JobState,
    Operation, job_completed,
};
use nats_test_server::NatsServer;
use prost::Message as _;
use provider_sandbox::client::{ProviderSandboxClient, RecentRequest, Stats};
use provider_sandbox::{DEFAULT_FAL_KEY, DEFAULT_OPENAI_KEY, Sandbox};
use tokio::io::AsyncReadExt as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// How long a test waits for a job's outcome.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The bytes of `shared/fixtures/images/<name>` (real photos; never copied into the repository).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/images/"
    );
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// An `InputParts` input object holding `parts`, as the gateway stores it.
pub fn input_parts(parts: &[&[u8]]) -> Vec<u8> {
    InputParts {
        parts: parts.iter().map(|part| part.to_vec()).collect(),
    }
    .encode_to_vec()
}

/// NATS and the provider sandbox, shared by the replicas a test starts.
pub struct TestEnv {
    pub pipeline: Pipeline,
    pub sandbox: ProviderSandboxClient,
    nats_url: String,
    _sandbox: Sandbox,
    _nats: NatsServer,
}

/// One running replica.
pub struct TestApp {
    pub client: JobsClient<Channel>,
    pub channel: Channel,
    shutdown: CancellationToken,
    running: Option<JoinHandle<Result<(), generation::Error>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// Shuts the replica down as SIGTERM would and waits until it has stopped (its running jobs ended).
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running.await.unwrap().unwrap();
        }
    }
}

/// What the worker published for a job.
#[derive(Debug)]
pub enum Outcome {
    Completed(JobCompleted),
    Failed(JobFailed),
}

impl Outcome {
    /// The picture of a completed `image.generate`, `image.edit`, `image.retouch` or `image.face_swap`;
    /// panics otherwise.
    pub fn image(self) -> ImageResult {
        match self {
            Outcome::Completed(JobCompleted {
                result: Some(job_completed::Result::Image(image)),
                ..
            }) => image,
            other => panic!("not a picture: {other:?}"),
        }
    }

    /// The failure; panics on a completion.
    pub fn failure(self) -> JobFailed {
        match self {
            Outcome::Failed(failed) => failed,
            other => panic!("not a failure: {other:?}"),
        }
    }
}

impl TestEnv {
    /// A nats-server and a provider sandbox with short timings (20 ms queued, 50 ms of work).
    pub async fn start() -> Self {
        service_runtime::telemetry::init_for_tests();
        let nats = NatsServer::start().expect("nats-server starts");
        let nats_url = nats.url();
        let sandbox = provider_sandbox::spawn(provider_sandbox::Config::for_tests())
            .await
            .expect("the provider sandbox starts");
        let pipeline = Pipeline::setup(
            jetstream::connect(&nats_url, "generation-tests")
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        Self {
            pipeline,
            sandbox: ProviderSandboxClient::new(sandbox.base_url()),
            nats_url,
            _sandbox: sandbox,
            _nats: nats,
        }
    }

    /// The flags of a replica talking to this environment, with both keys, then `extra` (a flag in
    /// `extra` replaces the default one: `--fal-key=` for none).
    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        let base = self.sandbox.base_url();
        let defaults = [
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--nats-url",
            &self.nats_url,
            "--fal-url",
            base,
            "--fal-key",
            DEFAULT_FAL_KEY,
            "--llm-url",
            &format!("{base}/v1"),
            "--llm-key",
            DEFAULT_OPENAI_KEY,
            "--workers",
            "8",
        ];
        let given = |flag: &str| extra.iter().any(|arg| arg.split('=').next() == Some(flag));
        let mut args = vec!["generation".to_string()];
        for pair in defaults.chunks(2) {
            if !given(pair[0]) {
                args.extend(pair.iter().map(|s| s.to_string()));
            }
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// A replica started with [`args`](Self::args)`(extra)`.
    pub async fn spawn(&self, extra: &[&str]) -> TestApp {
        let config = Config::parse_from(self.args(extra));
        let app = Application::build(config)
            .await
            .expect("the service builds");
        let addr = app.grpc_addr();
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(app.run(shutdown.clone()));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("connects");
        TestApp {
            client: JobsClient::new(channel.clone()),
            channel,
            shutdown,
            running: Some(running),
        }
    }

    /// Submits `operation` (no input object) through `app`'s Jobs service; returns the job id.
    pub async fn submit(&self, app: &TestApp, operation: Operation) -> String {
        self.submit_with(app, operation, None).await
    }

    /// Stores `input` at `in/<job_id>` as the gateway does and submits `operation` on it; returns the job
    /// id.
    pub async fn submit_input(&self, app: &TestApp, operation: Operation, input: &[u8]) -> String {
        self.submit_with(app, operation, Some(input)).await
    }

    async fn submit_with(
        &self,
        app: &TestApp,
        operation: Operation,
        input: Option<&[u8]>,
    ) -> String {
        let job_id = mediabot_proto::JobId::random().to_string();
        let input_key = match input {
            Some(mut bytes) => {
                let key = jetstream::input_key(&job_id);
                self.pipeline
                    .media
                    .put(key.as_str(), &mut bytes)
                    .await
                    .unwrap();
                key
            }
            None => String::new(),
        };
        let request = JobRequest {
            job_id: job_id.clone(),
            operation: Some(operation),
            input_key,
            mime_type: String::new(),
            file_name: String::new(),
            context: Some(JobContext {
                chat_id: 7,
                user_id: 7,
                language_code: "ru".into(),
                ..Default::default()
            }),
            submitted_at_unix_ms: 0,
        };
        app.client.clone().submit_job(request).await.unwrap();
        job_id
    }

    /// Submits `image.generate` with `params`.
    pub async fn generate(&self, app: &TestApp, params: Generate) -> String {
        self.submit(app, Operation::generate(params)).await
    }

    /// The job's outcome event, read from the start of the events stream.
    pub async fn outcome(&self, job_id: &str) -> Outcome {
        let mut events = self.events().await;
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, events.next())
                .await
                .unwrap_or_else(|_| panic!("no outcome for job {job_id} within {DEADLINE:?}"))
                .expect("stream open")
                .expect("message");
            let payload = message.payload.clone();
            match message.subject.as_str() {
                subjects::COMPLETED => {
                    let event = JobCompleted::decode(payload).unwrap();
                    if event.job_id == job_id {
                        return Outcome::Completed(event);
                    }
                }
                subjects::FAILED => {
                    let event = JobFailed::decode(payload).unwrap();
                    if event.job_id == job_id {
                        return Outcome::Failed(event);
                    }
                }
                _ => {}
            }
        }
    }

    /// How many `jobs.completed` and `jobs.failed` events the stream holds for `job_id` now.
    pub async fn outcome_counts(&self, job_id: &str) -> (usize, usize) {
        let stream = self
            .pipeline
            .jetstream
            .get_stream(EVENTS_STREAM)
            .await
            .unwrap();
        let last = stream.get_info().await.unwrap().state.last_sequence;
        let mut events = self.events().await;
        let (mut completed, mut failed) = (0, 0);
        loop {
            let message = events.next().await.expect("stream open").expect("message");
            let sequence = message.info().unwrap().stream_sequence;
            match message.subject.as_str() {
                subjects::COMPLETED
                    if JobCompleted::decode(message.payload.clone())
                        .unwrap()
                        .job_id
                        == job_id =>
                {
                    completed += 1;
                }
                subjects::FAILED
                    if JobFailed::decode(message.payload.clone()).unwrap().job_id == job_id =>
                {
                    failed += 1;
                }
                _ => {}
            }
            if sequence >= last {
                return (completed, failed);
            }
        }
    }

    async fn events(&self) -> consumer::pull::Stream {
        self.pipeline
            .jetstream
            .get_stream(EVENTS_STREAM)
            .await
            .unwrap()
            .create_consumer(consumer::pull::Config {
                deliver_policy: DeliverPolicy::All,
                ack_policy: consumer::AckPolicy::None,
                ..Default::default()
            })
            .await
            .unwrap()
            .messages()
            .await
            .unwrap()
    }

    /// The job's recorded state.
    pub async fn state(&self, job_id: &str) -> JobState {
        let status = self.pipeline.get_status(job_id).await.unwrap().unwrap();
        JobState::try_from(status.state).unwrap()
    }

    /// The stored result object at `key`.
    pub async fn object(&self, key: &str) -> Vec<u8> {
        let mut object = self.pipeline.media.get(key).await.unwrap();
        let mut bytes = Vec::new();
        object.read_to_end(&mut bytes).await.unwrap();
        bytes
    }

    /// The sandbox's statistics.
    pub async fn stats(&self) -> Stats {
        self.sandbox.stats().await.unwrap()
    }

    /// The Fal request the sandbox saw whose prompt is `prompt`.
    pub async fn fal_request(&self, prompt: &str) -> RecentRequest {
        self.stats()
            .await
            .recent
            .into_iter()
            .find(|r| r.input["prompt"].as_str() == Some(prompt))
            .unwrap_or_else(|| panic!("the sandbox saw no Fal request with the prompt {prompt:?}"))
    }

    /// Polls `condition` on the sandbox's statistics every 20 ms until it holds; panics after `within`.
    pub async fn until_stats(&self, within: Duration, condition: impl Fn(&Stats) -> bool) -> Stats {
        let end = Instant::now() + within;
        loop {
            let stats = self.stats().await;
            if condition(&stats) {
                return stats;
            }
            assert!(
                Instant::now() < end,
                "the sandbox's stats did not get there within {within:?}: {stats:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
