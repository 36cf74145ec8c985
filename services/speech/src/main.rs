//! The `speech` binary: reads the configuration (flags and environment), starts telemetry and runs the
//! service until SIGINT/SIGTERM.

use clap::Parser as _;
use speech::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = service_runtime::telemetry::init("speech", &config.telemetry)?;
    let shutdown = service_runtime::shutdown::on_signal();
    let app = Application::build(config).await?;
    app.run(shutdown).await?;
    Ok(())
}
