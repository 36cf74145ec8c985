//! Integration tests of the runtime crate: what operators' tools see of a gRPC server (health, and
//! reflection listing exactly the services served) and of the metrics port. The JetStream tests moved to the job-pipeline crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: any failure here is a test failure"
)]

mod grpc;
mod metrics;
