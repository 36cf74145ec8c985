//! Errors of the gateway. Users never see these texts: handlers turn each failure into a plain-language
//! message from [`i18n`](crate::i18n) and log the details here.

/// Why a gateway operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Bot API did not answer getMe at start-up.
    #[error("the Bot API is unreachable (check TELOXIDE_TOKEN and TELOXIDE_API_URL): {0}")]
    BotApiUnreachable(teloxide::RequestError),
    /// A Bot API call failed.
    #[error("Bot API: {0}")]
    Telegram(#[from] teloxide::RequestError),
    /// Downloading a file from the Bot API failed.
    #[error("downloading a file: {0}")]
    Download(#[from] teloxide::DownloadError),
    /// NATS (streams, object store, key-value) failed.
    #[error(transparent)]
    Nats(#[from] job_pipeline::jetstream::Error),
    /// A key-value bucket of the gateway (job starts, deliveries) failed.
    #[error("key-value bucket: {0}")]
    KeyValue(String),
    /// No URL is configured for the worker service an operation needs.
    #[error("no {0} service is configured")]
    NoBackend(mediabot_proto::Service),
    /// The metrics port could not be bound or served.
    #[error(transparent)]
    Metrics(#[from] service_runtime::metrics::Error),
    /// The webhook's listen address could not be bound.
    #[error("binding the webhook listener {addr}: {source}")]
    WebhookBind {
        /// The address given (`--webhook-listen`).
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP API's listen address could not be bound.
    #[error("binding the HTTP API listener {addr}: {source}")]
    ApiBind {
        /// The address given (`--api-listen`).
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A completed event carried no result.
    #[error("completed event without a result")]
    NoResult,
    /// Writing to or reading from the media object store failed.
    #[error("object store: {0}")]
    ObjectStore(String),
    /// A backend gRPC call failed.
    #[error("{service}: {status}")]
    Backend {
        /// Which backend.
        service: &'static str,
        /// What it answered.
        status: tonic::Status,
    },
    /// A backend URL is malformed.
    #[error("bad backend URL {url}: {source}")]
    BackendUrl {
        /// The URL given.
        url: String,
        /// Why it is invalid.
        source: tonic::transport::Error,
    },
    /// An event on NATS could not be decoded.
    #[error("undecodable event: {0}")]
    Decode(#[from] prost::DecodeError),
}
