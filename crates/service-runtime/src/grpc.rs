//! Serving gRPC the same way in every service: the service's own routes plus `grpc.health.v1` and server
//! reflection v1 and v1alpha (so `grpcurl -plaintext HOST:PORT list` works with no .proto files at hand,
//! and lists only the services this server serves),
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
    /// Names of the services added, in order: what reflection lists besides health and itself.
    names: Vec<&'static str>,
}

/// The services every server has, listed by reflection after the ones it was given.
const ALWAYS_SERVED: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

impl GrpcServer {
    /// Starts with the health service (every named service NOT_SERVING until set). Reflection is added
    /// when serving, listing exactly the services added by then.
    pub fn new() -> Result<Self, Error> {
        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = RoutesBuilder::default();
        routes.add_service(health_service);
        Ok(Self {
            routes,
            health,
            names: Vec::new(),
        })
    }

    /// The fully-qualified names reflection lists: the services added, then health and reflection.
    pub fn service_names(&self) -> Vec<&'static str> {
        self.names.iter().copied().chain(ALWAYS_SERVED).collect()
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
        if !self.names.contains(&S::NAME) {
            self.names.push(S::NAME);
        }
        self
    }

    /// Serves until `shutdown` is cancelled, then finishes in-flight calls and returns.
    ///
    /// Reflection (v1 and v1alpha) is built here from the descriptor sets of every mediabot package,
    /// health and reflection, but lists only [`service_names`](Self::service_names): a client is not
    /// offered services that would answer UNIMPLEMENTED on this server. Errors: [`Error::Reflection`] (a
    /// build problem), [`Error::Transport`].
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let names = self.service_names();
        let configure = || {
            names.iter().fold(
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(mediabot_proto::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(
                        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
                    )
                    .register_encoded_file_descriptor_set(
                        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
                    ),
                |builder, name| builder.with_service_name(*name),
            )
        };
        self.routes.add_service(configure().build_v1()?);
        self.routes.add_service(configure().build_v1alpha()?);
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
