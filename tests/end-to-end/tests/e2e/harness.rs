//! Starts the whole system as separate processes and talks to the sandbox as a user, through the sandbox's
//! typed control client (`telegram_sandbox::client`). The `Value`-returning helpers are kept for the tests
//! written against raw JSON; new tests can use the typed ones ([`System::sandbox`], [`User::chat`],
//! [`User::wait_for_bot_message`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mediabot_proto::billing::v1::billing_client::BillingClient;
use serde_json::Value;
use telegram_sandbox::client::{
    ChatUser, InputFile, MediaKind, Message, NewMessage, SandboxClient, User as TelegramUser,
};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

pub const TOKEN: &str = "4242424242:e2e-test-token-abcdefghijklmnop";

/// The callback data of the offer's button for `operation`; fails the test when the offer has none.
pub fn button(offer: &Message, operation: &mediabot_proto::jobs::v1::Operation) -> String {
    let data = operation.callback_data();
    assert!(
        offer
            .buttons()
            .any(|b| b.callback_data.as_deref() == Some(data.as_str())),
        "no {data} button in {offer:?}"
    );
    data
}

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(relative)
}

/// The directory holding the workspace's binaries: this test runs from `<target>/<profile>/deps/`.
fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (`cargo build --workspace --bins`; scripts/test.sh does it)",
        path.display()
    );
    path
}

/// The gateway's log filter: debug for the gateway's own steps (teloxide's debug is mostly its throttle's
/// idle loop, which would fill the tail a failure shows).
const GATEWAY_LOG: &str = "info,gateway=debug";

/// A loopback port for a server the test starts, from below the ephemeral range (see
/// [`nats_test_server::ports`]).
pub fn free_port() -> u16 {
    nats_test_server::ports::free_port().unwrap()
}

struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Killed on purpose by the test, so its exit is not a failure.
    stopped: bool,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The running system. Everything stops when it is dropped.
pub struct System {
    processes: Vec<Process>,
    pub sandbox_url: String,
    sandbox: SandboxClient,
    pub billing_url: String,
    pub imaging_url: String,
    pub speech_url: String,
    pub documents_url: String,
    pub generation_url: String,
    /// The provider sandbox (Fal's queue API and OpenAI chat completions) generation talks to.
    pub provider_url: String,
    _nats: nats_test_server::NatsServer,
    _dir: tempfile::TempDir,
}

/// How to start the system.
pub struct Options {
    /// Give speech a (generated, tiny) whisper model.
    pub speech_model: bool,
    /// Give speech a real whisper model instead: the environment variable holding its path
    /// (`MEDIABOT_WHISPER_BASE`, `MEDIABOT_WHISPER_TINY_EN`; scripts/test.sh sets both). The test fails
    /// when it is not set.
    pub real_speech_model: Option<&'static str>,
    /// billing's welcome credit, kopecks; None keeps billing's default.
    pub welcome_credit_minor: Option<i64>,
    /// Extra environment variables: (process name, variable, value), e.g.
    /// `("imaging", "IMAGING_MAX_DELIVER", "2")`.
    pub env: Vec<(&'static str, &'static str, String)>,
    /// Where billing, imaging, speech and the gateway export their spans (OTLP/gRPC,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`), e.g. `http://127.0.0.1:4317`; `None`: no export.
    pub otlp_endpoint: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            speech_model: true,
            real_speech_model: None,
            welcome_credit_minor: None,
            env: Vec::new(),
            otlp_endpoint: None,
        }
    }
}

impl Options {
    /// The extra variables of process `name`.
    fn env_of(&self, name: &str) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .filter(|(process, _, _)| *process == name)
            .map(|(_, key, value)| (*key, value.as_str()))
            .collect()
    }
}

