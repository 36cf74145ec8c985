//! Command-line arguments shared by every service. Each flag also reads an environment variable
//! (standard names where they exist), so the same binary runs from a shell, a script or a Kubernetes pod.

use clap::Args;

/// Where NATS is.
#[derive(Debug, Clone, Args)]
pub struct NatsArgs {
    /// NATS server URL (JetStream must be enabled).
    #[arg(
        long = "nats-url",
        env = "NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
}

/// Telemetry settings.
#[derive(Debug, Clone, Args)]
pub struct TelemetryArgs {
    /// OTLP/gRPC endpoint for traces (e.g. http://otel-collector:4317); no export when unset.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Log format: "text" for people, "json" for log collectors. Filtering is by RUST_LOG.
    #[arg(long = "log-format", env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}
