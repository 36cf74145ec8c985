//! The run loop every worker service shares once it is built: its gRPC server (the `Jobs` service
//! mounted, plus whatever the service adds), its job worker and its metrics port, stopped together.

use service_runtime::grpc::GrpcServer;
use service_runtime::metrics::MetricsServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::worker::{JobHandler, Worker};

/// Serves `server` on `listener`, runs `worker` (none: a service that cannot run its operations, which
/// still answers health checks and refuses jobs) and the metrics port, until `shutdown` is cancelled or
/// the server fails. Then the worker takes no more jobs and the call returns once its running jobs have
/// finished (or, where the handler stops on shutdown, been left for redelivery) and the metrics port
/// has closed. A failing server stops only this service: the worker and the port get a child of
/// `shutdown`, not `shutdown` itself.
///
/// Errors: the gRPC server's. A crashed worker or metrics port is logged, not returned: the server's
/// outcome is what the process exits with.
pub async fn run<H: JobHandler>(
    server: GrpcServer,
    listener: TcpListener,
    worker: Option<Worker<H>>,
    metrics: MetricsServer,
    shutdown: CancellationToken,
) -> Result<(), service_runtime::grpc::Error> {
    let shutdown = shutdown.child_token();
    let working = worker.map(|worker| tokio::spawn(worker.run(shutdown.clone())));
    let metrics = tokio::spawn(metrics.serve(shutdown.clone()));
    let served = server.serve(listener, shutdown.clone()).await;
    // The server only returns on shutdown or failure; either way stop taking jobs.
    shutdown.cancel();
    if let Some(working) = working
        && let Err(error) = working.await
    {
        tracing::error!(%error, "the job worker crashed");
    }
    match metrics.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "the metrics port failed"),
        Err(error) => tracing::error!(%error, "the metrics task crashed"),
    }
    served
}
