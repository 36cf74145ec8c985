//! The `imaging` binary: configuration, telemetry and signal handling around [`imaging::Application`].

use clap::Parser;
use imaging::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = service_runtime::telemetry::init("imaging", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.grpc_addr(), "imaging started");
    app.run(shutdown).await?;
    Ok(())
}
