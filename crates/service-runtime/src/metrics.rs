//! Prometheus metrics, the same way in every service: the process-wide recorder of the `metrics` facade
//! (services record with `metrics::counter!`, `histogram!`, `gauge!`), rendered in Prometheus' text
//! format on an HTTP port of its own (`--metrics-listen` / `METRICS_LISTEN`; gateway 9100, billing 9101,
//! imaging 9102, speech 9103), next to the gRPC port:
//!
//! | route      | answer |
//! |------------|--------|
//! | `/metrics` | every metric of the process, plus the process' own (`mediabot_process_resident_memory_bytes`, CPU seconds, open fds), sampled at each scrape |
//! | `/healthz` | 200 while the process serves HTTP (liveness) |
//! | `/readyz`  | only where the service gives a [`Readiness`] check (the gateway): 200 when it passes, 503 with the reason when not |
//!
//! Names follow Prometheus' conventions: prefix `mediabot_`, `_total` counters, `_seconds` histograms
//! (buckets [`LATENCY_BUCKETS`]), `_bytes`; labels `service`, `operation` (the catalog's stable id, never a
//! job id), `outcome`, `method`. The list of metrics is in docs/architecture.md ("Metrics").
//!
//! The recorder is global, so several services started in one process (integration tests) share one
//! registry; tests that compare values therefore run in a test binary of their own.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Prefix of every mediabot metric.
pub const PREFIX: &str = "mediabot_";

/// Upper bounds, seconds, of the buckets of every `_seconds` histogram: 5 ms to 10 min, for gRPC calls
/// and Bot API requests as well as whisper jobs.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// How often histogram buckets are drained into their distributions while serving (also done at each
/// scrape).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Errors installing the recorder or serving the metrics port.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another `metrics` recorder was installed in this process before ours.
    #[error("installing the Prometheus recorder: {0}")]
    Install(String),
    /// Binding the listen address failed.
    #[error("binding the metrics port {addr}: {source}")]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("serving metrics: {0}")]
    Serve(#[source] std::io::Error),
}

/// The process-wide recorder, installed once: `Err` keeps the reason another recorder won.
static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the Prometheus recorder as the process' `metrics` recorder (once; later calls return the same
/// handle) and returns the handle that renders it. `_seconds` histograms get [`LATENCY_BUCKETS`].
///
/// Errors: [`Error::Install`] when a different recorder was installed first.
pub fn install() -> Result<PrometheusHandle, Error> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .map_err(|e| e.to_string())?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
            process_collector().describe();
            Ok(handle)
        })
        .clone()
        .map_err(Error::Install)
}

fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| metrics_process::Collector::new(PREFIX))
}

/// A readiness check for `/readyz`: `Ok` when the service can do its work now, `Err(reason)` (shown in
/// the 503 body) when a dependency cannot be reached.
pub type Readiness =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The metrics port of a service: bound, not yet serving.
pub struct MetricsServer {
    listener: TcpListener,
    addr: SocketAddr,
    handle: PrometheusHandle,
    readiness: Option<Readiness>,
}

impl MetricsServer {
    /// Installs the recorder ([`install`]) and binds `addr` (port 0 picks a free port; read it back with
    /// [`local_addr`](Self::local_addr)). Errors: [`Error::Install`], [`Error::Bind`].
    pub async fn bind(addr: SocketAddr) -> Result<Self, Error> {
        let handle = install()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let addr = listener.local_addr().unwrap_or(addr);
        Ok(Self {
            listener,
            addr,
            handle,
            readiness: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `/readyz` with `check`: 200 `ready` when it passes, 503 and its reason when not.
    pub fn with_readiness<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let readiness: Readiness = Arc::new(
            move || -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
                Box::pin(check())
            },
        );
        self.readiness = Some(readiness);
        self
    }

    /// Serves `/metrics`, `/healthz` (and `/readyz` when a check was given) until `shutdown` fires.
    /// Errors: [`Error::Serve`].
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), Error> {
        let Self {
            listener,
            addr,
            handle,
            readiness,
        } = self;
        let mut router = Router::new()
            .route("/metrics", get(render))
            .route("/healthz", get(|| async { "ok\n" }));
        if let Some(readiness) = readiness {
            router = router.route(
                "/readyz",
                get(move || {
                    let readiness = readiness.clone();
                    async move { ready(readiness).await }
                }),
            );
        }
        let router = router.with_state(handle.clone());
        let upkeep = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(UPKEEP_INTERVAL);
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = ticker.tick() => handle.run_upkeep(),
                    }
                }
            })
        };
        tracing::info!(%addr, "metrics listening (/metrics, /healthz)");
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .map_err(Error::Serve);
        upkeep.abort();
        served
    }
}

async fn render(State(handle): State<PrometheusHandle>) -> Response {
    process_collector().collect();
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

async fn ready(readiness: Readiness) -> Response {
    match readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_string()).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        )
            .into_response(),
    }
}

/// The value of one sample in a text-format exposition (what `/metrics` answers): the line of metric
/// `name` whose labels include every pair of `labels` (other labels may be present). `None` when no such
/// line is there. For tests and tools that read a scrape.
pub fn find_sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition.lines().find_map(|line| {
        if line.starts_with('#') {
            return None;
        }
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, label_text) = match series.split_once('{') {
            Some((metric, rest)) => (metric, rest.strip_suffix('}')?),
            None => (series, ""),
        };
        if metric != name {
            return None;
        }
        let matches = labels.iter().all(|(key, wanted)| {
            label_text
                .split("\",")
                .filter_map(|pair| pair.split_once("=\""))
                .any(|(k, v)| k == *key && v.trim_end_matches('"') == *wanted)
        });
        if matches { value.parse().ok() } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &str = "\
# TYPE mediabot_jobs_total counter
mediabot_jobs_total{service=\"imaging\",operation=\"image.upscale\",outcome=\"completed\"} 3
mediabot_jobs_total{service=\"imaging\",operation=\"image.upscale\",outcome=\"failed_input\"} 1
mediabot_process_resident_memory_bytes 1048576
mediabot_job_run_seconds_bucket{operation=\"image.upscale\",le=\"0.5\"} 2
";

    #[test]
    fn finds_the_sample_with_the_given_labels() {
        let completed = [("operation", "image.upscale"), ("outcome", "completed")];
        assert_eq!(
            find_sample(SCRAPE, "mediabot_jobs_total", &completed),
            Some(3.0)
        );
        let failed = [("outcome", "failed_input")];
        assert_eq!(
            find_sample(SCRAPE, "mediabot_jobs_total", &failed),
            Some(1.0)
        );
        assert_eq!(
            find_sample(SCRAPE, "mediabot_jobs_total", &[("outcome", "retried")]),
            None
        );
        assert_eq!(
            find_sample(SCRAPE, "mediabot_process_resident_memory_bytes", &[]),
            Some(1_048_576.0)
        );
        assert_eq!(
            find_sample(SCRAPE, "mediabot_job_run_seconds_bucket", &[("le", "0.5")]),
            Some(2.0)
        );
        assert_eq!(find_sample(SCRAPE, "mediabot_jobs", &[]), None);
    }
}
