//! mediabot gateway: the Telegram side.
//!
//! It receives updates by long polling (teloxide), answers commands (`/start`, `/balance`, `/history`,
//! `/help`, and `/add_balance` for administrators), offers the paid operations of its [`operations`] table
//! for what users send (buttons under photos and image files; voice notes and audio are transcribed at
//! once), and starts each job as [`jobs`] describes: a job id derived from the chat, the message and the
//! operation (a double tap is the same job), reserve before download, submit to the operation's worker
//! service. A separate durable consumer ([`delivery`]) sends each job's outcome to its chat and reports
//! whether it arrived, so billing charges only for delivered results; a restarted gateway still delivers
//! what completed while it was down.
//!
//! Metrics, `/healthz` and `/readyz` (NATS connected and billing SERVING) are served on `--metrics-listen`;
//! every Bot API call is counted by method and outcome ([`bot_api`]).
//!
//! With `--api-listen` it also serves the OpenAI-compatible HTTP API for speech ([`api`]): the same paid
//! `speech.transcribe` jobs on the same queue, paid from the account an API key names (`/apikey`).
//!
//! Replies are in Russian when the user's `language_code` is `ru`, English otherwise ([`i18n`]).

pub mod activity;
pub mod admin;
pub mod albums;
pub mod api;
pub mod backends;
pub mod bot_api;
pub mod delivery;
pub mod dialogue;
pub mod edits;
pub mod error;
pub mod generate;
pub mod i18n;
pub mod intake;
pub mod jobs;
pub mod languages;
pub mod menu;
pub mod operations;
pub mod ping;
pub mod subtitles;
pub mod telegram;
pub mod text_wishes;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use job_pipeline::jetstream::{self, Pipeline};
use mediabot_proto::Service;
use service_runtime::config::{NatsArgs, TelemetryArgs};
use service_runtime::metrics::MetricsServer;
use teloxide::prelude::*;
use tokio_util::sync::CancellationToken;

pub use error::Error;

