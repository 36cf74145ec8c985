//! The `speech` binary: reads the command line (flags and environment), starts telemetry and runs the
//! service until SIGINT/SIGTERM — or runs a tool (`speech fetch-model NAME`) and exits.

use clap::Parser as _;
use speech::{Application, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = service_runtime::telemetry::init("speech", &cli.config.telemetry)?;
    if let Some(Command::FetchModel(args)) = cli.command {
        let path = speech::fetch_model::fetch_model(&args).await?;
        println!("{}", path.display());
        return Ok(());
    }
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(cli.config).await?;
    app.run(shutdown).await?;
    Ok(())
}
