//! The `telegram-sandbox` binary: parses flags (each also read from an env var), starts the sandbox, prints
//! `telegram-sandbox listening on <url>` as the first line on stdout (then the chat page's URL) and runs until
//! Ctrl-C or SIGTERM.

use std::{io::IsTerminal, net::SocketAddr};

use anyhow::Context;
use clap::{ArgAction, Parser};
use telegram_sandbox::{Config, spawn};
use tracing_subscriber::EnvFilter;

/// A local Telegram Bot API server: point a bot's API base URL at it, act as users through /sandbox/.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SANDBOX_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Accept only this bot token (otherwise any well-formed token, one bot per token).
    #[arg(long, env = "SANDBOX_TOKEN")]
    token: Option<String>,
    /// Telegram-like flood control: `--flood-control=false` turns it off.
    #[arg(long, env = "SANDBOX_FLOOD_CONTROL", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    flood_control: bool,
    /// Turn flood control off (same as `--flood-control=false`).
    #[arg(long)]
    no_flood_control: bool,
    /// The URL the sandbox is reached at, if not http://<listen address>.
    #[arg(long, env = "SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
    /// Group privacy mode of every bot at start (Telegram's default): in groups a bot receives only
    /// commands meant for it and replies to its messages. `--group-privacy=false` turns it off.
    #[arg(long, env = "SANDBOX_GROUP_PRIVACY", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    group_privacy: bool,
    /// Turn group privacy mode off (same as `--group-privacy=false`): bots receive every group message.
    #[arg(long)]
    no_group_privacy: bool,
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
        token: args.token,
        flood_control: args.flood_control && !args.no_flood_control,
        public_url: args.public_url,
        group_privacy: args.group_privacy && !args.no_group_privacy,
    };
    let sandbox = spawn(config).await.context("starting the sandbox")?;
    println!("telegram-sandbox listening on {}", sandbox.base_url());
    println!("chat with your bot in a browser: {}/", sandbox.base_url());
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
