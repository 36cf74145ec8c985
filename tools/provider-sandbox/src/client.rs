//! A typed client for the sandbox's control API (`/sandbox/...`), for tests and tools written in Rust:
//! inject faults, clear them, reset the sandbox and read its statistics.
//!
//! ```no_run
//! # async fn demo() -> Result<(), provider_sandbox::client::ClientError> {
//! use provider_sandbox::client::{Fault, FaultKind, ProviderSandboxClient};
//!
//! let sandbox = ProviderSandboxClient::new("http://127.0.0.1:8090");
//! sandbox.set_fault(&Fault::once("fal-ai/nano-banana-pro", FaultKind::Failed)).await?;
//! // ... run the code under test ...
//! let stats = sandbox.stats().await?;
//! assert!(stats.key("sandbox-fal-key").max_in_flight <= 10);
//! # Ok(()) }
//! ```
//!
//! The wire format is described in the crate README ("Control API"); the server side is `control.rs`.

mod types;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

pub use types::*;

/// Why a control API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request got no answer (connection refused, reset, ...).
    #[error("{method} {url}: {source}")]
    Transport {
        /// HTTP method.
        method: Method,
        /// The URL called.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The sandbox refused the call (400 for a bad fault).
    #[error("{method} {url}: {status}: {reason}")]
    Refused {
        /// HTTP method.
        method: Method,
        /// The URL called.
        url: String,
        /// HTTP status.
        status: StatusCode,
        /// The control API's `error` text (or the body, when it is not the usual JSON).
        reason: String,
    },
    /// The answer was not the JSON this client expects.
    #[error("{method} {url}: can't decode the answer ({source}): {body}")]
    Decode {
        /// HTTP method.
        method: Method,
        /// The URL called.
        url: String,
        /// What did not match.
        source: serde_json::Error,
        /// The answer, cut to 2,000 characters.
        body: String,
    },
}

impl ClientError {
    /// The HTTP status of a refused call.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `Result` with [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// The control API of one sandbox. Cheap to clone (one shared connection pool).
#[derive(Debug, Clone)]
pub struct ProviderSandboxClient {
    base_url: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct FaultId {
    id: u64,
}

#[derive(Deserialize)]
struct Cleared {
    cleared: u64,
}

impl ProviderSandboxClient {
    /// A client for the sandbox at `base_url`, e.g. `http://127.0.0.1:8090` (a trailing `/` is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The base URL given to [`Self::new`], without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /sandbox/faults`: injects `fault`; returns its id. Errors: [`ClientError::Refused`] (400) for
    /// an empty target, a `count` of 0, or a Fal-only kind aimed at `chat`.
    pub async fn set_fault(&self, fault: &Fault) -> Result<u64> {
        let answer: FaultId = self
            .call(Method::POST, "/sandbox/faults", Some(fault))
            .await?;
        Ok(answer.id)
    }

    /// `GET /sandbox/faults`: the faults still active, oldest first.
    pub async fn faults(&self) -> Result<Vec<ActiveFault>> {
        self.call::<(), _>(Method::GET, "/sandbox/faults", None)
            .await
    }

    /// `DELETE /sandbox/faults`: removes every fault; returns how many there were.
    pub async fn clear_faults(&self) -> Result<u64> {
        let answer: Cleared = self
            .call::<(), _>(Method::DELETE, "/sandbox/faults", None)
            .await?;
        Ok(answer.cleared)
    }

    /// `POST /sandbox/reset`: clears faults, requests (queued ones are dropped), generated files and stats.
    pub async fn reset(&self) -> Result<()> {
        let _: Value = self
            .call::<(), _>(Method::POST, "/sandbox/reset", None)
            .await?;
        Ok(())
    }

    /// `GET /sandbox/stats`.
    pub async fn stats(&self) -> Result<Stats> {
        self.call::<(), _>(Method::GET, "/sandbox/stats", None)
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let url = format!("{}{path}", self.base_url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |source| ClientError::Transport {
            method: method.clone(),
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let text = response.text().await.map_err(transport)?;
        if !status.is_success() {
            let reason = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|body| body["error"].as_str().map(str::to_owned))
                .unwrap_or(text);
            return Err(ClientError::Refused {
                method,
                url,
                status,
                reason,
            });
        }
        serde_json::from_str(&text).map_err(|source| ClientError::Decode {
            method,
            url,
            source,
            body: text.chars().take(2000).collect(),
        })
    }
}
