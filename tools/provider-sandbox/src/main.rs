//! The `provider-sandbox` binary: parses flags (each also read from a `PROVIDER_SANDBOX_*` env var), starts
//! the sandbox, prints `provider-sandbox listening on <url>` as the first line on stdout and runs until
//! Ctrl-C or SIGTERM.

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Parser;
use provider_sandbox::{Config, DEFAULT_FAL_KEY, DEFAULT_OPENAI_KEY, spawn};
use tracing_subscriber::EnvFilter;

/// A local stand-in for Fal's queue API and OpenAI chat completions, with images that show what was asked.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "PROVIDER_SANDBOX_LISTEN",
        default_value = "127.0.0.1:8090"
    )]
    listen: SocketAddr,
    /// The URL clients reach the sandbox at, if not http://<listen address> (used in Fal's URLs).
    #[arg(long, env = "PROVIDER_SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
    /// Fal key to accept; repeat the flag (or separate with commas) for several.
    #[arg(long, env = "PROVIDER_SANDBOX_FAL_KEY", default_value = DEFAULT_FAL_KEY, value_delimiter = ',')]
    fal_key: Vec<String>,
    /// OpenAI key to accept.
    #[arg(long, env = "PROVIDER_SANDBOX_OPENAI_KEY", default_value = DEFAULT_OPENAI_KEY)]
    openai_key: String,
    /// Milliseconds a Fal request stays IN_QUEUE.
    #[arg(long, env = "PROVIDER_SANDBOX_QUEUE_MS", default_value_t = 200)]
    queue_ms: u64,
    /// Milliseconds a Fal request stays IN_PROGRESS (at least).
    #[arg(long, env = "PROVIDER_SANDBOX_WORK_MS", default_value_t = 800)]
    work_ms: u64,
    /// Most Fal requests in flight per key; more are answered 429.
    #[arg(
        long,
        env = "PROVIDER_SANDBOX_MAX_CONCURRENT_PER_KEY",
        default_value_t = 10
    )]
    max_concurrent_per_key: usize,
    /// Directory of .ttf/.otf fonts for lettering the images.
    #[arg(
        long,
        env = "PROVIDER_SANDBOX_FONT_DIR",
        default_value = "/usr/share/fonts"
    )]
    font_dir: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = Config {
        listen: args.listen,
        public_url: args.public_url,
        fal_keys: args.fal_key,
        openai_key: args.openai_key,
        queue_time: Duration::from_millis(args.queue_ms),
        work_time: Duration::from_millis(args.work_ms),
        max_concurrent_per_key: args.max_concurrent_per_key,
        font_dir: args.font_dir,
    };
    let sandbox = spawn(config).await.context("starting the sandbox")?;
    println!("provider-sandbox listening on {}", sandbox.base_url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    sandbox.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "can't listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "can't listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
