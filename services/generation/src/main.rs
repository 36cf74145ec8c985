//! The `generation` binary: configuration, telemetry and signal handling around
//! [`generation::Application`].

use clap::Parser;
use generation::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = service_runtime::telemetry::init("generation", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.grpc_addr(), "generation started");
    app.run(shutdown).await?;
    Ok(())
}
