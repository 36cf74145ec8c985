//! The `documents` binary: configuration, telemetry and signal handling around [`documents::Application`].

use clap::Parser;
use documents::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = service_runtime::telemetry::init("documents", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.grpc_addr(), "documents started");
    app.run(shutdown).await?;
    Ok(())
}