impl System {
    pub async fn start(options: Options) -> System {
        let dir = tempfile::tempdir().unwrap();
        let nats = nats_test_server::NatsServer::start().unwrap();
        let model_path = match options.real_speech_model {
            Some(var) => {
                let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
                    panic!(
                        "{var} is not set: it must name a real whisper.cpp model (scripts/test.sh builds \
                         the test models and sets it)"
                    )
                });
                assert!(path.is_file(), "{var}={} is not a file", path.display());
                path
            }
            None => {
                let path = dir.path().join("ggml-test-tiny.bin");
                if options.speech_model {
                    speech::test_model::write_tiny_model(&path).unwrap();
                }
                path
            }
        };
        let (sandbox, billing, imaging, speech, documents) = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        );
        let (generation, provider) = (free_port(), free_port());
        let sandbox_url = format!("http://127.0.0.1:{sandbox}");
        let mut system = System {
            processes: Vec::new(),
            sandbox: SandboxClient::new(sandbox_url.clone()),
            sandbox_url,
            billing_url: format!("http://127.0.0.1:{billing}"),
            imaging_url: format!("http://127.0.0.1:{imaging}"),
            speech_url: format!("http://127.0.0.1:{speech}"),
            documents_url: format!("http://127.0.0.1:{documents}"),
            generation_url: format!("http://127.0.0.1:{generation}"),
            provider_url: format!("http://127.0.0.1:{provider}"),
            _nats: nats,
            _dir: dir,
        };
        let nats_url = system._nats.url();
        let logs = system._dir.path().to_path_buf();
        let sandbox_listen = format!("127.0.0.1:{sandbox}");
        system.spawn(
            "telegram-sandbox",
            &logs,
            &["--listen", &sandbox_listen, "--token", TOKEN],
            // Debug: each Bot API call, each update queued and what each getUpdates answered.
            &[("RUST_LOG", "info,telegram_sandbox=debug")],
        );
        let db = format!(
            "sqlite://{}?mode=rwc",
            logs.join("billing.sqlite").display()
        );
        // Metrics on a free port each: tests run side by side, and the defaults (9100-9103) are one set.
        let mut env_common = vec![
            ("NATS_URL", nats_url.as_str()),
            ("RUST_LOG", "info"),
            ("METRICS_LISTEN", "127.0.0.1:0"),
        ];
        if let Some(endpoint) = &options.otlp_endpoint {
            env_common.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()));
        }
        let billing_listen = format!("127.0.0.1:{billing}");
        let welcome = options.welcome_credit_minor.map(|w| w.to_string());
        let mut billing_env = vec![("DATABASE_URL", db.as_str())];
        if let Some(welcome) = &welcome {
            billing_env.push(("WELCOME_CREDIT_MINOR", welcome));
        }
        system.spawn(
            "billing",
            &logs,
            &["--listen", &billing_listen],
            &[&env_common[..], &billing_env, &options.env_of("billing")].concat(),
        );
        let imaging_listen = format!("127.0.0.1:{imaging}");
        system.spawn(
            "imaging",
            &logs,
            &["--listen", &imaging_listen],
            &[&env_common[..], &options.env_of("imaging")].concat(),
        );
        let speech_listen = format!("127.0.0.1:{speech}");
        let model = model_path.display().to_string();
        let speech_env = if options.speech_model {
            vec![("WHISPER_MODEL", model.as_str())]
        } else {
            vec![]
        };
        system.spawn(
            "speech",
            &logs,
            &["--listen", &speech_listen],
            &[&env_common[..], &speech_env, &options.env_of("speech")].concat(),
        );
        let documents_listen = format!("127.0.0.1:{documents}");
        system.spawn(
            "documents",
            &logs,
            &["--listen", &documents_listen],
            &[&env_common[..], &options.env_of("documents")].concat(),
        );
        // The providers' stand-in, quick (50 ms in the queue, 300 ms of work), and generation on it.
        let provider_listen = format!("127.0.0.1:{provider}");
        system.spawn(
            "provider-sandbox",
            &logs,
            &[
                "--listen",
                &provider_listen,
                "--queue-ms",
                "50",
                "--work-ms",
                "300",
            ],
            &[("RUST_LOG", "info,provider_sandbox=debug")],
        );
        let generation_listen = format!("127.0.0.1:{generation}");
        let llm_url = format!("{}/v1", system.provider_url);
        let fal_url = system.provider_url.clone();
        system.spawn(
            "generation",
            &logs,
            &["--listen", &generation_listen],
            &[
                &env_common[..],
                &[
                    ("FAL_QUEUE_URL", fal_url.as_str()),
                    ("FAL_KEY", "sandbox-fal-key"),
                    ("LLM_BASE_URL", llm_url.as_str()),
                    ("LLM_API_KEY", "sandbox-openai-key"),
                ],
                &options.env_of("generation"),
            ]
            .concat(),
        );
        let mut ready = vec![
            (system.billing_url.clone(), "mediabot.billing.v1.Billing"),
            (system.imaging_url.clone(), "mediabot.jobs.v1.Jobs"),
            (system.documents_url.clone(), "mediabot.jobs.v1.Jobs"),
            (system.generation_url.clone(), "mediabot.jobs.v1.Jobs"),
        ];
        // Without a model speech's job queue stays NOT_SERVING by design; its process-wide status ("") still
        // says it is up.
        ready.push((
            system.speech_url.clone(),
            if options.speech_model {
                "mediabot.jobs.v1.Jobs"
            } else {
                ""
            },
        ));
        for (url, service) in ready {
            system.wait_serving(&url, service).await;
        }
        let (b, i, s, d, g, api) = (
            system.billing_url.clone(),
            system.imaging_url.clone(),
            system.speech_url.clone(),
            system.documents_url.clone(),
            system.generation_url.clone(),
            system.sandbox_url.clone(),
        );
        system.spawn(
            "gateway",
            &logs,
            &[],
            &[
                &env_common[..],
                &[
                    ("TELOXIDE_TOKEN", TOKEN),
                    ("TELOXIDE_API_URL", &api),
                    ("BILLING_URL", &b),
                    ("IMAGING_URL", &i),
                    ("SPEECH_URL", &s),
                    ("DOCUMENTS_URL", &d),
                    ("GENERATION_URL", &g),
                    ("RUST_LOG", GATEWAY_LOG),
                ],
                &options.env_of("gateway"),
            ]
            .concat(),
        );
        system
    }

    fn spawn(&mut self, name: &'static str, logs: &Path, args: &[&str], env: &[(&str, &str)]) {
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin(name))
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let args = args.iter().map(|a| a.to_string()).collect();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.processes.push(Process {
            name,
            child,
            log,
            args,
            env,
            stopped: false,
        });
    }

    /// Stops a service with SIGTERM, as Kubernetes does, and waits (up to 30 s) for it to exit: it
    /// finishes in-flight work and flushes its traces.
    pub fn terminate(&mut self, name: &str) {
        let process = self
            .processes
            .iter_mut()
            .find(|p| p.name == name)
            .expect("no such process");
        let sent = Command::new("kill")
            .args(["-TERM", &process.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {name}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while process.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "{name} did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        process.stopped = true;
    }

    /// Kills a service with SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self, name: &str) {
        let process = self
            .processes
            .iter_mut()
            .find(|p| p.name == name)
            .expect("no such process");
        process.child.kill().unwrap();
        process.child.wait().unwrap();
        process.stopped = true;
    }

    /// Starts a killed service again with the same arguments and environment (its log is appended to).
    pub fn restart(&mut self, name: &str) {
        let process = self
            .processes
            .iter_mut()
            .find(|p| p.name == name)
            .expect("no such process");
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&process.log)
            .unwrap();
        process.child = Command::new(bin(name))
            .args(&process.args)
            .envs(process.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("restarting {name}: {e}"));
        process.stopped = false;
    }

    /// [`restart`](Self::restart)s a gRPC service (billing, imaging, speech) and waits until it reports
    /// SERVING again, as a client retrying a minute later would find it.
    pub async fn restart_and_wait(&mut self, name: &str) {
        self.restart(name);
        let (url, service) = match name {
            "billing" => (self.billing_url.clone(), "mediabot.billing.v1.Billing"),
            "imaging" => (self.imaging_url.clone(), "mediabot.jobs.v1.Jobs"),
            "speech" => (self.speech_url.clone(), "mediabot.jobs.v1.Jobs"),
            "documents" => (self.documents_url.clone(), "mediabot.jobs.v1.Jobs"),
            "generation" => (self.generation_url.clone(), "mediabot.jobs.v1.Jobs"),
            other => panic!("{other} has no gRPC health service"),
        };
        self.wait_serving(&url, service).await;
    }

    /// The NATS URL the services use.
    pub fn nats_url(&self) -> String {
        self._nats.url()
    }

    async fn wait_serving(&mut self, url: &str, service: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = async {
                let channel = tonic::transport::Endpoint::from_shared(url.to_string())
                    .ok()?
                    .connect()
                    .await
                    .ok()?;
                let response = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: service.to_string(),
                    })
                    .await
                    .ok()?;
                Some(response.into_inner().status)
            }
            .await;
            if status == Some(ServingStatus::Serving as i32) {
                return;
            }
            self.assert_alive();
            if Instant::now() > deadline {
                panic!(
                    "{service} at {url} not SERVING after 60 s (last: {status:?})\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Panics with the logs if a process has exited.
    pub fn assert_alive(&mut self) {
        let mut dead = Vec::new();
        for p in &mut self.processes {
            if !p.stopped
                && let Ok(Some(status)) = p.child.try_wait()
            {
                dead.push(format!("{} exited: {status}", p.name));
            }
        }
        if !dead.is_empty() {
            panic!("{}\n{}", dead.join("\n"), self.logs());
        }
    }

    /// The last lines of every process's log, the gateway's first (it is where a user's update goes
    /// first, and CI shows the start and the end of a long failure), without whisper.cpp's model-loading
    /// lines.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut processes: Vec<&Process> = self.processes.iter().collect();
        processes.sort_by_key(|p| p.name != "gateway");
        for p in processes {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| !l.contains("whisper_logging_hook"))
                .collect();
            let start = lines.len().saturating_sub(25);
            // Warnings and errors from before the tail too: they are usually the cause.
            let earlier = causes(&lines[..start]);
            let earlier = earlier[earlier.len().saturating_sub(20)..].join("\n");
            let tail = lines[start..].join("\n");
            out.push_str(&format!("----- {} ({})\n", p.name, p.log.display()));
            if !earlier.is_empty() {
                out.push_str(&format!(
                    "(warnings and errors before the tail)\n{earlier}\n(tail)\n"
                ));
            }
            out.push_str(&format!("{tail}\n"));
        }
        out
    }

    /// Polls billing until nothing is held for `account_id` and its balance is `expected` kopecks.
    pub async fn wait_for_balance(&mut self, account_id: i64, expected: i64) {
        let mut billing = self.billing().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let balance = billing
                .get_balance(mediabot_proto::billing::v1::GetBalanceRequest { account_id })
                .await
                .unwrap()
                .into_inner();
            if balance.held_minor == 0 && balance.balance_minor == expected {
                assert_eq!(balance.available_minor, expected);
                return;
            }
            self.assert_alive();
            assert!(
                Instant::now() < deadline,
                "balance not settled at {expected}: {balance:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// billing's price list (`ListPrices`), as the gateway sees it.
    pub async fn prices(&self) -> Vec<mediabot_proto::billing::v1::Price> {
        self.billing()
            .await
            .list_prices(mediabot_proto::billing::v1::ListPricesRequest {})
            .await
            .unwrap()
            .into_inner()
            .prices
    }

    pub async fn billing(&self) -> BillingClient<tonic::transport::Channel> {
        BillingClient::connect(self.billing_url.clone())
            .await
            .unwrap()
    }

    /// A Telegram user (first name "Test") in their private chat with the bot.
    pub fn user(&self, id: i64, language_code: &str) -> User {
        User {
            chat: self
                .sandbox
                .chat_user(id, TelegramUser::new(id, "Test").language(language_code)),
        }
    }

    /// The sandbox's typed control client: faults, flood control, command menus, any chat's history.
    pub fn sandbox(&self) -> &SandboxClient {
        &self.sandbox
    }
}

/// The multipart field for a file sent as `kind` (photo, document, voice, audio, video, video_note).
fn media_kind(kind: &str) -> MediaKind {
    match kind {
        "photo" => MediaKind::Photo,
        "document" => MediaKind::Document,
        "voice" => MediaKind::Voice,
        "audio" => MediaKind::Audio,
        "video" => MediaKind::Video,
        "video_note" => MediaKind::VideoNote,
        other => panic!("no such file kind in Telegram: {other}"),
    }
}

/// A typed message as the JSON the sandbox sent (the typed form keeps every field, so nothing is lost).
fn json_of(message: &Message) -> Value {
    serde_json::to_value(message).unwrap()
}

/// A Telegram user in a private chat with the bot, acting through the sandbox's control API.
pub struct User {
    chat: ChatUser,
}

impl User {
    /// A user acting through `chat` (e.g. a member of a group, from [`SandboxClient::chat_user`]).
    pub fn from_chat(chat: ChatUser) -> Self {
        Self { chat }
    }

    /// The typed handle: `send`, `send_photo`, `press`, `wait_bot_text`, `watch`, `download`, ...
    pub fn chat(&self) -> &ChatUser {
        &self.chat
    }

    /// Sends `text` and waits (up to 60 s) for the bot's reply to it that satisfies `matches`.
    pub async fn say(
        &self,
        system: &mut System,
        text: &str,
        what: &str,
        matches: impl Fn(&Message) -> bool,
    ) -> Message {
        let sent = self.send_text(text).await;
        let id = sent["message_id"].as_i64().unwrap();
        self.wait_for_bot_message(system, id, Duration::from_secs(60), what, |m| {
            m.reply_to_message_id() == Some(id) && matches(m)
        })
        .await
    }

    pub async fn send_text(&self, text: &str) -> Value {
        let sent = self
            .chat
            .send_text(text)
            .await
            .unwrap_or_else(|e| panic!("send_text: {e}"));
        json_of(&sent)
    }

    /// Sends a file as `kind` (photo, document, voice, audio) with the MIME type `mime`.
    pub async fn send_file(&self, kind: &str, path: &Path, mime: &str) -> Value {
        let sent = self
            .chat
            .send(NewMessage::file(
                media_kind(kind),
                InputFile::path(path).mime_type(mime),
            ))
            .await
            .unwrap_or_else(|e| panic!("send_file: {e}"));
        json_of(&sent)
    }

    /// Sends a file as `kind`, waits for the bot's offer (an inline button replying to that message) and
    /// presses its button. Returns the id of the user's message, which results and errors reply to.
    pub async fn send_and_press(
        &self,
        system: &mut System,
        kind: &str,
        path: &Path,
        mime: &str,
    ) -> i64 {
        let (sent_id, offer) = self.send_for_offer(system, kind, path, mime).await;
        let data = offer.first_callback_data().unwrap_or_default().to_owned();
        self.press(offer.message_id, &data).await;
        sent_id
    }

    pub async fn press(&self, message_id: i64, data: &str) {
        self.chat
            .press(message_id, data)
            .await
            .unwrap_or_else(|e| panic!("press: {e}"));
    }

    /// The chat's messages (both sides, edits applied, deleted ones gone).
    pub async fn messages(&self) -> Vec<Value> {
        self.chat
            .messages()
            .await
            .unwrap_or_else(|e| panic!("messages: {e}"))
            .iter()
            .map(json_of)
            .collect()
    }

    /// Waits (up to `timeout`) for a bot message, newer than `after`, that satisfies `matches`.
    pub async fn wait_for_bot(
        &self,
        system: &mut System,
        after: i64,
        timeout: Duration,
        what: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let found = self
            .wait_for_bot_message(system, after, timeout, what, |m| matches(&json_of(m)))
            .await;
        json_of(&found)
    }

    /// Waits (up to 180 s) for the transcript replying to the recording `message_id` of the Russian
    /// `ru-voice` fixture, and checks that it is Russian: "Язык: русский" and the words привет and погода.
    /// Returns it.
    pub async fn wait_for_russian_transcript(
        &self,
        system: &mut System,
        message_id: i64,
        what: &str,
    ) -> Value {
        let transcript = self
            .wait_for_bot(system, message_id, Duration::from_secs(180), what, |m| {
                m["reply_to_message"]["message_id"].as_i64() == Some(message_id)
                    && text_of(m).contains("Баланс:")
            })
            .await;
        let text = text_of(&transcript);
        assert!(text.contains("Язык: русский"), "{text}");
        let lower = text.to_lowercase();
        for keyword in ["привет", "погода"] {
            assert!(lower.contains(keyword), "no {keyword:?} in {text}");
        }
        transcript
    }

    /// Sends the file at `path` as `kind` ("document", "photo", …) and waits for the bot's offer replying
    /// to it; returns the user's message id and the offer.
    pub async fn send_for_offer(
        &self,
        system: &mut System,
        kind: &str,
        path: &Path,
        mime: &str,
    ) -> (i64, Message) {
        let sent = self.send_file(kind, path, mime).await;
        let sent_id = sent["message_id"].as_i64().unwrap();
        let offer = self
            .wait_for_bot_message(
                system,
                sent_id,
                Duration::from_secs(60),
                "offering operations",
                |m| m.first_callback_data().is_some() && m.reply_to_message_id() == Some(sent_id),
            )
            .await;
        (sent_id, offer)
    }

    /// Sends a file as `kind` and waits for the bot's first message replying to it (an offer, a result,
    /// or a refusal), `what` naming it for the failure message. Returns the user's message id and the reply.
    pub async fn send_for_reply(
        &self,
        system: &mut System,
        kind: &str,
        path: &Path,
        mime: &str,
        what: &str,
    ) -> (i64, Message) {
        let sent = self.send_file(kind, path, mime).await;
        let sent_id = sent["message_id"].as_i64().unwrap();
        let reply = self
            .wait_for_bot_message(system, sent_id, Duration::from_secs(60), what, |m| {
                m.reply_to_message_id() == Some(sent_id)
            })
            .await;
        (sent_id, reply)
    }

    /// Typed [`User::wait_for_bot`]: waits (up to `timeout`) for a bot message, newer than `after`, that
    /// satisfies `matches`, long-polling the chat's history and checking between polls that every process
    /// is alive. Panics with the chat and the logs on timeout.
    pub async fn wait_for_bot_message(
        &self,
        system: &mut System,
        after: i64,
        timeout: Duration,
        what: &str,
        matches: impl Fn(&Message) -> bool,
    ) -> Message {
        let deadline = Instant::now() + timeout;
        let mut watch = self.chat.watch();
        watch
            .poll(Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("reading the chat: {e}"));
        loop {
            if let Some(found) = watch
                .messages()
                .find(|m| m.is_from_bot() && m.message_id > after && matches(m))
            {
                return found.clone();
            }
            system.assert_alive();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // A line per message and the logs (the gateway's first) before the full history, which is
                // long: CI shows the start and the end of a long failure.
                let summary: Vec<String> = watch.messages().map(summary_of).collect();
                panic!(
                    "no bot message {what} after {timeout:?} in chat {}\nmessages:\n{}\n{}\n{}",
                    self.chat.chat_id(),
                    summary.join("\n"),
                    system.logs(),
                    watch.timeout(what, timeout),
                );
            }
            // Wakes as soon as the chat changes; at most a second between liveness checks.
            watch
                .poll(left.min(Duration::from_secs(1)))
                .await
                .unwrap_or_else(|e| panic!("reading the chat: {e}"));
        }
    }

    /// Waits (up to `timeout`) for the bot's message carrying a file (a photo or a document) that replies
    /// to `source`: a job's result.
    pub async fn wait_for_result(
        &self,
        system: &mut System,
        source: i64,
        timeout: Duration,
    ) -> Message {
        self.wait_for_bot_message(system, source, timeout, "with the result", |m| {
            m.reply_to_message_id() == Some(source) && m.file_id().is_some()
        })
        .await
    }

    /// Presses the button `data` under `message_id` and waits (up to 15 s) for the bot's answer to the
    /// press; returns the answer's text (`None`: answered without a toast).
    pub async fn press_for_answer(&self, message_id: i64, data: &str) -> Option<String> {
        let press = self
            .chat
            .press(message_id, data)
            .await
            .unwrap_or_else(|e| panic!("press: {e}"));
        self.answer_to(&press.id).await
    }

    /// Presses the button `data` under `message_id` twice at the same moment (two taps arriving
    /// together); returns the texts the two answers carried (an answer without a toast adds none).
    pub async fn press_twice_at_once(&self, message_id: i64, data: &str) -> Vec<String> {
        let (first, second) = tokio::join!(
            self.chat.press(message_id, data),
            self.chat.press(message_id, data)
        );
        let mut told = Vec::new();
        for press in [first, second] {
            let press = press.unwrap_or_else(|e| panic!("press: {e}"));
            told.extend(self.answer_to(&press.id).await);
        }
        told
    }

    /// The text of the bot's answer to the callback query `query_id`, waiting up to 15 s.
    pub async fn answer_to(&self, query_id: &str) -> Option<String> {
        self.chat
            .wait_callback_answer(query_id, Duration::from_secs(15))
            .await
            .unwrap_or_else(|e| panic!("the answer to a press: {e}"))
            .text
    }

    pub async fn file(&self, file_id: &str) -> Vec<u8> {
        self.chat
            .download(file_id)
            .await
            .unwrap_or_else(|e| panic!("downloading {file_id}: {e}"))
            .to_vec()
    }
}

