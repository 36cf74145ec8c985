//! What every mediabot service does at start-up, in one place so no service copies its `main`:
//!
//! - [`config`]: the command-line/environment arguments every service shares (NATS URL, telemetry);
//! - [`telemetry`]: `tracing` set-up, OTLP export when configured, W3C trace context across gRPC and NATS;
//! - [`grpc`]: serving tonic services with `grpc.health.v1` and server reflection (v1 and v1alpha);
//! - [`metrics`]: the Prometheus recorder and the metrics port (`/metrics`, `/healthz`, `/readyz`);
//! - [`shutdown`]: a [`CancellationToken`](tokio_util::sync::CancellationToken) cancelled on SIGINT/SIGTERM.
//!
//! The NATS side (streams, buckets, the consume loop, the job lifecycle) is the `job-pipeline` crate.

pub mod config;
pub mod grpc;
pub mod metrics;
pub mod shutdown;
pub mod telemetry;

/// Milliseconds since the Unix epoch (UTC) now; the timestamp unit used in every mediabot message.
pub fn now_unix_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
