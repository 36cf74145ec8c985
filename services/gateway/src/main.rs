//! The `gateway` binary: the Telegram side of mediabot. See the library docs for what it does.

use clap::Parser;
use gateway::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = service_runtime::telemetry::init("gateway", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    app.run(shutdown).await?;
    Ok(())
}
