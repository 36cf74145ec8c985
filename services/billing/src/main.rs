//! The `billing` binary: parses flags, sets up telemetry and runs the [`billing::Application`] until
//! SIGINT/SIGTERM; or, with the `check` subcommand, checks the ledger and exits (see
//! [`billing::Command::Check`] for the exit codes); or, with `api-key issue|revoke --account ID`, issues
//! or revokes an account's HTTP API key and exits.

use std::process::ExitCode;

use billing::{Application, Command, Config};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let config = Config::parse();
    match &config.command {
        Some(Command::Check(args)) => return Ok(check(&config, args).await),
        Some(Command::ApiKey(command)) => {
            println!("{}", billing::api_key(&config, command).await?);
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let _telemetry = service_runtime::telemetry::init("billing", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    app.run(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// `billing check`: problems on stdout, one per line, then the summary.
async fn check(config: &Config, args: &billing::CheckArgs) -> ExitCode {
    match billing::check(config, args).await {
        Ok(report) => {
            for problem in &report.problems {
                println!("{problem}");
            }
            println!("{}", report.summary());
            if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("billing check: {error}");
            ExitCode::from(2)
        }
    }
}
