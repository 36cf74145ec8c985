//! The `billing` binary: parses flags, sets up telemetry and runs the [`billing::Application`] until
//! SIGINT/SIGTERM; or, with the `check` subcommand, checks the ledger and exits (see
//! [`billing::Command::Check`] for the exit codes).

use std::process::ExitCode;

use billing::{Application, Command, Config};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let config = Config::parse();
    if let Some(Command::Check(args)) = &config.command {
        return Ok(check(&config, args).await);
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