/// A secret string (the bot token) that never shows in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself; call only where it is sent to its owner (the Bot API).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// Gateway configuration: command-line flags, each with an environment-variable fallback.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "gateway",
    version,
    about = "mediabot gateway: the Telegram side"
)]
pub struct Config {
    /// Telegram bot token from @BotFather.
    #[arg(
        long = "telegram-token",
        env = "TELOXIDE_TOKEN",
        hide_env_values = true
    )]
    pub telegram_token: Secret,
    /// Bot API base URL; unset means Telegram itself. Point it at telegram-sandbox to run without Telegram.
    #[arg(long = "telegram-api-url", env = "TELOXIDE_API_URL")]
    pub telegram_api_url: Option<url::Url>,
    /// billing gRPC endpoint.
    #[arg(
        long = "billing-url",
        env = "BILLING_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub billing_url: String,
    /// imaging gRPC endpoint (its `mediabot.jobs.v1.Jobs` queue).
    #[arg(
        long = "imaging-url",
        env = "IMAGING_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub imaging_url: String,
    /// speech gRPC endpoint (its `mediabot.jobs.v1.Jobs` queue).
    #[arg(
        long = "speech-url",
        env = "SPEECH_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub speech_url: String,
    /// documents gRPC endpoint (its `mediabot.jobs.v1.Jobs` queue: text from documents and photos).
    #[arg(
        long = "documents-url",
        env = "DOCUMENTS_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    pub documents_url: String,
    /// generation gRPC endpoint (its `mediabot.jobs.v1.Jobs` queue: pictures and prompts through hosted
    /// providers).
    #[arg(
        long = "generation-url",
        env = "GENERATION_URL",
        default_value = "http://127.0.0.1:50055"
    )]
    pub generation_url: String,
    /// Largest file accepted, bytes. The Bot API's getFile stops at 20 MB.
    #[arg(long = "max-file-bytes", env = "MAX_FILE_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_file_bytes: u64,
    /// Longest voice note, audio or video accepted for transcription, seconds (default 60 min). Checked from the
    /// message's duration before anything is charged; an audio file sent without one is held at the
    /// price of this length. Keep it equal to speech's `--max-audio-secs`.
    #[arg(
        long = "max-audio-secs",
        env = "MAX_AUDIO_SECS",
        default_value_t = 3600
    )]
    pub max_audio_secs: u32,
    /// Telegram user ids allowed to run `/add_balance`, comma-separated; empty: nobody.
    #[arg(long = "admin-ids", env = "ADMIN_IDS", default_value = "")]
    pub admin_ids: admin::AdminIds,
    /// Prometheus metrics, `/healthz` and `/readyz` listen address.
    #[arg(
        long = "metrics-listen",
        env = "METRICS_LISTEN",
        default_value = "127.0.0.1:9100"
    )]
    pub metrics_listen: std::net::SocketAddr,
    /// Public HTTPS URL Telegram posts updates to (webhook mode), e.g. `https://bot.example.com/telegram`;
    /// its path is the route served on `--webhook-listen`. Unset: the gateway long-polls getUpdates (one
    /// replica only: Telegram answers getUpdates to one caller). Needs `--webhook-secret`.
    #[arg(long = "webhook-url", env = "WEBHOOK_URL", requires = "webhook_secret")]
    pub webhook_url: Option<url::Url>,
    /// Where the webhook's HTTP server listens (behind the Ingress that terminates TLS).
    #[arg(
        long = "webhook-listen",
        env = "WEBHOOK_LISTEN",
        default_value = "127.0.0.1:8443"
    )]
    pub webhook_listen: std::net::SocketAddr,
    /// Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` with every update; requests without it
    /// are refused. 1-256 characters of `A-Z a-z 0-9 _ -`; the same for every replica.
    #[arg(
        long = "webhook-secret",
        env = "WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub webhook_secret: Option<Secret>,
    /// Where the OpenAI-compatible HTTP API for speech listens (`/v1/audio/transcriptions`,
    /// `/v1/audio/translations`, `/v1/jobs`); unset: no API. Bearer keys come from `/apikey` in the bot.
    #[arg(long = "api-listen", env = "API_LISTEN")]
    pub api_listen: Option<std::net::SocketAddr>,
    /// The API's public base URL as clients reach it (e.g. `https://api.example.com/v1`), told to users by
    /// `/apikey`; unset: `http://<--api-listen>/v1`.
    #[arg(long = "api-public-url", env = "API_PUBLIC_URL")]
    pub api_public_url: Option<url::Url>,
    /// Longest a synchronous API request (`/v1/audio/*`) waits for its transcript, seconds; past it the
    /// client gets 504 with the job id, and the job goes on (`GET /v1/jobs/{id}`).
    #[arg(
        long = "api-sync-wait-secs",
        env = "API_SYNC_WAIT_SECS",
        default_value_t = 600
    )]
    pub api_sync_wait_secs: u64,
    /// Job outcomes delivered to chats at once.
    #[arg(
        long = "delivery-concurrency",
        env = "DELIVERY_CONCURRENCY",
        default_value_t = 8
    )]
    pub delivery_concurrency: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub nats: NatsArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub telemetry: TelemetryArgs,
}

/// Limits checked from message metadata before anything is downloaded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file, bytes.
    pub max_file_bytes: u64,
    /// Longest audio, seconds.
    pub max_audio_secs: u32,
}

impl Limits {
    /// The audio length a hold is placed for, milliseconds: the message's duration, or, for a file
    /// without one (an audio document), the longest accepted, [`max_audio_secs`](Self::max_audio_secs).
    /// The hold covers the most the job can cost; billing captures the price of the length actually
    /// transcribed (`JobDelivered.audio_duration_ms`), at most the hold. Only per-minute prices use it.
    pub fn hold_audio_ms(&self, media: &jobs::MediaRef) -> u64 {
        u64::from(media.duration_secs.unwrap_or(self.max_audio_secs)) * 1000
    }
}

/// The Bot API client: teloxide's [`Bot`] behind its `Throttle` adaptor, which keeps sends within Telegram's
/// limits (1 message/s per chat, 20/min per group, 30/s overall) and freezes a chat's queue when Telegram
/// still answers 429. The resend after `retry_after` is [`bot_api::call`]'s, which counts each 429, so no
/// reply is dropped by flood control.
pub type TelegramBot = teloxide::adaptors::Throttle<Bot>;

