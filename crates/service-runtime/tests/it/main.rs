//! Integration tests of the runtime crate: what operators' tools see of a gRPC server (health and
//! reflection), and the JetStream guarantees the job pipeline relies on (de-duplication, redelivery of a
//! dead worker's job), against a real nats-server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: any failure here is a test failure"
)]

mod grpc;
mod jetstream;
