//! Serving gRPC the same way in every service: the service's own routes plus `grpc.health.v1` and server
//! reflection v1 and v1alpha (so `grpcurl -plaintext HOST:PORT list` works with no .proto files at hand),
//! a span per call that continues the caller's trace, and graceful shutdown.
//!
//! Health: the empty service name "" reports SERVING from the start (the process is up); each named
//! service is NOT_SERVING until the service itself calls [`HealthReporter::set_serving`] once its
//! dependencies (database, NATS, model) are ready.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
pub use tonic_health::ServingStatus;
pub use tonic_health::server::HealthReporter;

use crate::telemetry;

/// Errors while serving gRPC.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The reflection service could not read the descriptor set (a build problem).
    #[error("building the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The HTTP/2 server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Binding the listen address failed.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Binds a TCP listener; use port 0 in tests and read the port back with `local_addr()`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// A set of gRPC services being assembled, with the health reporter they share.
pub struct GrpcServer {
    routes: RoutesBuilder,
    health: HealthReporter,
}

impl GrpcServer {
    /// Starts with the health service (every named service NOT_SERVING until set) and reflection.
    pub fn new() -> Result<Self, Error> {
        let (health, health_service) = tonic_health::server::health_reporter();
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mediabot_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mediabot_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        let mut routes = RoutesBuilder::default();
        routes.add_service(health_service);
        routes.add_service(reflection_v1);
        routes.add_service(reflection_v1alpha);
        Ok(Self { routes, health })
    }

    /// The health reporter; set a named service SERVING once its dependencies are ready.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Adds a generated `XxxServer<T>`; it reports NOT_SERVING until set otherwise.
    pub async fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower_service::Service<
                http::Request<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.health.set_not_serving::<S>().await;
        self.routes.add_service(service);
        self
    }

    /// Serves until `shutdown` is cancelled, then finishes in-flight calls and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let addr = listener.local_addr().ok();
        tracing::info!(?addr, "gRPC listening");
        tonic::transport::Server::builder()
            .trace_fn(|request| {
                let span = tracing::info_span!(
                    "grpc",
                    otel.kind = "server",
                    rpc.method = %request.uri().path(),
                );
                telemetry::set_parent_from_http_headers(&span, request.headers());
                span
            })
            .add_routes(self.routes.routes())
            .serve_with_incoming_shutdown(
                TcpListenerStream::new(listener),
                shutdown.cancelled_owned(),
            )
            .await?;
        Ok(())
    }
}