/// Everything the handlers and the delivery consumer share. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    /// The Bot API client.
    pub bot: TelegramBot,
    /// NATS JetStream: the media object store and job streams.
    pub pipeline: Pipeline,
    /// gRPC clients of billing and the worker services.
    pub backends: backends::Backends,
    /// Size and duration limits.
    pub limits: Limits,
    /// Which outcomes were already handled (key: job id; value: delivered / undelivered / failed).
    pub deliveries: Arc<async_nats::jetstream::kv::Store>,
    /// Claimed job starts (key: job id), shared by every replica: one start per job.
    pub job_starts: Arc<async_nats::jetstream::kv::Store>,
    /// Pending dialogues (key: `<chat_id>.<user_id>`), shared by every replica ([`dialogue`]).
    pub dialogues: Arc<async_nats::jetstream::kv::Store>,
    /// Albums being collected or offered (key: `<chat_id>.<media_group_id>`), shared by every replica
    /// ([`albums`]).
    pub albums: Arc<async_nats::jetstream::kv::Store>,
    /// /language choices (key: user id), shared by every replica, never expiring ([`languages`]).
    pub languages: Arc<async_nats::jetstream::kv::Store>,
    /// Who may run `/add_balance`.
    pub admins: Arc<admin::AdminIds>,
    /// When each running job's status message was last edited with its progress (pacing).
    pub progress_edits: Arc<delivery::ProgressEdits>,
    /// The HTTP API's base URL as `/apikey` tells it; `None` when the API is off.
    pub api_base_url: Option<String>,
}

/// A built, not yet running, gateway.
pub struct Application {
    gateway: Gateway,
    delivery_concurrency: usize,
    metrics: MetricsServer,
    updates: Updates,
    api: Option<(api::Api, tokio::net::TcpListener)>,
}

/// How updates arrive.
enum Updates {
    /// getUpdates long polling.
    Polling,
    /// Telegram posts them to `url`; served on `listener`.
    Webhook {
        url: url::Url,
        secret: Secret,
        listener: tokio::net::TcpListener,
    },
}

/// Key-value bucket recording delivered job outcomes, so a redelivered event is not sent twice.
pub const DELIVERIES_BUCKET: &str = "gateway-deliveries";

/// How long the gateway waits, after a shutdown signal, for the update dispatcher to finish the updates
/// in hand before it stops without it (within Kubernetes' default grace period of 30 s).
pub const DISPATCHER_STOP_GRACE: Duration = Duration::from_secs(10);

