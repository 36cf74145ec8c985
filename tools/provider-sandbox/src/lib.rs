//! provider-sandbox: a local stand-in for the hosted AI providers the bot calls.
//!
//! It speaks two wire protocols as their public docs describe them — Fal's queue API
//! (`POST /{model id}`, then `…/requests/{id}/status`, `…/requests/{id}`, `…/requests/{id}/cancel`) and
//! OpenAI's chat completions (`POST /v1/chat/completions`) — so the bot's real provider clients can be
//! tested against it, and a person can use every generation mode with no internet and no keys. The answers
//! mean something: a generated image shows its prompt, an edit shows its input visibly changed, a chat
//! "translation" transliterates. Tests and people inject faults and read statistics through a JSON control
//! API under `/sandbox/` (see the crate README); [`client`] is its typed Rust client. All state is in
//! memory.
//!
//! Start it with [`spawn`]; the listener is bound inside, so `127.0.0.1:0` gives a free port for tests.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod chat;
pub mod client;
mod control;
mod error;
mod fal;
mod fonts;
mod render;
mod server;
mod state;
mod translit;

pub use fonts::FontError;

/// The Fal key the sandbox accepts unless told otherwise (`Authorization: Key sandbox-fal-key`).
pub const DEFAULT_FAL_KEY: &str = "sandbox-fal-key";

/// The OpenAI key the sandbox accepts unless told otherwise (`Authorization: Bearer sandbox-openai-key`).
pub const DEFAULT_OPENAI_KEY: &str = "sandbox-openai-key";

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The base URL put into Fal's `response_url`/`status_url`/`cancel_url` and image URLs, when not
    /// `http://<listen address>` (behind a proxy, in a container). A trailing `/` is ignored.
    pub public_url: Option<String>,
    /// The Fal keys accepted (`Authorization: Key <key>`); at least one. Concurrency is capped and counted
    /// per key.
    pub fal_keys: Vec<String>,
    /// The OpenAI key accepted (`Authorization: Bearer <key>`).
    pub openai_key: String,
    /// How long a Fal request stays `IN_QUEUE`.
    pub queue_time: Duration,
    /// How long a Fal request stays `IN_PROGRESS`, at least (rendering a large image may take longer).
    pub work_time: Duration,
    /// Most Fal requests in flight (`IN_QUEUE` or `IN_PROGRESS`) per key; a submit over it is 429. At
    /// least 1.
    pub max_concurrent_per_key: usize,
    /// Directory of font files (searched recursively) to letter the images with.
    pub font_dir: PathBuf,
}

impl Default for Config {
    /// What the binary does without flags: `127.0.0.1:8090`, the default keys, 200 ms in the queue, 800 ms
    /// of work, 10 requests in flight per key, fonts from `/usr/share/fonts`.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            public_url: None,
            fal_keys: vec![DEFAULT_FAL_KEY.to_owned()],
            openai_key: DEFAULT_OPENAI_KEY.to_owned(),
            queue_time: Duration::from_millis(200),
            work_time: Duration::from_millis(800),
            max_concurrent_per_key: 10,
            font_dir: PathBuf::from("/usr/share/fonts"),
        }
    }
}

impl Config {
    /// A configuration for tests: a free port on 127.0.0.1, the default keys, 20 ms in the queue and 50 ms
    /// of work.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            queue_time: Duration::from_millis(20),
            work_time: Duration::from_millis(50),
            ..Self::default()
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("can't listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// No font could be loaded from the font directory.
    #[error(transparent)]
    Fonts(#[from] FontError),
    /// `fal_keys` is empty (or holds an empty key).
    #[error("at least one non-empty Fal key is needed")]
    NoFalKey,
    /// `max_concurrent_per_key` is 0.
    #[error("max_concurrent_per_key must be at least 1")]
    NoConcurrency,
}

/// A running sandbox. Dropping it stops the server and every request in it.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for clients and the control API, e.g. `http://127.0.0.1:8090` (no trailing slash):
    /// `Config::public_url` when set.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the server and waits for it; requests in flight are dropped.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Loads the fonts, binds the listener and starts serving in a background task. Errors: [`Error`].
pub async fn spawn(config: Config) -> Result<Sandbox, Error> {
    if config.fal_keys.is_empty() || config.fal_keys.iter().any(|key| key.trim().is_empty()) {
        return Err(Error::NoFalKey);
    }
    if config.max_concurrent_per_key == 0 {
        return Err(Error::NoConcurrency);
    }
    let fonts = fonts::Fonts::load(&config.font_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen,
        source,
    })?;
    let base_url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let mut shown = addr;
            if shown.ip().is_unspecified() {
                shown.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{shown}")
        }
    };
    let shutdown = CancellationToken::new();
    let settings = state::Settings {
        public_url: base_url.clone(),
        fal_keys: config.fal_keys,
        openai_key: config.openai_key,
        queue_time: config.queue_time,
        work_time: config.work_time,
        max_concurrent_per_key: config.max_concurrent_per_key,
    };
    let shared = Arc::new(state::Shared::new(settings, fonts, shutdown.clone()));
    let app = server::router(shared);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
        {
            tracing::error!(error = %err, "provider sandbox server failed");
        }
    });
    tracing::info!(%addr, %base_url, "provider sandbox started");
    Ok(Sandbox {
        addr,
        base_url,
        shutdown,
        task: Some(task),
    })
}
