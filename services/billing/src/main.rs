//! The `billing` binary: parses flags, sets up telemetry and runs the [`billing::Application`] until
//! SIGINT/SIGTERM.

use billing::{Application, Config};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = service_runtime::telemetry::init("billing", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    app.run(shutdown).await?;
    Ok(())
}