impl Application {
    /// Binds the metrics port, connects to the Bot API (waiting up to 30 s for it to answer getMe), NATS
    /// (creating the streams and buckets if needed) and the backends (lazily: a backend that is down fails
    /// only the calls made to it).
    pub async fn build(config: Config) -> Result<Self, Error> {
        let metrics = MetricsServer::bind(config.metrics_listen).await?;
        let api_listener = match config.api_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| Error::ApiBind { addr, source })?,
            ),
            None => None,
        };
        let api_base_url = match (&config.api_public_url, &api_listener) {
            (Some(url), _) => Some(url.as_str().trim_end_matches('/').to_string()),
            (None, Some(listener)) => listener
                .local_addr()
                .ok()
                .map(|addr| format!("http://{addr}/v1")),
            (None, None) => None,
        };
        let updates = match (config.webhook_url, config.webhook_secret) {
            (Some(url), Some(secret)) => Updates::Webhook {
                url,
                secret,
                listener: tokio::net::TcpListener::bind(config.webhook_listen)
                    .await
                    .map_err(|source| Error::WebhookBind {
                        addr: config.webhook_listen,
                        source,
                    })?,
            },
            _ => Updates::Polling,
        };
        let mut bot = Bot::new(config.telegram_token.expose());
        if let Some(url) = &config.telegram_api_url {
            bot = bot.set_api_url(url.clone());
        }
        wait_for_bot_api(&bot).await?;
        // No resend inside the adaptor: bot_api::call resends after a 429, and counts it.
        let bot = teloxide::adaptors::Throttle::spawn_with_settings(
            bot,
            teloxide::adaptors::throttle::Settings::default().no_retry(),
        );
        let client = jetstream::connect(&config.nats.nats_url, "gateway").await?;
        let pipeline = Pipeline::setup(client).await?;
        let deliveries = jetstream::key_value_bucket(
            &pipeline.jetstream,
            DELIVERIES_BUCKET,
            "job outcomes already handled (delivered, undelivered, failed)",
            jetstream::EVENTS_TTL,
        )
        .await?;
        let job_starts = jetstream::key_value_bucket(
            &pipeline.jetstream,
            jobs::JOB_STARTS_BUCKET,
            "job starts claimed by a gateway (one start per job id)",
            jetstream::EVENTS_TTL,
        )
        .await?;
        let dialogues = jetstream::key_value_bucket(
            &pipeline.jetstream,
            dialogue::DIALOGUES_BUCKET,
            "pending dialogues (add text: the text, then the wishes), per chat and user",
            dialogue::DIALOGUE_TTL,
        )
        .await?;
        let albums = jetstream::key_value_bucket(
            &pipeline.jetstream,
            albums::ALBUMS_BUCKET,
            "the pictures of albums users sent (one offer and one job per album)",
            albums::ALBUM_TTL,
        )
        .await?;
        let languages = jetstream::key_value_bucket(
            &pipeline.jetstream,
            languages::LANGUAGES_BUCKET,
            "the languages users chose with /language, per user",
            // A stream's max_age of zero keeps messages for ever.
            Duration::ZERO,
        )
        .await?;
        let backends = backends::Backends::connect(
            &config.billing_url,
            &[
                (Service::Imaging, config.imaging_url.as_str()),
                (Service::Speech, config.speech_url.as_str()),
                (Service::Documents, config.documents_url.as_str()),
                (Service::Generation, config.generation_url.as_str()),
            ],
        )?;
        let gateway = Gateway {
            bot,
            pipeline,
            backends,
            limits: Limits {
                max_file_bytes: config.max_file_bytes,
                max_audio_secs: config.max_audio_secs,
            },
            deliveries: Arc::new(deliveries),
            job_starts: Arc::new(job_starts),
            dialogues: Arc::new(dialogues),
            albums: Arc::new(albums),
            languages: Arc::new(languages),
            admins: Arc::new(config.admin_ids),
            progress_edits: Arc::default(),
            api_base_url,
        };
        let api = match api_listener {
            Some(listener) => {
                let wait = Duration::from_secs(config.api_sync_wait_secs);
                Some((api::Api::new(gateway.clone(), wait).await?, listener))
            }
            None => None,
        };
        Ok(Self {
            gateway,
            delivery_concurrency: config.delivery_concurrency,
            metrics,
            updates,
            api,
        })
    }

    /// The address the HTTP API listens on, when it is on.
    pub fn api_addr(&self) -> Option<std::net::SocketAddr> {
        self.api
            .as_ref()
            .and_then(|(_, listener)| listener.local_addr().ok())
    }

    /// The bound metrics address (`/metrics`, `/healthz`, `/readyz`).
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        self.metrics.local_addr()
    }

    /// The address the webhook server listens on, in webhook mode.
    pub fn webhook_addr(&self) -> Option<std::net::SocketAddr> {
        match &self.updates {
            Updates::Polling => None,
            Updates::Webhook { listener, .. } => listener.local_addr().ok(),
        }
    }

    /// Receives updates (long polling, or the webhook) and delivers job outcomes until `shutdown` fires.
    /// `/readyz` answers 200 only while NATS is connected and billing reports SERVING.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let gateway = self.gateway;
        let serving_metrics = {
            let ready = gateway.clone();
            let metrics = self.metrics.with_readiness(move || {
                let gateway = ready.clone();
                async move { gateway.readiness().await }
            });
            tokio::spawn(metrics.serve(shutdown.clone()))
        };
        let serving_api = self.api.map(|(api, listener)| {
            tracing::info!(addr = ?listener.local_addr().ok(), "HTTP API listening");
            tokio::spawn(api.serve(listener, shutdown.clone()))
        });
        telegram::register_commands(&gateway.bot, &gateway.admins).await;
        let consumer = gateway
            .pipeline
            .durable_consumer(
                jetstream::EVENTS_STREAM,
                jetstream::GATEWAY_DELIVERY,
                None,
                delivery::ACK_WAIT,
                delivery::MAX_DELIVER,
            )
            .await?;
        let delivering = {
            let gateway = gateway.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(jetstream::consume(
                consumer,
                self.delivery_concurrency,
                delivery::ACK_WAIT,
                shutdown,
                move |d| delivery::handle(gateway.clone(), d),
            ))
        };
        let mut dispatcher = Dispatcher::builder(gateway.bot.clone(), telegram::schema())
            .dependencies(dptree::deps![gateway.clone()])
            .default_handler(|_| async {})
            .build();
        let stop = dispatcher.shutdown_token();
        let shutdown_for_webhook = shutdown.clone();
        let shutdown_for_grace = shutdown.clone();
        let stopper = tokio::spawn(async move {
            shutdown.cancelled().await;
            // Err means the dispatcher is not running yet or already stopped; nothing to wait for then.
            if let Ok(done) = stop.shutdown() {
                done.await;
            }
        });
        let dispatching = async {
            match self.updates {
                Updates::Polling => {
                    tracing::info!("gateway polling for updates");
                    // teloxide's default listener (it deletes a webhook first), with our error handler.
                    let polling =
                        teloxide::update_listeners::polling_default(gateway.bot.clone()).await;
                    dispatcher
                        .dispatch_with_listener(polling, Arc::new(bot_api::polling_failed))
                        .await;
                }
                Updates::Webhook {
                    url,
                    secret,
                    listener,
                } => {
                    let serving =
                        webhook::serve(&gateway.bot, url, secret, listener, shutdown_for_webhook)
                            .await?;
                    dispatcher
                        .dispatch_with_listener(
                            serving,
                            LoggingErrorHandler::with_custom_text("webhook update listener failed"),
                        )
                        .await;
                }
            }
            Ok::<(), Error>(())
        };
        // teloxide's polling retries a failing getUpdates with backoff and does not look at the shutdown
        // request meanwhile, so with the Bot API unreachable the dispatcher never stopped (a gateway
        // outlived its SIGTERM by 35 min and then stole the next run's updates). Past the grace, the
        // update handlers still running are dropped: a job start is idempotent and its update comes
        // again.
        tokio::select! {
            result = dispatching => result?,
            () = async {
                shutdown_for_grace.cancelled().await;
                tokio::time::sleep(DISPATCHER_STOP_GRACE).await;
            } => {
                tracing::warn!(
                    grace_s = DISPATCHER_STOP_GRACE.as_secs(),
                    "the update dispatcher did not stop in time (is the Bot API reachable?); stopping without it"
                );
            }
        }
        stopper.abort();
        if let Err(error) = delivering.await {
            tracing::error!(%error, "delivery consumer task failed");
        }
        if let Some(serving) = serving_api {
            match serving.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "the HTTP API failed"),
                Err(error) => tracing::error!(%error, "the HTTP API task crashed"),
            }
        }
        match serving_metrics.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "the metrics port failed"),
            Err(error) => tracing::error!(%error, "the metrics task crashed"),
        }
        Ok(())
    }
}

impl Gateway {
    /// Whether the gateway can do its work now: NATS connected and billing SERVING (its health service,
    /// asked now). `Err` says which is not.
    pub async fn readiness(&self) -> Result<(), String> {
        let nats = self.pipeline.jetstream.client().connection_state();
        if nats != async_nats::connection::State::Connected {
            return Err(format!("NATS is {nats}"));
        }
        match tokio::time::timeout(READINESS_TIMEOUT, self.backends.billing_ready()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!(
                "billing did not answer within {READINESS_TIMEOUT:?}"
            )),
        }
    }
}

/// Longest a `/readyz` check waits for billing's health answer.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

async fn wait_for_bot_api(bot: &Bot) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match bot_api::call(bot.get_me()).await {
            Ok(me) => {
                tracing::info!(username = %me.username(), api = %bot.api_url(), "connected to the Bot API");
                return Ok(());
            }
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(%error, api = %bot.api_url(), "Bot API not answering getMe yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(Error::BotApiUnreachable(error)),
        }
    }
}