/// The lines of `lines` that say what went wrong: warnings, errors, panics, and the "Caused by:" chain
/// that follows an `Error:` line (a process that exits with an error prints a backtrace after it, which
/// pushes it out of a log's tail).
fn causes<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut in_chain = false;
    for &line in lines {
        if in_chain && !line.trim().is_empty() && !line.starts_with("Stack backtrace") {
            out.push(line);
            continue;
        }
        in_chain = line.starts_with("Caused by") || line.starts_with("Error:");
        if in_chain
            || ["WARN", "ERROR", "panicked"]
                .iter()
                .any(|marker| line.contains(marker))
        {
            out.push(line);
        }
    }
    out
}

/// One line about a chat message: id, side, what it replies to, its text's start, its buttons and file.
fn summary_of(message: &Message) -> String {
    let json = json_of(message);
    let text: String = text_of(&json).chars().take(80).collect();
    let buttons: Vec<&str> = json["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row.as_array())
        .flatten()
        .filter_map(|b| b["callback_data"].as_str())
        .collect();
    let file = ["photo", "document", "voice", "audio", "video", "video_note"]
        .into_iter()
        .find(|kind| json.get(*kind).is_some());
    format!(
        "#{} {} reply_to={:?} {text:?} buttons={buttons:?} file={file:?}",
        message.message_id,
        if message.is_from_bot() { "bot" } else { "user" },
        message.reply_to_message_id(),
    )
}

pub fn text_of(message: &Value) -> String {
    message["text"]
        .as_str()
        .or(message["caption"].as_str())
        .unwrap_or_default()
        .to_string()
}

pub fn button_data(message: &Value) -> Option<String> {
    message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .map(str::to_string)
}
