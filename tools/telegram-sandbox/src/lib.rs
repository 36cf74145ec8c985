//! telegram-sandbox: a local Telegram Bot API server.
//!
//! Bots talk to it exactly as to `api.telegram.org` (`/bot<token>/<method>`, `/file/bot<token>/<path>`, JSON,
//! urlencoded or multipart bodies, Telegram's limits, error texts and flood control), so any Bot API client
//! works with its usual base-URL setting. Tests, scripts and people act as Telegram users through a JSON
//! control API under `/sandbox/` (see the crate README); [`client`] is its typed Rust client. All state is in
//! memory.
//!
//! Start it with [`spawn`]; the listener is bound inside, so `127.0.0.1:0` gives a free port for tests.

use std::{net::SocketAddr, sync::Arc};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod bot_api;
#[cfg(feature = "browser")]
pub mod browser;
pub mod client;
mod control;
mod entities;
mod error;
mod flood;
mod markup;
mod media;
mod params;
mod server;
mod state;
mod web;
mod webhook;

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Accept only this bot token. Without it any token of the shape `<digits>:<[A-Za-z0-9_-]{20,}>` is
    /// accepted and each token is its own bot, whose user id is the digits.
    pub token: Option<String>,
    /// Telegram-like flood control (429 `Too Many Requests: retry after N`) at start; the control API's
    /// `PUT /sandbox/flood-control` switches it at run time.
    pub flood_control: bool,
    /// The URL people and bots reach the sandbox at, when not `http://<listen address>` (e.g. behind a proxy
    /// or in a container).
    pub public_url: Option<String>,
    /// Group privacy mode of each bot at its start (Telegram's default, on): in groups a bot receives only
    /// commands meant for it and replies to its messages. The control API's `/sandbox/privacy` switches it
    /// per bot, as BotFather's /setprivacy does.
    pub group_privacy: bool,
}

impl Default for Config {
    /// `127.0.0.1:8081`, any token, flood control and group privacy on: what the binary does without flags.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            token: None,
            flood_control: true,
            public_url: None,
            group_privacy: true,
        }
    }
}

impl Config {
    /// A configuration for tests: a free port on 127.0.0.1, any token, flood control on (as Telegram's
    /// always is), group privacy on (Telegram's default).
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            flood_control: true,
            public_url: None,
            group_privacy: true,
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
    /// A configured token does not have the shape of a bot token.
    #[error("the token must look like <digits>:<at least 20 of A-Z a-z 0-9 _ ->")]
    BadToken,
}

/// A running sandbox. Dropping it stops the server.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    public_url: Option<String>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for Bot API clients and the control API, e.g. `http://127.0.0.1:8081` (no trailing slash).
    pub fn base_url(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the server and waits for it: open long polls end at once, in-flight requests are finished.
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

/// Binds the listener and starts serving in a background task.
pub async fn spawn(config: Config) -> Result<Sandbox, Error> {
    if let Some(token) = &config.token
        && state::token_bot_id(token).is_none()
    {
        return Err(Error::BadToken);
    }
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
    let shutdown = CancellationToken::new();
    let public_url = config.public_url.clone();
    let shared = Arc::new(state::Shared::new(config, shutdown.clone()));
    let app = server::router(shared);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
        {
            tracing::error!(error = %err, "sandbox server failed");
        }
    });
    tracing::info!(%addr, "telegram sandbox started");
    Ok(Sandbox {
        addr,
        public_url,
        shutdown,
        task: Some(task),
    })
}
